"""XMP sidecars darktable reads on import: tags and where the photo came from."""

from __future__ import annotations

import datetime
from pathlib import Path
from xml.sax.saxutils import escape

from declare.atomic import atomic_path

TAG = "declare|reflection removed"

TEMPLATE = """<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="declare">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:lr="http://ns.adobe.com/lightroom/1.0/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"
    xmlns:stRef="http://ns.adobe.com/xap/1.0/sType/ResourceRef#"
    xmp:CreatorTool="declare"
    xmp:ModifyDate="{date}">
   <dc:subject><rdf:Bag><rdf:li>{leaf}</rdf:li></rdf:Bag></dc:subject>
   <lr:hierarchicalSubject><rdf:Bag><rdf:li>{tag}</rdf:li></rdf:Bag></lr:hierarchicalSubject>
   <xmpMM:DerivedFrom rdf:parseType="Resource">
    <stRef:filePath>{source}</stRef:filePath>
   </xmpMM:DerivedFrom>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>
"""


def sidecar_path(image: Path) -> Path:
    """darktable's naming: the full file name plus .xmp (photo.jpg.xmp)."""
    return image.with_name(image.name + ".xmp")


def write_sidecar(image: Path, source: Path) -> Path:
    path = sidecar_path(image)
    text = TEMPLATE.format(date=datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
                           leaf=escape(TAG.split("|")[-1]), tag=escape(TAG),
                           source=escape(str(Path(source).resolve())))
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path
