"""Multi-view knowledge learning (MKL) module (paper 3.1.2, figure 3).

Decouple net -> two flow nets (t-1 -> t and t+1 -> t) -> fusion net. Predicting
the layers' motions without supervision, through the view synthesis loss on
the decoupled features, is what makes the representation encode reflection
dynamics. The ``use_*`` switches of the config remove one part each, for the
paper's ablations (Table 2); the full model uses all of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from .config import ModelConfig
from .decouple_net import DecoupleNet, LayerHead
from .flow_net import FlowNet
from .fusion_net import FusionNet
from .layers import conv, split_views, warp


@dataclass
class MKLOutput:
    """What the MKL module computes; views are ordered (t-1, t, t+1).

    Parts an ablation removes are left empty (no flows without the flow net, no
    reconstructions without the decouple net), and their losses are skipped.
    """

    representation: torch.Tensor
    phi_t: list[torch.Tensor] = field(default_factory=list)
    phi_r: list[torch.Tensor] = field(default_factory=list)
    # Flows that map a neighbour onto the centre view, each (B, 2, h, w):
    # keys "T_prev", "R_prev", "T_next", "R_next".
    flows: dict[str, torch.Tensor] = field(default_factory=dict)
    recon_t: list[torch.Tensor] = field(default_factory=list)
    recon_r: list[torch.Tensor] = field(default_factory=list)


class MKLModule(nn.Module):
    def __init__(self, cfg: ModelConfig, in_channels: int):
        super().__init__()
        self.cfg = cfg
        phi = cfg.phi_channels
        if cfg.use_decouple_net:
            self.decouple_net = DecoupleNet(cfg, in_channels)
            self.head_t, self.head_r = LayerHead(cfg), LayerHead(cfg)
        else:
            self.shared = conv(in_channels, phi)
        flow_width = 0
        if cfg.use_flow_net:
            self.flow_net_prev, self.flow_net_next = FlowNet(cfg), FlowNet(cfg)
            flow_width = self.flow_net_prev.out_channels
        if cfg.use_fusion_net:
            self.fusion_net = FusionNet(cfg, flow_width, with_flow=cfg.use_flow_net)
        else:
            self.project = nn.Conv2d(3 * phi, cfg.representation_channels, 1)

    def forward(self, features: torch.Tensor) -> MKLOutput:
        """``features``: (B, 3, C, h, w), the encoder's output for the three views."""
        b, n = features.shape[:2]
        if n != 3:
            raise ValueError(f"the MKL module takes 3 views, got {n}")
        out = MKLOutput(representation=features.new_empty(0))
        flat = features.flatten(0, 1)
        if self.cfg.use_decouple_net:
            phi_t, phi_r = self.decouple_net(flat)
            out.recon_t = list(split_views(self.head_t(phi_t), n).unbind(1))
            out.recon_r = list(split_views(self.head_r(phi_r), n).unbind(1))
        else:
            phi_t = phi_r = self.shared(flat)
        out.phi_t = list(split_views(phi_t, n).unbind(1))
        out.phi_r = list(split_views(phi_r, n).unbind(1))

        neighbours, flow_features = (out.phi_t[0], out.phi_t[2]), ()
        if self.cfg.use_flow_net:
            centre = (out.phi_t[1], out.phi_r[1])
            t_prev, r_prev, feat_prev = self.flow_net_prev(centre, (out.phi_t[0], out.phi_r[0]))
            t_next, r_next, feat_next = self.flow_net_next(centre, (out.phi_t[2], out.phi_r[2]))
            out.flows = {"T_prev": t_prev, "R_prev": r_prev, "T_next": t_next, "R_next": r_next}
            neighbours = (warp(out.phi_t[0], t_prev), warp(out.phi_t[2], t_next))
            flow_features = (feat_prev, feat_next)
        if self.cfg.use_fusion_net:
            out.representation = self.fusion_net(flow_features, out.phi_t[1], neighbours)
        else:
            out.representation = self.project(torch.cat((neighbours[0], out.phi_t[1], neighbours[1]), 1))
        return out
