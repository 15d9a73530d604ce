"""darktable: an XMP sidecar per cleaned photo, and a lighttable Lua script.

``--export darktable`` writes ``OUTPUT.xmp`` (darktable's sidecar naming,
e.g. ``a.declare.jpg.xmp``) tagging the result ``declare|reflection removed``
and naming the original it derives from, so an import into darktable brings
both the tag and the link. ``declare plugins install darktable`` puts
``declare.lua`` in the user's darktable Lua folder and adds its ``require``
line to ``luarc`` once.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from declare_plugins import command_for, sandboxed_folders, shell_line
from declare_plugins.darktable.xmp import write_sidecar

SCRIPT = Path(__file__).with_name("declare.lua")
REQUIRE = 'require "contrib/declare"'


def darktable_config() -> Path:
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA", Path.home())) / "darktable"
    config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return config / "darktable"


class DarktableExporter:
    description = "XMP sidecar for darktable (tags, derived-from); lighttable Lua script"

    def export(self, item) -> list[Path]:
        return [write_sidecar(item.output, item.input)]

    def sandboxed(self) -> list[tuple[str, Path]]:
        """The configuration folders of a Flatpak or Snap darktable found here (``--dest`` targets)."""
        return [(label, root if label == "Snap" else root / "config" / "darktable")
                for label, root in sandboxed_folders("org.darktable.Darktable", "darktable")]

    def install(self, dest: Path | None = None) -> list[Path]:
        """DEST/lua/contrib/declare.lua, and the require line in DEST/luarc (once)."""
        config = dest or darktable_config()
        target = config / "lua" / "contrib" / "declare.lua"
        target.parent.mkdir(parents=True, exist_ok=True)
        command = shell_line(command_for(dest))
        target.write_text(SCRIPT.read_text().replace('local DEFAULT_COMMAND = "declare"',
                                                     f"local DEFAULT_COMMAND = {_lua_string(command)}"))
        luarc = config / "luarc"
        lines = luarc.read_text().splitlines() if luarc.exists() else []
        if REQUIRE not in (line.strip() for line in lines):
            luarc.write_text("".join(line + "\n" for line in lines + [REQUIRE]))
        return [target, luarc]


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
