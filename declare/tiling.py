"""Run a network over a large image in overlapping tiles with feathered blending.

Peak memory follows the tile size, not the photo: each tile goes through the
network alone, and only the float32 output and its weight map are kept at full
size. Neighbouring tiles cross-fade linearly over their overlap, so no seam
shows where they meet.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Callable, Iterable

if TYPE_CHECKING:  # the layout and defaults are plain Python: the CLI imports them light
    import torch

# The defaults of every command that tiles (clean, bench): 1024-px tiles keep
# peak memory near 1-2 GB on the CPU; 64 px of cross-fade hides the seams.
TILE, OVERLAP = 1024, 64
# Smaller tiles leave the decoder's pyramid pooling (regions of up to 32 px)
# fewer than four cells per tile and put most of each tile in its overlap:
# --tile 8 took 120x as long as the default and gains no memory worth having.
MIN_TILE = 128


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


def _ramp(size: int, overlap: int, fade_in: bool, fade_out: bool) -> torch.Tensor:
    import torch

    w = torch.ones(size)
    n = min(overlap, size)
    if n:
        ramp = (torch.arange(n, dtype=torch.float32) + 0.5) / n
        if fade_in:
            w[:n] = ramp
        if fade_out:
            w[-n:] = torch.minimum(w[-n:], ramp.flip(0))
    return w


def tiled(fn: Callable[[torch.Tensor], torch.Tensor], image: torch.Tensor, tile: int,
          overlap: int, progress: Callable[[Iterable], Iterable] | None = None,
          multiple: int = 1) -> torch.Tensor:
    """Apply ``fn`` to ``image`` (..., H, W) tile by tile; returns (B, 3, H, W) on the CPU.

    ``fn`` receives a tile on whatever device ``image`` lives on and returns the
    tile's result with the same H and W. ``tile`` <= 0 means one pass.
    """
    import torch

    h, w = image.shape[-2:]
    if tile <= 0 or (h <= tile and w <= tile):
        return fn(image).float().cpu()
    (th, tw), boxes = tile_boxes(h, w, tile, overlap, multiple)
    out = weight = None
    for y, x in (progress(boxes) if progress else boxes):
        result = fn(image[..., y:y + th, x:x + tw]).float().cpu()
        if out is None:
            out = torch.zeros(*result.shape[:-2], h, w)
            weight = torch.zeros(h, w)
        wy = _ramp(th, overlap, fade_in=y > 0, fade_out=y + th < h)
        wx = _ramp(tw, overlap, fade_in=x > 0, fade_out=x + tw < w)
        mask = wy[:, None] * wx[None, :]
        out[..., y:y + th, x:x + tw] += result * mask
        weight[y:y + th, x:x + tw] += mask
    return out / weight


def tiled_two_pass(fn: Callable[[torch.Tensor], torch.Tensor], gather: Callable[[torch.Tensor], None],
                   statistics, image: torch.Tensor, tile: int, overlap: int,
                   progress: Callable[[Iterable], Iterable] | None = None, multiple: int = 1) -> torch.Tensor:
    """``tiled`` for a network whose output depends on whole-input statistics
    (channel attention): a first pass ``gather``s them over every tile, then the
    tiles run inside ``statistics(first_pass)`` with the photo's shared, so each
    tile gets the tone the whole photo would (27-34 dB from untiled with each
    tile's own means on 7 MP photos; 48-50 dB shared). Both passes show progress."""
    (th, tw), boxes = tile_boxes(*image.shape[-2:], tile, overlap, multiple)

    def first_pass() -> None:
        for top, left in (progress(boxes) if progress else boxes):
            gather(image[..., top:top + th, left:left + tw])

    with statistics(first_pass):
        return tiled(fn, image, tile, overlap, progress, multiple)
