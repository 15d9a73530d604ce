"""Fit the global-gain baseline of `declare bench quality` (issue 22, item 0).

The input times one factor, nothing else: the best single factor for the validation sets
(the real89 split in configs/real89-val.txt, Nature, Kim et al.; each set weighted equally,
full resolution, mean PSNR). Its result is recorded as GLOBAL_GAIN in declare/bench/methods.py:

    python scripts/fit_global_gain.py ../shared/data
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from declare.images import read_photo
from declare.metrics import psnr
from declare.selection import choosing_pairs


def main(data: Path) -> None:
    factors = np.round(np.arange(0.80, 1.0001, 0.005), 3)
    per_set = {}
    for name, pairs in choosing_pairs(data).items():
        photos = [(read_photo(p.image).pixels, read_photo(p.truth).pixels) for p in pairs]
        per_set[name] = [np.mean([psnr(np.clip(x * f, 0, 1), t) for x, t in photos]) for f in factors]
        print(f"{name}: {len(photos)} pairs, best factor {factors[int(np.argmax(per_set[name]))]}")
    mean = np.mean(list(per_set.values()), axis=0)
    best = int(np.argmax(mean))
    print(f"GLOBAL_GAIN = {factors[best]}  (mean PSNR over the sets {mean[best]:.3f} dB, "
          f"at 1.0: {mean[-1]:.3f} dB)")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data"))
