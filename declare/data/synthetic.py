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

A real handheld burst, once ``--burst`` has aligned it on the scene, differs
from the paper's sequences in what alignment leaves (all off by default):
the scene's depth (a smooth parallax field on T in the views other than the
reference), exposure and white balance that gain matching only nears (a
per-channel gain on those views), and sensor or video noise on every frame.
The reference (middle) view is the target's and is never displaced or
re-exposed; the other views' T and R carry their own displacement and gain, so
every target stays a true layer of its frame.

Everything about sample ``i`` derives from ``(seed, i)``, so a sample is the same
whichever process or epoch draws it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from declare.data.synthetic_config import SyntheticConfig


def window_path(gen: torch.Generator, views: int, shift: tuple[float, float]) -> torch.Tensor:
    """Offsets (views, 2) of a window relative to its first position, (dy, dx) each."""
    lo, hi = shift
    sign = torch.where(torch.rand(2, generator=gen) < 0.5, -1.0, 1.0)
    steps = lo + (hi - lo) * torch.rand(views - 1, 2, generator=gen)
    steps = steps * sign
    return torch.cat((torch.zeros(1, 2), steps.cumsum(0)))


@dataclass
class Plan:
    """Every random choice of one sequence, drawn on the CPU from its own
    generator; rendering it (one at a time or a whole batch on the training
    device) gives the same sample."""
    t_windows: torch.Tensor   # (views, 2) top-left of T's window, in the photo's pixels
    r_windows: torch.Tensor
    t_zoom: float             # >= 1: how much a photo too small for the moving window is enlarged
    r_zoom: float
    clean: bool
    screen: bool
    sigma: float              # 0: a sharp reflection
    gain: float
    t_scale: torch.Tensor     # (3,): the glass's dimming and tint
    vignette: tuple[float, float, float] | None   # centre y, x and spread of the mask on R
    ghost: torch.Tensor | None                    # (2,) offset of R's second copy, px
    ghost_gain: float
    flip: bool = False
    parallax: torch.Tensor | None = None      # (views, 2, 3, 3) coarse displacement of T, px (dy, dx)
    gains: torch.Tensor | None = None         # (views, 3) each view's exposure and white balance
    noise: float = 0.0                        # sigma of each frame's Gaussian noise
    noise_seed: int = 0


def plan_sequence(t_size: tuple[int, int], r_size: tuple[int, int], cfg: SyntheticConfig,
                  gen: torch.Generator) -> Plan:
    """The draws, in a fixed order whatever the settings, so switching one part
    of the recipe on or off leaves the others' draws (and the motion) unchanged."""
    s = cfg.size
    t_path = window_path(gen, cfg.views, cfg.t_shift)
    r_path = window_path(gen, cfg.views, cfg.r_shift)
    t_zoom, t_start = _room_for(t_size, t_path, s, gen)
    r_zoom, r_start = _room_for(r_size, r_path, s, gen)
    u = torch.rand(4, generator=gen).tolist()
    sigma = _uniform(gen, *cfg.blur_sigma)
    gain = _uniform(gen, *cfg.r_gain)
    tint = 1 - cfg.t_tint * torch.rand(3, generator=gen)
    t_scale = _uniform(gen, *cfg.t_gain) * tint
    centre = (torch.rand(2, generator=gen) * s).tolist()
    spread = s * (0.4 + 0.6 * float(torch.rand((), generator=gen)))
    angle = 2 * math.pi * float(torch.rand((), generator=gen))
    length = _uniform(gen, *cfg.ghost_shift)
    ghost_gain = _uniform(gen, *cfg.ghost_gain)
    plan = Plan(t_start + t_path, r_start + r_path, t_zoom, r_zoom,
                clean=u[0] < cfg.clean_share, screen=u[1] < cfg.screen_share,
                sigma=0.0 if u[2] < cfg.sharp_share else sigma, gain=gain, t_scale=t_scale,
                vignette=(centre[0], centre[1], spread) if cfg.vignette else None,
                ghost=torch.tensor([math.sin(angle), math.cos(angle)]) * length if u[3] < cfg.ghost_share else None,
                ghost_gain=ghost_gain)
    if cfg.parallax or cfg.exposure_jitter or cfg.noise:
        _plan_handheld(plan, cfg, gen)
    return plan


def _plan_handheld(plan: Plan, cfg: SyntheticConfig, gen: torch.Generator) -> None:
    """The draws of what alignment leaves, after all the others (and only when asked
    for), so the paper's recipe keeps its samples."""
    others = torch.ones(cfg.views, 1)
    others[(cfg.views - 1) // 2] = 0
    coarse = (2 * torch.rand(cfg.views, 2, 3, 3, generator=gen) - 1) * cfg.parallax
    plan.parallax = coarse * others[:, :, None, None] if cfg.parallax else None
    jitter = (2 * torch.rand(cfg.views, 3, generator=gen) - 1) * cfg.exposure_jitter
    plan.gains = 1 + jitter * others if cfg.exposure_jitter else None
    plan.noise = cfg.noise * float(torch.rand((), generator=gen))
    plan.noise_seed = int(torch.randint(0, 2 ** 31 - 1, (), generator=gen))


def _uniform(gen: torch.Generator, lo: float, hi: float) -> float:
    return lo + (hi - lo) * float(torch.rand((), generator=gen))


def _room_for(size: tuple[int, int], path: torch.Tensor, window: int, gen: torch.Generator
              ) -> tuple[float, torch.Tensor]:
    """(zoom, start): enlarge a photo the moving window would leave; a start keeping it inside."""
    lo, hi = path.min(0).values, path.max(0).values
    need = window + (hi - lo).ceil() + 2
    h, w = size
    zoom = max(float(need[0]) / h, float(need[1]) / w, 1.0)
    room = torch.tensor([h * zoom, w * zoom], dtype=torch.float32).floor() - need
    start = torch.rand(2, generator=gen) * room.clamp(min=0) + 1 - lo
    return zoom, start


def windows(photos: torch.Tensor, sizes: torch.Tensor, tops: torch.Tensor, zooms: torch.Tensor,
            size: int, shift: torch.Tensor | None = None) -> torch.Tensor:
    """Bilinear size x size windows of a batch of photos: (B, V, 3, S, S).

    ``photos`` (B, 3, H, W) may be padded beyond each one's true ``sizes`` (B, 2);
    ``tops`` (B, V, 2) are window corners in a photo enlarged ``zooms`` (B,) times,
    sampled from the original at the matching points, edges repeated outward.
    ``shift`` (B, V, 2, S, S), in the same pixels, moves each sampled point."""
    b, v = tops.shape[:2]
    h, w = photos.shape[-2:]
    steps = torch.arange(size, dtype=torch.float32, device=photos.device)
    tops, sizes, zooms = tops.to(photos.device), sizes.to(photos.device), zooms.to(photos.device)
    ys = (tops[..., 0, None] + steps)[..., :, None].expand(b, v, size, size)     # (B, V, S, S)
    xs = (tops[..., 1, None] + steps)[..., None, :].expand(b, v, size, size)
    if shift is not None:
        ys, xs = ys + shift[:, :, 0].to(ys), xs + shift[:, :, 1].to(xs)
    zoom = zooms[:, None, None, None]
    ys = torch.minimum(((ys + 0.5) / zoom - 0.5).clamp(min=0), (sizes[:, 0] - 1)[:, None, None, None])
    xs = torch.minimum(((xs + 0.5) / zoom - 0.5).clamp(min=0), (sizes[:, 1] - 1)[:, None, None, None])
    gy = (2 * ys + 1) / h - 1
    gx = (2 * xs + 1) / w - 1
    grid = torch.stack((gx, gy), dim=-1).reshape(b, v * size, size, 2)
    out = F.grid_sample(photos, grid, mode="bilinear", padding_mode="border", align_corners=False)
    return out.reshape(b, 3, v, size, size).transpose(1, 2)


def gaussian_blur(x: torch.Tensor, sigma: float | torch.Tensor) -> torch.Tensor:
    """Separable Gaussian blur of (..., C, H, W), one sigma or one per leading item
    (0: left sharp), reflected at the edges."""
    lead = x.shape[:-3] if x.dim() > 3 else ()
    sig = torch.as_tensor(sigma, dtype=torch.float32).flatten()
    if sig.numel() == 1:
        sig = sig.expand(math.prod(lead))
    radius = max(1, int(3 * float(sig.max()) + 0.5))
    t = torch.arange(-radius, radius + 1, dtype=torch.float32)
    own = (3 * sig + 0.5).floor().clamp(min=1)[:, None]
    k = torch.exp(-(t ** 2) / (2 * sig.clamp(min=1e-6)[:, None] ** 2)) * (t.abs() <= own)
    k = k / k.sum(1, keepdim=True)
    k = torch.where(sig[:, None] > 0, k, (t == 0).float())  # sigma 0: the identity kernel
    c, hw = x.shape[-3], x.shape[-2:]
    flat = x.reshape(1, -1, *hw)
    kk = k.to(x).repeat_interleave(c, 0)
    flat = F.pad(flat, (radius,) * 4, mode="reflect")
    flat = F.conv2d(flat, kk.view(-1, 1, 1, 2 * radius + 1), groups=flat.shape[1])
    flat = F.conv2d(flat, kk.view(-1, 1, 2 * radius + 1, 1), groups=flat.shape[1])
    return flat.reshape(x.shape)


def _lower_overflow(t: torch.Tensor, rb: torch.Tensor) -> torch.Tensor:
    """Lower the reflection by its mean overflow per channel of each frame, as CEILNet does."""
    mixed = t + rb
    over = mixed > 1
    count = over.sum((-1, -2), keepdim=True)
    excess = ((mixed - 1) * over).sum((-1, -2), keepdim=True) / count.clamp(min=1)
    frame_over = count.sum(-3, keepdim=True) > 0
    return torch.where(frame_over, (rb - 1.3 * excess).clamp(0, 1), rb)


def compose(t: torch.Tensor, r: torch.Tensor, ghost: torch.Tensor, plans: list[Plan],
            cfg: SyntheticConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Frames (B, V, 3, S, S) and the reflection layer in them, from the scene
    ``t``, the reflected scene ``r`` and its shifted copy ``ghost``. The layer
    is what the blend adds to T through the glass: ``image = clip(T_glass +
    layer)`` for CEILNet's additive blend, ``image - T_glass`` otherwise."""
    dev = t.device

    def per_sample(values, dtype=torch.float32):
        return torch.tensor(values, dtype=dtype, device=dev).view(-1, 1, 1, 1, 1)

    gg = per_sample([p.ghost_gain if p.ghost is not None else 0.0 for p in plans])
    r = (r + gg * ghost) / (1 + gg)
    r = gaussian_blur(r, torch.tensor([p.sigma for p in plans]).repeat_interleave(r.shape[1]))
    r = r * per_sample([p.gain for p in plans])
    if any(p.vignette is not None for p in plans):
        r = r * _vignettes(plans, cfg.size, dev)
    tg = (t * torch.stack([p.t_scale for p in plans]).to(dev).view(-1, 1, 3, 1, 1)).clamp(0, 1)
    screen = per_sample([p.screen for p in plans], torch.bool)
    if cfg.linear_light:
        t_lin = tg ** 2.2
        blended = (t_lin + _lower_overflow(t_lin, r ** 2.2)).clamp(0, 1) ** (1 / 2.2)
        blended_layer = blended - tg
    else:
        blended_layer = _lower_overflow(tg, r)
        blended = (tg + blended_layer).clamp(0, 1)
    image = torch.where(screen, tg + r - tg * r, blended)
    layer = torch.where(screen, r - tg * r, blended_layer)
    clean = per_sample([p.clean for p in plans], torch.bool)
    return torch.where(clean, t, image), torch.where(clean, torch.zeros_like(layer), layer)


def _vignettes(plans: list[Plan], size: int, device) -> torch.Tensor:
    """(B, 1, 1, S, S) Gaussian masks on R (separable); ones for samples without one."""
    params = torch.tensor([p.vignette if p.vignette is not None else (0.0, 0.0, float("inf"))
                           for p in plans], device=device)
    steps = torch.arange(size, dtype=torch.float32, device=device)
    spread = 2 * params[:, 2:3] ** 2
    ys = torch.exp(-(steps - params[:, 0:1]) ** 2 / spread)   # (B, S); inf spread: ones
    xs = torch.exp(-(steps - params[:, 1:2]) ** 2 / spread)
    return (ys[:, :, None] * xs[:, None, :])[:, None, None]


def render(t_photos: torch.Tensor, t_sizes: torch.Tensor, r_photos: torch.Tensor, r_sizes: torch.Tensor,
           plans: list[Plan], cfg: SyntheticConfig) -> dict[str, torch.Tensor]:
    """A batch of planned sequences: frames, T (the scene, the target) and R (the
    layer), each (B, V, 3, S, S), flipped where planned. Photos (B, 3, H, W) as
    in :func:`windows`."""
    s = cfg.size
    t_zoom = torch.tensor([p.t_zoom for p in plans])
    r_zoom = torch.tensor([p.r_zoom for p in plans])
    t = windows(t_photos, t_sizes, torch.stack([p.t_windows for p in plans]), t_zoom, s,
                _parallax(plans, cfg, s))
    r = windows(r_photos, r_sizes, torch.stack([p.r_windows for p in plans]), r_zoom, s)
    ghost_tops = torch.stack([p.r_windows + (p.ghost if p.ghost is not None else 0) for p in plans])
    ghost = windows(r_photos, r_sizes, ghost_tops, r_zoom, s)
    frames, layer = compose(t, r, ghost, plans, cfg)
    frames, t, layer = _handheld(frames, t, layer, plans)
    flip = torch.tensor([p.flip for p in plans], device=t.device).view(-1, 1, 1, 1, 1)
    out = {"frames": frames, "t": t, "r": layer}
    return {k: torch.where(flip, v.flip(-1), v) for k, v in out.items()}


def _parallax(plans: list[Plan], cfg: SyntheticConfig, size: int) -> torch.Tensor | None:
    """(B, V, 2, S, S) smooth displacements of T from each plan's coarse 3 x 3 grid; None if none."""
    if all(p.parallax is None for p in plans):
        return None
    coarse = torch.stack([p.parallax if p.parallax is not None else torch.zeros(cfg.views, 2, 3, 3)
                          for p in plans])
    b, v = coarse.shape[:2]
    smooth = F.interpolate(coarse.reshape(b * v, 2, 3, 3), size=(size, size), mode="bicubic",
                           align_corners=True)
    return smooth.reshape(b, v, 2, size, size)


def _handheld(frames: torch.Tensor, t: torch.Tensor, layer: torch.Tensor, plans: list[Plan]
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Each view's exposure gain on the frame and both its layers; noise on the frames only."""
    dev = frames.device
    if any(p.gains is not None for p in plans):
        gains = torch.stack([p.gains if p.gains is not None else torch.ones(frames.shape[1], 3)
                             for p in plans]).to(dev)[..., None, None]
        frames, t, layer = (frames * gains).clamp(0, 1), (t * gains).clamp(0, 1), layer * gains
    if any(p.noise for p in plans):
        noise = torch.stack([torch.randn(frames.shape[1:], generator=torch.Generator().manual_seed(p.noise_seed))
                             * p.noise for p in plans]).to(dev)
        frames = (frames + noise).clamp(0, 1)
    return frames, t, layer
