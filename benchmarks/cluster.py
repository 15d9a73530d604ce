"""Photos per minute on one process against a local Dask cluster (issue 36).

Makes COUNT photos (default 40) at 2 MP from the fixtures in tests/data, then cleans
the folder with one ``declare-photo`` process, with ``--cluster local:1`` and with
``--cluster local:2``, each into a fresh folder, ROUNDS times in turn; and each mode
once on a single photo, whose time is the mode's fixed cost (start-up, model load).
Prints each mode's wall time (median, range), photos per minute with and without
that fixed cost, and its ratio to the single process measured in the same run:

    python benchmarks/cluster.py [--count 40] [--rounds 3] [--work /tmp/declare-cluster]

Needs declare[cluster]. Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "data"
MODES = {"one process": [], "local:1": ["--cluster", "local:1"], "local:2": ["--cluster", "local:2"]}


def make_photos(folder: Path, count: int, size=(1732, 1155)) -> Path:
    sources = sorted(p for p in FIXTURES.glob("glass-*") if p.suffix in (".jpg", ".png"))
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        with Image.open(sources[i % len(sources)]) as im:
            im.convert("RGB").resize(size, Image.LANCZOS).save(folder / f"{i:03d}.jpg", quality=92)
    return folder


def timed(inputs: Path, out: Path, extra: list[str]) -> float:
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "declare", str(inputs), "-o", str(out), "-q", *extra], check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/declare-cluster"))
    args = parser.parse_args()
    photos = make_photos(args.work / "photos", args.count)
    one = make_photos(args.work / "one", 1)
    fixed = {mode: timed(one, args.work / "out-one", extra) for mode, extra in MODES.items()}
    runs: dict[str, list[float]] = {mode: [] for mode in MODES}
    for _ in range(args.rounds):
        for mode, extra in MODES.items():
            runs[mode].append(timed(photos, args.work / "out", extra))
    base = statistics.median(runs["one process"])
    print(f"{args.count} photos of 2 MP, {args.rounds} rounds; wall time median (range), photos per minute")
    print(f"{'mode':<12} {'wall s':>8} {'range':>13} {'fixed s':>8} {'photos/min':>11} {'w/o fixed':>10} {'speed-up':>9}")
    for mode, times in runs.items():
        wall = statistics.median(times)
        rate, steady = 60 * args.count / wall, 60 * (args.count - 1) / max(wall - fixed[mode], 1e-9)
        print(f"{mode:<12} {wall:8.1f} {min(times):6.1f}-{max(times):<6.1f} {fixed[mode]:8.1f} {rate:11.1f} "
              f"{steady:10.1f} {base / wall:8.2f}x")


if __name__ == "__main__":
    main()
