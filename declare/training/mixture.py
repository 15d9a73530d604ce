"""The data a training run draws from: each --data folder classified once, its held-out
part, the real pairs that validate, and the batches in mixture order.

A folder holds sequences, pairs or photos (declare.data.datasets.open_dataset decides);
the teacher learns from views, so pairs are the student's only. Synthetic samples are
rendered on the training device from photos decoded once (declare.data.bank); pairs and
sequences come from their datasets one sample at a time, and both kinds share a batch.
Every batch derives from (seed, epoch, index), so a resumed run continues exactly.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import ConcatDataset, DataLoader, Subset

from declare.data.datasets import (DataError, PairFolder, SyntheticSequences, images_in,
                                   mixture_order, open_dataset, split_photos)
from declare.training.config import TrainConfig
from declare.training.validation import load_real_sets


class MixtureError(Exception):
    """Data a run cannot use; one line for the user."""


def open_folder(root: str, cfg: TrainConfig, augment: bool = True):
    """The one place a --data folder is classified: its dataset (sequences, pairs or photos)."""
    try:
        return open_dataset(root, cfg.crop, cfg.seed, augment, cfg.epoch_size, synthetic=cfg.synthesis)
    except DataError as exc:
        raise MixtureError(str(exc)) from None


def teaches(dataset) -> bool:
    """Whether the teacher can learn from it: image pairs have no views to teach from."""
    return not isinstance(base(dataset), PairFolder)


def base(dataset):
    """The dataset behind a Subset."""
    return dataset.dataset if isinstance(dataset, Subset) else dataset


class DataMixture:
    """Training sets, synthetic validation, real-pair validation sets and the batches."""

    def __init__(self, cfg: TrainConfig, device: torch.device, rank: int = 0, world: int = 1):
        self.cfg, self.device, self.rank, self.world = cfg, device, rank, world
        if not cfg.data:
            raise MixtureError("no training data: give --data FOLDER (sequences, pairs or photos)")
        self.train_sets, val = [], []
        for root in cfg.data:
            train, held = self._open(root)
            if cfg.stage == "teacher" and not teaches(train):
                raise MixtureError(f"{root}: image pairs have no views to teach from; "
                                   "use them for the student stage")
            self.train_sets.append(train)
            if held is not None:
                val.append(held)
        self.weights = list(cfg.data_weights or [1.0] * len(cfg.data))
        if cfg.real_reflections:
            self.train_sets.append(self._real_reflections())
            self.weights.append(cfg.real_reflections)
        self.real_sets, others = load_real_sets(cfg.val_data, cfg.val_size)
        held_out = cfg.held_out_pairs()
        if held_out:
            pair_roots = [r for r, t in zip(cfg.data, self.train_sets) if not teaches(t)]
            self.real_sets = load_real_sets(pair_roots, cfg.val_size, held_out, "-val")[0] + self.real_sets
        for root in others:
            try:
                val.append(open_dataset(root, cfg.crop, cfg.seed, False, cfg.val_count, synthetic=cfg.synthesis))
            except DataError as exc:
                raise MixtureError(f"--val-data {exc}") from None
        self.val_set = ConcatDataset(val) if val else None
        self.bank = self._photo_bank()

    def _open(self, root: str):
        """A training dataset and its held-out validation part (None when validated otherwise)."""
        cfg = self.cfg
        probe = open_folder(root, cfg)
        if isinstance(probe, SyntheticSequences):
            train_photos, val_photos = split_photos(images_in(Path(root)), cfg.val_fraction, cfg.seed)
            train = SyntheticSequences(train_photos, cfg.epoch_size, cfg.crop, cfg.seed, True, cfg.synthesis)
            val = (SyntheticSequences(val_photos, cfg.val_count, cfg.crop, cfg.seed + 1, False, cfg.synthesis)
                   if len(val_photos) >= 2 else None)
            return train, val
        held_out = cfg.held_out_pairs()
        if isinstance(probe, PairFolder) and held_out is not None:
            try:
                return PairFolder(root, cfg.crop, cfg.seed, True, exclude=held_out), None
            except DataError:
                raise MixtureError(f"{root}: every pair is listed in --val-pairs") from None
        n = len(probe)
        order = np.random.default_rng(cfg.seed).permutation(n)
        n_val = min(cfg.val_count, int(round(n * cfg.val_fraction))) if n > 4 else 0
        val_base = type(probe)(root, cfg.crop, cfg.seed, augment=False)
        val = Subset(val_base, sorted(order[:n_val].tolist())) if n_val else None
        return Subset(probe, sorted(order[n_val:].tolist())), val

    def _real_reflections(self):
        """The --data photos under the reflections of the --data pair folders' training pairs."""
        from declare.data.real_reflections import RealReflections

        photos = [p for d in self._synthetic() for p in (*d.t_pool, *d.r_pool)]
        pairs = [base(d).items[i] for d in self.train_sets if not teaches(d)
                 for i in (d.indices if isinstance(d, Subset) else range(len(d)))]
        if not photos or not pairs:
            raise MixtureError("--real-reflections needs a --data folder of photos and one of image pairs")
        cfg = self.cfg
        return RealReflections(photos, pairs, cfg.epoch_size, cfg.crop, cfg.seed,
                               cfg.real_reflections_clean, cfg.real_reflections_floor,
                               cfg.real_reflections_colour)

    def _photo_bank(self):
        """Synthetic batches made on the device, from photos decoded once into memory."""
        from declare.data.bank import PhotoBank

        sets = self._synthetic()
        if not (self.cfg.data_on_device and sets):
            return None
        if not PhotoBank.fits(sets):
            if self.rank == 0:
                print("declare train: note: the photos are too large to hold in memory at once; "
                      "the loader makes the batches", file=sys.stderr)
            return None
        return PhotoBank(sets, self.device)

    def _synthetic(self) -> list[SyntheticSequences]:
        return [d for d in self.train_sets if isinstance(d, SyntheticSequences)]

    def batches(self, step: int, epoch: int, steps_per_epoch: int):
        """This rank's batches of ``epoch`` from ``step`` on, in mixture order."""
        cfg = self.cfg
        sizes = [len(d) for d in self.train_sets]
        weights = self.weights
        per_epoch = steps_per_epoch * cfg.batch_size * self.world
        order = mixture_order(sizes, weights, per_epoch, cfg.seed, epoch)
        mine = order[self.rank::self.world]
        start = (step % steps_per_epoch) * cfg.batch_size
        for d in self.train_sets:
            base(d).set_epoch(epoch)
        if self.bank is not None:
            offsets = np.cumsum([0] + sizes[:-1])
            which = np.searchsorted(offsets, mine[start:], side="right") - 1
            items = [(int(d), int(i - offsets[d])) for d, i in zip(which, mine[start:])]
            for k in range(0, len(items) - cfg.batch_size + 1, cfg.batch_size):
                yield self._mixed_batch(items[k:k + cfg.batch_size])
            return
        data = Subset(ConcatDataset(self.train_sets), mine[start:])
        loader = DataLoader(data, batch_size=cfg.batch_size, shuffle=False, drop_last=True,
                            num_workers=cfg.workers, pin_memory=self.device.type == "cuda")
        for batch in loader:
            yield {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}

    def _mixed_batch(self, items: list[tuple[int, int]]) -> dict[str, torch.Tensor]:
        """One batch: the synthetic items rendered by the bank, the others loaded, concatenated."""
        banked = self._synthetic()
        synthetic = [(banked.index(self.train_sets[d]), i) for d, i in items
                     if isinstance(self.train_sets[d], SyntheticSequences)]
        parts = [self.bank.batch(synthetic)] if synthetic else []
        others = [self.train_sets[d][i] for d, i in items if not isinstance(self.train_sets[d], SyntheticSequences)]
        if others:
            loaded = torch.utils.data.default_collate(others)
            parts.append({k: v.to(self.device) for k, v in loaded.items()})
        return parts[0] if len(parts) == 1 else {k: torch.cat([p[k] for p in parts]) for k in parts[0]}
