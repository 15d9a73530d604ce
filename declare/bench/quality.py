"""Quality against ground truth, per image, per subset and per dataset (the paper's Table 1).

A dataset is a folder of input/ground-truth pairs in any layout ``declare
train`` accepts (Real20, Nature, SIR^2 as distributed, CEILNet; at any depth,
the first level of folders naming subsets) or of multi-view sequences (the
centre view is the input). Every method sees the same images, one image at a
time, so memory stays that of one photo and one method; the identity
baseline is always among them.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from declare.bench.methods import Method
from declare.metrics import METRICS, mean_of_scored, score


def quality_row(dataset: str, subset: str, image: str, method: str, scores: dict[str, float],
                seconds: float) -> dict:
    """One image's record for one method: where, who, every metric of the table, time."""
    return {"dataset": dataset, "subset": subset, "image": image, "method": method, **scores,
            "seconds": seconds}


def pairs_in(folder: Path) -> list:
    """The benchmark's pairs (``declare.data.datasets.Pair``); DataError if it has none."""
    from declare.data.layouts import DataError, Pair, find_pairs, find_sequence, sequence_dirs

    if not folder.is_dir():
        raise DataError(f"{folder}: not a folder")
    pairs = find_pairs(folder)
    if not pairs:
        seqs = [s for s in (find_sequence(d) for d in sequence_dirs(folder)) if s]
        pairs = [Pair(views[1], gt) for views, gt in seqs]
    if not pairs:
        raise DataError(f"{folder}: no input/ground-truth pairs or sequences "
                        "(see the README's dataset layouts)")
    return pairs


def evaluate(dataset: str, pairs: list, methods: list[Method], ssim_kind: str = "gaussian",
             on_error: Callable[[str, str], None] | None = None,
             on_step: Callable[[str, str], None] | None = None) -> Iterator[list[dict]]:
    """Each image's rows, one per method, as soon as they are scored; an
    unreadable or mismatched pair is reported and skipped."""
    from declare.images import ImageError, read_photo

    for pair in pairs:
        try:
            x, gt = read_photo(pair.image).pixels, read_photo(pair.truth).pixels
            if x.shape != gt.shape:
                raise ImageError(f"{x.shape[1]}x{x.shape[0]} input but "
                                 f"{gt.shape[1]}x{gt.shape[0]} ground truth {pair.truth.name}")
        except ImageError as exc:
            if on_error:
                on_error(str(pair.image), str(exc))
            for method in methods:
                if on_step:
                    on_step(pair.image.name, method.name)
            continue
        rows = []
        for method in methods:
            start = time.perf_counter()
            out = np.asarray(method.run(x), np.float32)
            seconds = time.perf_counter() - start
            rows.append(quality_row(dataset, pair.subset, pair.image.name, method.name,
                                    score(out, gt, ssim_kind=ssim_kind, image=x), seconds))
            del out
            if on_step:
                on_step(pair.image.name, method.name)
        yield rows


def summarise(rows: list[dict]) -> list[dict]:
    """Mean of each metric per (dataset, method); after each dataset, per
    (subset, method) where it has two or more subsets. Order of first appearance."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for dataset in dict.fromkeys(r["dataset"] for r in rows):
        mine = [r for r in rows if r["dataset"] == dataset]
        subsets = list(dict.fromkeys(r["subset"] for r in mine))
        for r in mine:
            groups.setdefault((dataset, r["method"]), []).append(r)
        for subset in subsets if len(subsets) > 1 else []:
            for r in mine:
                if r["subset"] == subset:
                    groups.setdefault((subset_label(dataset, subset), r["method"]), []).append(r)
    return [{"dataset": d, "method": m, "images": len(g),
             **{k: mean_of_scored([r[k] for r in g]) for k in (*METRICS, "seconds")}}
            for (d, m), g in groups.items()]


def subset_label(dataset: str, subset: str) -> str:
    return f"{dataset}/{subset or '.'}"


def benchmark_folders(folders, limit: int | None) -> list[tuple[str, list]]:
    """(name, pairs) of every folder, all checked before any work (DataError otherwise)."""
    return [(Path(folder).resolve().name, pairs_in(Path(folder))[:limit]) for folder in folders]
