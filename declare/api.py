"""declare from Python: clean an image or a burst (rembg's ``remove`` and ``new_session``).

    import declare
    clean = declare.clean(Image.open("photo.jpg"))          # a PIL image back
    cleaner = declare.Cleaner("small", threads=2)             # load once ...
    for array in arrays:                                      # ... clean many
        out = cleaner.clean(array)                            # uint8/uint16/float NumPy back

Images are PIL images or NumPy arrays (H x W, H x W x 3 or x 4; uint8, uint16, or
float in [0, 1]); each comes back as the same kind, size, channels and dtype, its
alpha untouched. The engine, device and tiles are chosen as the command line
chooses them. Nothing here imports click or PyTorch unless the model needs it.
The command line runs photos through :class:`Cleaner` too.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np

from declare.results import blend
from declare.tiling import OVERLAP, TILE

Progress = Callable[[Iterable], Iterable]


class BatchError(Exception):
    """A batch of files that could not start (a model, a device, a cluster); the error lines."""


class BurstWarning(UserWarning):
    """A burst view left out, or a burst returned unchanged (the message says why)."""


class Cleaner:
    """A model loaded once and reused for every image.

    ``model``: a registered name, a checkpoint (.safetensors) or an exported graph
    (.onnx); None is the default. ``burst_model`` is the teacher that
    ``clean_burst(..., method="teacher")`` loads on first use. ``engine``,
    ``device``, ``half``, ``threads``, ``tile``, ``overlap`` and ``strength`` mean
    what the command line's options of those names mean. A model that cannot be
    loaded raises :class:`declare.SessionError` here, not at the first image.
    """

    def __init__(self, model: str | None = None, *, burst_model: str | None = None, engine: str = "auto",
                 device: str = "auto", half: bool | None = None, threads: int = 0, tile: int = TILE,
                 overlap: int = OVERLAP, strength: float = 1.0, load: bool = True) -> None:
        from declare.tiling import tile_problem

        problem = tile_problem(tile, overlap)
        if problem:
            raise ValueError(problem)
        if not 0 <= strength <= 1:
            raise ValueError("strength must be between 0 and 1")
        self.model, self.burst_model = model, burst_model
        self.engine, self.device, self.half, self.threads = engine, device, half, threads
        self.tile, self.overlap, self.strength = tile, overlap, strength
        self._sessions: dict[bool, Any] = {}
        if load:
            self.session()

    def session(self, burst: bool = False):
        """The loaded student (or with ``burst`` the teacher), loaded on first use."""
        if burst not in self._sessions:
            from declare.session import Session

            self._sessions[burst] = Session.load(self.burst_model if burst else self.model, self.device,
                                                 self.half, burst, self.engine, self.threads)
        return self._sessions[burst]

    def transmission(self, pixels: np.ndarray, progress: Progress | None = None) -> np.ndarray:
        """The network's result for H x W x 3 float32 pixels in [0, 1], before ``strength``."""
        return self.session().clean(pixels, self.tile, self.overlap, progress)

    def clean(self, image):
        """``image`` with its reflection removed, as the same kind of image."""
        pixels, restore = unpack(image)
        return restore(blend(self.transmission(pixels), pixels, self.strength))

    def burst(self, frames: list[np.ndarray], reference: int | None = None, method: str = "classical",
              progress: Progress | None = None, labels: list[str] | None = None):
        """The BurstResult of float frames (declare.burst.clean), before ``strength``."""
        from declare.burst.clean import clean_burst

        session = self.session(burst=True) if method == "teacher" else None
        return clean_burst(frames, reference, method, session, self.tile, self.overlap, progress,
                           labels=labels)

    def clean_burst(self, images: list, reference: int | None = None, method: str = "classical"):
        """The ``reference`` view (0-based; default the middle one) of 2 to 9 views of one
        scene with its reflection removed, as the same kind of image as that view.
        Views left out, or a burst given back unchanged, are told as BurstWarning."""
        unpacked = [unpack(image) for image in images]
        frames = [pixels for pixels, _ in unpacked]
        result = self.burst(frames, reference, method)
        for message in result.warnings:
            warnings.warn(message, BurstWarning, stacklevel=2)
        ref = result.reference
        return unpacked[ref][1](blend(result.transmission, frames[ref], self.strength))


def clean_files(inputs, output=None, **options) -> list[dict]:
    """Photo files, folders or globs cleaned as the command line cleans them: outputs
    planned first (NAME.declare.EXT beside each, or into ``output``), written whole,
    never over an input; ``cluster="local:2"`` or a scheduler's address runs every
    photo as a task on a Dask cluster. ``options`` are the photo options by their
    Python names (``overwrite=True``, ``skip_existing=True``, ``model="small"``, ...).
    Returns one record per photo (status ok, skipped or failed, with its error), as
    ``--json`` prints them; raises BatchError if the batch could not start."""
    from pathlib import Path

    from declare.batch import Report, run
    from declare.options import Options

    opts = Options(output=None if output is None else str(output), **options)
    if opts.problem():
        raise ValueError(opts.problem())
    paths = [inputs] if isinstance(inputs, (str, Path)) else list(inputs)
    report = Report(opts, silent=True)
    status = run([str(p) for p in paths], opts, report)
    if status == 2:
        raise BatchError("; ".join(report.errors) or "the batch could not start")
    if status >= 128:
        raise KeyboardInterrupt
    return report.records


def clean(image, *, model: str | None = None, strength: float = 1.0, **settings):
    """``image`` (PIL or NumPy) with its reflection removed, as the same kind of image.
    The model is loaded on the first call and kept for the next ones with the same
    settings (any of :class:`Cleaner`'s)."""
    return _cleaner(model, strength, tuple(sorted(settings.items()))).clean(image)


@functools.lru_cache(maxsize=2)
def _cleaner(model: str | None, strength: float, settings: tuple) -> Cleaner:
    return Cleaner(model, strength=strength, **dict(settings))


@dataclass
class _Kind:
    """What an image was, to give the result back as the same."""

    pil_mode: str | None
    dtype: np.dtype
    channels: int            # 0: H x W
    alpha: np.ndarray | None


def unpack(image) -> tuple[np.ndarray, Callable[[np.ndarray], Any]]:
    """(H x W x 3 float32 pixels in [0, 1], a function turning result pixels back into
    the kind of ``image``)."""
    mode = None
    if hasattr(image, "mode") and hasattr(image, "getbands"):  # a PIL image, without importing PIL
        mode = image.mode
        if mode not in ("RGB", "RGBA", "L", "LA", "I;16"):
            image = image.convert("RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB")
            mode = image.mode
        array = np.asarray(image)
    elif isinstance(image, np.ndarray):
        array = image
    else:
        raise TypeError(f"an image is a PIL image or a NumPy array, not {type(image).__name__}")
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 2, 3, 4)):
        raise ValueError(f"an image is H x W, or H x W x 1 to 4 channels, not shape {array.shape}")
    if min(array.shape[:2]) < 1:
        raise ValueError("the image is empty")
    channels = 0 if array.ndim == 2 else array.shape[2]
    scaled = _to_unit(array)
    colour = scaled if array.ndim == 2 else scaled[..., :3 if channels >= 3 else 1]
    rgb = np.repeat(colour.reshape(*colour.shape[:2], 1), 3, axis=2) if colour.ndim == 2 or colour.shape[2] == 1 \
        else colour
    alpha = array[..., -1] if channels in (2, 4) else None
    kind = _Kind(mode, array.dtype, channels, alpha)
    return np.ascontiguousarray(rgb, np.float32), functools.partial(_repack, kind=kind)


def _to_unit(array: np.ndarray) -> np.ndarray:
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255
    if array.dtype == np.uint16:
        return array.astype(np.float32) / 65535
    if np.issubdtype(array.dtype, np.floating):
        if not np.isfinite(array).all():
            raise ValueError("the image holds NaN or infinite values")
        return np.clip(array, 0, 1).astype(np.float32)
    raise TypeError(f"image pixels are uint8, uint16 or float in [0, 1], not {array.dtype}")


def _repack(pixels: np.ndarray, kind: _Kind):
    grey = kind.channels in (0, 1, 2)  # a grey image: its cleaned grey
    if kind.dtype in (np.uint8, np.uint16):  # as the command line writes files
        from declare.images import quantise

        out = quantise(pixels, 16 if kind.dtype == np.uint16 else 8, grey)
        out = out[..., None] if grey else out
    else:
        out = np.clip(pixels.mean(axis=2, keepdims=True) if grey else pixels, 0, 1).astype(kind.dtype)
    if kind.alpha is not None:
        out = np.concatenate([out, kind.alpha[..., None]], axis=2)
    if kind.channels == 0:
        out = out[..., 0]
    if kind.pil_mode is None:
        return out
    from PIL import Image

    return Image.fromarray(out)  # the mode follows from shape and dtype: RGB(A), L(A), I;16
