"""Build the test photos in this folder from scikit-image's bundled sample photos.

Run once (``python tests/data/make_fixtures.py``); the outputs are committed,
so the tests need neither scikit-image's data nor ../shared. Every source is
public domain or CC0 (PROVENANCE.md). The ``glass-*`` photos imitate photos
through glass: one photo as the scene, another, blurred and dimmed, screened
over it as the reflection, so a model has something to remove.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

HERE = Path(__file__).resolve().parent
SOURCES = ("astronaut", "brick", "chelsea", "coffee", "grass", "rocket")
# name: (scene, reflection, width, height, reflection strength, blur radius)
GLASS = {
    "glass-1.jpg": ("coffee", "astronaut", 400, 296, 0.35, 2.0),
    "glass-2.jpg": ("chelsea", "rocket", 400, 284, 0.30, 3.0),
    "glass-3.jpg": ("rocket", "coffee", 412, 500, 0.25, 1.5),
    "glass-4.jpg": ("astronaut", "chelsea", 368, 500, 0.40, 2.5),
    "glass-5.png": ("chelsea", "coffee", 320, 288, 0.35, 2.0),
    "glass-6.jpg": ("coffee", "rocket", 500, 378, 0.30, 1.0),
}


def source(name: str) -> Image.Image:
    import skimage.data

    return Image.fromarray(getattr(skimage.data, name)()).convert("RGB")


def fit(im: Image.Image, width: int, height: int) -> Image.Image:
    """Scale to cover width x height, then centre-crop."""
    scale = max(width / im.width, height / im.height)
    im = im.resize((round(im.width * scale), round(im.height * scale)), Image.LANCZOS)
    left, top = (im.width - width) // 2, (im.height - height) // 2
    return im.crop((left, top, left + width, top + height))


def glass(scene: str, reflection: str, width: int, height: int, strength: float, blur: float) -> Image.Image:
    t = np.asarray(fit(source(scene), width, height), np.float32) / 255
    r = fit(source(reflection), width, height).filter(ImageFilter.GaussianBlur(blur))
    r = np.asarray(r, np.float32) / 255 * strength
    return Image.fromarray(np.round((t + r - t * r) * 255).astype(np.uint8))


def main() -> None:
    for name in SOURCES:
        im = source(name)
        im.thumbnail((192, 192), Image.LANCZOS)
        im.save(HERE / "photos" / f"{name}.png", optimize=True)
    for name, args in GLASS.items():
        im = glass(*args)
        im.save(HERE / name, **({"quality": 90} if name.endswith(".jpg") else {"optimize": True}))


if __name__ == "__main__":
    (HERE / "photos").mkdir(exist_ok=True)
    main()
