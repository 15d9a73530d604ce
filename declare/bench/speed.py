"""Speed and memory of a method at several photo sizes.

Each size is timed on one image (content does not change the cost of either
the network or the FFT baseline), warm-up runs excluded, median of repeats.
Peak memory is the process's resident set size sampled while the size runs
(on CUDA: the peak allocated by torch). The FLOP count comes from PyTorch's
own counter on a 512x512 input, scaled per megapixel (the networks are fully
convolutional); for the ONNX engine, on the same network in PyTorch when that
is installed (else those columns stay empty). The share of the machine divides
the FLOPs a photo really took (counted on the first warm-up run: tile overlaps
and the tiling's statistics pass included) per second by a large matmul's
measured rate at the same precision on the same device ("share of the
machine's peak").
"""

from __future__ import annotations

import resource
import statistics
import sys
import threading
import time
from dataclasses import asdict, dataclass

import numpy as np

from declare.bench.methods import Method


@dataclass
class SpeedRow:
    method: str
    engine: str
    device: str
    precision: str
    megapixels: float
    size: str
    seconds: float
    mp_per_s: float
    peak_mb: float
    gflop_per_mp: float | None
    machine_fraction: float | None

    def as_dict(self) -> dict:
        return asdict(self)


def image_size(megapixels: float) -> tuple[int, int]:
    """(height, width) of a 3:2 photo with about this many megapixels."""
    width = int(round((megapixels * 1e6 * 1.5) ** 0.5))
    return int(round(width / 1.5)), width


class PeakMemory:
    """Peak memory over a ``with`` block: RSS sampled every 5 ms, or CUDA's peak."""

    def __init__(self, device: str):
        self.device, self.peak = device, 0
        self._stop = threading.Event()

    def __enter__(self) -> "PeakMemory":
        if self.device == "cuda":
            import torch

            torch.cuda.reset_peak_memory_stats()
        else:
            self.peak = _rss()
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, _rss())

    def __exit__(self, *exc) -> None:
        if self.device == "cuda":
            import torch

            self.peak = torch.cuda.max_memory_allocated()
        else:
            self._stop.set()
            self._thread.join()
            self.peak = max(self.peak, _rss())


def _rss() -> int:
    """Current resident set size in bytes (Linux /proc; elsewhere the peak so far)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize()
    except OSError:
        scale = 1 if sys.platform == "darwin" else 1024
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def flops_per_megapixel(method: Method) -> float | None:
    """FLOPs (multiply-adds count two) per megapixel of one pass of a model
    method's network; None for baselines."""
    if method.network is None:
        return None
    import torch

    engine, side = method.network, 512
    net = engine.model
    x = torch.rand(1, 3, side, side, device=engine.device, dtype=engine.dtype)
    with torch.inference_mode():
        return _counted(lambda: net(x)) / (side * side / 1e6)


def _counted(work) -> int:
    """FLOPs torch runs inside ``work()``."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        work()
    return counter.get_total_flops()


def matmul_rate(device: str = "cpu", precision: str = "fp32", n: int = 2048, repeats: int = 10) -> float:
    """This machine's matmul rate in FLOP/s at one precision: the best of
    ``repeats``, since what it can reach is the reference (a median on a shared
    machine fell below what the network itself achieved). On CUDA, fp32 uses
    TF32 exactly when cuDNN's convolutions do, so the network and its
    reference run the same arithmetic."""
    import torch

    dev = torch.device(device)
    dtype = {"fp32": torch.float32, "fp16": torch.float16}[precision]
    a, b = torch.rand(n, n, device=dev, dtype=dtype), torch.rand(n, n, device=dev, dtype=dtype)
    tf32 = torch.backends.cuda.matmul.allow_tf32
    if dev.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32
    try:
        a @ b
        times = []
        for _ in range(repeats):
            _sync(device)
            start = time.perf_counter()
            a @ b
            _sync(device)
            times.append(time.perf_counter() - start)
    finally:
        torch.backends.cuda.matmul.allow_tf32 = tf32
    return 2 * n ** 3 / min(times)


def matmul_rates(methods: list[Method]) -> dict[tuple[str, str], float]:
    """The matmul rate each method is compared with: same device, same precision."""
    keys = dict.fromkeys((m.device, m.precision) for m in methods if m.network is not None)
    return {key: matmul_rate(*key) for key in keys}


def tf32_state() -> bool | None:
    """Whether CUDA fp32 convolutions (and so their matmul reference) use TF32."""
    from declare.extras import installed

    if not installed("torch"):
        return None
    import torch

    return bool(torch.backends.cudnn.allow_tf32) if torch.cuda.is_available() else None


def _sync(device: str) -> None:
    if device == "cuda":
        import torch

        torch.cuda.synchronize()


def measure(method: Method, megapixels: float, repeats: int = 3, warmup: int = 1,
            flops_per_mp: float | None = None, peak_rate: float | None = None) -> SpeedRow:
    h, w = image_size(megapixels)
    mp = h * w / 1e6
    image = np.random.default_rng(0).random((h, w, 3), dtype=np.float32)
    work = flops_per_mp * mp if flops_per_mp else None  # without a warm-up: one pass's worth
    for i in range(warmup):
        if i == 0 and method.count is not None:
            work = _counted(lambda: method.count(image))
            if method.count is method.run:  # PyTorch's own run was the warm-up
                continue
        method.run(image)
    times = []
    with PeakMemory(method.device) as memory:
        for _ in range(repeats):
            _sync(method.device)
            start = time.perf_counter()
            method.run(image)
            _sync(method.device)
            times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    fraction = work / seconds / peak_rate if work and peak_rate else None
    return SpeedRow(method.name, method.engine, method.device, method.precision, round(mp, 2), f"{w}x{h}",
                    seconds, mp / seconds, memory.peak / 2 ** 20,
                    flops_per_mp / 1e9 if flops_per_mp else None, fraction)
