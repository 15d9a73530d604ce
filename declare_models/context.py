"""Context module (paper 3.2): residual blocks with channel attention.

Each block is two convs giving v', a squeeze-excitation attention vector u
from v', and v + v' * u (as in RCAN and ERRNet). The module fuses the
hallucinated representation with the image features across channels.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
from torch import nn

from .config import ModelConfig
from .layers import conv


class ChannelAttention(nn.Module):
    """Squeeze-excitation: global average -> bottleneck -> sigmoid weights per channel.

    The squeeze is the one place the student looks at its whole input, so a tile
    of a photo would be weighted by the tile's own means, not the photo's. For
    tiled inference the means can be gathered over all tiles first and then
    shared (see :meth:`ContextModule.whole_image_statistics`).
    """

    def __init__(self, channels: int, reduction: int):
        super().__init__()
        hidden = max(1, channels // reduction)
        self.body = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(channels, hidden, 1), nn.ReLU(inplace=True),
            nn.Conv2d(hidden, channels, 1), nn.Sigmoid())
        self.tally: list | None = None          # [sum of means x area, area] while gathering
        self.shared_mean: torch.Tensor | None = None

    def reset_after_init(self) -> None:
        """Squeeze weights start non-negative: the pooled channel means are always
        positive (they follow a ReLU), so a unit with negative-summing weights
        would be dead for every input from the first step and never recover."""
        squeeze = self.body[1]
        with torch.no_grad():
            squeeze.weight.abs_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = self.body[0](x)
        if self.tally is not None:
            area = x.shape[-2] * x.shape[-1]
            self.tally[0] = self.tally[0] + mean.float().sum(0) * area
            self.tally[1] += area * len(x)
        if self.shared_mean is not None:
            mean = self.shared_mean.to(mean.dtype).expand_as(mean)
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

    @contextmanager
    def whole_image_statistics(self, gather: Callable[[], object]) -> Iterator[None]:
        """Run ``gather`` (a pass over every tile of one photo) while each attention
        block sums its channel means by area; inside the ``with`` block every
        forward uses those whole-photo means instead of its own input's, so all
        tiles are weighted as the whole photo would be. Afterwards, as before."""
        blocks = [m for m in self.modules() if isinstance(m, ChannelAttention)]
        try:
            for block in blocks:
                block.tally = [0.0, 0]
            gather()
            for block in blocks:
                total, area = block.tally
                block.tally, block.shared_mean = None, total / area
            yield
        finally:
            for block in blocks:
                block.tally = block.shared_mean = None
