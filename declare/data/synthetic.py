"""Synthetic multi-view reflection sequences (paper section 4.2, figure 4).

A window on a transmission photo and one on a reflection photo move in step,
each by a fresh 2-D offset per frame: components of [0, 2] px for T (the scene
behind glass barely moves) and [10, 20] px for R (the reflection moves a lot),
with a random sign per axis per sequence so every direction of camera motion is
seen. T_t (the scene, the target) and R_t (the reflection as it appears in
the blend: I minus T seen through the glass) are kept for every frame.

How a frame is blended is the part that must look like real photos through
glass. Every choice is a field of :class:`SyntheticConfig`, drawn once per
sequence, so that each can be switched off and measured on real pairs:

- CEILNet's additive blend (R blurred, lowered where the sum overflows,
  clipped), or the same in linear light (gamma 2.2, Zhang et al. 2018);
- the screen blend I = T + R - TR at some rate (DSRNet 2023);
- reflection strength from near zero up, and a share of samples with no
  reflection at all, so a model learns to leave clean photos alone;
- the glass's own effect on T, dimmer and tinted (DSRNet's T x U(0.8, 1),
  RDNet's per-channel scaling), while the target stays the unfiltered scene,
  as real pairs photograph it with the glass removed;
- defocus of R (Gaussian sigma, and a share of sharp reflections), a
  vignetting mask on R (Zhang et al. 2018), and ghosting: a shifted, weaker
  second copy of R, as thick glass makes.

Everything about sample ``i`` derives from ``(seed, i)``, so a sample is the same
whichever process or epoch draws it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from declare.data.synthetic_config import SETTINGS, SyntheticConfig  # noqa: F401 (re-exported)


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


def _lower_overflow(t: torch.Tensor, rb: torch.Tensor) -> torch.Tensor:
    """Lower the reflection by its mean overflow per channel, as CEILNet does."""
    mixed = t + rb
    over = mixed > 1
    if over.any():
        excess = torch.stack([(mixed[c][over[c]] - 1).mean() if over[c].any() else mixed.new_zeros(())
                              for c in range(3)])
        rb = (rb - 1.3 * excess.view(3, 1, 1)).clamp(0, 1)
    return rb


@dataclass
class Look:
    """How one sequence's frames are blended: drawn once, applied to every view."""
    clean: bool
    screen: bool
    sigma: float
    gain: float
    t_scale: torch.Tensor          # (3, 1, 1): the glass's dimming and tint
    vignette: torch.Tensor | None  # (1, S, S) mask on R
    ghost: torch.Tensor | None     # (2,) offset of R's second copy
    ghost_gain: float


def draw_look(cfg: SyntheticConfig, gen: torch.Generator) -> Look:
    """Every draw happens whatever the settings, in a fixed order, so switching
    one part on or off leaves the others' draws (and the motion) unchanged."""
    u = torch.rand(4, generator=gen).tolist()
    sigma = _uniform(gen, *cfg.blur_sigma)
    gain = _uniform(gen, *cfg.r_gain)
    tint = 1 - cfg.t_tint * torch.rand(3, 1, 1, generator=gen)
    t_scale = _uniform(gen, *cfg.t_gain) * tint
    centre = torch.rand(2, generator=gen) * cfg.size
    spread = cfg.size * (0.4 + 0.6 * float(torch.rand((), generator=gen)))
    angle = 2 * math.pi * float(torch.rand((), generator=gen))
    length = _uniform(gen, *cfg.ghost_shift)
    ghost_gain = _uniform(gen, *cfg.ghost_gain)
    return Look(clean=u[0] < cfg.clean_share, screen=u[1] < cfg.screen_share,
                sigma=0.0 if u[2] < cfg.sharp_share else sigma, gain=gain, t_scale=t_scale,
                vignette=_vignette(cfg.size, centre, spread) if cfg.vignette else None,
                ghost=torch.tensor([math.sin(angle), math.cos(angle)]) * length if u[3] < cfg.ghost_share else None,
                ghost_gain=ghost_gain)


def _vignette(size: int, centre: torch.Tensor, spread: float) -> torch.Tensor:
    ys = torch.arange(size, dtype=torch.float32)[:, None] - centre[0]
    xs = torch.arange(size, dtype=torch.float32)[None, :] - centre[1]
    return torch.exp(-(ys ** 2 + xs ** 2) / (2 * spread ** 2))[None]


def compose(t: torch.Tensor, r: torch.Tensor, ghost: torch.Tensor | None, look: Look,
            cfg: SyntheticConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """One frame: (image, reflection layer). The layer is what the blend adds to T
    through the glass: ``image = clip(T_glass + layer)`` for the additive blend
    (CEILNet's), ``image - T_glass`` otherwise. ``t`` is the scene, ``r`` the
    reflected scene, ``ghost`` its shifted copy."""
    if look.clean:
        return t, torch.zeros_like(t)
    if ghost is not None:
        r = (r + look.ghost_gain * ghost) / (1 + look.ghost_gain)
    if look.sigma > 0:
        r = gaussian_blur(r, look.sigma)
    r = r * look.gain
    if look.vignette is not None:
        r = r * look.vignette
    tg = (t * look.t_scale).clamp(0, 1)
    if look.screen:
        image = tg + r - tg * r
    elif cfg.linear_light:
        t_lin = tg ** 2.2
        image = (t_lin + _lower_overflow(t_lin, r ** 2.2)).clamp(0, 1) ** (1 / 2.2)
    else:
        rb = _lower_overflow(tg, r)
        return (tg + rb).clamp(0, 1), rb
    return image, image - tg


def make_sequence(t_photo: torch.Tensor, r_photo: torch.Tensor, cfg: SyntheticConfig,
                  gen: torch.Generator) -> dict[str, torch.Tensor]:
    """One sequence: frames, T (the scene, the target) and R (the reflection as it
    appears) as (views, 3, S, S), and the window offsets (views, 2)."""
    s = cfg.size
    t_path = window_path(gen, cfg.views, cfg.t_shift)
    r_path = window_path(gen, cfg.views, cfg.r_shift)
    t_photo, t_origin = _room_for(t_photo, t_path, s, gen)
    r_photo, r_origin = _room_for(r_photo, r_path, s, gen)
    look = draw_look(cfg, gen)
    frames, ts, rs = [], [], []
    for k in range(cfg.views):
        t = crop(t_photo, *(t_origin + t_path[k]).tolist(), s)
        r = crop(r_photo, *(r_origin + r_path[k]).tolist(), s)
        ghost = None if look.ghost is None else crop(r_photo, *(r_origin + r_path[k] + look.ghost).tolist(), s)
        image, rb = compose(t, r, ghost, look, cfg)
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
