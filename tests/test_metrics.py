"""Metrics against hand-computed values and scikit-image's SSIM."""

import numpy as np
import pytest

from declare.metrics import lmse, psnr, ssim
from photos import real_array


def test_psnr_by_hand():
    a = np.zeros((4, 4, 3))
    assert psnr(a + 0.1, a) == pytest.approx(20.0)
    assert psnr(a, a) == float("inf")


def test_lmse_by_hand():
    truth = np.zeros((20, 20, 1))
    truth[:10] = 1.0
    assert lmse(truth * 0.5, truth) == pytest.approx(0.0)  # a global gain is forgiven
    est = np.ones((20, 20, 1))
    # one window: alpha = 200/400 = 0.5, error = 200 * 0.25 + 200 * 0.25 = 100, energy 200
    assert lmse(est, truth) == pytest.approx(0.5)
    assert lmse(np.zeros((20, 20, 1)), truth) == pytest.approx(1.0)  # alpha 0: all energy lost


def test_lmse_windows_step_by_ten():
    rng = np.random.default_rng(0)
    truth, est = rng.random((40, 30, 1)), rng.random((40, 30, 1))
    num = den = 0.0
    for i in range(0, 21, 10):
        for j in range(0, 11, 10):
            t, e = truth[i:i + 20, j:j + 20, 0], est[i:i + 20, j:j + 20, 0]
            a = (t * e).sum() / (e * e).sum()
            num += ((t - a * e) ** 2).sum()
            den += (t * t).sum()
    assert lmse(est, truth) == pytest.approx(num / den)


def test_ssim_matches_scikit_image():
    from skimage.metrics import structural_similarity

    truth = real_array(size=(96, 64)) / 255.0
    rng = np.random.default_rng(0)
    for noise in (0.01, 0.1):
        est = np.clip(truth + rng.normal(0, noise, truth.shape), 0, 1)
        ref = structural_similarity(est, truth, channel_axis=2, data_range=1.0, gaussian_weights=True,
                                    sigma=1.5, use_sample_covariance=False)
        assert ssim(est, truth) == pytest.approx(ref, abs=1e-3)
    assert ssim(truth, truth) == pytest.approx(1.0)
