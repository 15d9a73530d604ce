"""Scoring burst results on real sequences, where no ground truth exists.

A sequence folder holds ``frame0.jpg`` .. ``frameN.jpg`` (the views, in capture
order) and, optionally, ``published/<Method>.jpg``: other methods' results for
the middle frame. The best multi-frame method's result (``Ours.jpg``: Liu et
al. 2020) stands in for the truth, so a score says how close a result comes to
it, and where it differs from the input:

- ``vs_psnr`` / ``vs_ssim``: against the published reference;
- ``change``: the mean change of the result from the input, in levels of 255
  (negative: darker);
- ``in_reflection``: how much darker than the input the result is where the
  reference is more than 15 levels darker than the input (the reflection, as
  the reference sees it); ``elsewhere``: the same over the rest, which should
  stay near 0 (a method that only dims scores well in_reflection too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from declare.metrics import psnr, ssim

REFERENCE_METHOD = "Ours"      # Liu et al. 2020, as the sequences' PROVENANCE names it
REFLECTION_LEVELS = 15         # levels of 255 by which the reference is darker: "the reflection"
_FRAME = re.compile(r"frame(\d+)\.(jpe?g|png|tiff?|webp)$", re.I)


@dataclass(frozen=True)
class Sequence:
    name: str
    frames: list[Path]
    published: dict[str, Path]

    @property
    def middle(self) -> int:
        return len(self.frames) // 2


def find_sequences(root: str | Path) -> list[Sequence]:
    """Every folder under ``root`` (itself included) holding frame0.. files, sorted by name."""
    root = Path(root)
    found = []
    for folder in sorted({p.parent for p in root.rglob("frame*") if _FRAME.search(p.name)}):
        frames = sorted((p for p in folder.iterdir() if _FRAME.search(p.name)),
                        key=lambda p: int(_FRAME.search(p.name).group(1)))
        pub = folder / "published"
        published = {p.stem: p for p in sorted(pub.iterdir())} if pub.is_dir() else {}
        found.append(Sequence(folder.name, frames, published))
    return found


def score(result: np.ndarray, image: np.ndarray, reference: np.ndarray | None) -> dict[str, float]:
    """The columns above for one result (H x W x 3 in [0, 1]); vs_* and the two regions
    need the published reference, and are NaN without it."""
    change = float((result - image).mean()) * 255
    out = {"vs_psnr": float("nan"), "vs_ssim": float("nan"), "change": change,
           "in_reflection": float("nan"), "elsewhere": float("nan")}
    if reference is None:
        return out
    darkening = (image - result).mean(-1) * 255
    reflection = (image - reference).mean(-1) * 255 > REFLECTION_LEVELS
    out.update(vs_psnr=psnr(result, reference), vs_ssim=ssim(result, reference),
               in_reflection=float(darkening[reflection].mean()) if reflection.any() else float("nan"),
               elsewhere=float(darkening[~reflection].mean()) if (~reflection).any() else float("nan"))
    return out
