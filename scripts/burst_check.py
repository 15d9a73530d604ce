"""Teachers (what --burst runs) side by side on synthetic three-view sequences.

    python scripts/burst_check.py ../shared/data/photos --model small-teacher --model medium-teacher

No real three-view photos with ground truth are at hand, so this synthesises
COUNT sequences from a photo folder with the default recipe, every one with a
reflection (fixed seed, no flips), cleans the centre view of each with every teacher, and prints PSNR /
SSIM against the true transmission beside the centre view itself. A teacher
trained on the same photos is favoured: say which photos each one saw.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np

from declare.data.datasets import SyntheticSequences
from declare.data.layouts import images_in
from declare.data.synthetic_config import SyntheticConfig
from declare.metrics import psnr, ssim
from declare.session import Session
from declare.tiling import OVERLAP, TILE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photos", type=Path)
    parser.add_argument("--model", action="append", required=True, help="a teacher: NAME|PATH (repeatable)")
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--size", type=int, default=256, help="side of each sequence, pixels")
    parser.add_argument("--seed", type=int, default=123)
    args = parser.parse_args()

    recipe = replace(SyntheticConfig(), clean_share=0.0)  # a clean input would score infinite PSNR
    data = SyntheticSequences(images_in(args.photos), args.count, args.size, args.seed, False, recipe)
    sessions = {name: Session.load(name, "cpu", burst=True) for name in args.model}
    scores: dict[str, list[tuple[float, float]]] = {name: [] for name in ["identity", *sessions]}
    for i in range(len(data)):
        sample = data[i]
        frames = [f.permute(1, 2, 0).numpy() for f in sample["frames"]]
        truth = sample["t"][1].permute(1, 2, 0).numpy()
        scores["identity"].append((psnr(frames[1], truth), ssim(frames[1], truth)))
        for name, session in sessions.items():
            out = session.clean_burst(frames, TILE, OVERLAP)
            scores[name].append((psnr(out, truth), ssim(out, truth)))
    print(f"{args.count} sequences from {args.photos} ({args.size} px, seed {args.seed}); PSNR / SSIM")
    for name, values in scores.items():
        print(f"{name:>24}  {np.mean([v[0] for v in values]):6.2f}  {np.mean([v[1] for v in values]):.4f}")


if __name__ == "__main__":
    main()
