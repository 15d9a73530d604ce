"""Real (photo, cleaned) pairs from real bursts: the paper's transfer on real data (issue 33, item 7).

Every frame of every sequence is cleaned by the burst mode with that frame as the
reference (the others aligned to it), and written as a pair in the Real20 layout
that ``declare train --data`` reads: OUT/blended/SEQ_fK.png (the frame) beside
OUT/transmission_layer/SEQ_fK.png (its burst result). A frame the burst mode gives
back unchanged (nothing aligned, views that barely move) makes no pair.

    python scripts/burst_pairs.py ../shared/data/bursts runs/burst-pairs [--method classical]

The pictures come from the bursts' shoots (never real89's); they stay out of the
repository like the data they are made from.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from declare.api import Cleaner
from declare.bench.bursts import find_sequences
from declare.images import read_photo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--method", default="classical")
    args = parser.parse_args()
    cleaner = Cleaner(load=False)
    for folder in ("blended", "transmission_layer"):
        (args.out / folder).mkdir(parents=True, exist_ok=True)
    made = kept = 0
    for seq in find_sequences(args.data):
        frames = [read_photo(f).pixels for f in seq.frames]
        for k in range(len(frames)):
            result = cleaner.burst(frames, k, args.method)
            if np.array_equal(result.transmission, frames[k]):
                kept += 1
                continue
            name = f"{seq.name}_f{k}.png"
            for folder, pixels in (("blended", frames[k]), ("transmission_layer", result.transmission)):
                Image.fromarray(np.round(np.clip(pixels, 0, 1) * 255).astype(np.uint8)).save(args.out / folder / name)
            made += 1
    print(f"{made} pairs in {args.out}; {kept} frames given back unchanged made none")


if __name__ == "__main__":
    main()
