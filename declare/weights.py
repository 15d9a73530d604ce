"""Which weights a ``--model`` string means: a registered name (bundled, cached or
fetched by declare/download.py), a checkpoint file, or an exported graph, and
the ONNX graphs beside each.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from declare import registry
from declare.download import (TIMEOUT, WeightsError, by_hand, cached_path, download, is_valid, offline,
                              sha256_of)
from declare.model_name import ModelName, parse_model_name
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


def resolve(model: "str | ModelName | None", progress: bool = True, burst: bool = False) -> Path:
    """The checkpoint file a model string means: a registered model's (bundled, cached or
    fetched now) or a checkpoint path; None: the default (with ``burst``, the three-view one)."""
    model = parse_model_name(model, burst)
    if model.kind == "checkpoint":
        if not model.path.exists():
            raise WeightsError(f"--model {model.text}: no such checkpoint file")
        return model.path
    if model.kind == "registered":
        return fetch(get_entry(model.name), progress=progress)
    raise WeightsError(f"--model {model.text}: {'an ONNX graph' if model.kind == 'graph' else 'a preset'} "
                       "has no checkpoint")


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


def resolve_graphs(model: "str | ModelName | None", progress: bool = True, burst: bool = False) -> Graphs:
    """The ONNX graphs a model string means: a registered model's (fetched and verified),
    the ones exported beside a checkpoint file, or an .onnx file given itself."""
    model = parse_model_name(model, burst)
    if model.kind == "graph":
        if not model.path.is_file():
            raise WeightsError(f"--model {model.text}: no such ONNX file")
        return Graphs(model.path, graph_paths(model.path.with_suffix(""))[1], None)
    if model.kind == "checkpoint":
        checkpoint = resolve(model, progress, burst)
        main, statistics = graph_paths(checkpoint.with_suffix(""))
        if not main.is_file():
            from declare.program import program

            raise GraphsMissing(f"--model {model.text}: no ONNX graph beside it ({main.name}); make it with "
                                f"'{program()} models export {model.text}' (needs declare[train]), or run "
                                "it with --engine torch")
        return Graphs(main, statistics, sha256_of(checkpoint))
    if model.kind == "preset":
        raise GraphsMissing(f"--model {model.text}: a preset has fresh weights and no exported graphs")
    entry = get_entry(model.name)
    if not entry.graphs:
        raise GraphsMissing(f"model {entry.name} has no ONNX graphs; run it with --engine torch")
    paths = [fetch(part, progress=progress) for part in entry.graph_entries()]
    return Graphs(paths[0], paths[1] if len(paths) > 1 else None, None)


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


