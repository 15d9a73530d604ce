"""Decoder (paper 3.1.3): representation -> 3-channel image at full resolution.

Block 1 is deconv + conv + pyramid pooling (average pools of 4, 8, 16, 32 for
multi-scale context, as in PSPNet); block 2 is deconv + convs; then an output
conv without ReLU. Teacher and student share this architecture.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import ModelConfig
from .layers import conv, deconv


class PyramidPooling(nn.Module):
    """Average-pool at several kernel sizes, reduce, upsample, concatenate to the input.

    Each branch is reduced to a quarter of the width by a linear 1x1 conv (no
    ReLU: few pooled cells would leave a rectified branch dead), so the
    output has twice the input's channels (PSPNet's layout). Kernels larger
    than the feature map shrink to it, so small images work.
    """

    def __init__(self, channels: int, kernels: tuple[int, ...]):
        super().__init__()
        self.kernels = kernels
        branch = max(1, channels // 4)
        self.reduce = nn.ModuleList(
            nn.Conv2d(channels, branch, 1) for _ in kernels)
        self.out_channels = channels + branch * len(kernels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        outs = [x]
        for k, reduce in zip(self.kernels, self.reduce):
            kh, kw = min(k, h), min(k, w)
            pooled = F.avg_pool2d(x, (kh, kw), stride=(kh, kw), ceil_mode=True)
            up = F.interpolate(reduce(pooled), size=(h, w), mode="bilinear", align_corners=False)
            outs.append(up)
        return torch.cat(outs, dim=1)


class Decoder(nn.Module):
    def __init__(self, cfg: ModelConfig, in_channels: int):
        super().__init__()
        w1, w2 = cfg.decoder_channels
        pyramid = PyramidPooling(w1, cfg.pyramid_kernels)
        self.block1 = nn.Sequential(deconv(in_channels, w1), conv(w1, w1), pyramid)
        block2 = [deconv(pyramid.out_channels, w2)]
        block2 += [conv(w2, w2) for _ in range(cfg.decoder_convs)]
        self.block2 = nn.Sequential(*block2)
        self.output = conv(w2, 3, relu=False)

    def reset_after_init(self) -> None:
        """The output is a correction to the photo: start near zero, so an
        untrained network returns the photo rather than noise."""
        nn.init.normal_(self.output.weight, std=1e-3)

    def forward(self, representation: torch.Tensor) -> torch.Tensor:
        return self.output(self.block2(self.block1(representation)))
