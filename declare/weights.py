"""Which weights a ``--model`` string means: a registered name (bundled, cached or
fetched by declare/download.py), a checkpoint file, or an exported graph, and
the ONNX graphs beside each.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from declare import registry
from declare.download import (TIMEOUT, WeightsError, by_hand, cached_path, download, is_valid, offline,
                              sha256_of)
from declare.registry import ModelEntry

PACKAGE_WEIGHTS = Path(__file__).with_name("bundled")  # weights shipped inside the package


def get_entry(name: str, file_hint: bool = True) -> ModelEntry:
    """A registered model; ``file_hint``: the error suggests a checkpoint file (where
    one is accepted, as by --model; not by 'models download')."""
    try:
        return registry.MODELS[name]
    except KeyError:
        known = ", ".join(sorted(registry.MODELS)) or "none yet"
        hint = "; pass a checkpoint file path instead" if file_hint else ""
        raise WeightsError(f"unknown model {name!r} (registered: {known}){hint}") from None


def bundled_path(entry: ModelEntry) -> Path | None:
    if entry.bundled is None:
        return None
    path = PACKAGE_WEIGHTS / entry.bundled
    return path if path.is_file() else None


def resolve(spec: str | None, progress: bool = True, burst: bool = False) -> Path:
    """A checkpoint file for ``--model``: a path, a registered name, or the default
    (for one photo, or with ``burst`` for three views)."""
    spec = spec if spec is not None else _default(burst)
    path = Path(spec).expanduser()
    if names_file(spec):
        if not path.exists():
            raise WeightsError(f"--model {spec}: no such checkpoint file")
        return path
    return fetch(get_entry(spec), progress=progress)


def names_file(spec: str) -> bool:
    """Whether ``--model SPEC`` names a file (a path, or a checkpoint or graph's suffix),
    not a registered model."""
    return (Path(spec).expanduser().exists() or os.sep in spec
            or spec.endswith((".safetensors", ".pt", ".pth", ".ckpt", ".onnx")))


@dataclass(frozen=True)
class Graphs:
    """The ONNX graphs of one model, for the ONNX Runtime engine."""

    main: Path
    statistics: Path | None        # a student's statistics graph (two-pass tiling); None: a teacher's
    checkpoint_sha256: str | None  # the checkpoint they must have been made from (a user's own)


class GraphsMissing(WeightsError):
    """A model with no ONNX graphs to run (or stale ones); the PyTorch engine can still run it."""


def graph_paths(base: Path) -> tuple[Path, Path]:
    """Where the graphs of checkpoint ``base``.safetensors live: (main, statistics)."""
    return base.with_name(base.name + ".onnx"), base.with_name(base.name + ".statistics.onnx")


def resolve_graphs(spec: str | None, progress: bool = True, burst: bool = False) -> Graphs:
    """The ONNX graphs for ``--model``: a registered model's (fetched and verified), the
    ones exported beside a checkpoint file, or an .onnx file given itself."""
    spec = spec if spec is not None else _default(burst)
    path = Path(spec).expanduser()
    if spec.endswith(".onnx"):
        if not path.is_file():
            raise WeightsError(f"--model {spec}: no such ONNX file")
        return Graphs(path, graph_paths(path.with_suffix(""))[1], None)
    if names_file(spec):
        checkpoint = resolve(spec, progress, burst)
        main, statistics = graph_paths(checkpoint.with_suffix(""))
        if not main.is_file():
            from declare.program import program

            raise GraphsMissing(f"--model {spec}: no ONNX graph beside it ({main.name}); make it with "
                                f"'{program()} models export {spec}' (needs declare[train]), or run "
                                "it with --engine torch")
        return Graphs(main, statistics, sha256_of(checkpoint))
    entry = get_entry(spec)
    if not entry.graphs:
        raise GraphsMissing(f"model {entry.name} has no ONNX graphs; run it with --engine torch")
    paths = [fetch(part, progress=progress) for part in entry.graph_entries()]
    return Graphs(paths[0], paths[1] if len(paths) > 1 else None, None)


def _default(burst: bool) -> str:
    spec = registry.default_model(burst)
    if spec is None:
        raise WeightsError(f"no trained {'burst ' if burst else ''}model is installed yet; pass "
                           "--model PATH to a declare checkpoint (.safetensors), e.g. one made "
                           "by 'declare-photo train'")
    return spec


def fetch(entry: ModelEntry, progress: bool = True, timeout=TIMEOUT) -> Path:
    """The verified local file of ``entry``: bundled, cached, or downloaded now."""
    shipped = bundled_path(entry)
    if shipped is not None:
        if not is_valid(entry, shipped):  # small: checking costs milliseconds
            raise WeightsError(f"{shipped}: the model shipped with declare is damaged (its size or "
                               f"sha256 is not the registered {entry.sha256[:12]}...); reinstall declare")
        return shipped
    path = cached_path(entry)
    if path.is_file():
        if is_valid(entry, path):
            return path
        path.unlink()  # damaged or stale: fetch it again
    if offline():
        raise WeightsError(f"{entry.name} is not cached and DECLARE_OFFLINE is set; "
                           + by_hand(entry))
    return download(entry, progress=progress, timeout=timeout)


