"""Real photos for tests: the small ones shipped in tests/data (free licences,
tests/data/PROVENANCE.md), and the development data in ../shared/data beside
the checkout for the few tests that need real benchmark pairs.

A missing fixture skips its test with the reason, except under CI (``CI`` set),
where it fails: CI has every fixture, so a missing one is a broken checkout.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

FIXTURES = Path(__file__).resolve().parent / "data"
PHOTOS = FIXTURES / "photos"
DATA = Path(os.environ.get("DECLARE_TEST_SHARED_DATA",
                           Path(__file__).resolve().parents[2] / "shared" / "data"))


def require(path: Path, what: str) -> Path:
    """``path``, or skip (fail under CI) saying what is missing and where."""
    if not path.exists():
        message = f"{what} not found at {path}"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (CI must have every fixture)")
        pytest.skip(message)
    return path


def shared(name: str) -> Path:
    """A folder of the development data in ../shared/data."""
    return require(DATA / name, f"development data {name!r}")


def real_photo_path(name: str = "glass-1.jpg") -> Path:
    return require(FIXTURES / name, "test photo")


def copy_real(dest: Path, name: str = "glass-1.jpg") -> Path:
    """A writable copy of a test photo."""
    out = dest / name
    shutil.copyfile(real_photo_path(name), out)
    out.chmod(0o644)
    return out


def real_array(name: str = "glass-1.jpg", size: tuple[int, int] | None = None) -> np.ndarray:
    with Image.open(real_photo_path(name)) as im:
        im = im.convert("RGB")
        if size:
            im = im.resize(size)
        return np.asarray(im)


def small_photo_folder(dest: Path, count: int = 6, side: int = 128) -> Path:
    """``count`` real photos from tests/data/photos, shrunk to ``side`` px wide."""
    sources = sorted(require(PHOTOS, "test photos").glob("*.png"))[:count]
    if len(sources) < count:
        require(PHOTOS / f"{count} photos", "test photos")
    dest.mkdir(parents=True, exist_ok=True)
    for src in sources:
        with Image.open(src) as im:
            im = im.convert("RGB")
            im.resize((side, round(side * im.height / im.width))).save(dest / src.name)
    return dest


def as_float(a: np.ndarray) -> np.ndarray:
    return a.astype(np.float32) / 255


def shifted(image: np.ndarray, dx: float, dy: float, size: tuple[int, int]) -> np.ndarray:
    """A ``size`` (w, h) window of ``image`` whose top-left sits at (40 + dx, 40 + dy)."""
    m = np.float32([[1, 0, 40 + dx], [0, 1, 40 + dy]])
    return cv2.warpAffine(image, m, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REFLECT)


def synthetic_burst(t_moves, r_moves, strength=0.8, size=(400, 300)):
    """Views of a real scene behind glass (glass-6) with the bright details of another real
    photo (glass-3: its highlights and edges, as a lit shop front mirrors them) reflected on
    it; each layer moved by its own (dx, dy) per view. Returns the views and the scene in each."""
    scene = as_float(real_array("glass-6.jpg", (520, 420)))
    other = as_float(real_array("glass-3.jpg", (560, 460)))
    mirrored = np.clip((other - cv2.GaussianBlur(other, (0, 0), 4)) * 3 - 0.15, 0, 1)
    views, truths = [], []
    for (tx, ty), (rx, ry) in zip(t_moves, r_moves):
        t = shifted(scene, tx, ty, size)
        views.append(np.clip(t + strength * shifted(mirrored, rx, ry, size), 0, 1))
        truths.append(t)
    return views, truths
