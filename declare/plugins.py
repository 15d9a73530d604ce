"""Exporters: hand each cleaned photo to another program (GIMP, darktable, ...).

An exporter is any installed package that registers an object under the
entry-point group ``declare.exporters``::

    [project.entry-points."declare.exporters"]
    gimp = "declare_plugins.gimp:GimpExporter"

The object (or the class, which is instantiated with no arguments) has a
``description`` string and ``export(item: ExportItem) -> list[Path]``; it may
also have ``install(dest: Path | None) -> list[Path]`` to put its editor-side
script in place. A plugin that fails to load is reported and skipped: it never
takes the command line down with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np

GROUP = "declare.exporters"


@dataclass
class ExportItem:
    """One cleaned photo, everything an exporter may want."""

    input: Path
    output: Path
    original: np.ndarray          # H x W x 3 float32 in [0, 1], upright
    transmission: np.ndarray      # the result, same shape
    reflection: np.ndarray        # what was removed: original minus result, same shape


class PluginError(Exception):
    """An exporter failed on one photo; one line for the user."""


@dataclass
class Plugins:
    exporters: dict[str, object] = field(default_factory=dict)
    broken: dict[str, str] = field(default_factory=dict)      # name -> why
    sources: dict[str, str] = field(default_factory=dict)     # name -> distribution


def discover() -> Plugins:
    """Every exporter the installed packages register; broken ones with the reason."""
    found = Plugins()
    for ep in entry_points(group=GROUP):
        source = ep.dist.name if getattr(ep, "dist", None) else "?"
        found.sources[ep.name] = source
        try:
            obj = ep.load()
            obj = obj() if isinstance(obj, type) else obj
        except Exception as exc:  # a third-party bug must not crash declare
            found.broken[ep.name] = f"cannot load {ep.value}: {type(exc).__name__}: {exc}"
            continue
        if not callable(getattr(obj, "export", None)):
            found.broken[ep.name] = f"{ep.value} has no export(item) method"
            continue
        found.exporters[ep.name] = obj
    return found


def run_export(exporter: object, name: str, item: ExportItem) -> list[Path]:
    """Call one exporter, turning any failure into a PluginError."""
    try:
        return list(exporter.export(item))
    except Exception as exc:
        raise PluginError(f"--export {name}: {type(exc).__name__}: {exc}") from None
