"""Flow net (paper 3.1.2): how T and R move between two adjacent views.

Input is both views' disentangled features [Phi_T, Phi_R] concatenated. The
paper's "two 1-channel motion fields" cannot express 2-D motion, so the output
conv emits 4 channels: a 2-D flow (x, y in feature pixels) for T and one for R
(docs/design.md, "Networks"). The penultimate features carry the reflection dynamics and feed
the fusion net.
"""

from __future__ import annotations

import torch
from torch import nn

from .config import ModelConfig
from .layers import conv, conv_stack


class FlowNet(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        in_ch = 4 * cfg.phi_channels  # (Phi_T, Phi_R) of two views
        self.body, self.out_channels = conv_stack(in_ch, cfg.flow_channels)
        self.flow = conv(self.out_channels, 4, relu=False)

    def forward(self, centre: tuple[torch.Tensor, torch.Tensor],
                other: tuple[torch.Tensor, torch.Tensor]
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Return (flow_T, flow_R, features); flows map ``other`` onto ``centre``."""
        features = self.body(torch.cat((*centre, *other), dim=1))
        flow_t, flow_r = self.flow(features).split(2, dim=1)
        return flow_t, flow_r, features
