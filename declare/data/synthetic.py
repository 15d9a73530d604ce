"""Synthetic multi-view reflection sequences (paper section 4.2, figure 4).

A window on a transmission photo and one on a reflection photo move in step,
each by a fresh 2-D offset per frame: components of [0, 2] px for T (the scene
behind glass barely moves) and [10, 20] px for R (the reflection moves a lot),
with a random sign per axis per sequence so every direction of camera motion is
seen. Each crop pair is blended CEILNet-style: R is blurred with a Gaussian,
lowered where the sum overflows, and the blend clipped. T_t and R_t (the layer
as it appears in the blend) are kept for every frame.

Everything about sample ``i`` derives from ``(seed, i)``, so a sample is the same
whichever process or epoch draws it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class SyntheticConfig:
    size: int = 224                      # window side, pixels
    views: int = 3
    t_shift: tuple[float, float] = (0.0, 2.0)
    r_shift: tuple[float, float] = (10.0, 20.0)
    blur_sigma: tuple[float, float] = (1.0, 5.0)
    r_gain: tuple[float, float] = (0.6, 1.0)   # reflections are dimmer than what they reflect


def window_path(gen: torch.Generator, views: int, shift: tuple[float, float]) -> torch.Tensor:
    """Offsets (views, 2) of a window relative to its first position, (dy, dx) each."""
    lo, hi = shift
    sign = torch.where(torch.rand(2, generator=gen) < 0.5, -1.0, 1.0)
    steps = lo + (hi - lo) * torch.rand(views - 1, 2, generator=gen)
    steps = steps * sign
    return torch.cat((torch.zeros(1, 2), steps.cumsum(0)))


def crop(photo: torch.Tensor, top: float, left: float, size: int) -> torch.Tensor:
    """A size x size window at a sub-pixel position, bilinearly sampled. photo: (3, H, W)."""
    _, h, w = photo.shape
    ys = top + torch.arange(size, dtype=torch.float32)
    xs = left + torch.arange(size, dtype=torch.float32)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    grid = torch.stack(((2 * gx + 1) / w - 1, (2 * gy + 1) / h - 1), dim=-1)[None]
    return F.grid_sample(photo[None], grid, mode="bilinear", padding_mode="border",
                         align_corners=False)[0]


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    radius = max(1, int(3 * sigma + 0.5))
    t = torch.arange(-radius, radius + 1, dtype=torch.float32)
    k = torch.exp(-(t ** 2) / (2 * sigma ** 2))
    k = (k / k.sum()).to(x)
    c = x.shape[0]
    x = F.pad(x[None], (radius, radius, radius, radius), mode="reflect")
    x = F.conv2d(x, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    x = F.conv2d(x, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)
    return x[0]


def blend(t: torch.Tensor, r: torch.Tensor, sigma: float, gain: float) -> tuple[torch.Tensor, torch.Tensor]:
    """CEILNet-style blend: returns (image, reflection layer as it appears in it)."""
    rb = gaussian_blur(r, sigma) * gain
    mixed = t + rb
    over = mixed > 1
    if over.any():  # lower the reflection by its mean overflow per channel, as CEILNet does
        excess = torch.stack([(mixed[c][over[c]] - 1).mean() if over[c].any() else mixed.new_zeros(())
                              for c in range(3)])
        rb = (rb - 1.3 * excess.view(3, 1, 1)).clamp(0, 1)
    return (t + rb).clamp(0, 1), rb


def make_sequence(t_photo: torch.Tensor, r_photo: torch.Tensor, cfg: SyntheticConfig,
                  gen: torch.Generator) -> dict[str, torch.Tensor]:
    """One sequence: frames, T and R (views, 3, S, S) and the window offsets (views, 2)."""
    s = cfg.size
    t_path = window_path(gen, cfg.views, cfg.t_shift)
    r_path = window_path(gen, cfg.views, cfg.r_shift)
    t_photo, t_origin = _room_for(t_photo, t_path, s, gen)
    r_photo, r_origin = _room_for(r_photo, r_path, s, gen)
    sigma = _uniform(gen, *cfg.blur_sigma)
    gain = _uniform(gen, *cfg.r_gain)
    frames, ts, rs = [], [], []
    for k in range(cfg.views):
        t = crop(t_photo, *(t_origin + t_path[k]).tolist(), s)
        r = crop(r_photo, *(r_origin + r_path[k]).tolist(), s)
        image, rb = blend(t, r, sigma, gain)
        frames.append(image), ts.append(t), rs.append(rb)
    return {"frames": torch.stack(frames), "t": torch.stack(ts), "r": torch.stack(rs),
            "t_offsets": t_path, "r_offsets": r_path}


def _uniform(gen: torch.Generator, lo: float, hi: float) -> float:
    return lo + (hi - lo) * float(torch.rand((), generator=gen))


def _room_for(photo: torch.Tensor, path: torch.Tensor, size: int, gen: torch.Generator
              ) -> tuple[torch.Tensor, torch.Tensor]:
    """Scale ``photo`` up if the moving window would leave it; pick a start that keeps it inside."""
    lo, hi = path.min(0).values, path.max(0).values
    need = size + (hi - lo).ceil() + 2
    h, w = photo.shape[-2:]
    scale = max(float(need[0]) / h, float(need[1]) / w, 1.0)
    if scale > 1:
        photo = F.interpolate(photo[None], scale_factor=scale, mode="bilinear",
                              align_corners=False, antialias=False)[0]
        h, w = photo.shape[-2:]
    room = torch.tensor([h, w], dtype=torch.float32) - need
    start = torch.rand(2, generator=gen) * room.clamp(min=0) + 1 - lo
    return photo, start
