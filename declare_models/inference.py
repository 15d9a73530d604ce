"""The student and the teacher as inference graphs: what an engine runs on one tile.

Tiled inference of the student needs the whole photo's channel-attention means
(context.py): :class:`StudentStatistics` returns one tile's means, block by block,
and :class:`StudentWithStatistics` cleans a tile with given means (``use_shared``
1) or with its own (0, the plain student). :class:`TeacherTransmission` is the
teacher's output alone. Inputs come already padded to the model's
``size_multiple`` and at least :func:`min_side` pixels a side (the engine pads),
so nothing in a graph depends on the size of its input but the shapes of its
tensors: the same modules run eagerly in PyTorch and export to ONNX with free
height and width.
"""

from __future__ import annotations

import torch
from torch import nn

from .config import ModelConfig
from .context import ChannelAttention
from .student import Student
from .teacher import Teacher


def attention_blocks(student: Student) -> list[ChannelAttention]:
    return [m for m in student.modules() if isinstance(m, ChannelAttention)]


def min_side(cfg: ModelConfig) -> int:
    """The smallest image side for which the decoder's pyramid pooling uses its own
    kernels (it works at half the image's size); smaller inputs shrink them, which
    an exported graph cannot, so engines pad up to this."""
    return 2 * max(cfg.pyramid_kernels)


class StudentStatistics(nn.Module):
    """Image (1, 3, H, W) -> the channel means each attention block squeezes, (1, C) each."""

    def __init__(self, student: Student):
        super().__init__()
        self.student = student
        self.pools = [block.body[0] for block in attention_blocks(student)]

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, ...]:
        means: list[torch.Tensor] = []
        hooks = [pool.register_forward_hook(lambda _m, _i, out: means.append(out.flatten(1)))
                 for pool in self.pools]
        try:
            self.student.context(self.student.features(image)[1])
        finally:
            for hook in hooks:
                hook.remove()
        return tuple(means)


class StudentWithStatistics(nn.Module):
    """(image, use_shared, *means) -> transmission: the student, its attention blocks using
    the given means (use_shared 1) or the tile's own (0)."""

    def __init__(self, student: Student):
        super().__init__()
        self.student = student
        self.blocks = attention_blocks(student)

    def forward(self, image: torch.Tensor, use_shared: torch.Tensor, *means: torch.Tensor) -> torch.Tensor:
        if len(means) != len(self.blocks):
            raise ValueError(f"expected {len(self.blocks)} statistics, got {len(means)}")
        try:
            for block, mean in zip(self.blocks, means):
                block.shared = (mean, use_shared)
            return self.student(image).transmission
        finally:
            for block in self.blocks:
                block.shared = None


class TeacherTransmission(nn.Module):
    """Views (1, 3, 3, H, W) -> the centre view's transmission."""

    def __init__(self, teacher: Teacher):
        super().__init__()
        self.teacher = teacher

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return self.teacher(frames).transmission
