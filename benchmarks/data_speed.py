"""Where a training step's time goes: making the batch, or the network.

    python benchmarks/data_speed.py --photos ../shared/data/photos-train --crop 224 --batch-size 8

Runs the real Trainer (student alone, the realistic synthesis recipe, no
perceptual term) with each way of making synthetic batches, side by side:
loader workers decoding and blending one sample at a time (the old path), and
the photo bank blending whole batches on the training device. Prints seconds
per batch for the data alone, per step end to end, and the data's share.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tomllib
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]


def measure(args, work: Path, on_device: bool, workers: int) -> dict:
    from declare.data.synthetic_config import SyntheticConfig
    from declare.training.config import TrainConfig
    from declare.training.trainer import Trainer

    recipe = tomllib.loads((ROOT / "configs" / "synthesis-realistic.toml").read_text())["synthesis"]
    cfg = TrainConfig(stage="student", ablate=["no-transfer"], data=[str(args.photos)],
                      out=str(work / f"run-{on_device}-{workers}"), preset=args.preset, crop=args.crop,
                      batch_size=args.batch_size, epoch_size=args.batch_size * (args.steps + 2),
                      device=args.device, quiet=True, perceptual="off", data_on_device=on_device,
                      workers=workers, synthesis=SyntheticConfig(**recipe))
    trainer = Trainer(cfg)
    sync = torch.cuda.synchronize if trainer.device.type == "cuda" else (lambda: None)
    batches = trainer._batches()
    trainer._train_step(next(batches))  # warm-up: first batch, first step
    data = total = 0.0
    for _ in range(args.steps):
        start = time.perf_counter()
        batch = next(batches)
        sync()
        got = time.perf_counter()
        trainer._train_step(batch)
        sync()
        data += got - start
        total += time.perf_counter() - start
    return {"data": data / args.steps, "step": total / args.steps}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=Path, default=ROOT.parent / "shared" / "data" / "photos-train")
    parser.add_argument("--preset", default="small")
    parser.add_argument("--crop", type=int, default=224)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--workers", type=int, nargs="+", default=[0])
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    print(f"{args.preset} student, batch {args.batch_size}, {args.crop}x{args.crop}, "
          f"{torch.get_num_threads()} threads, mean of {args.steps} steps after one")
    print(f"{'batches made':<28} {'data s':>8} {'step s':>8} {'steps/s':>8} {'data share':>10}")
    with tempfile.TemporaryDirectory() as work:
        paths = [(False, w) for w in args.workers] + [(True, 0)]
        for on_device, workers in paths:
            r = measure(args, Path(work), on_device, workers)
            name = "on the device (photo bank)" if on_device else f"loader, {workers} workers"
            print(f"{name:<28} {r['data']:8.3f} {r['step']:8.3f} {1 / r['step']:8.2f} "
                  f"{r['data'] / r['step']:10.0%}", flush=True)


if __name__ == "__main__":
    main()
