"""The real photos models are chosen on (issue 22), in one place for training's
scripts: real89's held-out split, Nature and Kim et al. (never trained on; the
report sets Real20 and Location-aware are named apart), and a model's network
for scoring them.

Which real89 pairs are held out is configs/real89-val.txt, the file ``declare
train --val-pairs`` reads too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

HELD_OUT_LIST = Path("configs/real89-val.txt")
CHOOSING = ("real89-val", "nature20", "kim2020")


def held_out_real89(data: Path, listing: Path = HELD_OUT_LIST) -> list:
    """The real89 pairs ``listing`` holds out of training (declare.data.layouts.Pair)."""
    from declare.data.layouts import find_pairs
    from declare.training.config import TrainConfig

    held_out = TrainConfig(val_pairs=str(listing)).held_out_pairs()
    return [p for p in find_pairs(Path(data) / "real-train/real89") if p.image.name in held_out]


def choosing_pairs(data: Path) -> dict[str, list]:
    """The pairs of each set models are chosen on, by set name (CHOOSING)."""
    from declare.data.layouts import find_pairs

    data = Path(data)
    return {"real89-val": held_out_real89(data), "nature20": find_pairs(data / "real-pairs/nature20"),
            "kim2020": find_pairs(data / "real-pairs/kim2020")}


def selection_sets(data: Path, size: int = 384, also: tuple[str, ...] = ()) -> list:
    """The choosing sets as training's validation loads them, each photo at ``size`` px,
    then the real-pairs folders named in ``also``."""
    from declare.training.validation import load_real_sets

    data = Path(data)
    held_out = frozenset(p.image.name for p in held_out_real89(data))
    sets = load_real_sets([str(data / "real-train/real89")], size, held_out, "-val")[0]
    return sets + load_real_sets([str(data / "real-pairs" / n) for n in ("nature20", "kim2020", *also)], size)[0]


def network(model: str) -> tuple[Callable, bool]:
    """A model's network in PyTorch on the CPU, (1, 3, H, W) to its transmission, and
    whether it keeps each photo's tone after it (ModelConfig.keep_tone)."""
    import torch

    from declare.checkpoint import load_checkpoint
    from declare.weights import resolve

    net, _ = load_checkpoint(resolve(model), torch.device("cpu"))
    net.eval()

    @torch.no_grad()
    def clean(x: torch.Tensor) -> torch.Tensor:
        return net(x).transmission

    return clean, net.config.keep_tone
