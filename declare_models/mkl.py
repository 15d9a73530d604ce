"""Multi-view knowledge learning (MKL) module (paper 3.1.2, figure 3).

Decouple net -> two flow nets (t-1 -> t and t+1 -> t) -> fusion net. Predicting
the layers' motions without supervision, through the view synthesis loss on
the decoupled features, is what makes the representation encode reflection
dynamics.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .config import ModelConfig
from .decouple_net import DecoupleNet, LayerHead
from .flow_net import FlowNet
from .fusion_net import FusionNet
from .layers import warp


@dataclass
class MKLOutput:
    """What the MKL module computes; views are ordered (t-1, t, t+1)."""

    representation: torch.Tensor
    phi_t: list[torch.Tensor]
    phi_r: list[torch.Tensor]
    # Flows that map a neighbour onto the centre view, each (B, 2, h, w):
    # keys "T_prev", "R_prev", "T_next", "R_next".
    flows: dict[str, torch.Tensor]
    recon_t: list[torch.Tensor]
    recon_r: list[torch.Tensor]


class MKLModule(nn.Module):
    def __init__(self, cfg: ModelConfig, in_channels: int):
        super().__init__()
        self.decouple_net = DecoupleNet(cfg, in_channels)
        self.head_t = LayerHead(cfg)
        self.head_r = LayerHead(cfg)
        self.flow_net_prev = FlowNet(cfg)
        self.flow_net_next = FlowNet(cfg)
        self.fusion_net = FusionNet(cfg, self.flow_net_prev.out_channels)

    def forward(self, features: torch.Tensor) -> MKLOutput:
        """``features``: (B, 3, C, h, w), the encoder's output for the three views."""
        b, n = features.shape[:2]
        if n != 3:
            raise ValueError(f"the MKL module takes 3 views, got {n}")
        phi_t, phi_r = self.decouple_net(features.flatten(0, 1))
        recon_t = self.head_t(phi_t).unflatten(0, (b, n)).unbind(1)
        recon_r = self.head_r(phi_r).unflatten(0, (b, n)).unbind(1)
        phi_t, phi_r = phi_t.unflatten(0, (b, n)).unbind(1), phi_r.unflatten(0, (b, n)).unbind(1)

        centre = (phi_t[1], phi_r[1])
        t_prev, r_prev, feat_prev = self.flow_net_prev(centre, (phi_t[0], phi_r[0]))
        t_next, r_next, feat_next = self.flow_net_next(centre, (phi_t[2], phi_r[2]))
        warped = (warp(phi_t[0], t_prev), warp(phi_t[2], t_next))
        representation = self.fusion_net((feat_prev, feat_next), phi_t[1], warped)
        flows = {"T_prev": t_prev, "R_prev": r_prev, "T_next": t_next, "R_next": r_next}
        return MKLOutput(representation, list(phi_t), list(phi_r), flows,
                         list(recon_t), list(recon_r))
