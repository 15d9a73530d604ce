"""Synthetic batches made on the training device, from photos decoded once.

Decoding, cropping and blending one sample at a time in loader processes kept
an H100 mostly idle; here every photo of the synthetic pools is decoded once
into one padded uint8 tensor on the training device, each batch's random
choices are drawn on the CPU exactly as the per-sample path draws them
(:meth:`SyntheticSequences.plan`), and the windows, blur and blends of the
whole batch run as a few batched operations there. Same samples, same order,
so runs resume exactly whichever path made their batches.
"""

from __future__ import annotations

import numpy as np
import torch

from declare.data.datasets import SyntheticSequences
from declare.data.synthetic import render
from declare.images import read_photo

MAX_BYTES = 4 * 2 ** 30  # past this the photos stay on disk and the loader makes the batches


class PhotoBank:
    """The photos of some synthetic datasets, decoded, padded into one tensor."""

    def __init__(self, datasets: list[SyntheticSequences], device: torch.device):
        self.datasets = datasets
        self.first: list[int] = []  # each dataset's first photo (its t_pool, then its r_pool)
        paths = []
        for d in datasets:
            self.first.append(len(paths))
            paths += list(d.t_pool) + list(d.r_pool)
        images = [read_photo(p).pixels for p in paths]
        self.sizes = torch.tensor([im.shape[:2] for im in images])
        for d, first in zip(datasets, self.first):  # the per-sample planner need not decode them again
            for k, p in enumerate(list(d.t_pool) + list(d.r_pool)):
                d.sizes[p] = tuple(images[first + k].shape[:2])
        h, w = (int(v) for v in self.sizes.max(0).values)
        self.pixels = torch.zeros(len(images), 3, h, w, dtype=torch.uint8, device=device)
        for i, im in enumerate(images):
            u8 = torch.from_numpy(np.round(im * 255).astype(np.uint8)).permute(2, 0, 1)
            self.pixels[i, :, :im.shape[0], :im.shape[1]] = u8.to(device)

    @staticmethod
    def fits(datasets: list[SyntheticSequences]) -> bool:
        """Whether the padded bank stays under MAX_BYTES (read from headers, nothing decoded)."""
        from PIL import Image

        sizes = []
        for d in datasets:
            for p in list(d.t_pool) + list(d.r_pool):
                with Image.open(p) as im:
                    sizes.append(im.size)
        w, h = max(s[0] for s in sizes), max(s[1] for s in sizes)
        return len(sizes) * 3 * w * h <= MAX_BYTES

    def batch(self, items: list[tuple[int, int]]) -> dict[str, torch.Tensor]:
        """A training batch from (dataset, sample index) pairs, rendered on the device."""
        t_ids, r_ids, plans = [], [], []
        for which, index in items:
            d = self.datasets[which]
            t, r, plan = d.plan(index)
            t_ids.append(self.first[which] + t)
            r_ids.append(self.first[which] + len(d.t_pool) + r)
            plans.append(plan)
        t_ids, r_ids = torch.tensor(t_ids), torch.tensor(r_ids)
        dev = self.pixels.device
        seq = render(self.pixels[t_ids.to(dev)].float() / 255, self.sizes[t_ids],
                     self.pixels[r_ids.to(dev)].float() / 255, self.sizes[r_ids],
                     plans, self.datasets[items[0][0]].config)
        b = len(items)
        ones = torch.ones(b, 3, dtype=torch.bool, device=dev)
        return {**seq, "t_valid": ones, "r_valid": ones, "has_views": torch.ones(b, dtype=torch.bool, device=dev)}
