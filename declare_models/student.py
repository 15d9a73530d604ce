"""Student network (paper 3.2): one photo in, transmission out.

Hallucination module and feature encoder side by side, concatenated, through
the context module, then the teacher's decoder architecture. Like the teacher
it predicts a correction added to the input. At inference it works alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .config import ModelConfig
from .context import ContextModule
from .decoder import Decoder
from .encoder import Encoder
from .hallucination import HallucinationModule
from .layers import crop_to, init_weights, pad_to_multiple
from .pretrained_encoder import PretrainedEncoder


@dataclass
class StudentOutput:
    transmission: torch.Tensor
    # Hallucinated representation, at 1/4 of the padded input; compared with
    # the teacher's by the transfer and adversarial losses. None without the
    # hallucination module (an ablation).
    representation: torch.Tensor | None


class Student(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.config = cfg
        width = 0
        if cfg.use_hallucination:
            self.hallucination = HallucinationModule(cfg)
            width += cfg.representation_channels
        if cfg.use_student_encoder:
            self.encoder = Encoder(cfg)
            width += self.encoder.out_channels
        if cfg.pretrained_encoder:
            self.pretrained = PretrainedEncoder(cfg.pretrained_encoder)
            self.narrow = nn.Sequential(nn.Conv2d(self.pretrained.out_channels, cfg.pretrained_channels, 1),
                                        nn.ReLU(inplace=True))
            width += cfg.pretrained_channels
        self.context = ContextModule(cfg, width)
        self.decoder = Decoder(cfg, width)
        init_weights(self)

    def load_pretrained_weights(self) -> None:
        """Before training from scratch: the frozen encoder's ImageNet weights (a no-op without one)."""
        if self.config.pretrained_encoder:
            self.pretrained.load_imagenet_weights()

    def forward(self, image: torch.Tensor) -> StudentOutput:
        """``image``: (B, 3, H, W) in [0, 1]."""
        if image.dim() != 4 or image.shape[1] != 3:
            raise ValueError(f"expected an image of shape (B, 3, H, W), got {tuple(image.shape)}")
        padded, size = pad_to_multiple(image, self.config.size_multiple)
        representation, features = self.features(padded)
        out = self.decoder(self.context(features)) + padded
        return StudentOutput(crop_to(out, size), representation)

    def features(self, padded: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor]:
        """(hallucinated representation, the context module's input) of an image
        already padded to ``size_multiple``."""
        representation = self.hallucination(padded) if self.config.use_hallucination else None
        parts = [representation] if representation is not None else []
        if self.config.use_student_encoder:
            parts.append(self.encoder(padded))
        if self.config.pretrained_encoder:
            parts.append(self.narrow(self.pretrained(padded)))
        return representation, torch.cat(parts, dim=1) if len(parts) > 1 else parts[0]
