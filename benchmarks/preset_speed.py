"""Seconds per photo for a student preset on this machine's CPU.

    python benchmarks/preset_speed.py --preset small --megapixels 12 --repeats 3

Times the untrained network (speed does not depend on the weights) on one
random image of the given size, warm-up excluded, median of repeats, in both
memory layouts side by side so the ratio is measured in one run.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from declare_models import Student, count_parameters, get_config


def time_once(net: torch.nn.Module, image: torch.Tensor) -> float:
    start = time.perf_counter()
    net(image)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="small")
    parser.add_argument("--megapixels", type=float, default=12.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    width = int((args.megapixels * 1e6 * 4 / 3) ** 0.5)
    height = int(width * 3 / 4)
    net = Student(get_config(args.preset)).eval()
    image = torch.rand(1, 3, height, width)
    print(f"preset {args.preset}: {count_parameters(net):,} parameters, "
          f"{height}x{width} ({height * width / 1e6:.1f} MP), {torch.get_num_threads()} threads")
    for layout in (torch.contiguous_format, torch.channels_last):
        net = net.to(memory_format=layout)
        x = image.contiguous(memory_format=layout)
        with torch.inference_mode():
            time_once(net, x[..., :256, :256])
            times = [time_once(net, x) for _ in range(args.repeats)]
        sec = statistics.median(times)
        print(f"  {str(layout).split('.')[-1]:<18} {sec:6.2f} s/photo  {height * width / 1e6 / sec:5.2f} MP/s")


if __name__ == "__main__":
    main()
