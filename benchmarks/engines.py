"""Whole-process time and peak memory of each engine, and Yang et al. 2019 alone (issue 24).

For each photo size (JPEGs made from tests/data/glass-6.jpg, 3:2), runs
``declare-photo PHOTO -o OUT -q --engine E`` under ``/usr/bin/time -v``, the engines
in turn, each ``--rounds`` times, and reports the median wall time with its range and the peak RSS (start-up,
model load, decode, tiling, JPEG write: everything a user waits for). Beside them:
Yang et al.'s algorithm alone at the same sizes (``--yang`` sizes; the image already in
memory, as 'declare bench speed --baseline yang2019' times it), and the start-up: the
smallest photo's run with its network time taken out (the JSON record's seconds).

    python benchmarks/engines.py [--sizes 0.1,2,12,24] [--rounds 3] [--yang 2] [--model medium]

Run it with nothing else on the machine; it prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

SOURCE = Path(__file__).resolve().parents[1] / "tests" / "data" / "glass-6.jpg"
PROGRAM = str(Path(sys.executable).with_name("declare-photo"))


def make_photo(folder: Path, megapixels: float) -> Path:
    width = int(round((megapixels * 1e6 * 1.5) ** 0.5))
    path = folder / f"{megapixels:g}mp.jpg"
    with Image.open(SOURCE) as im:
        im.convert("RGB").resize((width, int(round(width / 1.5))), Image.LANCZOS).save(path, quality=92)
    return path


def timed(args: list[str]) -> tuple[float, float, dict]:
    """(wall seconds, peak RSS in MB, the JSON record) of one whole process."""
    done = subprocess.run(["/usr/bin/time", "-v", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(args)}\n{done.stderr[-2000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", done.stderr)
    seconds = int(wall.group(1) or 0) * 3600 + int(wall.group(2)) * 60 + float(wall.group(3))
    peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1)) / 1024
    record = json.loads(done.stdout.strip().splitlines()[-1])
    return seconds, peak, record


def yang_seconds(path: Path, rounds: int) -> float:
    from declare.bench.methods import yang2019

    with Image.open(path) as im:
        x = np.asarray(im.convert("RGB"), np.float32) / 255
    run = yang2019()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run(x)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="0.1,2,12,24")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--yang", default="2", help="sizes (MP) to time Yang et al. at; '' for none")
    parser.add_argument("--model", default=None)
    parser.add_argument("--engines", default="onnx,torch")
    args = parser.parse_args()
    sizes = [float(s) for s in args.sizes.split(",")]
    engines = args.engines.split(",")
    folder = Path(tempfile.mkdtemp(prefix="declare-engines-"))
    rows = []
    for mp in sizes:
        photo = make_photo(folder, mp)
        runs = {e: [] for e in engines}
        for _ in range(args.rounds):
            for engine in engines:  # in turn, so a busy moment hits both
                cmd = [PROGRAM, str(photo), "-o", str(folder / f"out-{engine}.jpg"), "--overwrite", "-q",
                       "--json", "--engine", engine] + (["--model", args.model] if args.model else [])
                runs[engine].append(timed(cmd))
        for engine in engines:
            walls = [r[0] for r in runs[engine]]
            wall = statistics.median(walls)
            peak = max(r[1] for r in runs[engine])
            startup = statistics.median(r[0] - r[2]["seconds"] for r in runs[engine])
            rows.append((mp, engine, wall, min(walls), max(walls), peak, startup))
            print(f"{mp:g} MP {engine}: {wall:.2f} s ({min(walls):.2f}-{max(walls):.2f}), {peak:.0f} MB, "
                  f"start-up {startup:.2f} s", file=sys.stderr)
    yang = {float(s): yang_seconds(make_photo(folder, float(s)), args.rounds)
            for s in args.yang.split(",") if s.strip()}
    print("| photo | engine | end to end, median | range | peak memory | start-up |")
    print("|---|---|---:|---:|---:|---:|")
    for mp, engine, wall, low, high, peak, startup in rows:
        print(f"| {mp:g} MP | {engine} | {wall:.2f} s | {low:.2f}-{high:.2f} s | {peak:.0f} MB | {startup:.2f} s |")
    for mp, seconds in yang.items():
        print(f"| {mp:g} MP | Yang et al. 2019, the algorithm alone | {seconds:.2f} s | | |")


if __name__ == "__main__":
    main()
