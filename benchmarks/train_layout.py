"""A student's training step in the two memory layouts, side by side (why the trainer runs
channels_last on the CPU: declare.device.memory_format).

    python benchmarks/train_layout.py --preset medium-lite0 --batch-size 8 --crop 128

Forward, L1 against a random target, backward and an Adam step, on random weights (time
does not depend on them); the layouts alternate, so that a busy machine slows both alike.
Prints the median seconds per step of each and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from declare_models import create_model


def stepper(preset: str, layout: torch.memory_format, x: torch.Tensor, target: torch.Tensor):
    torch.manual_seed(0)
    model = create_model("student", preset).to(memory_format=layout)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    image = x.contiguous(memory_format=layout)

    def step() -> float:
        start = time.perf_counter()
        loss = (model(image).transmission - target).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return time.perf_counter() - start

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="medium-lite0")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--crop", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: its default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    x = torch.rand(args.batch_size, 3, args.crop, args.crop)
    target = torch.rand_like(x)
    layouts = {"contiguous": torch.contiguous_format, "channels_last": torch.channels_last}
    steps = {name: stepper(args.preset, layout, x, target) for name, layout in layouts.items()}
    times: dict[str, list[float]] = {name: [] for name in layouts}
    for name, step in steps.items():
        step()  # warm-up
    for _ in range(args.repeats):
        for name, step in steps.items():
            times[name].append(step())
    medians = {name: statistics.median(t) for name, t in times.items()}
    for name, seconds in medians.items():
        print(f"{name:14s} {seconds:.3f} s/step")
    print(f"contiguous / channels_last: {medians['contiguous'] / medians['channels_last']:.2f}x")


if __name__ == "__main__":
    main()
