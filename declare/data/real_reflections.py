"""Real reflections over other scenes: a pair folder's reflections, reused.

Models trained on rendered reflections remove about 1% of the reflection in
real photos (README, "Default model"), and 89 real pairs from one shoot teach
that shoot's look. A real pair holds a real reflection, though: its input
minus its truth (after the glass's own dimming) is the layer the glass added,
with real defocus, ghosting, colour and content. Laid over the synthesis's
photos at random scales and places, each of those layers makes endless new
pairs whose target is exact: no misalignment, no exposure difference between
the two shots, and scenes that are not the pair folder's.

The photo under the layer is not dimmed or tinted as the synthesis's glass is
(its target stays undimmed): that teaches a model to brighten, and composites
that did so made every real set worse without the raw pairs, and removed less
with them (README, "Real reflections over other scenes"). The layer is all a
composite teaches; the raw pairs teach the level. A share of composites gets
no layer at all (target = input), as the synthesis's ``clean_share`` does:
real layers are mostly veils, and with every composite veiled the safe guess
for a photo is a little light off everywhere. ``floor`` goes further: each
layer loses its own level below that quantile (per channel), so what is left
to teach is the reflection's shape, not a veil a levels slider would remove.
``colour`` recolours a share of the layers (channels shuffled, each scaled by
its own gain, the layer's mean kept): 77 layers from one shoot share its
light and its tints, and a photo through other glass has its own.

A layer is ``clip(input - g x truth, 0, 1)``, ``g`` per channel the 20th
percentile of input/truth where the truth is not dark: pixels without
reflection give the glass's dimming, which a least-squares fit would
overestimate by the reflection's mean. A 1-px blur softens the seams that the
shots' small misalignment leaves. Where the two shots differ by more than
the glass (a moved branch), the difference becomes part of the layer: over
another scene it is an overlay all the same, and the target stays exact.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from declare.data.datasets import _Base, _sample, load, random_window
from declare.data.layouts import Pair
from declare.data.synthetic import gaussian_blur
from declare.images import read_photo

LONG_SIDE = 768          # layers are kept at most this large (uint8): 77 of them take ~100 MB
RATIO_PERCENTILE = 0.2   # of input/truth per channel: the glass's dimming
STRENGTH = (0.5, 1.25)   # a layer is laid over at this factor of its own strength
COLOUR_GAIN = (0.6, 1.4)  # per channel, of a recoloured layer, before its mean is restored


def reflection_layer(image: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """(3, H, W) in [0, 1]: what the glass added to ``truth`` to make ``image``."""
    lit = truth > 0.1
    ratio = image / truth.clamp(min=0.05)
    gains = torch.stack([ratio[c][lit[c]].quantile(RATIO_PERCENTILE) if lit[c].sum() > 100
                         else torch.tensor(1.0) for c in range(3)]).clamp(0.5, 1.2)
    layer = (image - gains.view(3, 1, 1) * truth).clamp(0, 1)
    return gaussian_blur(layer, 1.0)


def recolour(layer: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """(3, H, W): ``layer`` with its channels shuffled and scaled, its mean kept."""
    shuffled = layer[torch.randperm(3, generator=gen)]
    lo, hi = COLOUR_GAIN
    gains = lo + (hi - lo) * torch.rand(3, generator=gen)
    tinted = shuffled * gains.view(3, 1, 1)
    return tinted * (layer.mean() / tinted.mean().clamp(min=1e-6))


def without_floor(layer: torch.Tensor, quantile: float) -> torch.Tensor:
    """A uint8 layer less its level at ``quantile`` per channel (0: unchanged)."""
    if not quantile:
        return layer
    floor = layer.flatten(1).float().quantile(quantile, dim=1).round().to(torch.uint8)
    return layer - torch.minimum(layer, floor.view(3, 1, 1))  # max(layer - floor, 0) in uint8


class RealReflections(_Base):
    """Photos with a real pair's reflection laid over them: single images, exact truths."""

    def __init__(self, photos: list[Path], pairs: list[Pair], length: int, crop: int = 224,
                 seed: int = 0, clean_share: float = 0.0, floor: float = 0.0, colour: float = 0.0):
        super().__init__(crop, seed, augment=True)
        if not photos or not pairs:
            raise ValueError("real reflections need photos and pairs")
        self.photos, self.length, self.clean_share, self.colour = list(photos), length, clean_share, colour
        self.layers = [without_floor(_extract(p), floor) for p in pairs]

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        gen = self._generator(index)
        photo = self.photos[int(torch.randint(len(self.photos), (), generator=gen))]
        layer = self.layers[int(torch.randint(len(self.layers), (), generator=gen))]
        t = random_window(load(photo)[None], self.crop, gen)[0]
        r = random_window(layer[None].float() / 255, self.crop, gen)[0]
        lo, hi = STRENGTH
        r = r * (lo + (hi - lo) * float(torch.rand((), generator=gen)))
        if self.clean_share and float(torch.rand((), generator=gen)) < self.clean_share:
            r = torch.zeros_like(r)      # drawn only when asked for: earlier runs resume exactly
        if self.colour and float(torch.rand((), generator=gen)) < self.colour:
            r = recolour(r, gen)         # likewise
        image = (t + r).clamp(0, 1)
        zeros = torch.zeros(3, 3, self.crop, self.crop)
        t_views, r_views = zeros.clone(), zeros.clone()
        t_views[1], r_views[1] = t, image - t
        return _sample(image.expand(3, -1, -1, -1).clone(), t_views, r_views,
                       [False, True, False], [False, True, False], False)


def _extract(pair: Pair) -> torch.Tensor:
    """A pair's reflection layer as uint8, at most LONG_SIDE px. The pair is read once,
    past ``load``'s cache: full-size float pairs would sit in it beside the photos."""
    image, truth = (torch.from_numpy(read_photo(p).pixels).permute(2, 0, 1) for p in (pair.image, pair.truth))
    if image.shape != truth.shape:
        raise ValueError(f"{pair.image.name}: input and truth differ in size")
    scale = LONG_SIDE / max(image.shape[-2:])
    if scale < 1:
        size = [round(s * scale) for s in image.shape[-2:]]
        image, truth = (F.interpolate(a[None], size=size, mode="bilinear", antialias=True)[0]
                        for a in (image, truth))
    return (reflection_layer(image, truth) * 255).round().to(torch.uint8)
