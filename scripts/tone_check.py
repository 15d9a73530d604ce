"""How much of a model's gain is tone (issue 22): each result scored as it is and with
its even change undone (declare.results.keep_tone: the median of input minus result added back
per channel, the step of a model trained with --keep-tone), on
real89's validation split and the report sets at 384 px, and the level change it makes
to photos without truth (CEILNet's real set) either way.

    python scripts/tone_check.py ../shared/data medium runs/NAME/best.safetensors

Per set: PSNR / PSNR fit / SSIM gains over the input and Removed %, "as is -> tone kept".
A gain that vanishes once the tone is kept was a darkening, not a reflection removed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from declare.bench.report import level_changes
from declare.selection import network, selection_sets

from declare.data.layouts import images_in
from declare.results import keep_tone
from declare.training.validation import load_resized, run_on_array, score_real

SIZE = 384
PHOTOS, PHOTO_SIZE = 24, 512  # CEILNet photos


def main(data: Path, models: list[str]) -> None:
    sets = selection_sets(data, SIZE, also=("real20", "locaware"))
    photos = [load_resized(p, PHOTO_SIZE) for p in images_in(data / "ceilnet-real")[:PHOTOS]]
    for spec in models:
        clean = network(spec)[0]  # the network itself; a keep_tone model's own step is the "tone kept" column
        kept = score_real(clean, sets, torch.device("cpu"), tone_kept=True)
        print(spec, flush=True)
        for name, v in score_real(clean, sets, torch.device("cpu")).items():
            if isinstance(v, dict):
                print(f"  {name:12s} " + " -> ".join(
                    f"{r['psnr'] - r['input_psnr']:+.2f} / {r['psnr_fit'] - r['input_psnr_fit']:+.2f} / "
                    f"{r['ssim'] - r['input_ssim']:+.4f} / {r['removed']:.1f}%" for r in (v, kept[name])), flush=True)
        changes = {"as is": [], "tone kept": []}
        for x in photos:
            y = run_on_array(clean, x, torch.device("cpu"))
            for key, out in (("as is", y), ("tone kept", keep_tone(x, y.copy()))):
                changes[key].append(level_changes(x, out))
        for key, rows in changes.items():
            print(f"  ceilnet-real {key}, levels of 255: " + ", ".join(
                f"{k} {np.nanmean([r[k] for r in rows]):+.1f}" for k in rows[0]), flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2:])
