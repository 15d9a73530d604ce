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

from declare.selection import network, selection_sets
from declare.training.validation import score_real


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
