"""Real photos for tests: ../shared/data beside the checkout (CI has it)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
REAL = DATA / "ceilnet-real"


def real_photo_path(name: str = "qingnan-new2-1-input.jpg") -> Path:
    path = REAL / name
    if not path.exists():
        pytest.skip(f"real photos not found at {REAL}")
    return path


def copy_real(dest: Path, name: str = "qingnan-new2-1-input.jpg") -> Path:
    """A writable copy of a real photo (the shared folder is read-only)."""
    out = dest / name
    shutil.copyfile(real_photo_path(name), out)
    out.chmod(0o644)
    return out


def real_array(name: str = "qingnan-new2-1-input.jpg", size: tuple[int, int] | None = None) -> np.ndarray:
    with Image.open(real_photo_path(name)) as im:
        im = im.convert("RGB")
        if size:
            im = im.resize(size)
        return np.asarray(im)


PHOTOS = DATA / "photos"


def small_photo_folder(dest: Path, count: int = 6, side: int = 128) -> Path:
    """``count`` real photos from ../shared/data/photos, shrunk to ``side`` px wide."""
    sources = sorted(PHOTOS.glob("*.png"))[:count] if PHOTOS.is_dir() else []
    if len(sources) < count:
        pytest.skip(f"photos not found at {PHOTOS}")
    dest.mkdir(parents=True, exist_ok=True)
    for src in sources:
        with Image.open(src) as im:
            im = im.convert("RGB")
            im.resize((side, round(side * im.height / im.width))).save(dest / src.name)
    return dest
