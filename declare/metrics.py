"""Image quality against ground truth: PSNR, SSIM and LMSE (paper section 5).

Inputs are H x W x C float arrays in [0, 1]. SSIM is Wang et al.'s, with the
usual 11x11 Gaussian window (sigma 1.5) per channel, averaged. LMSE is Grosse
et al. (2009)'s local scale-invariant MSE: 20x20 windows every 10 pixels, each
window's estimate scaled by its best factor, summed errors over summed energy
of the ground truth, per channel then averaged.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def psnr(estimate: np.ndarray, truth: np.ndarray) -> float:
    mse = float(np.mean((np.asarray(estimate, np.float64) - np.asarray(truth, np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(1.0 / mse)


def _gaussian_window(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(x ** 2) / (2 * sigma ** 2))
    g = g / g.sum()
    return (g[:, None] * g[None, :])[None, None]


def ssim(estimate: np.ndarray, truth: np.ndarray) -> float:
    """Mean SSIM over the valid (unpadded) area of each channel, data range 1."""
    x = torch.as_tensor(np.asarray(estimate, np.float64)).permute(2, 0, 1)[:, None]
    y = torch.as_tensor(np.asarray(truth, np.float64)).permute(2, 0, 1)[:, None]
    w = _gaussian_window()
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    mx, my = F.conv2d(x, w), F.conv2d(y, w)
    sxx = F.conv2d(x * x, w) - mx ** 2
    syy = F.conv2d(y * y, w) - my ** 2
    sxy = F.conv2d(x * y, w) - mx * my
    s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx ** 2 + my ** 2 + c1) * (sxx + syy + c2))
    return float(s.mean())


def lmse(estimate: np.ndarray, truth: np.ndarray, window: int = 20, step: int = 10) -> float:
    """Local scale-invariant MSE (lower is better); 0 for a perfect estimate up to local gain."""
    est = np.asarray(estimate, np.float64)
    gt = np.asarray(truth, np.float64)
    scores = []
    for c in range(gt.shape[2]):
        e = np.lib.stride_tricks.sliding_window_view(est[..., c], (window, window))[::step, ::step]
        t = np.lib.stride_tricks.sliding_window_view(gt[..., c], (window, window))[::step, ::step]
        ee = (e * e).sum(axis=(-1, -2))
        et = (e * t).sum(axis=(-1, -2))
        alpha = np.where(ee > 1e-5, et / np.maximum(ee, 1e-12), 0.0)
        err = ((t - alpha[..., None, None] * e) ** 2).sum(axis=(-1, -2))
        energy = (t * t).sum()
        scores.append(err.sum() / energy if energy > 0 else 0.0)
    return float(np.mean(scores))
