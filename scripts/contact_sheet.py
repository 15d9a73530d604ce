"""A contact sheet: input | declare | Yang et al. 2019, one row per photo; for a folder
of real pairs, input | declare | the true transmission.

    python scripts/contact_sheet.py ../shared/data/ceilnet-real docs/contact-sheet.jpg --count 12
    python scripts/contact_sheet.py ../shared/data/real-pairs/nature20 /tmp/pairs-sheet.jpg --count 8  # never commit: the pairs are not ours

Every photo is cleaned at full size (as `declare` would), then all three
versions are shrunk to the same thumbnail width for the sheet. For each photo it
prints what the model changed, in levels of 255: the mean change over the whole
photo, in its bright areas (input luminance >= 0.7) and dark ones (<= 0.25), so
a caption can say what a person sees, measured (a global dimming shows as the
same negative number everywhere).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from declare.bench.methods import baseline_method, model_method
from declare.bench.report import level_changes, thumbnail
from declare.data.layouts import find_pairs, images_in
from declare.images import read_photo
from declare.tiling import OVERLAP, TILE

HEADINGS = ("input", "declare (default model)", "Yang et al. 2019")
LABEL = 22  # pixels of heading band


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photos", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--count", type=int, default=12)
    parser.add_argument("--width", type=int, default=240, help="thumbnail width, pixels")
    parser.add_argument("--model", default=None, help="NAME|PATH; default: the installed default")
    args = parser.parse_args()

    from declare import registry

    ours = model_method(args.model or registry.default_model(), "cpu", None, TILE, OVERLAP)
    pairs = find_pairs(args.photos)[: args.count]
    if pairs:
        headings = ("input", "declare (default model)", "true transmission")
        items = [(p.image, lambda p=p: read_photo(p.truth).pixels) for p in pairs]
    else:
        headings, yang = HEADINGS, baseline_method("yang2019")
        items = [(path, None) for path in images_in(args.photos)[: args.count]]
    rows, changes = [], []
    for path, third in items:
        x = read_photo(path).pixels
        y = ours.run(x)
        rows.append([thumbnail(p, args.width) for p in (x, y, third() if third else yang.run(x))])
        changes.append(level_changes(x, y))
        print(f"{path.name}: " + ", ".join(f"{k} {v:+.1f}" for k, v in changes[-1].items()), flush=True)
    print("mean over the photos, levels of 255: " + ", ".join(
        f"{k} {np.nanmean([c[k] for c in changes]):+.1f}" for k in changes[0]))
    gap = 4
    height = LABEL + sum(r[0].height + gap for r in rows)
    sheet = Image.new("RGB", (3 * args.width + 2 * gap, height), "white")
    draw = ImageDraw.Draw(sheet)
    for i, heading in enumerate(headings):
        draw.text((i * (args.width + gap) + 6, 5), heading, fill="black")
    y = LABEL
    for row in rows:
        for i, thumb in enumerate(row):
            sheet.paste(thumb, (i * (args.width + gap), y))
        y += row[0].height + gap
    args.output.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.output, quality=85, optimize=True)
    print(f"{args.output}: {sheet.width}x{sheet.height}")


if __name__ == "__main__":
    main()
