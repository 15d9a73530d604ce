"""ONNX Runtime engine: the CPU runs exported graphs, with no PyTorch installed.

rembg's shape: one InferenceSession per graph, loaded once per run. The graphs
(declare/export.py) carry their own metadata (kind, stride, the checkpoint they
came from), so a file is enough to run. ``import onnxruntime`` costs about 0.1 s
where ``import torch`` costs 1.5 s: the first photo is out before PyTorch would
have loaded.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from declare.program import program
from declare.weights import GraphsMissing

FORMAT, FORMAT_VERSION = "declare-onnx", "1"


class GraphError(Exception):
    """A graph file ONNX Runtime cannot use as a declare model; one line."""


def _session(path: Path, threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads  # 0: ONNX Runtime's default, every physical core
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only: its warnings are not the user's business
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # ONNX Runtime raises its own types for unreadable graphs
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise GraphError(f"{path}: not a usable ONNX graph ({first[:200]}); export or download it again") \
            from None


def _metadata(session, path: Path) -> dict[str, str]:
    meta = session.get_modelmeta().custom_metadata_map
    if meta.get("format") != FORMAT:
        raise GraphError(f"{path}: an ONNX graph, but not one exported by declare "
                         f"('{program()} models export' makes them)")
    if meta.get("format_version") != FORMAT_VERSION:
        raise GraphError(f"{path}: graph format {meta.get('format_version')!r}, this declare reads "
                         f"{FORMAT_VERSION!r}; export it again")
    return meta


class OnnxEngine:
    """One model's graphs in ONNX Runtime sessions (the statistics graph loads on first use:
    photos of one tile never need it)."""

    name, device_type, precision = "onnx", "cpu", "fp32"

    def __init__(self, main: Path, statistics: Path | None = None, threads: int = 0,
                 checkpoint_sha256: str | None = None):
        self.main_path, self.statistics_path, self.threads = Path(main), statistics, threads
        self.session = _session(self.main_path, threads)
        meta = _metadata(self.session, self.main_path)
        if checkpoint_sha256 and meta.get("checkpoint_sha256") != checkpoint_sha256:
            raise GraphsMissing(f"{self.main_path} was exported from another version of its checkpoint; "
                                f"export it again ('{program()} models export'), or use --engine torch")
        self.kind = meta["arch"]
        self.size_multiple, self.min_side = int(meta["size_multiple"]), int(meta["min_side"])
        self.keep_tone = bool(json.loads(meta.get("config") or "{}").get("keep_tone", False))
        self._statistics = None
        inputs = self.session.get_inputs()
        self.input_name = inputs[0].name
        # a student's feed for "its own means": use_shared 0, and placeholders it ignores
        self._own = {"use_shared": np.array(0.0, np.float32),
                     **{i.name: np.zeros((1, int(i.shape[1])), np.float32) for i in inputs[2:]}}
        self._shared = np.array(1.0, np.float32)

    def run(self, x: np.ndarray, means: list[np.ndarray] | None = None) -> np.ndarray:
        """Transmission of a padded tile; a student's attention uses ``means`` (or its own)."""
        feed = {self.input_name: x}
        if self.kind == "student":
            feed.update(self._own if means is None else
                        {"use_shared": self._shared, **{f"mean{i}": m for i, m in enumerate(means)}})
        return self.session.run(None, feed)[0]

    def statistics(self, x: np.ndarray) -> list[np.ndarray]:
        """A padded tile's channel means, block by block (two-pass tiling's first pass)."""
        return self.load_statistics().run(None, {"image": x})

    def load_statistics(self):
        """The statistics graph's session, loaded on first use (a photo in one tile needs none)."""
        if self._statistics is None:
            if self.statistics_path is None or not self.statistics_path.is_file():
                raise GraphError(f"{self.statistics_path}: missing; tiled photos need the statistics "
                                 "graph beside the model's (export it again)")
            self._statistics = _session(self.statistics_path, self.threads)
            _metadata(self._statistics, self.statistics_path)
        return self._statistics
