"""Image quality against ground truth: PSNR, SSIM and LMSE (paper section 5).

Inputs are H x W x C float arrays in [0, 1]. Two SSIMs, both over the valid
(unpadded) area of each channel, then averaged over channels:

- ``gaussian`` (ours, the default): Wang et al.'s, an 11x11 Gaussian window
  (sigma 1.5), population statistics; scikit-image's ``structural_similarity``
  with ``gaussian_weights=True, use_sample_covariance=False``.
- ``paper``: what the SIRR papers' shared evaluation code computes (ERRNet's
  ``util/index.py``, reused by IBCLN-era work): scikit-image's defaults on
  8-bit images, a 7x7 uniform window with sample covariance (N/(N-1)).

"Reflection removed" is ours: the share of the input's difference from the truth
that a result takes away where that difference is large (the reflection, as
the pair shows it); each image is first brought to the truth by its best gain
and offset per channel, fitted over the half of the photo that the glass
changed least, so neither dimming, nor lifting or lowering the black level (a
uniform veil, which one slider takes away), nor a colour cast moves it: what
is left is the reflection's shape. 4x4 blocks are
averaged, so the pairs' small misalignments do not count. 0 for the input
itself, 100 for the truth, negative for a result that adds difference.

LMSE is Grosse et al. (2009)'s local scale-invariant MSE: 20x20 windows every
10 pixels, each window's estimate scaled by its best factor, summed errors
over summed energy of the ground truth, per channel then averaged.

Scoring must stay cheap next to inference on 8-24 MP photos: everything is
float32 numpy on strips of rows with separable windows, so memory is a few
strips whatever the photo's size (a float64 ``conv2d`` over a whole 8 MP photo
took tens of GB in im2col buffers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

SSIM_KINDS = ("gaussian", "paper")
STRIP_ROWS = 256  # rows of SSIM map per strip: bounds memory, keeps numpy's loops long


def psnr(estimate: np.ndarray, truth: np.ndarray) -> float:
    diff = np.asarray(estimate, np.float32) - np.asarray(truth, np.float32)
    diff *= diff
    mse = float(np.mean(diff, dtype=np.float64))
    return float("inf") if mse == 0 else 10 * np.log10(1.0 / mse)


def psnr_gain_fit(estimate: np.ndarray, truth: np.ndarray) -> float:
    """PSNR after the one gain that brings ``estimate`` closest to ``truth``.

    A global brightness change cannot move it, so a model that only dims a
    photo (reflections add light, so truths are darker) gains nothing here.
    """
    e, t = np.asarray(estimate, np.float32).ravel(), np.asarray(truth, np.float32).ravel()
    energy = float(np.einsum("i,i->", e, e, dtype=np.float64))  # float64 sums, no float64 copies
    gain = float(np.einsum("i,i->", e, t, dtype=np.float64)) / energy if energy > 0 else 1.0
    return psnr(np.asarray(estimate, np.float32) * np.float32(gain), truth)


def reflection_removed(estimate: np.ndarray, truth: np.ndarray, image: np.ndarray,
                       threshold: float = 0.05, block: int = 4) -> float:
    """Percent of the input's tone-fitted difference from the truth that ``estimate``
    removes, over the blocks where that difference exceeds ``threshold`` (mean over
    channels, of 1); NaN where there is none."""
    e, t, x = (_block_means(np.asarray(a, np.float32), block) for a in (estimate, truth, image))
    # The half the glass changed least sets the tone; a fit over the whole photo
    # would bend towards the reflection and absorb part of it.
    glass = np.abs(x - t).mean(-1)
    calm = glass <= np.median(glass)
    before = np.abs(_channel_tone_fit(x, t, calm) - t).mean(-1)
    after = np.abs(_channel_tone_fit(e, t, calm) - t).mean(-1)
    where = before > threshold
    if not where.any():
        return float("nan")
    return float(100 * (1 - after[where].sum(dtype=np.float64) / before[where].sum(dtype=np.float64)))


def _block_means(a: np.ndarray, block: int) -> np.ndarray:
    """Means of block x block tiles (H x W x C); an image smaller than a block, as it is."""
    a = a[..., None] if a.ndim == 2 else a
    h, w = a.shape[0] // block, a.shape[1] // block
    if not h or not w:
        return a
    return a[:h * block, :w * block].reshape(h, block, w, block, a.shape[2]).mean((1, 3))


def _channel_tone_fit(a: np.ndarray, truth: np.ndarray, where: np.ndarray) -> np.ndarray:
    """``a`` times a gain plus an offset per channel, fitted to ``truth`` by least squares
    over ``where`` (H x W) only."""
    x, t = a[where].astype(np.float64), truth[where].astype(np.float64)
    dx = x - x.mean(0)
    gains = (dx * (t - t.mean(0))).sum(0) / np.maximum((dx * dx).sum(0), 1e-12)
    offsets = t.mean(0) - gains * x.mean(0)
    return (a * gains + offsets).astype(np.float32)


def _window(kind: str) -> tuple[np.ndarray, float]:
    """1-D taps of the separable window, and the covariance normalisation."""
    if kind == "gaussian":
        x = np.arange(11, dtype=np.float64) - 5
        g = np.exp(-(x ** 2) / (2 * 1.5 ** 2))
        return (g / g.sum()).astype(np.float32), 1.0
    if kind == "paper":
        return np.full(7, 1 / 7, np.float32), 49 / 48
    raise ValueError(f"unknown SSIM {kind!r}; known: {', '.join(SSIM_KINDS)}")


def _filter_valid(a: np.ndarray, taps: np.ndarray) -> np.ndarray:
    """Separable correlation of the first two axes with symmetric taps, 'valid'
    area only; pairs of mirrored taps share one multiply."""
    k, m = len(taps), len(taps) // 2
    h, w = a.shape[0] - k + 1, a.shape[1] - k + 1
    rows = taps[m] * a[m:m + h]
    for i in range(m):
        pair = a[i:i + h] + a[k - 1 - i:k - 1 - i + h]
        pair *= taps[i]
        rows += pair
    out = taps[m] * rows[:, m:m + w]
    for i in range(m):
        pair = rows[:, i:i + w] + rows[:, k - 1 - i:k - 1 - i + w]
        pair *= taps[i]
        out += pair
    return out


def ssim(estimate: np.ndarray, truth: np.ndarray, kind: str = "gaussian") -> float:
    """Mean SSIM over the valid area of each channel, averaged over channels."""
    taps, cov_norm = _window(kind)
    x, y = np.asarray(estimate, np.float32), np.asarray(truth, np.float32)
    if kind == "paper":  # the papers score 8-bit images
        x, y = np.round(np.clip(x, 0, 1) * 255) / 255, np.round(np.clip(y, 0, 1) * 255) / 255
    if x.ndim == 2:
        x, y = x[..., None], y[..., None]
    k = len(taps)
    rows = x.shape[0] - k + 1
    if rows < 1 or x.shape[1] < k:
        raise ValueError(f"SSIM needs images of at least {k}x{k} pixels")
    total = np.zeros(x.shape[2], np.float64)
    for top in range(0, rows, STRIP_ROWS):
        stop = min(rows, top + STRIP_ROWS) + k - 1
        total += _ssim_strip(x[top:stop], y[top:stop], taps, cov_norm).sum((0, 1), dtype=np.float64)
    return float(np.mean(total / (rows * (x.shape[1] - k + 1))))


def _ssim_strip(x, y, taps, cov_norm, c1=0.01 ** 2, c2=0.03 ** 2) -> np.ndarray:
    mx, my = _filter_valid(x, taps), _filter_valid(y, taps)
    sxx = cov_norm * (_filter_valid(x * x, taps) - mx * mx)
    syy = cov_norm * (_filter_valid(y * y, taps) - my * my)
    sxy = cov_norm * (_filter_valid(x * y, taps) - mx * my)
    return ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))


def lmse(estimate: np.ndarray, truth: np.ndarray, window: int = 20, step: int = 10) -> float:
    """Local scale-invariant MSE (lower is better); 0 for a perfect estimate up to local gain.

    With window = 2 x step, each window is four step x step cells, so window
    sums come from cell sums: one pass over the pixels, no window copies.
    """
    if window != 2 * step:
        raise ValueError("lmse computes windows of twice the step")
    est = np.asarray(estimate, np.float32)
    gt = np.asarray(truth, np.float32)
    if est.ndim == 2:
        est, gt = est[..., None], gt[..., None]
    h, w = (gt.shape[0] // step) * step, (gt.shape[1] // step) * step
    if h < window or w < window:
        return float("nan")
    scores = []
    for c in range(gt.shape[2]):
        e, t = est[:h, :w, c], gt[:h, :w, c]
        ee, et, tt = (_windows(a * b, step) for a, b in ((e, e), (e, t), (t, t)))
        err = np.where(ee > 1e-5, tt - et * et / np.maximum(ee, 1e-12), tt)
        energy = tt.sum()
        scores.append(np.maximum(err, 0).sum() / energy if energy > 0 else 0.0)
    return float(np.mean(scores))


def _windows(a: np.ndarray, step: int) -> np.ndarray:
    """Sums over 2step x 2step windows every step pixels, in float64."""
    h, w = a.shape
    cells = a.reshape(h // step, step, w // step, step).sum((1, 3), dtype=np.float64)
    return cells[:-1, :-1] + cells[1:, :-1] + cells[:-1, 1:] + cells[1:, 1:]


@dataclass(frozen=True)
class Metric:
    """One entry of the table every report reads: bench quality's rows and columns,
    its plots, the published rows, bench tradeoff's gains, training validation."""

    name: str                 # key in rows, JSON and CSV
    heading: str              # table column
    digits: int               # decimals shown
    higher_is_better: bool
    label: str                # plot axis
    compute: Callable[[np.ndarray, np.ndarray, str, np.ndarray | None], float]  # (estimate, truth,
    #                                                        ssim kind, input: None where not at hand)
    needs_input: bool = False  # scored only where the input is given
    published: bool = False   # the paper's Table 1 prints it (with SSIM as the papers compute it)


METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("psnr", "PSNR dB", 2, True, "PSNR (dB), higher is better", lambda e, t, k, x: psnr(e, t)),
    Metric("psnr_fit", "PSNR fit", 2, True, "PSNR after a gain fit (dB), higher is better",
           lambda e, t, k, x: psnr_gain_fit(e, t)),
    Metric("ssim", "SSIM", 4, True, "SSIM, higher is better", lambda e, t, k, x: ssim(e, t, k),
           published=True),
    Metric("lmse", "LMSE", 4, False, "LMSE, lower is better", lambda e, t, k, x: lmse(e, t), published=True),
    Metric("removed", "Removed %", 1, True, "reflection removed (%), higher is better",
           lambda e, t, k, x: reflection_removed(e, t, x), needs_input=True),
)}


def mean_of_scored(values: list[float]) -> float:
    """The mean over the images a metric scored: LMSE of a tiny photo and the reflection
    removed where input and truth agree everywhere are NaN, and left out; NaN if all are."""
    kept = [v for v in values if not np.isnan(v)]
    return float(np.mean(kept)) if kept else float("nan")


def score(estimate: np.ndarray, truth: np.ndarray, names=None, ssim_kind: str = "gaussian",
          image: np.ndarray | None = None) -> dict[str, float]:
    """The named metrics (default: every one in METRICS), in the table's order; those
    that compare with the input need ``image`` and are left out without it."""
    return {m.name: m.compute(estimate, truth, ssim_kind, image) for m in METRICS.values()
            if (names is None or m.name in names) and (image is not None or not m.needs_input)}
