"""Hallucination module (paper 3.2): one image -> a guess of the teacher's representation.

Five 3x3 convs (256, 256, 256, 256, 128 in the paper), stride 2 twice, so its
output matches the distilled representation in size and width; the transfer
and adversarial losses pull it towards the teacher's.
"""

from __future__ import annotations

import torch
from torch import nn

from .config import ModelConfig
from .layers import conv_stack


class HallucinationModule(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        widths = (*cfg.hallucination_channels, cfg.representation_channels)
        self.body, self.out_channels = conv_stack(3, widths, cfg.hallucination_strides)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.body(image)
