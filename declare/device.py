"""Which engine and device clean photos or train, decided in one place.

Plain Python at import (the command line lists the choices without loading
torch); torch is imported only when PyTorch is the engine or a GPU is probed.
"""

from __future__ import annotations

import glob
import os
import platform

from declare.extras import MissingExtra, installed, require

DEVICES = ("auto", "cpu", "cuda", "mps")
ENGINES = ("auto", "onnx", "torch")


class DeviceError(Exception):
    """A named device or engine that is not here; one line for the user."""


def pick_device(name: str = "auto"):
    """CUDA, then MPS, then CPU for ``auto``; a named device must be present."""
    import torch

    cuda = torch.cuda.is_available()
    mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if name == "auto":
        return torch.device("cuda" if cuda else "mps" if mps else "cpu")
    if name == "cuda" and not cuda:
        raise DeviceError("--device cuda: no CUDA GPU is available here")
    if name == "mps" and not mps:
        raise DeviceError("--device mps: Apple's Metal (MPS) is not available here")
    if name not in DEVICES:
        raise DeviceError(f"unknown device {name!r}; use one of {', '.join(DEVICES)}")
    return torch.device(name)


def memory_format(device):
    """The layout convolutions run fastest in on ``device``, for inference and training alike:
    channels_last on the CPU (2.4x an inference, 1.4x a training step:
    benchmarks/preset_speed.py, benchmarks/train_layout.py), the default elsewhere."""
    import torch

    return torch.channels_last if device.type == "cpu" else torch.contiguous_format


def gpu_likely() -> bool:
    """A GPU PyTorch could use seems present, judged without importing torch (which
    takes 1.5 s): an NVIDIA or ROCm driver on Linux, Apple silicon on macOS."""
    if platform.system() == "Darwin":
        return platform.machine() == "arm64"
    return (os.path.exists("/proc/driver/nvidia/version") or os.path.exists("/dev/kfd")
            or bool(glob.glob("/dev/nvidia[0-9]*")))


def pick_engine(engine: str = "auto", device: str = "auto", half: bool | None = None) -> str:
    """"onnx" or "torch". auto: PyTorch on a GPU when it is installed and finds one,
    else ONNX Runtime on the CPU (faster to start and, on the CPU, to run)."""
    if engine not in ENGINES:
        raise DeviceError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
    gpu_asked = device in ("cuda", "mps") or bool(half)
    asked = f"--device {device}" if device in ("cuda", "mps") else "--half"
    try:
        if engine == "onnx":
            if gpu_asked:
                raise DeviceError(f"--engine onnx runs on the CPU; {asked} needs --engine torch")
            return "onnx"
        if engine == "torch":
            require("--engine torch", "torch")
            return "torch"
        if gpu_asked:
            require(asked, "torch")
            return "torch"
    except MissingExtra as exc:
        raise DeviceError(str(exc)) from None
    if device == "auto" and installed("torch") and gpu_likely() and pick_device("auto").type != "cpu":
        return "torch"
    return "onnx"


def usable_cores() -> int:
    """CPU threads this process may run on (its affinity where the system tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1
