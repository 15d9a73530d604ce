"""Teachers on real pairs, each photo given as three identical views: whether --burst's
model harms a real photo when the views carry no motion (there are no real three-view
sets with ground truth here). Prints PSNR / SSIM per set beside the input itself.

    python scripts/teacher_on_pairs.py ../shared/data/real-pairs --model medium-teacher --model small-teacher
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from declare.bench.quality import pairs_in
from declare.images import read_photo
from declare.metrics import psnr, ssim
from declare.session import Session
from declare.tiling import OVERLAP, TILE

SETS = ("real20", "nature20", "kim2020", "locaware")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pairs", type=Path, help="the folder holding real20/, nature20/, kim2020/, locaware/")
    parser.add_argument("--model", action="append", required=True, help="a teacher (repeatable)")
    args = parser.parse_args()
    teachers = {name: Session.load(name, "cpu", False, burst=True) for name in args.model}
    for name in SETS:
        scores = {"identity": [], **{t: [] for t in teachers}}
        for pair in pairs_in(args.pairs / name):
            photo, truth = read_photo(pair.image).pixels, read_photo(pair.truth).pixels
            scores["identity"].append((psnr(photo, truth), ssim(photo, truth)))
            for t, session in teachers.items():
                out = session.clean_burst([photo, photo, photo], TILE, OVERLAP)
                scores[t].append((psnr(out, truth), ssim(out, truth)))
        print(f"{name} ({len(scores['identity'])} pairs): " + "  ".join(
            f"{k} {np.mean([s[0] for s in v]):.2f} / {np.mean([s[1] for s in v]):.4f}" for k, v in scores.items()))


if __name__ == "__main__":
    main()
