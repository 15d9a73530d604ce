"""Teacher network (paper 3.1): three views in, centre transmission out.

Shared encoder -> MKL module -> decoder. The decoder predicts a correction
added to the centre view: a reflection adds light to the scene behind glass,
so the network learns what to take away, and an untrained or small model
starts from the photo itself rather than from grey.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .config import ModelConfig
from .decoder import Decoder
from .encoder import Encoder
from .layers import conv, crop_to, init_weights, pad_to_multiple, split_views
from .mkl import MKLModule, MKLOutput


@dataclass
class TeacherOutput:
    """The transmission plus everything the teacher's losses read.

    ``mkl`` holds features and flows at 1/4 resolution of the padded frames;
    its G_T/G_R reconstructions are cropped to half the input size (rounded up).
    """

    transmission: torch.Tensor
    mkl: MKLOutput

    @property
    def representation(self) -> torch.Tensor:
        return self.mkl.representation


class Teacher(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.config = cfg
        self.encoder = Encoder(cfg)
        if cfg.use_mkl:
            self.mkl = MKLModule(cfg, self.encoder.out_channels)
        else:  # ablation: fuse the three views' features with one conv
            self.fuse = conv(3 * self.encoder.out_channels, cfg.representation_channels)
        self.decoder = Decoder(cfg, cfg.representation_channels)
        init_weights(self)

    def forward(self, frames: torch.Tensor) -> TeacherOutput:
        """``frames``: (B, 3, 3, H, W), views (t-1, t, t+1), values in [0, 1]."""
        if frames.dim() != 5 or frames.shape[1:3] != (3, 3):
            raise ValueError(f"expected frames of shape (B, 3, 3, H, W), got {tuple(frames.shape)}")
        padded, size = pad_to_multiple(frames, self.config.size_multiple)
        features = split_views(self.encoder(padded.flatten(0, 1)))
        if self.config.use_mkl:
            mkl = self.mkl(features)
        else:
            mkl = MKLOutput(self.fuse(features.flatten(1, 2)))
        half = ((size[0] + 1) // 2, (size[1] + 1) // 2)
        mkl.recon_t = [crop_to(r, half) for r in mkl.recon_t]
        mkl.recon_r = [crop_to(r, half) for r in mkl.recon_r]
        out = self.decoder(mkl.representation) + padded[:, 1]
        return TeacherOutput(crop_to(out, size), mkl)
