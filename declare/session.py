"""A loaded model, ready to clean photos (rembg's "session"), on either engine.

The model is loaded once per run; each photo then goes through :meth:`clean`
(student, one image) or :meth:`clean_burst` (teacher, three views), tiled. The
engine runs padded tiles: ONNX Runtime on the CPU (declare/onnx_engine.py, no
PyTorch needed) or PyTorch (declare/torch_engine.py: GPUs, half precision,
checkpoints not exported yet). Which one: declare/device.py's pick_engine.
"""

from __future__ import annotations

from typing import Callable, Iterable

import numpy as np

from declare.device import DeviceError, pick_engine
from declare.extras import installed
from declare.results import keep_tone
from declare.onnx_engine import GraphError, OnnxEngine
from declare.tiling import runs_whole, tiled, tiled_two_pass
from declare.model_name import ModelName, parse_model_name
from declare.weights import GraphsMissing, WeightsError, resolve_graphs

# What a model of the wrong kind is told, in one place.
WRONG_KIND = {"student": "this is a teacher checkpoint: it cleans three views of a scene (--burst A B C)",
              "teacher": "--burst needs a teacher checkpoint; this one is a student"}


class SessionError(Exception):
    """The model or device cannot be set up; one line for the user. ``where`` says
    which ("model" or "device"), the label the line starts with."""

    def __init__(self, message: str, where: str = "model"):
        super().__init__(message)
        self.where = where


def pad(x: np.ndarray, multiple: int, minimum: int) -> np.ndarray:
    """Pad the last two axes up to a multiple of ``multiple`` and at least ``minimum``,
    mirrored where the image is large enough (as the networks pad), else repeated."""
    h, w = x.shape[-2:]
    target = [max(-(-n // multiple), -(-minimum // multiple)) * multiple for n in (h, w)]
    ph, pw = target[0] - h, target[1] - w
    if not (ph or pw):
        return x
    mode = "reflect" if ph < h and pw < w else "edge"
    return np.pad(x, [(0, 0)] * (x.ndim - 2) + [(0, ph), (0, pw)], mode=mode)


class Session:
    def __init__(self, engine):
        self.engine = engine

    @classmethod
    def load(cls, model: "str | ModelName | None", device: str = "auto", half: bool | None = None,
             burst: bool = False, engine: str = "auto", threads: int = 0) -> "Session":
        """Any model string (declare.model_name: a registered name, a checkpoint, an
        exported graph, ``preset:NAME``; None: the default model, or with ``burst`` the
        default three-view one), on the engine declare.device picks for it."""
        try:
            name = parse_model_name(model, burst)
        except WeightsError as exc:
            raise SessionError(str(exc)) from None
        if name.kind == "preset":
            session = cls.untrained(name.name, device, half, engine, threads)
        else:
            session = cls(_engine_for(name, device, half, engine, threads))
        session.require("teacher" if burst else "student")
        return session

    @classmethod
    def untrained(cls, preset: str, device: str = "auto", half: bool | None = None,
                  engine: str = "auto", threads: int = 0) -> "Session":
        """A student of ``preset`` with fresh weights: for timing, which weights do not change.
        On ONNX Runtime it is exported first (needs declare[train])."""
        from declare.extras import MissingExtra, require

        try:
            choice = pick_engine(engine, device, half)
            require(f"preset:{preset}", "torch", *(("onnx",) if choice == "onnx" else ()), extra="train")
            from declare_models import create_model

            model = create_model("student", preset)
            if choice == "onnx":
                from declare.export import exported_engine

                return cls(exported_engine(model, threads))
        except MissingExtra as exc:
            raise SessionError(str(exc)) from None
        except DeviceError as exc:
            raise SessionError(str(exc), "device") from None
        except KeyError as exc:
            raise SessionError(exc.args[0]) from None
        dev, half = _device_and_precision(device, half)
        from declare.torch_engine import TorchEngine

        return cls(TorchEngine(model, dev, half, threads))

    def require(self, kind: str) -> None:
        """SessionError unless the model is a ``kind`` ("student" or "teacher")."""
        if self.engine.kind != kind:
            raise SessionError(WRONG_KIND[kind])

    def _pad(self, x: np.ndarray) -> np.ndarray:
        return pad(x, self.engine.size_multiple, self.engine.min_side)

    def _run(self, x: np.ndarray, means: list[np.ndarray] | None = None) -> np.ndarray:
        """The engine's result for a tile of any size: padded as it needs, cropped back."""
        return self.engine.run(self._pad(x), means)[..., :x.shape[-2], :x.shape[-1]]

    def _statistics(self, x: np.ndarray) -> list[np.ndarray]:
        return self.engine.statistics(self._pad(x))

    def clean(self, pixels: np.ndarray, tile: int, overlap: int,
              progress: Callable[[Iterable], Iterable] | None = None) -> np.ndarray:
        """Transmission of one H x W x 3 float image (student)."""
        self.require("student")
        x = np.ascontiguousarray(pixels.transpose(2, 0, 1)[None], np.float32)
        multiple = self.engine.size_multiple
        if runs_whole(*x.shape[-2:], tile):
            out = tiled(self._run, x, tile, overlap, progress, multiple)
        else:
            out = tiled_two_pass(self._run, self._statistics, x, tile, overlap, progress, multiple)
        return self._finish(pixels, out)

    def clean_burst(self, frames: list[np.ndarray], tile: int, overlap: int,
                    progress: Callable[[Iterable], Iterable] | None = None) -> np.ndarray:
        """Transmission of the middle of three aligned H x W x 3 views (teacher)."""
        self.require("teacher")
        x = np.ascontiguousarray(np.stack([f.transpose(2, 0, 1) for f in frames])[None], np.float32)
        return self._finish(frames[1], tiled(self._run, x, tile, overlap, progress, self.engine.size_multiple))

    def _finish(self, original: np.ndarray, out: np.ndarray) -> np.ndarray:
        """The network's (1, 3, H, W) output as H x W x 3 pixels, its tone kept if the model says so."""
        pixels = np.clip(out[0].transpose(1, 2, 0), 0, 1)
        return keep_tone(original, pixels) if self.engine.keep_tone else pixels


def _engine_for(name: ModelName, device: str, half: bool | None, engine: str, threads: int):
    """ONNX Runtime where pick_engine says so and the model has graphs; PyTorch when asked
    for, for a GPU, or for a checkpoint not exported yet (when PyTorch is installed)."""
    try:
        choice = pick_engine(engine, device, half)
    except DeviceError as exc:
        raise SessionError(str(exc), "device") from None
    if choice == "onnx":
        try:
            graphs = resolve_graphs(name)
            return OnnxEngine(graphs.main, graphs.statistics, threads, graphs.checkpoint_sha256)
        except GraphsMissing as exc:
            if engine == "onnx" or name.kind == "graph" or not installed("torch"):
                raise SessionError(str(exc)) from None
        except (GraphError, WeightsError) as exc:
            raise SessionError(str(exc)) from None
    return _torch_engine(name, device, half, threads)


def _device_and_precision(device: str, half: bool | None):
    from declare.device import pick_device

    try:
        dev = pick_device(device)
    except DeviceError as exc:
        raise SessionError(str(exc), "device") from None
    if half is None:
        half = dev.type in ("cuda", "mps")
    elif half and dev.type == "cpu":
        raise SessionError("--half needs a GPU (cuda or mps); the CPU runs in full precision", "device")
    return dev, half


def _torch_engine(name: ModelName, device: str, half: bool | None, threads: int):
    from declare.checkpoint import CheckpointError, load_checkpoint
    from declare.torch_engine import TorchEngine
    from declare.weights import resolve

    dev, half = _device_and_precision(device, half)
    try:
        net, _ = load_checkpoint(resolve(name))
    except (CheckpointError, WeightsError) as exc:
        raise SessionError(str(exc)) from None
    return TorchEngine(net, dev, half, threads)
