"""PatchGAN discriminator on representations (paper 3.2, eq. 8-9).

Scores overlapping patches of a 128-channel representation as the teacher's
(real) or the student's hallucination (fake); trained with least squares.
LeakyReLU as in PatchGAN, no normalization as everywhere in this model.
"""

from __future__ import annotations

import torch
from torch import nn

from .config import ModelConfig
from .layers import init_weights


class PatchDiscriminator(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        layers: list[nn.Module] = []
        in_ch = cfg.representation_channels
        for i, width in enumerate(cfg.discriminator_channels):
            stride = 2 if i < len(cfg.discriminator_channels) - 1 else 1
            layers += [nn.Conv2d(in_ch, width, 4, stride=stride, padding=1),
                       nn.LeakyReLU(0.2, inplace=True)]
            in_ch = width
        layers.append(nn.Conv2d(in_ch, 1, 4, stride=1, padding=1))
        self.body = nn.Sequential(*layers)
        init_weights(self, negative_slope=0.2)

    def forward(self, representation: torch.Tensor) -> torch.Tensor:
        """Per-patch scores, (B, 1, h', w')."""
        return self.body(representation)
