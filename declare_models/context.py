"""Context module (paper 3.2): residual blocks with channel attention.

Each block is two convs giving v', a squeeze-excitation attention vector u
from v', and v + v' * u (as in RCAN and ERRNet). The module fuses the
hallucinated representation with the image features across channels.
"""

from __future__ import annotations

import torch
from torch import nn

from .config import ModelConfig
from .layers import conv


class ChannelAttention(nn.Module):
    """Squeeze-excitation: global average -> bottleneck -> sigmoid weights per channel.

    The squeeze is the one place the student looks at its whole input, so a tile
    of a photo would be weighted by the tile's own means, not the photo's. For
    tiled inference the photo's means are taken first (declare/tiling.py) and then
    handed to every tile through :attr:`shared` (see declare_models/inference.py).
    """

    def __init__(self, channels: int, reduction: int):
        super().__init__()
        hidden = max(1, channels // reduction)
        self.body = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(channels, hidden, 1), nn.ReLU(inplace=True),
            nn.Conv2d(hidden, channels, 1), nn.Sigmoid())
        # (means (1, C), weight): the means used are own + weight * (shared - own), so
        # weight 1 uses the shared means and 0 the input's own; None: the input's own.
        self.shared: tuple[torch.Tensor, torch.Tensor] | None = None

    def reset_after_init(self) -> None:
        """Squeeze weights start non-negative: the pooled channel means are always
        positive (they follow a ReLU), so a unit with negative-summing weights
        would be dead for every input from the first step and never recover."""
        squeeze = self.body[1]
        with torch.no_grad():
            squeeze.weight.abs_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = self.body[0](x)
        if self.shared is not None:
            shared, weight = self.shared
            mean = mean + weight * (shared.to(mean.dtype)[..., None, None] - mean)
        return self.body[1:](mean)


class ResidualAttentionBlock(nn.Module):
    def __init__(self, channels: int, reduction: int):
        super().__init__()
        self.convs = nn.Sequential(conv(channels, channels), conv(channels, channels))
        self.attention = ChannelAttention(channels, reduction)

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        v1 = self.convs(v)
        return v + v1 * self.attention(v1)


class ContextModule(nn.Module):
    def __init__(self, cfg: ModelConfig, channels: int):
        super().__init__()
        self.body = nn.Sequential(*(ResidualAttentionBlock(channels, cfg.attention_reduction)
                                    for _ in range(cfg.context_blocks)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)
