"""Datasets for training and validation, all yielding the same kind of sample.

A sample is a dict of tensors (so batches collate by default):

- ``frames`` (3, 3, S, S): views t-1, t, t+1. Pair datasets have one view, so
  it is repeated and ``has_views`` is False (no teacher target for it).
- ``t``, ``r`` (3, 3, S, S) with ``t_valid``, ``r_valid`` (3,) saying which
  views have ground-truth transmission / reflection.

Layouts accepted (documented in the README):

- Sequences (Seq1K style): ``ROOT/<sequence>/`` holding three views, in file
  name order, and the centre's transmission named ``gt.*``, ``transmission.*``
  or ``t.*``. A ``train/`` or ``test/`` level above the sequences is fine.
- Pairs, found at any depth (a folder's first level names its subsets):
  an input folder (``blended``, ``input``, ``mixture``, ``I``, ``m``) beside a
  ground-truth folder (``transmission_layer``, ``transmission``, ``gt``,
  ``T``, ``g``) with files paired by name (Real20, Nature); SIR^2 as
  distributed, scene folders of ``m.*``, ``g.*``, ``r.*`` (SolidObjectDataset,
  Wildscene) and ``<xx>-<n>-m-<k>.png`` beside ``-g-``/``-r-`` (Postcard
  Dataset); or one folder of ``NAME-input.EXT`` with ``NAME-label1.EXT``
  (CEILNet, whose ``-label2`` reflection is used too), ``NAME_m``/``NAME_g`` or
  ``NAME_input``/``NAME_gt``. SIR^2's and CEILNet's reflections are used too.
- Photos: any folder of photos, turned into synthetic sequences.

Random crops and horizontal flips derive from ``(seed, epoch, index)``.
"""

from __future__ import annotations

import functools
import os
import random
import re
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from declare.data.synthetic import SyntheticConfig, make_sequence
from declare.images import EXTENSIONS, read_photo

GT_NAMES = ("gt", "transmission", "t")
INPUT_DIRS = ("blended", "input", "mixture", "i", "m")
GT_DIRS = ("transmission_layer", "transmission", "gt", "t", "g")
PAIR_SUFFIXES = (("-input", "-label1", "-label2"), ("_m", "_g", None), ("_input", "_gt", None))
POSTCARD = re.compile(r"^(.+)-m-([^-]+)$", re.IGNORECASE)


class DataError(Exception):
    """A dataset folder declare cannot use; the message says what it expected."""


def images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in EXTENSIONS and not p.name.startswith("."))


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


def _sample(frames, t, r, t_valid, r_valid, has_views) -> dict[str, torch.Tensor]:
    return {"frames": frames, "t": t, "r": r, "t_valid": torch.tensor(t_valid),
            "r_valid": torch.tensor(r_valid), "has_views": torch.tensor(has_views)}


class SequenceFolder(_Base):
    """Real multi-view sequences with the centre's ground-truth transmission."""

    def __init__(self, root: str | Path, crop: int = 224, seed: int = 0, augment: bool = True):
        super().__init__(crop, seed, augment)
        self.root = Path(root)
        self.items = [s for s in (find_sequence(d) for d in _sequence_dirs(self.root)) if s]
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


def _sequence_dirs(root: Path) -> list[Path]:
    dirs = sorted(d for d in root.iterdir() if d.is_dir())
    nested = [d for d in dirs if d.name in ("train", "test", "val")]
    return sorted(s for d in nested for s in d.iterdir() if s.is_dir()) if nested else dirs


def find_sequence(folder: Path) -> tuple[list[Path], Path] | None:
    """Three views and a ground truth; a SIR^2 scene (m, g, r) is a pair, not a sequence."""
    files = images_in(folder)
    if {"m", "g"} <= {f.stem.lower() for f in files}:
        return None
    gts = [f for f in files if f.stem.lower() in GT_NAMES]
    views = [f for f in files if f not in gts]
    if len(gts) == 1 and len(views) == 3:
        return views, gts[0]
    return None


class PairFolder(_Base):
    """Single images with ground-truth transmission (and reflection, where given)."""

    def __init__(self, root: str | Path, crop: int = 224, seed: int = 0, augment: bool = True):
        super().__init__(crop, seed, augment)
        self.root = Path(root)
        self.items = find_pairs(self.root)
        if not self.items:
            raise DataError(f"{root}: no input/ground-truth pairs found (see the README's layouts)")

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


class Pair(NamedTuple):
    """An input photo, its ground-truth transmission, the reflection where the
    benchmark gives one, and the subset it belongs to ("" at the top level)."""

    image: Path
    truth: Path
    reflection: Path | None = None
    subset: str = ""


def find_pairs(root: Path) -> list[Pair]:
    """Every input/ground-truth pair under ``root``, in any layout the public
    benchmarks use, searched recursively. A pair's subset is the first folder
    below ``root`` on its way (SIR^2's ``Postcard Dataset``, or ``real20`` in a
    folder of benchmarks)."""
    pairs = []
    for folder, subdirs, files in os.walk(root):
        subdirs.sort()
        here = Path(folder)
        found, used_dirs = _pairs_here(here, subdirs, sorted(files))
        subdirs[:] = [d for d in subdirs if d not in used_dirs and not d.startswith(".")]
        rel = here.relative_to(root).parts
        pairs += [Pair(*p, rel[0] if rel else "") for p in found]
    return pairs


def _pairs_here(folder: Path, subdirs: list[str], files: list[str]) -> tuple[list[tuple], set[str]]:
    """Pairs one folder holds directly, and which of its subfolders they used."""
    by_name = {d.lower(): d for d in subdirs}
    inputs = next((by_name[n] for n in INPUT_DIRS if n in by_name), None)
    truths = next((by_name[n] for n in GT_DIRS if n in by_name), None)
    if inputs and truths:
        gt_by_stem = {p.stem: p for p in images_in(folder / truths)}
        return ([(p, gt_by_stem[p.stem], None) for p in images_in(folder / inputs) if p.stem in gt_by_stem],
                {inputs, truths})
    images = [folder / f for f in files if Path(f).suffix.lower() in EXTENSIONS and not f.startswith(".")]
    by_stem = {p.stem.lower(): p for p in images}
    if "m" in by_stem and "g" in by_stem:  # SIR^2 scene folders: m.jpg, g.jpg, r.jpg
        return [(by_stem["m"], by_stem["g"], by_stem.get("r"))], set()
    pairs = []
    for p in images:  # SIR^2 Postcard: <xx>-<n>-m-<k>.png beside -g- and -r-
        match = POSTCARD.match(p.stem)
        if match:
            head, tail = match.groups()
            gt = by_stem.get(f"{head}-g-{tail}".lower())
            if gt:
                pairs.append((p, gt, by_stem.get(f"{head}-r-{tail}".lower())))
    if pairs:
        return pairs, set()
    for inp, gt, refl in PAIR_SUFFIXES:
        for p in images:
            if p.stem.endswith(inp):
                base = p.stem[: -len(inp)]
                if (base + gt).lower() in by_stem:
                    pairs.append((p, by_stem[(base + gt).lower()],
                                  by_stem.get((base + refl).lower()) if refl else None))
        if pairs:
            return pairs, set()
    return [], set()


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

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        gen = self._generator(index)
        t_photo = load(self.t_pool[int(torch.randint(len(self.t_pool), (), generator=gen))])
        r_photo = load(self.r_pool[int(torch.randint(len(self.r_pool), (), generator=gen))])
        seq = make_sequence(t_photo, r_photo, self.config, gen)
        stack = torch.cat((seq["frames"], seq["t"], seq["r"]))
        if self.augment and bool(torch.rand((), generator=gen) < 0.5):
            stack = stack.flip(-1)
        frames, t, r = stack.split(3)
        return _sample(frames, t, r, [True] * 3, [True] * 3, True)


def open_dataset(root: str | Path, crop: int, seed: int, augment: bool, synthetic_length: int,
                 photos: list[Path] | None = None) -> Dataset:
    """The dataset a folder holds, recognised by its layout."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: not a folder")
    if any(find_sequence(d) for d in _sequence_dirs(root)[:5]):
        return SequenceFolder(root, crop, seed, augment)
    if find_pairs(root):
        return PairFolder(root, crop, seed, augment)
    photos = photos if photos is not None else images_in(root)
    if len(photos) >= 2:
        return SyntheticSequences(photos, synthetic_length, crop, seed, augment)
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
