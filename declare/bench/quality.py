"""Quality against ground truth, per image and per dataset (the paper's Table 1).

A dataset is a folder of input/ground-truth pairs in any layout ``declare
train`` accepts (Real20, Nature, SIR^2, CEILNet) or of multi-view sequences
(the centre view is the input). Every method sees the same images; the
identity baseline is always among them.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from declare.bench.methods import Method
from declare.metrics import lmse, psnr, ssim

METRICS = ("psnr", "ssim", "lmse")


@dataclass
class QualityRow:
    dataset: str
    image: str
    method: str
    psnr: float
    ssim: float
    lmse: float
    seconds: float

    def as_dict(self) -> dict:
        return asdict(self)


def pairs_in(folder: Path) -> list[tuple[Path, Path]]:
    """(input, ground truth) paths of a benchmark folder; DataError if it has none."""
    from declare.data.datasets import DataError, _sequence_dirs, find_pairs, find_sequence

    if not folder.is_dir():
        raise DataError(f"{folder}: not a folder")
    pairs = [(p, g) for p, g, _ in find_pairs(folder)]
    if not pairs:
        seqs = [s for s in (find_sequence(d) for d in _sequence_dirs(folder)) if s]
        pairs = [(views[1], gt) for views, gt in seqs]
    if not pairs:
        raise DataError(f"{folder}: no input/ground-truth pairs or sequences "
                        "(see the README's dataset layouts)")
    return pairs


def evaluate(dataset: str, pairs: list[tuple[Path, Path]], methods: list[Method],
             on_error=None, progress=None) -> Iterator[QualityRow]:
    """One row per (image, method); an unreadable or mismatched pair is reported and skipped."""
    from declare.images import ImageError, read_photo

    for image, truth in (progress(pairs) if progress else pairs):
        try:
            x, gt = read_photo(image).pixels, read_photo(truth).pixels
            if x.shape != gt.shape:
                raise ImageError(f"{x.shape[1]}x{x.shape[0]} input but "
                                 f"{gt.shape[1]}x{gt.shape[0]} ground truth {truth.name}")
        except ImageError as exc:
            if on_error:
                on_error(str(image), str(exc))
            continue
        for method in methods:
            start = time.perf_counter()
            out = np.asarray(method.run(x), np.float32)
            seconds = time.perf_counter() - start
            yield QualityRow(dataset, image.name, method.name, psnr(out, gt), ssim(out, gt),
                             lmse(out, gt), seconds)


def summarise(rows: list[dict]) -> list[dict]:
    """Mean of each metric per (dataset, method), in the order they first appear."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        groups.setdefault((r["dataset"], r["method"]), []).append(r)
    return [{"dataset": d, "method": m, "images": len(g),
             **{k: float(np.mean([r[k] for r in g])) for k in (*METRICS, "seconds")}}
            for (d, m), g in groups.items()]
