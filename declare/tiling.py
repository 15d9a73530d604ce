"""Run a network over a large image in overlapping tiles with feathered blending.

Peak memory follows the tile size, not the photo: each tile goes through the
network alone, and only the float32 output and its weight map are kept at full
size. Neighbouring tiles cross-fade linearly over their overlap, so no seam
shows where they meet. Plain NumPy: every engine (ONNX Runtime, PyTorch) tiles
the same way.
"""

from __future__ import annotations

import math
from typing import Callable, Iterable

import numpy as np

# The defaults of every command that tiles (clean, bench): 1024-px tiles keep
# peak memory near 1-2 GB on the CPU; 64 px of cross-fade hides the seams.
TILE, OVERLAP = 1024, 64
# Smaller tiles leave the decoder's pyramid pooling (regions of up to 32 px)
# fewer than four cells per tile and put most of each tile in its overlap:
# --tile 8 took 120x as long as the default and gains no memory worth having.
MIN_TILE = 128


def runs_whole(h: int, w: int, tile: int) -> bool:
    """Whether an h x w photo runs in one pass: tiling is off, it fits in one tile, or
    it is at most two tiles' area (and two tiles long): a 2 MP photo at the default
    1024 px, under 1 GB whole with either engine, where tiling would only add time
    (a second pass and the overlaps: 1.6x as long)."""
    return tile <= 0 or (h <= tile and w <= tile) or (h * w <= 2 * tile * tile and max(h, w) <= 2 * tile)


def tile_problem(tile: int, overlap: int) -> str | None:
    """Why a --tile/--tile-overlap pair cannot work, or None (0 = the whole photo)."""
    if tile and tile < MIN_TILE:
        return (f"--tile {tile} is smaller than the network needs to see: tiles must be at least "
                f"{MIN_TILE} px (its pyramid pooling spans regions of 32 px), or 0 for the whole photo")
    if tile and overlap >= tile:
        return f"--tile-overlap ({overlap}) must be smaller than --tile ({tile})"
    return None


def tile_layout(length: int, tile: int, overlap: int, multiple: int = 1) -> tuple[int, list[int]]:
    """(tile size, starts) along one axis: the fewest tiles of at most ``tile``
    pixels overlapping by at least ``overlap``, each as small as that allows, so a
    photo just over one tile is not computed as two whole tiles. Sizes and starts
    (but the last, flush with the edge) are multiples of ``multiple``, the
    network's stride, so every tile sees the same pixel grid as the whole photo."""
    if length <= tile:
        return length, [0]
    n = math.ceil((length - overlap) / (tile - overlap))
    size = -(-math.ceil((length + (n - 1) * overlap) / n) // multiple) * multiple
    while True:
        size = min(size, tile)
        step = max(multiple, (size - overlap) // multiple * multiple)
        if (n - 1) * step + size >= length or size == tile:
            break
        size += multiple
    starts = list(range(0, length - size, step))
    return size, starts + [length - size]


def tile_boxes(h: int, w: int, tile: int, overlap: int,
               multiple: int = 1) -> tuple[tuple[int, int], list[tuple[int, int]]]:
    """((tile height, tile width), [(top, left), ...]) covering an h x w image."""
    if not 0 <= overlap < tile:
        raise ValueError(f"tile overlap must be in [0, {tile}), got {overlap}")
    (th, ys), (tw, xs) = (tile_layout(n, tile, overlap, multiple) for n in (h, w))
    return (th, tw), [(y, x) for y in ys for x in xs]


def _ramp(size: int, overlap: int, fade_in: bool, fade_out: bool) -> np.ndarray:
    w = np.ones(size, np.float32)
    n = min(overlap, size)
    if n:
        ramp = (np.arange(n, dtype=np.float32) + 0.5) / n
        if fade_in:
            w[:n] = ramp
        if fade_out:
            w[-n:] = np.minimum(w[-n:], ramp[::-1])
    return w


def tiled(fn: Callable[[np.ndarray], np.ndarray], image: np.ndarray, tile: int, overlap: int,
          progress: Callable[[Iterable], Iterable] | None = None, multiple: int = 1) -> np.ndarray:
    """Apply ``fn`` to ``image`` (..., H, W) tile by tile; returns float32 (..., C, H, W).

    ``fn`` receives a tile (..., h, w) and returns its result (..., C, h, w), any
    engine's. ``tile`` <= 0, or a photo :func:`runs_whole` allows, means one pass.
    """
    h, w = image.shape[-2:]
    if runs_whole(h, w, tile):
        return np.asarray(fn(image), np.float32)
    (th, tw), boxes = tile_boxes(h, w, tile, overlap, multiple)
    out = weight = None
    for y, x in (progress(boxes) if progress else boxes):
        result = fn(np.ascontiguousarray(image[..., y:y + th, x:x + tw]))
        if out is None:
            out = np.zeros((*result.shape[:-2], h, w), np.float32)
            weight = np.zeros((h, w), np.float32)
        mask = np.outer(_ramp(th, overlap, fade_in=y > 0, fade_out=y + th < h),
                        _ramp(tw, overlap, fade_in=x > 0, fade_out=x + tw < w))
        out[..., y:y + th, x:x + tw] += result * mask
        weight[y:y + th, x:x + tw] += mask
    out /= weight
    return out


def halve(image: np.ndarray) -> np.ndarray:
    """The image at half size, each pixel the mean of a 2 x 2 block (an odd last row or
    column left out)."""
    h, w = image.shape[-2] // 2 * 2, image.shape[-1] // 2 * 2
    blocks = image[..., :h, :w].reshape(*image.shape[:-2], h // 2, 2, w // 2, 2)
    return blocks.mean(axis=(-3, -1), dtype=np.float32)


def tiled_two_pass(fn: Callable[[np.ndarray, list[np.ndarray]], np.ndarray],
                   statistics: Callable[[np.ndarray], list[np.ndarray]], image: np.ndarray, tile: int,
                   overlap: int, progress: Callable[[Iterable], Iterable] | None = None,
                   multiple: int = 1) -> np.ndarray:
    """``tiled`` for a network whose output depends on whole-input statistics
    (channel attention). A first pass takes the ``statistics`` of the photo at half
    size (in tiles, averaged, if even that is large), then every tile runs as
    ``fn(tile, statistics)`` with the photo's, so each tile gets the tone the whole
    photo would (an earlier default: 27-34 dB from untiled on 7 MP photos with each
    tile's own means, 48-50 dB shared; today's: 63-65 dB). Half size costs a quarter
    of gathering them over the full-size tiles and is as faithful (within 0.5 dB of
    that on 10 real photos through glass, benchmarks/README.md). Both passes show
    progress."""
    half = halve(image)
    h, w = half.shape[-2:]
    (th, tw), boxes = ((h, w), [(0, 0)]) if runs_whole(h, w, tile) else tile_boxes(h, w, tile, 0, multiple)
    totals: list[np.ndarray] | None = None
    for top, left in (progress(boxes) if progress else boxes):
        means = statistics(np.ascontiguousarray(half[..., top:top + th, left:left + tw]))
        totals = [m.astype(np.float64) for m in means] if totals is None else \
            [t + m for t, m in zip(totals, means)]
    shared = [(t / len(boxes)).astype(np.float32) for t in totals]
    return tiled(lambda x: fn(x, shared), image, tile, overlap, progress, multiple)
