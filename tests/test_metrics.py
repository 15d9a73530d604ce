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


def test_paper_ssim_is_the_sirr_papers_evaluation_code():
    """ERRNet's util/index.py: scikit-image's default SSIM per channel of 8-bit images."""
    from skimage.metrics import structural_similarity

    truth = real_array(size=(96, 64))
    rng = np.random.default_rng(1)
    est = np.clip(truth / 255.0 + rng.normal(0, 0.05, truth.shape), 0, 1)
    est8 = np.round(est * 255).astype(np.uint8)
    ref = np.mean([structural_similarity(est8[..., c], truth[..., c], data_range=255) for c in range(3)])
    assert ssim(est, truth / 255.0, "paper") == pytest.approx(ref, abs=1e-5)


def test_ssim_over_strips_equals_one_pass(monkeypatch):
    import declare.metrics as metrics

    rng = np.random.default_rng(2)
    truth = rng.random((70, 50, 3))
    est = np.clip(truth + rng.normal(0, 0.1, truth.shape), 0, 1)
    whole = ssim(est, truth)
    monkeypatch.setattr(metrics, "STRIP_ROWS", 7)
    assert ssim(est, truth) == pytest.approx(whole, abs=1e-6)


def test_scoring_an_8_megapixel_photo_stays_small():
    """The metrics allocate a few strips, not copies of the photo per window."""
    import tracemalloc

    rng = np.random.default_rng(3)
    truth = rng.random((2448, 3264, 3), dtype=np.float32)  # 8 MP, 96 MB
    est = truth * np.float32(0.9)
    for metric in (psnr, ssim, lmse):
        tracemalloc.start()
        metric(est, truth)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < 150 * 2 ** 20, (metric.__name__, peak / 2 ** 20)


def test_lmse_matches_the_window_by_window_definition_on_odd_sizes():
    rng = np.random.default_rng(4)
    truth, est = rng.random((47, 33, 3)), rng.random((47, 33, 3))
    scores = []
    for c in range(3):
        num = den = 0.0
        for i in range(0, 47 - 20 + 1, 10):
            for j in range(0, 33 - 20 + 1, 10):
                t, e = truth[i:i + 20, j:j + 20, c], est[i:i + 20, j:j + 20, c]
                a = (t * e).sum() / (e * e).sum()
                num += ((t - a * e) ** 2).sum()
                den += (t * t).sum()
        scores.append(num / den)
    assert lmse(est, truth) == pytest.approx(np.mean(scores), rel=1e-5)


def test_psnr_gain_fit_ignores_a_global_gain_and_sees_structure():
    from declare.metrics import psnr_gain_fit

    rng = np.random.default_rng(3)
    truth = rng.uniform(0.1, 0.8, (32, 32, 3)).astype(np.float32)
    assert psnr_gain_fit(truth * 0.8, truth) == float("inf") or psnr_gain_fit(truth * 0.8, truth) > 100
    assert psnr(truth * 0.8, truth) < 25
    noisy = truth + rng.normal(0, 0.05, truth.shape).astype(np.float32)
    assert psnr_gain_fit(noisy * 0.9, truth) == pytest.approx(psnr_gain_fit(noisy, truth), abs=0.01)
    assert psnr_gain_fit(noisy, truth) < psnr_gain_fit(truth * 0.7, truth)


def test_reflection_removed_counts_the_reflection_not_brightness_or_colour():
    from declare.metrics import reflection_removed, score

    rng = np.random.default_rng(4)
    truth = rng.uniform(0.1, 0.6, (64, 64, 3)).astype(np.float32)
    reflection = np.zeros_like(truth)
    reflection[16:48, 16:48] = 0.3  # a bright patch over the scene
    image = truth + reflection
    assert reflection_removed(image, truth, image) == pytest.approx(0.0, abs=1e-6)
    assert reflection_removed(truth, truth, image) == pytest.approx(100.0)
    half = truth + 0.5 * reflection
    assert reflection_removed(half, truth, image) == pytest.approx(50.0, abs=0.5)
    # neither dimming nor a colour cast of the input removes anything
    assert reflection_removed(image * 0.9, truth, image) == pytest.approx(0.0, abs=1e-4)
    assert reflection_removed(image * np.float32([1.0, 0.9, 0.8]), truth, image) == pytest.approx(0.0, abs=1e-4)
    # nor does lowering the black level: a uniform veil taken off is one slider, not the reflection
    assert reflection_removed(image - 0.05, truth, image) == pytest.approx(0.0, abs=1e-4)
    veiled = image + 0.1
    assert reflection_removed(truth + 0.1, truth, veiled) == pytest.approx(100.0)  # the patch is what counts
    assert reflection_removed(truth + 2 * reflection, truth, image) == pytest.approx(-100.0, abs=0.5)  # worse
    assert np.isnan(reflection_removed(truth, truth, truth))  # nothing to remove
    assert "removed" not in score(truth, truth) and score(truth, truth, image=image)["removed"] == pytest.approx(100)
