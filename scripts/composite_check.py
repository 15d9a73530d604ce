"""Can a model remove a real reflection when the task is clean? Held-out real reflections
(the reflection layers of real89's validation split, configs/real89-val.txt) laid over
held-out photos (photos-train's validation photos), 48 crops of 256 px, each with its exact
truth: gains over the input in PSNR, PSNR after a gain fit, and the reflection removed (%).

A model that removes little here cannot learn the task at its size or budget; one that
removes much here but little on the real pairs meets a gap between composites and photos.

    python scripts/composite_check.py ../shared/data medium runs/medium-rr/best.safetensors
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from declare.selection import held_out_real89, network

from declare.data.datasets import split_photos
from declare.data.layouts import images_in
from declare.data.real_reflections import RealReflections
from declare.metrics import score
from declare.training.config import TrainConfig

COUNT, CROP, SEED = 48, 256, 7


def composites(data: Path) -> list[dict]:
    pairs = held_out_real89(data)
    _, photos = split_photos(images_in(data / "photos-train"), TrainConfig.val_fraction, TrainConfig.seed)
    made = RealReflections(photos, pairs, COUNT, crop=CROP, seed=SEED)
    return [made[i] for i in range(COUNT)]


def main(data: Path, models: list[str]) -> None:
    samples = composites(data)
    for spec in models:
        clean = network(spec)[0]  # removal is scored after a tone fit: the tone step cannot move it
        gains = []
        for s in samples:
            x, t = s["frames"][1], s["t"][1]
            y = clean(x[None])[0].clamp(0, 1)
            x, t, y = (a.permute(1, 2, 0).numpy() for a in (x, t, y))
            mine = score(y, t, ("psnr", "psnr_fit", "removed"), image=x)
            before = score(x, t, ("psnr", "psnr_fit"))
            gains.append((mine["psnr"] - before["psnr"], mine["psnr_fit"] - before["psnr_fit"], mine["removed"]))
        db, fit, removed = np.nanmean(np.array(gains), 0)
        print(f"{spec}: {db:+.2f} dB / fit {fit:+.2f} / removed {removed:+.1f}%", flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2:])
