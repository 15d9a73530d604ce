"""Exporters to photo editors, each found through the ``declare.exporters`` entry points."""

from __future__ import annotations

import shlex
import subprocess
import sys
import sysconfig
from pathlib import Path


def declare_command() -> list[str]:
    """The command an editor runs: this installation's ``declare-photo`` script.

    Not ``python -m declare``: an editor started in a folder holding a clone of
    the repository (named ``declare``) would import that folder as the package
    and fail. Where the script is missing, ``-P`` keeps the working folder off
    ``sys.path`` (Python 3.11+)."""
    name = "declare-photo.exe" if sys.platform == "win32" else "declare-photo"
    script = Path(sysconfig.get_path("scripts")) / name
    if script.is_file():
        return [str(script)]
    return [sys.executable, *(["-P"] if sys.version_info >= (3, 11) else []), "-m", "declare"]


def command_for(dest: Path | None) -> list[str]:
    """The command a plug-in installed under ``dest`` runs: a Flatpak editor (its folder
    under ~/.var/app) reaches this installation through ``flatpak-spawn --host``, once it
    may (``flatpak override --user --talk-name=org.freedesktop.Flatpak APP``)."""
    flatpak = Path.home() / ".var" / "app"
    inside = dest is not None and Path(dest).expanduser().resolve().is_relative_to(flatpak.resolve())
    return (["flatpak-spawn", "--host"] if inside else []) + declare_command()


def shell_line(argv: list[str]) -> str:
    """``argv`` as one line for this platform's shell, each part quoted where it must be
    (a venv path with spaces stays one word)."""
    return subprocess.list2cmdline(argv) if sys.platform == "win32" else shlex.join(argv)


def sandboxed_folders(flatpak: str, snap: str) -> list[tuple[str, Path]]:
    """(label, folder) of an editor's Flatpak and Snap configurations that exist here:
    those editors read their plug-ins there, not in the native folder."""
    home = Path.home()
    found = [("Flatpak", home / ".var" / "app" / flatpak), ("Snap", home / "snap" / snap)]
    return [(label, folder) for label, folder in found if folder.is_dir()]
