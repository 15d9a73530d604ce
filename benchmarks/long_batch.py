"""A long batch stays flat: peak memory at photo 20 and at photo 200 of one run (issue 25).

Makes N photos (default 200) from the fixtures in tests/data, repeated, at mixed sizes up
to 12 MP (every 25th photo 12 MP, every 25th 2 MP, the rest as shipped), puts one corrupt
file in the middle, and cleans the folder in ONE declare process. The parent reads that
process's JSON records as they come and, after each photo, its peak resident memory so far
(VmHWM in /proc/PID/status). Prints the peaks at photo 20 and at the last photo, their
ratio, and what happened to the corrupt file and to the rest:

    python benchmarks/long_batch.py [--count 200] [--model medium] [--work /tmp/long-batch]

Linux only (/proc).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "data"
SIZES = {0: (4243, 2829), 12: (1732, 1155)}  # photo index mod 25 -> size; others as shipped


def make_photos(folder: Path, count: int) -> Path:
    sources = sorted(p for p in FIXTURES.glob("glass-*") if p.suffix in (".jpg", ".png"))
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        with Image.open(sources[i % len(sources)]) as im:
            im = im.convert("RGB")
            if i % 25 in SIZES:
                im = im.resize(SIZES[i % 25], Image.LANCZOS)
            im.save(folder / f"{i:04d}.jpg", quality=90)
    bad = folder / f"{count // 2:04d}.jpg"
    bad.write_bytes(bad.read_bytes()[:2000])  # truncated: a corrupt JPEG in the middle
    return bad


def peak_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--model", default=None)
    parser.add_argument("--work", type=Path, default=Path("/tmp/declare-long-batch"))
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    bad = make_photos(args.work / "in", args.count)
    cmd = [sys.executable, "-m", "declare", str(args.work / "in"), "-o", str(args.work / "out"), "--json"]
    if args.model:
        cmd += ["--model", args.model]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    peaks, records = [], []
    for line in proc.stdout:
        records.append(json.loads(line))
        peaks.append(peak_kb(proc.pid) if proc.poll() is None else (peaks[-1] if peaks else 0))
    proc.wait()
    failed = [r for r in records if r["status"] != "ok"]
    at20, last = peaks[min(19, len(peaks) - 1)], peaks[-1]
    print(f"photos: {len(records)} ({len(records) - len(failed)} cleaned), exit status {proc.returncode}")
    print(f"failed: {[(Path(r['input']).name, r['error']) for r in failed]}")
    print(f"corrupt file was {bad.name}; outputs written: {len(list((args.work / 'out').glob('*.jpg')))}")
    print(f"peak RSS at photo 20: {at20 / 1024:.0f} MB; at photo {len(peaks)}: {last / 1024:.0f} MB; "
          f"ratio {last / at20:.3f}")
    print("peak RSS every 20 photos (MB): " + ", ".join(f"{p / 1024:.0f}" for p in peaks[::20]))


if __name__ == "__main__":
    main()
