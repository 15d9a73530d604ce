"""Fusion net (paper 3.1.2): fuse dynamics and transmission into the representation.

Stage 1 reads both flow nets' features with the centre view's Phi_T (the
paper's 640-kernel layer, then 128, 128). Stage 2 adds Phi_T of views t-1 and
t+1 warped onto view t (the paper's 384 = 3 x 128 input) and outputs the
distilled representation the student learns to hallucinate.
"""

from __future__ import annotations

import torch
from torch import nn

from .config import ModelConfig
from .layers import conv, conv_stack


class FusionNet(nn.Module):
    """Without the flow net (an ablation), stage 1 reads the three views' Phi_T instead."""

    def __init__(self, cfg: ModelConfig, flow_channels: int, with_flow: bool = True):
        super().__init__()
        in1 = (2 * flow_channels if with_flow else 2 * cfg.phi_channels) + cfg.phi_channels
        self.stage1, width = conv_stack(in1, cfg.fusion_stage1_channels)
        stage2, width2 = conv_stack(width + 2 * cfg.phi_channels, cfg.fusion_stage2_channels)
        self.stage2 = nn.Sequential(*stage2, conv(width2, cfg.representation_channels))

    def forward(self, flow_features: tuple[torch.Tensor, ...], phi_t_centre: torch.Tensor,
                phi_t_warped: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        first = flow_features or phi_t_warped
        x = self.stage1(torch.cat((*first, phi_t_centre), dim=1))
        return self.stage2(torch.cat((x, *phi_t_warped), dim=1))
