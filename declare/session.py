"""A loaded model on a device, ready to clean photos (rembg's "session").

The model is loaded once per run; each photo then goes through :meth:`clean`
(student, one image) or :meth:`clean_burst` (teacher, three views), tiled.
"""

from __future__ import annotations

from typing import Callable, Iterable

import numpy as np
import torch

from declare.checkpoint import CheckpointError, load_checkpoint
from declare.device import DeviceError, pick_device
from declare.tiling import tiled, tiled_two_pass
from declare.weights import WeightsError, resolve
from declare_models import Teacher

# What a model of the wrong kind is told, in one place.
WRONG_KIND = {"student": "this is a teacher checkpoint: it cleans three views of a scene (--burst A B C)",
              "teacher": "--burst needs a teacher checkpoint; this one is a student"}


class SessionError(Exception):
    """The model or device cannot be set up; one line for the user. ``where`` says
    which ("model" or "device"), the label the line starts with."""

    def __init__(self, message: str, where: str = "model"):
        super().__init__(message)
        self.where = where


def _device_and_precision(device: str, half: bool | None) -> tuple[torch.device, bool]:
    try:
        dev = pick_device(device)
    except DeviceError as exc:
        raise SessionError(str(exc), "device") from None
    if half is None:
        half = dev.type in ("cuda", "mps")
    elif half and dev.type == "cpu":
        raise SessionError("--half needs a GPU (cuda or mps); the CPU runs in full precision", "device")
    return dev, half


class Session:
    def __init__(self, model: torch.nn.Module, device: torch.device, half: bool):
        self.model, self.device, self.half = model, device, half
        self.dtype = torch.float16 if half else torch.float32
        layout = torch.channels_last if device.type == "cpu" else torch.contiguous_format
        self.layout = layout  # channels_last is ~2.4x faster on CPU (benchmarks/preset_speed.py)
        self.model.to(device=device, dtype=self.dtype, memory_format=layout).eval()

    @classmethod
    def load(cls, model: str | None, device: str = "auto", half: bool | None = None,
             burst: bool = False) -> "Session":
        """A registered model or checkpoint file (None: the default model, or with
        ``burst`` the default three-view one)."""
        dev, half = _device_and_precision(device, half)
        try:
            net, _ = load_checkpoint(resolve(model, burst=burst))
        except (CheckpointError, WeightsError) as exc:
            raise SessionError(str(exc)) from None
        session = cls(net, dev, half)
        session.require("teacher" if burst else "student")
        return session

    @classmethod
    def untrained(cls, preset: str, device: str = "auto", half: bool | None = None) -> "Session":
        """A student of ``preset`` with fresh weights: for timing, which weights do not change."""
        from declare_models import create_model

        dev, half = _device_and_precision(device, half)
        try:
            return cls(create_model("student", preset), dev, half)
        except KeyError as exc:
            raise SessionError(exc.args[0]) from None

    @property
    def is_teacher(self) -> bool:
        return isinstance(self.model, Teacher)

    def require(self, kind: str) -> None:
        """SessionError unless the model is a ``kind`` ("student" or "teacher")."""
        if ("teacher" if self.is_teacher else "student") != kind:
            raise SessionError(WRONG_KIND[kind])

    def _prepared(self, x: torch.Tensor) -> torch.Tensor:
        """A tile on the model's device, in its precision and memory layout."""
        x = x.to(self.device, self.dtype)
        return x.contiguous(memory_format=self.layout) if x.dim() == 4 else x

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return self.model(self._prepared(x)).transmission

    def clean(self, pixels: np.ndarray, tile: int, overlap: int,
              progress: Callable[[Iterable], Iterable] | None = None) -> np.ndarray:
        """Transmission of one H x W x 3 float image (student)."""
        self.require("student")
        x = torch.from_numpy(pixels).permute(2, 0, 1)[None]
        multiple = self.model.config.size_multiple
        if tile <= 0 or max(x.shape[-2:]) <= tile:
            return self._to_pixels(tiled(self._run, x, tile, overlap, progress, multiple))
        return self._to_pixels(tiled_two_pass(self._run, self._gather, self.model.whole_image_statistics,
                                              x, tile, overlap, progress, multiple))

    def _gather(self, x: torch.Tensor) -> None:
        with torch.inference_mode():
            self.model.gather_context(self._prepared(x))

    @staticmethod
    def _to_pixels(out: torch.Tensor) -> np.ndarray:
        return out[0].permute(1, 2, 0).clamp(0, 1).numpy()

    def clean_burst(self, frames: list[np.ndarray], tile: int, overlap: int,
                    progress: Callable[[Iterable], Iterable] | None = None) -> np.ndarray:
        """Transmission of the middle of three aligned H x W x 3 views (teacher)."""
        self.require("teacher")
        x = torch.stack([torch.from_numpy(f).permute(2, 0, 1) for f in frames])[None]
        return self._to_pixels(tiled(self._run, x, tile, overlap, progress,
                                     self.model.config.size_multiple))
