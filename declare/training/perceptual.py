"""Which network the perceptual loss L_P uses: one decision, made once per run.

The one asked for, or (auto) the paper's VGG-19 when its weights are at hand, else
none, loudly. The stand-ins are never chosen for the user: on real pairs neither
trained a better student than no L_P (README).
"""

from __future__ import annotations

import sys

import torch

from declare.training.config import TrainConfig
from declare_models import losses


class PerceptualError(Exception):
    """The perceptual network asked for cannot be had; one line for the user."""


def choose_perceptual(cfg: TrainConfig, device: torch.device, rank: int = 0) -> losses.PerceptualLoss:
    choice, vgg = cfg.perceptual, cfg.vgg_weights or cached_vgg()
    if choice == "auto":
        choice = "vgg19" if vgg else "off"
    try:
        if choice == "off":
            loss = losses.PerceptualLoss()
            loss.reason = "turned off"
        else:
            loss = losses.PerceptualLoss(vgg if choice == "vgg19" else None, network=choice).to(device)
    except (OSError, ValueError, RuntimeError) as exc:
        raise PerceptualError(f"--vgg-weights: {exc}".splitlines()[0]) from None
    if not loss.enabled and cfg.perceptual not in ("auto", "off"):
        raise PerceptualError(f"--perceptual {cfg.perceptual}: {loss.reason}")
    if loss.enabled and rank == 0 and not cfg.quiet:
        print(f"declare train: perceptual loss L_P: {loss.reason}", file=sys.stderr)
    if not loss.enabled and cfg.perceptual == "auto" and rank == 0:
        print("declare train: WARNING: the perceptual loss L_P is OFF: no VGG-19 ImageNet "
              "weights (give --vgg-weights FILE, or place vgg19.pth in the model cache); "
              "--perceptual efficientnet-lite0 or hed use stand-ins (README)", file=sys.stderr)
    return loss


def cached_vgg() -> str | None:
    from declare.download import cache_dir

    for name in ("vgg19.safetensors", "vgg19.pth"):
        path = cache_dir() / name
        if path.is_file():
            return str(path)
    return None
