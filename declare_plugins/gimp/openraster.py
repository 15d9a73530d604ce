"""Layered OpenRaster (.ora) files: a zip of PNG layers and a stack.xml.

The format GIMP 3, Krita and MyPaint open natively. Layout per the spec: an
uncompressed ``mimetype`` entry first, ``stack.xml`` (first layer = top),
``data/*.png``, ``mergedimage.png`` (the composite) and a thumbnail of at
most 256 pixels.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
from PIL import Image

from declare.atomic import atomic_path

MIMETYPE = "image/openraster"


def _png(pixels: np.ndarray) -> bytes:
    image = Image.fromarray((np.clip(pixels, 0, 1) * 255 + 0.5).astype(np.uint8))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def write_ora(path: Path, layers: list[tuple[str, np.ndarray, bool]], merged: np.ndarray) -> Path:
    """``layers`` bottom to top as (name, H x W x 3 float pixels, visible); atomic."""
    h, w = merged.shape[:2]
    stack = [f'<image version="0.0.5" w="{w}" h="{h}">', "<stack>"]
    for i, (name, _, visible) in reversed(list(enumerate(layers))):
        stack.append(f'<layer name={quoteattr(name)} src="data/layer{i}.png" x="0" y="0" '
                     f'opacity="1.0" visibility="{"visible" if visible else "hidden"}"/>')
    stack += ["</stack>", "</image>"]
    thumb = Image.fromarray((np.clip(merged, 0, 1) * 255 + 0.5).astype(np.uint8))
    thumb.thumbnail((256, 256))
    buffer = io.BytesIO()
    thumb.save(buffer, format="PNG")
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), MIMETYPE, compress_type=zipfile.ZIP_STORED)
        z.writestr("stack.xml", "\n".join(stack) + "\n", compress_type=zipfile.ZIP_DEFLATED)
        for i, (_, pixels, _) in enumerate(layers):
            z.writestr(f"data/layer{i}.png", _png(pixels), compress_type=zipfile.ZIP_STORED)
        z.writestr("mergedimage.png", _png(merged), compress_type=zipfile.ZIP_STORED)
        z.writestr("Thumbnails/thumbnail.png", buffer.getvalue(), compress_type=zipfile.ZIP_STORED)
    return path
