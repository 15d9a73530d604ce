"""Score models as training selects them (issue 22): real89's validation split, Nature and
Kim et al., whole photos at 384 px, gains over the input in PSNR after a gain fit + 100 x SSIM,
the selection score (mean and worst set, halved), and the share of the reflection removed
(declare.metrics.reflection_removed). Compares a shipped model with a run's.

    python scripts/selection_score.py ../shared/data medium runs/medium-mix/student.safetensors
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

import torch

from declare.session import Session
from declare.training.config import TrainConfig
from declare.training.validation import load_real_sets, score_real


def selection_sets(data: Path, size: int = 384, also: tuple[str, ...] = ()) -> list:
    """real89's validation split, Nature and Kim et al. (what training chooses on), then the
    real-pairs folders named in ``also``, each photo at ``size`` px."""
    held_out = TrainConfig(val_pairs="configs/real89-val.txt").held_out_pairs()
    sets = load_real_sets([str(data / "real-train/real89")], size, held_out, "-val")[0]
    names = ("nature20", "kim2020", *also)
    return sets + load_real_sets([str(data / "real-pairs" / n) for n in names], size)[0]


def network(spec: str) -> tuple[Callable[[torch.Tensor], torch.Tensor], bool]:
    """A model's network itself, in PyTorch on the CPU: (1, 3, H, W) to its transmission;
    and whether the model keeps each photo's tone after it (ModelConfig.keep_tone)."""
    net = Session.load(spec, "cpu", False, engine="torch").engine.model

    @torch.no_grad()
    def clean(x: torch.Tensor) -> torch.Tensor:
        return net(x).transmission

    return clean, net.config.keep_tone


def main(data: Path, models: list[str], size: int = 384) -> None:
    sets = selection_sets(data, size)
    for spec in models:
        clean, tone_kept = network(spec)
        result = score_real(clean, sets, torch.device("cpu"), tone_kept)
        gains = "  ".join(f"{name}: {v['psnr'] - v['input_psnr']:+.2f} dB / fit {v['psnr_fit'] - v['input_psnr_fit']:+.2f}"
                          f" / SSIM {v['ssim'] - v['input_ssim']:+.4f} / removed {v['removed']:+.1f}%"
                          for name, v in result.items() if isinstance(v, dict))
        print(f"{spec}: score {result['score']:+.3f} (worst set {result['worst']:+.3f})  {gains}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2:])
