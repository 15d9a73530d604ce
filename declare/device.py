"""Which device to run on, for cleaning photos and for training alike.

Plain Python at import (the command line lists the choices without loading
torch); torch is imported when a device is actually picked.
"""

from __future__ import annotations

DEVICES = ("auto", "cpu", "cuda", "mps")


class DeviceError(Exception):
    """A named device that is not here; one line for the user."""


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
