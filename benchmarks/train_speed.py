"""Seconds per training step, teacher and student, for chosen presets.

    python benchmarks/train_speed.py --presets small paper --batch-size 8 --crop 224

Runs the real Trainer (both objectives, optimizer steps, discriminator) on
synthetic sequences from a folder of photos, times steps after a warm-up on
one fixed batch (data loading excluded), and prints the median. The student
is distilled from an untrained teacher of the same preset: speed does not
depend on the weights.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch

DEFAULT_PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "photos"


def seconds_per_step(stage: str, preset: str, args, work: Path) -> float:
    from declare.checkpoint import save_checkpoint
    from declare.training.config import TrainConfig
    from declare.training.trainer import Trainer
    from declare_models import Teacher, get_config

    extra = {}
    if stage == "student":
        extra["teacher"] = str(save_checkpoint(work / f"{preset}-teacher.safetensors",
                                               Teacher(get_config(preset))))
    cfg = TrainConfig(stage=stage, data=[str(args.photos)], out=str(work / f"{preset}-{stage}"),
                      preset=preset, crop=args.crop, batch_size=args.batch_size,
                      epoch_size=args.batch_size * 4, device=args.device, quiet=True, **extra)
    trainer = Trainer(cfg)
    batch = next(trainer._batches())
    for _ in range(args.warmup):
        trainer._train_step(batch)
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        trainer._train_step(batch)
        if trainer.device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["small", "paper"])
    parser.add_argument("--stages", nargs="+", default=["teacher", "student"])
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--crop", type=int, default=224)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS)
    args = parser.parse_args()

    print(f"batch {args.batch_size}, {args.crop}x{args.crop} crops, {torch.get_num_threads()} threads, "
          f"median of {args.repeats} steps after {args.warmup} warm-up")
    with tempfile.TemporaryDirectory() as work:
        for preset in args.presets:
            for stage in args.stages:
                s = seconds_per_step(stage, preset, args, Path(work))
                print(f"{preset:<8} {stage:<8} {s:8.2f} s/step", flush=True)


if __name__ == "__main__":
    main()
