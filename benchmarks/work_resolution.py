"""Would running the network on a smaller copy of the photo lose anything?

    python benchmarks/work_resolution.py --model medium --work 384,768,1536 --upscale 1
    python benchmarks/work_resolution.py --model medium --work 600,1200 --upscale 5 --sets nature20,kim2020 --limit 6

For each real pair (optionally upscaled bicubically, a stand-in for the same scene shot at
many more pixels), the network runs on a copy whose longer side is WORK pixels, the
correction it makes (output minus its input) is upsampled bilinearly and added to the
full-size photo; PSNR / SSIM against the truth beside the input and the full-size run. Not
a feature of declare: a measurement of whether one would be worth building.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from declare.bench.quality import pairs_in
from declare.images import read_photo
from declare.metrics import psnr, ssim
from declare.session import Session
from declare.tiling import OVERLAP, TILE


def tensor(path: Path, upscale: int) -> torch.Tensor:
    x = torch.from_numpy(read_photo(path).pixels[..., :3].astype(np.float32)).permute(2, 0, 1)[None]
    return F.interpolate(x, scale_factor=upscale, mode="bicubic").clamp(0, 1) if upscale > 1 else x


def at_work_size(session: Session, x: torch.Tensor, work: int | None) -> np.ndarray:
    h, w = x.shape[-2:]
    scale = 1.0 if work is None else min(1.0, work / max(h, w))
    small = F.interpolate(x, scale_factor=scale, mode="area") if scale < 1 else x
    out = torch.from_numpy(session.clean(small[0].permute(1, 2, 0).numpy(), TILE, OVERLAP))
    correction = out.permute(2, 0, 1)[None] - small
    if scale < 1:
        correction = F.interpolate(correction, size=(h, w), mode="bilinear", align_corners=False)
    return (x + correction).clamp(0, 1)[0].permute(1, 2, 0).numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="medium")
    parser.add_argument("--pairs", type=Path, default=Path("../shared/data/real-pairs"))
    parser.add_argument("--sets", default="real20,nature20,kim2020,locaware")
    parser.add_argument("--work", default="384,768,1536", help="longer sides, pixels, comma-separated")
    parser.add_argument("--upscale", type=int, default=1)
    parser.add_argument("--limit", type=int, default=None, help="at most N pairs per set")
    args = parser.parse_args()

    session = Session.load(args.model, "cpu")
    works: list[int | None] = [int(w) for w in args.work.split(",")] + [None]
    for name in args.sets.split(","):
        pairs = pairs_in(args.pairs / name)[:args.limit]
        scores: dict[str, list[tuple[float, float]]] = {}
        for pair in pairs:
            x, truth = tensor(pair.image, args.upscale), tensor(pair.truth, args.upscale)
            t = truth[0].permute(1, 2, 0).numpy()
            runs = {"input": x[0].permute(1, 2, 0).numpy()}
            runs.update({f"{w} px" if w else "full size": at_work_size(session, x, w) for w in works})
            for label, y in runs.items():
                scores.setdefault(label, []).append((psnr(y, t), ssim(y, t)))
        cells = [f"{k} {np.mean([s[0] for s in v]):.2f} / {np.mean([s[1] for s in v]):.4f}"
                 for k, v in scores.items()]
        print(f"{name} ({len(pairs)} pairs, x{args.upscale}): " + " | ".join(cells), flush=True)


if __name__ == "__main__":
    main()
