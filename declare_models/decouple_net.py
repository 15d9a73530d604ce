"""Decouple net (paper 3.1.2): split features into transmission and reflection.

Phi_T and Phi_R are the two halves of the decouple net's output. The heads
G_T and G_R reconstruct T and R from them at twice the feature resolution,
which is what the feature decoupling loss (eq. 1) compares against.
"""

from __future__ import annotations

import torch
from torch import nn

from .config import ModelConfig
from .layers import conv, deconv


class DecoupleNet(nn.Module):
    """A one-level encoder-decoder with a skip connection, split into Phi_T, Phi_R."""

    def __init__(self, cfg: ModelConfig, in_channels: int):
        super().__init__()
        width, self.phi_channels = cfg.decouple_channels, cfg.phi_channels
        self.down = nn.Sequential(conv(in_channels, width, stride=2), conv(width, width))
        self.up = deconv(width, width)
        self.merge = conv(width + in_channels, 2 * cfg.phi_channels)

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        up = self.up(self.down(features))
        out = self.merge(torch.cat((up, features), dim=1))
        phi_t, phi_r = out.split(self.phi_channels, dim=1)
        return phi_t, phi_r


class LayerHead(nn.Module):
    """G_T / G_R: deconv 4x4 + convs + a 3-channel output conv (no ReLU)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        width = cfg.head_channels
        layers = [deconv(cfg.phi_channels, width)]
        layers += [conv(width, width) for _ in range(cfg.head_convs)]
        layers.append(conv(width, 3, relu=False))
        self.body = nn.Sequential(*layers)

    def forward(self, phi: torch.Tensor) -> torch.Tensor:
        return self.body(phi)
