"""Score models as training selects them (issue 22): real89's validation split, Nature and
Kim et al., whole photos at 384 px, gains over the input in PSNR after a gain fit + 100 x SSIM,
the selection score (mean and worst set, halved), and the share of the reflection removed
(declare.metrics.reflection_removed). Compares a shipped model with a run's.

    python scripts/selection_score.py ../shared/data medium runs/medium-mix/student.safetensors
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from declare.session import Session
from declare.training.config import TrainConfig
from declare.training.validation import load_real_sets, score_real


def main(data: Path, models: list[str], size: int = 384) -> None:
    held_out = TrainConfig(val_pairs="configs/real89-val.txt").held_out_pairs()
    sets = load_real_sets([str(data / "real-train/real89")], size, held_out, "-val")[0]
    sets += load_real_sets([str(data / "real-pairs/nature20"), str(data / "real-pairs/kim2020")], size)[0]
    for spec in models:
        session = Session.load(spec, "cpu", False, engine="torch")  # the network itself, in PyTorch
        net = session.engine.model

        def clean(x: torch.Tensor) -> torch.Tensor:
            with torch.no_grad():
                return net(x).transmission

        result = score_real(clean, sets, torch.device("cpu"))
        gains = "  ".join(f"{name}: {v['psnr'] - v['input_psnr']:+.2f} dB / fit {v['psnr_fit'] - v['input_psnr_fit']:+.2f}"
                          f" / SSIM {v['ssim'] - v['input_ssim']:+.4f} / removed {v['removed']:+.1f}%"
                          for name, v in result.items() if isinstance(v, dict))
        print(f"{spec}: score {result['score']:+.3f} (worst set {result['worst']:+.3f})  {gains}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2:])
