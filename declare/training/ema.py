"""An exponential moving average of the weights, validated and shipped instead of them.

At a CPU's batch sizes neighbouring checkpoints of one run swung by half a dB on
real pairs; the average of the last few thousand steps does not (issue 22).
Buffers (batch-norm statistics) are copied, not averaged.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class WeightAverage(nn.Module):
    """``self.model`` follows the trained network: w <- decay * w + (1 - decay) * w_trained.

    Early on the decay is lowered to (1 + step) / (10 + step), so the average is not
    dominated by the random initial weights (as in TensorFlow's ExponentialMovingAverage).
    """

    def __init__(self, model: nn.Module, decay: float):
        super().__init__()
        self.model = copy.deepcopy(model).requires_grad_(False).eval()
        self.decay = decay
        self.averaged = {name for name, _ in self.model.named_parameters()}
        self.register_buffer("updates", torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        self.updates += 1
        n = float(self.updates)
        decay = min(self.decay, (1 + n) / (10 + n))
        mine, theirs = self.model.state_dict(), model.state_dict()
        for key, value in mine.items():
            if key in self.averaged:
                value.lerp_(theirs[key].detach(), 1 - decay)
            else:
                value.copy_(theirs[key])

    def train(self, mode: bool = True) -> "WeightAverage":
        return super().train(False)
