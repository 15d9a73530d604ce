"""GIMP: a layered .ora per photo, and a GIMP 3 plug-in that runs declare.

``--export gimp`` writes ``NAME.declare.ora`` beside each output with three
layers: the original (bottom), the transmission (declare's result) and the
removed reflection (top, hidden), so the edit can be refined with masks.
``declare plugins install gimp`` copies "Filters > Enhance > Remove
Reflection..." into the user's GIMP 3 plug-ins folder.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from declare_plugins import command_for, sandboxed_folders
from declare_plugins.gimp.openraster import write_ora

PLUGIN_NAME = "declare-remove-reflection"
SCRIPT = Path(__file__).with_name("gimp_plugin.py")


def gimp_plugin_folder() -> Path:
    """The user's GIMP 3 plug-ins folder on this platform."""
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", Path.home())) / "GIMP" / "3.0" / "plug-ins"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "GIMP" / "3.0" / "plug-ins"
    config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return config / "GIMP" / "3.0" / "plug-ins"


class GimpExporter:
    description = "layered OpenRaster (.ora) for GIMP, Krita, MyPaint; GIMP 3 plug-in"

    def export(self, item) -> list[Path]:
        path = item.output.with_suffix(".ora")
        reflection = item.reflection
        layers = [("original", item.original, True), ("declare: reflection removed", item.transmission, True),
                  ("declare: reflection", reflection, False)]
        return [write_ora(path, layers, merged=item.transmission)]

    def sandboxed(self) -> list[tuple[str, Path]]:
        """The plug-ins folders of a Flatpak or Snap GIMP 3 found here (``--dest`` targets)."""
        tail = Path("GIMP") / "3.0" / "plug-ins"
        return [(label, root / ".config" / tail if label == "Snap" else root / "config" / tail)
                for label, root in sandboxed_folders("org.gimp.GIMP", "gimp")]

    def install(self, dest: Path | None = None) -> list[Path]:
        """Copy the plug-in as PLUGIN_NAME/PLUGIN_NAME.py (GIMP 3's rule), executable.

        The copy names this installation's declare command, so GIMP runs the
        declare installed here whatever its own Python is.
        """
        folder = (dest or gimp_plugin_folder()) / PLUGIN_NAME
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{PLUGIN_NAME}.py"
        text = SCRIPT.read_text().replace('DECLARE = ["declare"]', f"DECLARE = {command_for(dest)!r}")
        target.write_text(text)
        target.chmod(0o755)
        return [target]
