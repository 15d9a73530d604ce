"""A copy of the training data small enough to travel to a lent GPU machine (issue 22).

    python scripts/device_pack.py ../shared/data runs/pack --budget-mb 30

The device tool sends the checkout and at most 64 MiB with it: the data folder (122 MB)
does not fit. The pack keeps DATA's layout, so every recipe script takes it as DATA
(``scripts/device_train.sh``): real89's pairs with their longer side at most 512 px
(names kept, so configs/real89-val.txt still holds the same 12 out), Nature and Kim et
al. at the 384 px validation scores them at, and as many of photos-train's photos as
the budget leaves, every k-th by name so the pack is the same on every machine.
The pack is data: never commit it (runs/ is ignored).
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from PIL import Image

from declare.data.layouts import find_pairs, images_in

PAIR_SIDE, VAL_SIDE = 512, 384
SETS = {"real-train/real89": PAIR_SIDE, "real-pairs/nature20": VAL_SIDE, "real-pairs/kim2020": VAL_SIDE}


def shrink(src: Path, dst: Path, side: int) -> None:
    """``src`` with its longer side at most ``side`` px, in the format its name says."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(src) as im:
        im = im.convert("RGB")
        im.thumbnail((side, side), Image.LANCZOS)
        jpeg = dst.suffix.lower() in (".jpg", ".jpeg")
        im.save(dst, **({"quality": 92} if jpeg else {}))


def size_of(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def pack(data: Path, out: Path, budget: int) -> dict[str, tuple[int, int]]:
    """Write the pack; {part: (files, bytes)}. Raises if the pairs alone pass the budget."""
    if out.exists():
        shutil.rmtree(out)
    report = {}
    for name, side in SETS.items():
        root = data / name
        pairs = find_pairs(root)
        for pair in pairs:
            for path in (pair.image, pair.truth):
                shrink(path, out / name / path.relative_to(root), side)
        report[name] = (2 * len(pairs), size_of(out / name))
    left = budget - sum(b for _, b in report.values())
    photos = images_in(data / "photos-train")
    if left <= 0:
        raise SystemExit(f"the pairs alone take {budget - left} bytes, over the budget of {budget}")
    total = sum(p.stat().st_size for p in photos)
    step = max(1, -(-total // left))  # every k-th photo: k the fewest that fits
    chosen = photos[::step]
    while sum(p.stat().st_size for p in chosen) > left:
        step += 1
        chosen = photos[::step]
    (out / "photos-train").mkdir(parents=True)
    for p in chosen:
        shutil.copyfile(p, out / "photos-train" / p.name)
    report["photos-train"] = (len(chosen), size_of(out / "photos-train"))
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the shared data folder (photos-train/, real-train/, real-pairs/)")
    parser.add_argument("out", type=Path, help="where the pack goes (under runs/, which git ignores)")
    parser.add_argument("--budget-mb", type=float, default=30, help="the pack's size, MB (1e6 bytes)")
    args = parser.parse_args()
    report = pack(args.data, args.out, int(args.budget_mb * 1e6))
    for name, (files, size) in report.items():
        print(f"{name}: {files} files, {size / 1e6:.1f} MB")
    print(f"total {sum(s for _, s in report.values()) / 1e6:.1f} MB in {args.out}")


if __name__ == "__main__":
    main()
