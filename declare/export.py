"""Checkpoints to ONNX graphs, for the ONNX Runtime engine (needs declare[train]).

A student becomes two graphs: ``NAME.onnx`` (image, use_shared, mean0..meanN ->
transmission) and ``NAME.statistics.onnx`` (image -> mean0..meanN), the two
passes of tiled inference (declare_models/inference.py); a teacher becomes one
(frames -> transmission). Height and width stay free. Each graph records in its
metadata what it is, the stride and least side it needs, its config and the
sha256 of the checkpoint it came from, so a retrained checkpoint is never run
through the graphs of the old one.
"""

from __future__ import annotations

import io
import tempfile
import warnings
from pathlib import Path

import torch
from torch import nn

from declare.atomic import atomic_path
from declare.onnx_engine import FORMAT, FORMAT_VERSION, OnnxEngine
from declare.download import sha256_of
from declare.weights import graph_paths
from declare_models import Teacher
from declare_models.inference import (StudentStatistics, StudentWithStatistics, TeacherTransmission,
                                      attention_blocks, min_side)

OPSET = 17


def export_checkpoint(checkpoint: Path, base: Path | None = None) -> list[Path]:
    """Export the checkpoint file to graphs named after ``base`` (default: beside it)."""
    from declare.checkpoint import load_checkpoint

    model, _ = load_checkpoint(checkpoint)
    base = base if base is not None else checkpoint.with_suffix("")
    return export_model(model.float(), base, sha256_of(checkpoint))


def export_model(model: nn.Module, base: Path, checkpoint_sha256: str = "") -> list[Path]:
    """Write ``model``'s graphs as BASE.onnx (and BASE.statistics.onnx for a student)."""
    model = model.float().eval().to(memory_format=torch.contiguous_format)
    cfg = model.config
    side = -(-min_side(cfg) // cfg.size_multiple) * cfg.size_multiple
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "size_multiple": str(cfg.size_multiple),
            "min_side": str(min_side(cfg)), "config": cfg.to_json(), "checkpoint_sha256": checkpoint_sha256}
    main, statistics = graph_paths(base)
    main.parent.mkdir(parents=True, exist_ok=True)
    free = {2: "height", 3: "width"}
    if isinstance(model, Teacher):
        frames = torch.rand(1, 3, 3, side, side + cfg.size_multiple)
        _export(TeacherTransmission(model), (frames,), ["frames"], ["transmission"],
                {"frames": {3: "height", 4: "width"}, "transmission": free}, main,
                {**meta, "arch": "teacher", "graph": "teacher"})
        return [main]
    image = torch.rand(1, 3, side, side + cfg.size_multiple)
    n = len(attention_blocks(model))
    with torch.no_grad():
        means = StudentStatistics(model)(image)
    names = [f"mean{i}" for i in range(n)]
    _export(StudentWithStatistics(model), (image, torch.tensor(1.0), *means), ["image", "use_shared", *names],
            ["transmission"], {"image": free, "transmission": free}, main,
            {**meta, "arch": "student", "graph": "student", "statistics": str(n)})
    _export(StudentStatistics(model), (image,), ["image"], names, {"image": free}, statistics,
            {**meta, "arch": "student", "graph": "student-statistics", "statistics": str(n)})
    return [main, statistics]


def _export(module: nn.Module, args: tuple, inputs: list[str], outputs: list[str], dynamic: dict,
            path: Path, meta: dict[str, str]) -> None:
    import onnx

    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the tracer's notes on Python ints in shapes
        torch.onnx.export(module, args, buffer, opset_version=OPSET, dynamo=False, input_names=inputs,
                          output_names=outputs, dynamic_axes=dynamic, do_constant_folding=True)
    graph = onnx.load_from_string(buffer.getvalue())
    for key, value in meta.items():
        graph.metadata_props.add(key=key, value=value)
    graph.producer_name = "declare"
    with atomic_path(path) as tmp:
        onnx.save(graph, str(tmp))


def exported_engine(model: nn.Module, threads: int = 0) -> OnnxEngine:
    """An ONNX Runtime engine for a model in memory (bench times an untrained preset).
    Its graphs are loaded before their temporary folder is removed."""
    with tempfile.TemporaryDirectory(prefix="declare-onnx-") as folder:
        paths = export_model(model, Path(folder) / "model")
        engine = OnnxEngine(paths[0], paths[1] if len(paths) > 1 else None, threads)
        if engine.statistics_path is not None:
            engine.load_statistics()
        return engine
