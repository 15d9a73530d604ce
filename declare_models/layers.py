"""Small building blocks shared by the networks.

Every conv is 3x3 + ReLU unless said (paper 3.1.1); there are no normalization
layers, which the paper avoids to keep colours from shifting.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def conv(in_ch: int, out_ch: int, stride: int = 1, relu: bool = True) -> nn.Module:
    """3x3 convolution (+ ReLU) that keeps size at stride 1, halves it at 2."""
    layer = nn.Conv2d(in_ch, out_ch, 3, stride=stride, padding=1)
    return nn.Sequential(layer, nn.ReLU(inplace=True)) if relu else layer


def deconv(in_ch: int, out_ch: int) -> nn.Module:
    """4x4 transposed convolution + ReLU that exactly doubles the size."""
    return nn.Sequential(nn.ConvTranspose2d(in_ch, out_ch, 4, stride=2, padding=1),
                         nn.ReLU(inplace=True))


def conv_stack(in_ch: int, widths: tuple[int, ...], strides: tuple[int, ...] | None = None
               ) -> tuple[nn.Sequential, int]:
    """A chain of conv+ReLU layers; returns it and its output width."""
    strides = strides or (1,) * len(widths)
    layers = []
    for width, stride in zip(widths, strides):
        layers.append(conv(in_ch, width, stride))
        in_ch = width
    return nn.Sequential(*layers), in_ch


def pad_to_multiple(x: torch.Tensor, multiple: int) -> tuple[torch.Tensor, tuple[int, int]]:
    """Pad H and W up to a multiple (reflect where possible); return the original size.

    The networks own this so that any image size comes back unchanged and
    callers never have to know the model's stride.
    """
    h, w = x.shape[-2:]
    ph, pw = -h % multiple, -w % multiple
    if ph or pw:
        mode = "reflect" if ph < h and pw < w else "replicate"
        shape = x.shape
        flat = x.reshape(-1, *shape[-3:])
        flat = F.pad(flat, (0, pw, 0, ph), mode=mode)
        x = flat.reshape(*shape[:-2], h + ph, w + pw)
    return x, (h, w)


def split_views(x: torch.Tensor, views: int = 3) -> torch.Tensor:
    """(B * views, ...) -> (B, views, ...). Not ``unflatten``: traced for ONNX, that freezes
    the example's height and width into the graph; a reshape keeps them free."""
    return x.reshape(-1, views, *x.shape[1:])


def crop_to(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    return x[..., : size[0], : size[1]]


def warp(x: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Bilinearly sample ``x`` at ``p + flow(p)``.

    ``flow`` is (B, 2, H, W) in pixels of ``x`` (x offset, then y). With
    flow M^{t,t-1}, ``warp(phi[t-1], M)`` aligns view t-1 onto view t.
    """
    # Coordinates and sizes as tensors made from x, not Python ints from its shape: traced
    # for ONNX, they follow the input's size instead of freezing the example's.
    # (float32 throughout: half precision counts integers exactly only up to 2048)
    xs = torch.ones_like(x[0, 0, 0, :], dtype=torch.float32).cumsum(0) - 1
    ys = torch.ones_like(x[0, 0, :, 0], dtype=torch.float32).cumsum(0) - 1
    w, h = xs[-1:] + 1, ys[-1:] + 1
    px = xs[None, None, :] + flow[:, 0].float()
    py = ys[None, :, None] + flow[:, 1].float()
    # normalise to [-1, 1] with align_corners=False pixel centres
    grid = torch.stack(((2 * px + 1) / w - 1, (2 * py + 1) / h - 1), dim=-1).to(x.dtype)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def init_weights(module: nn.Module, negative_slope: float = 0.0) -> None:
    """He-normal weights and zero biases for every conv, then each part's own rule.

    PyTorch's default init shrinks activations through long ReLU chains (the
    student is ~20 convs deep), leaving channels dead from the first step. A
    submodule with a ``reset_after_init`` method adjusts its own layers after
    this (the decoder's output conv, the channel attention's squeeze).
    """
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.kaiming_normal_(m.weight, a=negative_slope, nonlinearity="leaky_relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    for m in module.modules():
        if hasattr(m, "reset_after_init"):
            m.reset_after_init()
