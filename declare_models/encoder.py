"""Encoder (paper 3.1.1): image -> features at 1/4 resolution.

The teacher shares one encoder across the three views; the student's feature
encoder has the same architecture.
"""

from __future__ import annotations

import torch
from torch import nn

from .config import ModelConfig
from .layers import conv_stack


class Encoder(nn.Module):
    """One 3x3 conv + ReLU per entry of ``encoder_strides``, all the same width."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        widths = (cfg.encoder_channels,) * len(cfg.encoder_strides)
        self.body, self.out_channels = conv_stack(3, widths, cfg.encoder_strides)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.body(image)
