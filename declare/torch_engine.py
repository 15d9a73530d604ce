"""PyTorch engine: CUDA and MPS, half precision, and any checkpoint not exported yet.

The same inference modules the ONNX graphs are exported from
(declare_models/inference.py), run eagerly, so both engines give the same pixels.
"""

from __future__ import annotations

import numpy as np
import torch

from declare.device import memory_format
from declare_models import Teacher
from declare_models.inference import StudentStatistics, StudentWithStatistics, min_side


class TorchEngine:
    name = "torch"

    def __init__(self, model: torch.nn.Module, device: torch.device, half: bool, threads: int = 0):
        if threads:
            torch.set_num_threads(threads)
        self.model, self.device, self.device_type, self.half = model, device, device.type, half
        self.dtype = torch.float16 if half else torch.float32
        self.precision = "fp16" if half else "fp32"
        self.layout = memory_format(device)
        self.model.to(device=device, dtype=self.dtype, memory_format=self.layout).eval()
        self.kind = "teacher" if isinstance(model, Teacher) else "student"
        self.size_multiple, self.min_side = model.config.size_multiple, min_side(model.config)
        self.keep_tone = model.config.keep_tone
        if self.kind == "student":
            self._statistics, self._shared = StudentStatistics(model), StudentWithStatistics(model)

    def _tensor(self, x: np.ndarray) -> torch.Tensor:
        t = torch.from_numpy(x).to(self.device, self.dtype)
        return t.contiguous(memory_format=self.layout) if t.dim() == 4 else t

    def run(self, x: np.ndarray, means: list[np.ndarray] | None = None) -> np.ndarray:
        with torch.inference_mode():
            if means is None:
                out = self.model(self._tensor(x)).transmission
            else:
                shared = [torch.from_numpy(m).to(self.device) for m in means]
                out = self._shared(self._tensor(x), torch.ones((), device=self.device), *shared)
        return out.float().cpu().numpy()

    def statistics(self, x: np.ndarray) -> list[np.ndarray]:
        with torch.inference_mode():
            return [m.float().cpu().numpy() for m in self._statistics(self._tensor(x))]
