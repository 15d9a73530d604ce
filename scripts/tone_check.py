"""How much of a model's gain is tone (issue 22): each result scored as it is and with
its even change undone (the median of input minus result added back per channel), on
real89's validation split and the report sets at 384 px, and the mean level change it
makes to photos without truth (CEILNet's real set) either way.

    python scripts/tone_check.py ../shared/data medium runs/NAME/best.safetensors

Per set: PSNR / PSNR fit / SSIM gains over the input and Removed %, "as is -> tone kept".
A gain that vanishes once the tone is kept was a darkening, not a reflection removed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from declare.data.layouts import images_in
from declare.session import Session
from declare.training.config import TrainConfig
from declare.training.validation import _load, _mean_scores, load_real_sets

SIZE = 384
REPORT_SETS = ("nature20", "kim2020", "real20", "locaware")
PHOTOS = 24  # CEILNet photos, at 512 px


def tone_kept(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``y`` with the median of ``x - y`` per channel added back: its local changes only."""
    return np.clip(y + np.median((x - y).reshape(-1, 3), 0), 0, 1)


def level_change(x: np.ndarray, y: np.ndarray) -> float:
    return float(255 * (y - x).mean())


def main(data: Path, models: list[str]) -> None:
    held_out = TrainConfig(val_pairs="configs/real89-val.txt").held_out_pairs()
    sets = load_real_sets([str(data / "real-train/real89")], SIZE, held_out, "-val")[0]
    sets += load_real_sets([str(data / "real-pairs" / name) for name in REPORT_SETS], SIZE)[0]
    photos = [_load(p, 512) for p in images_in(data / "ceilnet-real")[:PHOTOS]]
    for spec in models:
        net = Session.load(spec, "cpu", False, engine="torch").engine.model

        def clean(x: np.ndarray) -> np.ndarray:
            with torch.no_grad():
                t = net(torch.from_numpy(x).permute(2, 0, 1)[None]).transmission
            return t.clamp(0, 1)[0].permute(1, 2, 0).numpy()

        print(spec, flush=True)
        for s in sets:
            ys = [clean(x) for x in s.inputs]
            rows = [_mean_scores(outs, s.truths, s.inputs)
                    for outs in (ys, [tone_kept(x, y) for x, y in zip(s.inputs, ys)])]
            print(f"  {s.name:12s} " + " -> ".join(
                f"{r['psnr'] - s.identity['psnr']:+.2f} / {r['psnr_fit'] - s.identity['psnr_fit']:+.2f} / "
                f"{r['ssim'] - s.identity['ssim']:+.4f} / {r['removed']:.1f}%" for r in rows), flush=True)
        changes = np.array([(level_change(x, y), level_change(x, tone_kept(x, y)))
                            for x, y in ((x, clean(x)) for x in photos)])
        print(f"  ceilnet-real mean level change, levels of 255: {changes[:, 0].mean():+.1f} -> "
              f"{changes[:, 1].mean():+.1f}", flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2:])
