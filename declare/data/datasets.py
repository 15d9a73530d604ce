"""Datasets for training and validation, all yielding the same kind of sample.

A sample is a dict of tensors (so batches collate by default):

- ``frames`` (3, 3, S, S): views t-1, t, t+1. Pair datasets have one view, so
  it is repeated and ``has_views`` is False (no teacher target for it).
- ``t``, ``r`` (3, 3, S, S) with ``t_valid``, ``r_valid`` (3,) saying which
  views have ground-truth transmission / reflection.

Layouts are recognised in :mod:`declare.data.layouts`.

Random crops and horizontal flips derive from ``(seed, epoch, index)``.
"""

from __future__ import annotations

import functools
import random
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from declare.data.layouts import (DataError, Pair, sequence_dirs, find_pairs,  # noqa: F401 (re-exported)
                                  find_sequence, images_in)
from declare.data.synthetic import Plan, SyntheticConfig, plan_sequence, render
from declare.images import read_photo

@functools.lru_cache(maxsize=512)
def load(path: Path) -> torch.Tensor:
    """(3, H, W) float in [0, 1], upright; cached, since sequences reuse photos."""
    return torch.from_numpy(read_photo(path).pixels).permute(2, 0, 1).contiguous()


def sample_generator(seed: int, epoch: int, index: int) -> torch.Generator:
    return torch.Generator().manual_seed(hash((seed, epoch, index)) & 0x7FFF_FFFF_FFFF)


class _Base(Dataset):
    def __init__(self, crop: int, seed: int, augment: bool):
        self.crop, self.seed, self.augment, self.epoch = crop, seed, augment, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _generator(self, index: int) -> torch.Generator:
        return sample_generator(self.seed, self.epoch if self.augment else 0, index)

    def _crop_flip(self, stack: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """Same random crop (and flip) for every image in ``stack`` (N, 3, H, W)."""
        h, w = stack.shape[-2:]
        if min(h, w) < self.crop:
            scale = self.crop / min(h, w)
            size = (max(self.crop, round(h * scale)), max(self.crop, round(w * scale)))
            stack = F.interpolate(stack, size=size, mode="bilinear", align_corners=False, antialias=True)
            h, w = size
        if self.augment:
            top = int(torch.randint(0, h - self.crop + 1, (), generator=gen))
            left = int(torch.randint(0, w - self.crop + 1, (), generator=gen))
        else:
            top, left = (h - self.crop) // 2, (w - self.crop) // 2
        stack = stack[..., top:top + self.crop, left:left + self.crop]
        if self.augment and bool(torch.rand((), generator=gen) < 0.5):
            stack = stack.flip(-1)
        return stack


def random_window(stack: torch.Tensor, crop: int, gen: torch.Generator) -> torch.Tensor:
    """A square window of (N, 3, H, W) from ``crop`` px to the short side (log-uniform),
    resized to ``crop``, flipped half the time: a crop sees a meaningful part of a scene."""
    h, w = stack.shape[-2:]
    short = min(h, w)
    lo, hi = np.log(min(crop, short)), np.log(short)
    side = int(round(float(np.exp(lo + (hi - lo) * float(torch.rand((), generator=gen))))))
    top = int(torch.randint(0, h - side + 1, (), generator=gen))
    left = int(torch.randint(0, w - side + 1, (), generator=gen))
    window = stack[..., top:top + side, left:left + side]
    if side != crop:
        window = F.interpolate(window, size=(crop, crop), mode="bilinear", align_corners=False,
                               antialias=side > crop)
    return window.flip(-1) if bool(torch.rand((), generator=gen) < 0.5) else window


def _sample(frames, t, r, t_valid, r_valid, has_views) -> dict[str, torch.Tensor]:
    return {"frames": frames, "t": t, "r": r, "t_valid": torch.tensor(t_valid),
            "r_valid": torch.tensor(r_valid), "has_views": torch.tensor(has_views)}


class SequenceFolder(_Base):
    """Real multi-view sequences with the centre's ground-truth transmission."""

    def __init__(self, root: str | Path, crop: int = 224, seed: int = 0, augment: bool = True):
        super().__init__(crop, seed, augment)
        self.root = Path(root)
        self.items = [s for s in (find_sequence(d) for d in sequence_dirs(self.root)) if s]
        if not self.items:
            raise DataError(f"{root}: no sequences (folders of three views and gt.*)")

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        views, gt = self.items[index]
        stack = self._crop_flip(torch.stack([load(p) for p in (*views, gt)]), self._generator(index))
        zeros = torch.zeros_like(stack[:3])
        t = zeros.clone()
        t[1] = stack[3]
        return _sample(stack[:3], t, zeros, [False, True, False], [False] * 3, True)


class PairFolder(_Base):
    """Single images with ground-truth transmission (and reflection, where given).

    Real pairs are few (89 in Zhang et al.'s training split) and up to 1024 px, so
    each training crop is taken at a random scale (a window from ``crop`` pixels
    to the photo's short side, resized to ``crop``: a crop sees a meaningful part
    of a scene, not 1/50 of it), flipped, and given one random exposure and white
    balance, the same for input and truth. Photos are decoded once (``load``).
    ``exclude`` names inputs held out (a validation split).
    """

    EXPOSURE = (0.8, 1.2)   # one factor for all channels ...
    BALANCE = 0.05          # ... times up to +-5% per channel

    def __init__(self, root: str | Path, crop: int = 224, seed: int = 0, augment: bool = True,
                 exclude: frozenset[str] = frozenset()):
        super().__init__(crop, seed, augment)
        self.root = Path(root)
        self.items = [p for p in find_pairs(self.root) if p.image.name not in exclude]
        if not self.items:
            raise DataError(f"{root}: no input/ground-truth pairs found (see the README's layouts)")

    def _crop_flip(self, stack: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        if not self.augment:
            return super()._crop_flip(stack, gen)
        window = random_window(stack, self.crop, gen)
        lo_e, hi_e = self.EXPOSURE
        gain = (lo_e + (hi_e - lo_e) * torch.rand((), generator=gen)) * (
            1 + self.BALANCE * (2 * torch.rand(3, generator=gen) - 1))
        return (window * gain.view(1, 3, 1, 1)).clamp(0, 1)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        image, gt, refl, _ = self.items[index]
        paths = [image, gt] + ([refl] if refl else [])
        stack = self._crop_flip(torch.stack([load(p) for p in paths]), self._generator(index))
        zeros = torch.zeros(3, *stack.shape[1:])
        t, r = zeros.clone(), zeros.clone()
        t[1] = stack[1]
        if refl:
            r[1] = stack[2]
        frames = stack[0].expand(3, -1, -1, -1).clone()
        return _sample(frames, t, r, [False, True, False], [False, refl is not None, False], False)


class SyntheticSequences(_Base):
    """Sequences synthesised from a folder of photos, split into T and R pools."""

    def __init__(self, photos: list[Path], length: int, crop: int = 224, seed: int = 0,
                 augment: bool = True, synthetic: SyntheticConfig | None = None):
        super().__init__(crop, seed, augment)
        if len(photos) < 2:
            raise DataError("synthetic sequences need at least two photos")
        shuffled = list(photos)
        random.Random(seed).shuffle(shuffled)
        half = len(shuffled) // 2
        self.t_pool, self.r_pool = shuffled[:half], shuffled[half:]
        self.length = length
        self.config = replace(synthetic or SyntheticConfig(), size=crop)
        self.sizes: dict[Path, tuple[int, int]] = {}

    def __len__(self) -> int:
        return self.length

    def plan(self, index: int) -> tuple[int, int, Plan]:
        """(T photo, R photo, plan) of sample ``index``: every random draw, no pixels."""
        gen = self._generator(index)
        t_index = int(torch.randint(len(self.t_pool), (), generator=gen))
        r_index = int(torch.randint(len(self.r_pool), (), generator=gen))
        plan = plan_sequence(self.size_of(self.t_pool[t_index]), self.size_of(self.r_pool[r_index]),
                             self.config, gen)
        plan.flip = self.augment and bool(torch.rand((), generator=gen) < 0.5)
        return t_index, r_index, plan

    def size_of(self, path: Path) -> tuple[int, int]:
        """A photo's (height, width), upright; each photo is measured once."""
        if path not in self.sizes:
            self.sizes[path] = tuple(load(path).shape[-2:])
        return self.sizes[path]

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        t_index, r_index, plan = self.plan(index)
        t_photo, r_photo = load(self.t_pool[t_index]), load(self.r_pool[r_index])
        seq = render(t_photo[None], torch.tensor([t_photo.shape[-2:]]), r_photo[None],
                     torch.tensor([r_photo.shape[-2:]]), [plan], self.config)
        return _sample(seq["frames"][0], seq["t"][0], seq["r"][0], [True] * 3, [True] * 3, True)


def open_dataset(root: str | Path, crop: int, seed: int, augment: bool, synthetic_length: int,
                 photos: list[Path] | None = None, synthetic: SyntheticConfig | None = None) -> Dataset:
    """The dataset a folder holds, recognised by its layout."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: not a folder")
    if any(find_sequence(d) for d in sequence_dirs(root)[:5]):
        return SequenceFolder(root, crop, seed, augment)
    if find_pairs(root):
        return PairFolder(root, crop, seed, augment)
    photos = photos if photos is not None else images_in(root)
    if len(photos) >= 2:
        return SyntheticSequences(photos, synthetic_length, crop, seed, augment, synthetic)
    raise DataError(f"{root}: neither sequences, pairs nor a folder of photos")


def split_photos(photos: list[Path], val_fraction: float, seed: int) -> tuple[list[Path], list[Path]]:
    """Hold out whole photos for validation, so no validation pixel is trained on."""
    order = list(photos)
    random.Random(seed).shuffle(order)
    n_val = int(round(len(order) * val_fraction)) if val_fraction > 0 else 0
    n_val = max(n_val, 2) if val_fraction > 0 and len(order) >= 6 else n_val
    return sorted(order[n_val:]), sorted(order[:n_val])


def mixture_order(sizes: list[int], weights: list[float], count: int, seed: int, epoch: int) -> list[int]:
    """Indices into the concatenation of datasets, each drawn with its weight.

    Deterministic for ``(seed, epoch)``; every rank of a distributed run computes
    the same order and takes its own share.
    """
    rng = np.random.default_rng([seed, epoch])
    p = np.asarray(weights, np.float64) / np.sum(weights)
    which = rng.choice(len(sizes), size=count, p=p)
    offsets = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    return [int(offsets[d] + rng.integers(sizes[d])) for d in which]
