"""Validation on real photos through glass: whole photos, beside the input itself.

Synthetic validation hid the product's defect (a model that beat its synthetic
inputs made real photos worse), so folders of real pairs given to ``--val-data``
are scored the way users meet them: whole photos (downscaled to ``val_size``
on the longer side, the truth with them), PSNR and SSIM next to those of the
untouched input, and the share of the reflection removed (logged, not scored:
declare.metrics). A set's gain is dB of PSNR after the best per-photo gain
(which a global brightness change cannot move: reflections add light, so
dimming alone scores on plain PSNR) plus 100 x SSIM (0.01 SSIM counts as 1
dB) over the input's; the selection score is the mean of the sets' gains and
their worst, so a model that helps on one source and harms another is not
preferred to one that helps a little everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from declare.data.layouts import find_pairs
from declare.results import keep_tone
from declare.metrics import mean_of_scored, score

SCORED = ("psnr", "psnr_fit", "ssim", "removed")  # by name from declare.metrics.METRICS


@dataclass
class RealSet:
    name: str
    inputs: list[np.ndarray]   # H x W x 3 float32 in [0, 1]
    truths: list[np.ndarray]
    identity: dict[str, float]


def load_real_sets(folders: list[str], size: int, only: frozenset[str] | None = None,
                   suffix: str = "") -> tuple[list[RealSet], list[str]]:
    """The folders that hold real pairs, loaded; and the others, left to the caller.
    ``only``: just the pairs whose input is named there (a held-out split), the set's
    name followed by ``suffix``."""
    sets, others = [], []
    for folder in folders:
        pairs = find_pairs(Path(folder)) if Path(folder).is_dir() else []
        if only is not None:
            pairs = [p for p in pairs if p.image.name in only]
        if not pairs:
            others.append(folder)
            continue
        inputs, truths = [], []
        for pair in pairs:
            x, gt = load_resized(pair.image, size), load_resized(pair.truth, size)
            if x.shape == gt.shape:
                inputs.append(x)
                truths.append(gt)
        identity = _mean_scores(inputs, truths, inputs)
        sets.append(RealSet(Path(folder).resolve().name + suffix, inputs, truths, identity))
    return sets, others


def load_resized(path: Path, size: int) -> np.ndarray:
    """A photo as float32 H x W x 3, its longer side at most ``size`` px."""
    from PIL import Image

    from declare.images import read_photo

    pixels = read_photo(path).pixels
    h, w = pixels.shape[:2]
    scale = min(1.0, size / max(h, w))
    if scale < 1:
        im = Image.fromarray(np.round(pixels * 255).astype(np.uint8))
        im = im.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.LANCZOS)
        pixels = np.asarray(im, np.float32) / 255
    return np.ascontiguousarray(pixels, np.float32)


def _mean_scores(outputs: list[np.ndarray], truths: list[np.ndarray], inputs: list[np.ndarray]
                 ) -> dict[str, float]:
    each = [score(o, t, SCORED, image=x) for o, t, x in zip(outputs, truths, inputs)]
    return {k: mean_of_scored([e[k] for e in each]) for k in SCORED}


@torch.no_grad()
def run_on_array(clean: Callable[[torch.Tensor], torch.Tensor], x: np.ndarray,
                 device: torch.device) -> np.ndarray:
    """One H x W x 3 photo through ``clean`` (a network on (1, 3, H, W) tensors), clipped."""
    t = torch.from_numpy(x).permute(2, 0, 1)[None].to(device)
    return clean(t).float().clamp(0, 1)[0].permute(1, 2, 0).cpu().numpy()


@torch.no_grad()
def score_real(clean: Callable[[torch.Tensor], torch.Tensor], sets: list[RealSet],
               device: torch.device, tone_kept: bool = False) -> dict:
    """Each set's PSNR/SSIM beside the input's, and the selection ``score``; with
    ``tone_kept``, of the results after the tone step of a keep_tone model, as users get them."""
    result, gains = {}, []
    for s in sets:
        outputs = []
        for x in s.inputs:
            out = run_on_array(clean, x, device)
            outputs.append(keep_tone(x, out) if tone_kept else out)
        mine = _mean_scores(outputs, s.truths, s.inputs)
        result[s.name] = {**{k: round(v, 4) for k, v in mine.items()},
                          **{f"input_{k}": round(v, 4) for k, v in s.identity.items()}}
        gains.append(mine["psnr_fit"] - s.identity["psnr_fit"] + 100 * (mine["ssim"] - s.identity["ssim"]))
    result["worst"] = round(float(np.min(gains)), 4)
    result["score"] = round(float(np.mean(gains) + np.min(gains)) / 2, 4)
    return result


class Validator:
    """What a run is scored on: held-out synthetic samples (the stage's own forward, beside
    the input) and whole real photos through glass (as users run the model)."""

    def __init__(self, val_set, real_sets: list[RealSet], batch_size: int, device: torch.device,
                 tone_kept: bool = False):
        self.val_set, self.real_sets, self.batch_size, self.device = val_set, real_sets, batch_size, device
        self.tone_kept = tone_kept  # the model keeps each photo's tone: score what users get

    @torch.no_grad()
    def synthetic(self, forward: Callable[[torch.Tensor], torch.Tensor]) -> dict[str, float]:
        """Mean PSNR/SSIM of the centre transmission ``forward`` gives, and of the input."""
        from torch.utils.data import DataLoader

        scores: dict[str, list[float]] = {"psnr": [], "ssim": [], "input_psnr": []}
        for batch in DataLoader(self.val_set, batch_size=self.batch_size):
            pred = forward(batch["frames"].to(self.device)).float().clamp(0, 1).cpu()
            for k in range(pred.shape[0]):
                p, t = pred[k].permute(1, 2, 0).numpy(), batch["t"][k, 1].permute(1, 2, 0).numpy()
                for name, value in score(p, t, ("psnr", "ssim")).items():
                    scores[name].append(value)
                x = batch["frames"][k, 1].permute(1, 2, 0).numpy()
                scores["input_psnr"].append(score(x, t, ("psnr",))["psnr"])
        return {k: round(float(np.mean(v)), 4) for k, v in scores.items()}

    def real(self, clean: Callable[[torch.Tensor], torch.Tensor]) -> dict:
        return score_real(clean, self.real_sets, self.device, self.tone_kept)
