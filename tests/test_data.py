"""Training data: synthetic sequences (paper 4.2), folder layouts, the mixture."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from declare.data.datasets import load as load_photo
from declare.data.datasets import (DataError, PairFolder, SequenceFolder, SyntheticSequences,
                                   find_pairs, images_in, mixture_order, open_dataset, split_photos)
from declare.data.synthetic import SyntheticConfig, plan_sequence, render
from declare.data.synthetic_config import CEILNET_STYLE
from photos import real_array, shared

pytestmark = pytest.mark.slow  # training, editors, networks: the full suite's (pytest -m 'not slow' skips them)



def make_sequence(t_photo: torch.Tensor, r_photo: torch.Tensor, cfg: SyntheticConfig,
                  gen: torch.Generator) -> dict[str, torch.Tensor]:
    """One sequence from two photos, as the datasets make them: frames, T and R as
    (views, 3, S, S), and the window offsets (views, 2)."""
    plan = plan_sequence(tuple(t_photo.shape[-2:]), tuple(r_photo.shape[-2:]), cfg, gen)
    seq = render(t_photo[None], torch.tensor([t_photo.shape[-2:]]), r_photo[None],
                 torch.tensor([r_photo.shape[-2:]]), [plan], cfg)
    return {**{k: v[0] for k, v in seq.items()},
            "t_offsets": plan.t_windows - plan.t_windows[0], "r_offsets": plan.r_windows - plan.r_windows[0]}

def _texture(seed: int, side: int = 400) -> torch.Tensor:
    """A smooth random texture: every shift changes it, so shifts can be measured."""
    rng = np.random.default_rng(seed)
    noise = torch.from_numpy(rng.random((3, side // 8, side // 8), dtype=np.float32))
    return torch.nn.functional.interpolate(noise[None], size=(side, side), mode="bicubic",
                                           align_corners=False)[0].clamp(0, 1)


def measured_shift(a: torch.Tensor, b: torch.Tensor, patch: int = 64, reach: int = 24) -> np.ndarray:
    """(dy, dx) such that b(y, x) ~ a(y + dy, x + dx): b's central patch found in a
    by exhaustive squared-difference search, the minimum refined by a parabola."""
    a, b = a.mean(0).numpy().astype(np.float64), b.mean(0).numpy().astype(np.float64)
    top = (b.shape[0] - patch) // 2
    template = b[top:top + patch, top:top + patch]
    ssd = np.full((2 * reach + 1, 2 * reach + 1), np.inf)
    for dy in range(-reach, reach + 1):
        for dx in range(-reach, reach + 1):
            y, x = top + dy, top + dx
            if 0 <= y and 0 <= x and y + patch <= a.shape[0] and x + patch <= a.shape[1]:
                ssd[dy + reach, dx + reach] = np.sum((a[y:y + patch, x:x + patch] - template) ** 2)
    iy, ix = np.unravel_index(np.argmin(ssd), ssd.shape)

    def refine(m1, m0, p1):
        denom = m1 - 2 * m0 + p1
        return 0.5 * (m1 - p1) / denom if np.isfinite(denom) and denom > 0 else 0.0

    sy = refine(ssd[iy - 1, ix], ssd[iy, ix], ssd[iy + 1, ix])
    sx = refine(ssd[iy, ix - 1], ssd[iy, ix], ssd[iy, ix + 1])
    return np.array([iy - reach + sy, ix - reach + sx])


@pytest.mark.parametrize("seed", range(6))
def test_synthetic_windows_move_as_the_paper_says(seed):
    """T moves 0-2 px and R 10-20 px per frame in x and y, measured on the pixels."""
    cfg = replace(CEILNET_STYLE, size=128, blur_sigma=(1.0, 1.0))
    gen = torch.Generator().manual_seed(seed)
    seq = make_sequence(_texture(2 * seed), _texture(2 * seed + 1), cfg, gen)
    for k in range(cfg.views - 1):
        t_step = measured_shift(seq["t"][k], seq["t"][k + 1])
        r_step = measured_shift(seq["r"][k], seq["r"][k + 1])
        # the recorded offsets are what the pixels show ...
        np.testing.assert_allclose(t_step, (seq["t_offsets"][k + 1] - seq["t_offsets"][k]).numpy(), atol=0.25)
        np.testing.assert_allclose(r_step, (seq["r_offsets"][k + 1] - seq["r_offsets"][k]).numpy(), atol=0.25)
        # ... and they lie in the paper's ranges
        assert np.all(np.abs(t_step) <= 2 + 0.25), t_step
        assert np.all((np.abs(r_step) >= 10 - 0.25) & (np.abs(r_step) <= 20 + 0.25)), r_step


def test_synthetic_blend_keeps_layers_and_clips():
    cfg = replace(CEILNET_STYLE, size=96)
    t_photo = torch.from_numpy(real_array(size=(300, 200)).copy()).permute(2, 0, 1).float() / 255
    seq = make_sequence(t_photo, _texture(1, 300), cfg, torch.Generator().manual_seed(3))
    assert seq["frames"].shape == seq["t"].shape == seq["r"].shape == (3, 3, 96, 96)
    assert seq["frames"].min() >= 0 and seq["frames"].max() <= 1
    # the blend is T plus the kept reflection layer, up to the final clipping
    np.testing.assert_allclose(seq["frames"], (seq["t"] + seq["r"]).clamp(0, 1), atol=1e-6)
    assert seq["r"].mean() > 0.01  # a visible reflection, not an empty layer


def test_synthetic_sequences_are_deterministic(photo_folder):
    photos = images_in(photo_folder)
    a = SyntheticSequences(photos, 10, crop=64, seed=7)
    b = SyntheticSequences(photos, 10, crop=64, seed=7)
    c = SyntheticSequences(photos, 10, crop=64, seed=8)
    for i in (0, 5):
        for key in ("frames", "t", "r"):
            assert torch.equal(a[i][key], b[i][key])
        assert not torch.equal(a[i]["frames"], c[i]["frames"])
    a.set_epoch(1)
    assert not torch.equal(a[0]["frames"], b[0]["frames"])  # new epoch, new sample
    assert set(a.t_pool).isdisjoint(a.r_pool)


def _save(path: Path, array: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return path


def _image(seed: int, h: int = 80, w: int = 100) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_sequence_folder_layout(tmp_path):
    """ROOT/train/<sequence>/ with three views (name order) and gt.*."""
    root = tmp_path / "seq1k"
    for s in range(3):
        folder = root / "train" / f"seq{s:03d}"
        for v in range(3):
            _save(folder / f"view{v}.png", _image(10 * s + v))
        _save(folder / "gt.png", _image(10 * s + 9))
    (root / "train" / "incomplete").mkdir()
    _save(root / "train" / "incomplete" / "view0.png", _image(99))
    data = open_dataset(root, crop=64, seed=0, augment=False, synthetic_length=1)
    assert isinstance(data, SequenceFolder) and len(data) == 3
    sample = data[1]
    assert sample["frames"].shape == (3, 3, 64, 64)
    top, left = (80 - 64) // 2, (100 - 64) // 2
    expect = torch.from_numpy(_image(19)[top:top + 64, left:left + 64]).permute(2, 0, 1).float() / 255
    assert torch.allclose(sample["t"][1], expect, atol=1e-6)
    first = torch.from_numpy(_image(10)[top:top + 64, left:left + 64]).permute(2, 0, 1).float() / 255
    assert torch.allclose(sample["frames"][0], first, atol=1e-6)
    assert sample["t_valid"].tolist() == [False, True, False] and bool(sample["has_views"])


@pytest.mark.parametrize("layout", ["real20", "ceilnet", "underscore"])
def test_pair_layouts(tmp_path, layout):
    root = tmp_path / layout
    for i in range(4):
        if layout == "real20":
            _save(root / "blended" / f"{i}.jpg", _image(i))
            _save(root / "transmission_layer" / f"{i}.jpg", _image(i + 50))
        elif layout == "ceilnet":
            _save(root / f"{i}-input.png", _image(i))
            _save(root / f"{i}-label1.png", _image(i + 50))
            _save(root / f"{i}-label2.png", _image(i + 90))
        else:
            _save(root / f"{i}_m.png", _image(i))
            _save(root / f"{i}_g.png", _image(i + 50))
    _save(root / ("blended" if layout == "real20" else ".") / "lonely.png", _image(7))  # no partner
    data = open_dataset(root, crop=48, seed=0, augment=True, synthetic_length=1)
    assert isinstance(data, PairFolder) and len(data) == 4
    sample = data[0]
    assert not bool(sample["has_views"])
    assert torch.equal(sample["frames"][0], sample["frames"][1])
    assert bool(sample["r_valid"][1]) == (layout == "ceilnet")
    names = [(p.image.stem, p.truth.stem) for p in data.items]
    assert all(p.replace("-input", "").replace("_m", "") == g.replace("-label1", "").replace("_g", "")
               for p, g in names)


def test_ceilnet_test_set_is_read_as_pairs_with_reflections():
    root = shared("ceilnet-synthetic")
    pairs = find_pairs(root)
    assert len(pairs) == 23 and all(p.reflection is not None for p in pairs)


def test_unusable_folders_say_what_they_expected(tmp_path):
    with pytest.raises(DataError, match="not a folder"):
        open_dataset(tmp_path / "missing", 64, 0, True, 1)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="neither sequences, pairs nor a folder of photos"):
        open_dataset(tmp_path / "empty", 64, 0, True, 1)


def test_photo_folder_becomes_synthetic_sequences(photo_folder):
    data = open_dataset(photo_folder, crop=64, seed=0, augment=True, synthetic_length=5)
    assert isinstance(data, SyntheticSequences) and len(data) == 5
    assert data[0]["t_valid"].all() and data[0]["r_valid"].all()


def test_validation_photos_are_held_out(photo_folder):
    photos = images_in(photo_folder)
    train, val = split_photos(photos, 0.2, seed=0)
    assert len(val) == 2 and set(train).isdisjoint(val) and len(train) + len(val) == len(photos)


def test_mixture_order_follows_weights_and_is_deterministic():
    order = mixture_order([50, 10], [3.0, 1.0], 8000, seed=1, epoch=0)
    first = np.mean([i < 50 for i in order])
    assert abs(first - 0.75) < 0.02
    assert min(order) >= 0 and max(order) < 60
    assert set(i for i in order if i >= 50) == set(range(50, 60))  # the small set is fully used
    assert order == mixture_order([50, 10], [3.0, 1.0], 8000, seed=1, epoch=0)
    assert order != mixture_order([50, 10], [3.0, 1.0], 8000, seed=1, epoch=1)


def sir2_tree(root: Path, size: int = 40) -> dict[str, int]:
    """SIR^2 as distributed: two scene-folder subsets and the Postcard file names.
    Returns how many pairs each subset holds."""
    n = 0

    def triple(folder: Path, name=lambda c: f"{c}.jpg"):
        nonlocal n
        for k, c in enumerate("mgr"):
            _save(folder / name(c), _image(100 + 3 * n + k, size, size))
        n += 1

    for scene in (1, 2):
        for kind in ("Focus", "Thick"):
            triple(root / "SolidObjectDataset" / str(scene) / kind / "3")
    for scene in (1, 2, 3):
        triple(root / "Wildscene" / f"withgt_{scene}")
    for kind in ("Focus", "Thick"):
        for k in (3, 11):
            triple(root / "Postcard Dataset" / kind / "07" / str(k), lambda c, k=k: f"07-2-{c}-{k}.png")
    _save(root / "Postcard Dataset" / "Focus" / "07" / "3" / "07-5-m-3.png", _image(1))  # no g: no pair
    return {"SolidObjectDataset": 4, "Wildscene": 3, "Postcard Dataset": 4}


def test_sir2_as_distributed_is_pairs_with_subsets(tmp_path):
    counts = sir2_tree(tmp_path / "SIR2")
    pairs = find_pairs(tmp_path / "SIR2")
    assert {s: sum(p.subset == s for p in pairs) for s in counts} == counts and len(pairs) == 11
    for p in pairs:
        assert p.image.stem.replace("-m-", "-g-") == p.truth.stem.replace("-m-", "-g-") or \
            (p.image.stem, p.truth.stem) == ("m", "g")
        assert p.reflection is not None and p.image.parent == p.truth.parent == p.reflection.parent
        assert "-r-" in p.reflection.stem or p.reflection.stem == "r"
    postcard = [p for p in pairs if p.subset == "Postcard Dataset"]
    assert {(p.image.name, p.truth.name) for p in postcard} == {
        ("07-2-m-3.png", "07-2-g-3.png"), ("07-2-m-11.png", "07-2-g-11.png")}
    # declare train reads the same layout, as pairs (with reflections), never as sequences
    for root in (tmp_path / "SIR2", tmp_path / "SIR2" / "Wildscene"):
        data = open_dataset(root, crop=32, seed=0, augment=False, synthetic_length=1)
        assert isinstance(data, PairFolder)
        assert bool(data[0]["r_valid"][1])
    assert len(open_dataset(tmp_path / "SIR2" / "Wildscene", 32, 0, False, 1)) == 3


def test_a_folder_of_benchmarks_names_each_as_a_subset(tmp_path):
    for name in ("real20", "nature20"):
        for i in range(2):
            _save(tmp_path / "sets" / name / "blended" / f"{i}.jpg", _image(i))
            _save(tmp_path / "sets" / name / "transmission_layer" / f"{i}.jpg", _image(i + 9))
    pairs = find_pairs(tmp_path / "sets")
    assert [p.subset for p in pairs] == ["nature20"] * 2 + ["real20"] * 2
    assert find_pairs(tmp_path / "sets" / "real20")[0].subset == ""


# --- synthesis that resembles real photos through glass ------------------------------

def _plan(**kw):
    from declare.data.synthetic import Plan

    base = dict(t_windows=torch.zeros(3, 2), r_windows=torch.zeros(3, 2), t_zoom=1.0, r_zoom=1.0,
                clean=False, screen=False, sigma=0.0, gain=1.0, t_scale=torch.ones(3), vignette=None,
                ghost=None, ghost_gain=0.5)
    return Plan(**{**base, **kw})


def _compose(t, r, plan, cfg, ghost=None):
    """compose() on one frame: (3, S, S) in and out."""
    from declare.data.synthetic import compose

    image, layer = compose(t[None, None], r[None, None],
                           (ghost if ghost is not None else torch.zeros_like(r))[None, None], [plan], cfg)
    return image[0, 0], layer[0, 0]


def test_each_blend_is_the_formula_it_names():
    t, r = _texture(1, 32) * 0.5, _texture(2, 32) * 0.4  # sums under 1: no overflow to correct
    cfg = SyntheticConfig(size=32)
    image, layer = _compose(t, r, _plan(), cfg)  # CEILNet: additive
    assert torch.allclose(image, t + r, atol=1e-6) and torch.allclose(layer, r, atol=1e-6)
    image, layer = _compose(t, r, _plan(screen=True), cfg)
    assert torch.allclose(image, t + r - t * r, atol=1e-6) and torch.allclose(image, t + layer, atol=1e-6)
    image, _ = _compose(t, r, _plan(), SyntheticConfig(size=32, linear_light=True))
    assert torch.allclose(image, (t ** 2.2 + r ** 2.2).clamp(0, 1) ** (1 / 2.2), atol=1e-5)
    image, layer = _compose(t, r, _plan(clean=True), cfg)
    assert torch.equal(image, t) and not layer.any()


def test_overflow_is_lowered_per_channel_as_ceilnet_does():
    t, r = torch.full((3, 8, 8), 0.9), torch.full((3, 8, 8), 0.3)
    t[1], r[2] = 0.2, 0.0  # green never overflows, blue has no reflection
    _, layer = _compose(t, r, _plan(), SyntheticConfig(size=8))
    assert torch.allclose(layer[0], (0.3 - 1.3 * 0.2) * torch.ones(8, 8), atol=1e-6)
    assert torch.allclose(layer[1], torch.full((8, 8), 0.3)) and not layer[2].any()


def test_the_glass_dims_and_tints_the_input_not_the_target():
    t = _texture(3, 32)
    scale = torch.tensor([0.8, 0.9, 0.85])
    image, layer = _compose(t, torch.zeros_like(t), _plan(t_scale=scale), SyntheticConfig(size=32))
    assert torch.allclose(image, t * scale.view(3, 1, 1), atol=1e-6) and not layer.any()


def test_vignette_ghost_and_focus_shape_the_reflection():
    from declare.data.synthetic import _vignettes, gaussian_blur

    black, r = torch.zeros(3, 64, 64), _texture(4, 64) * 0.5
    cfg = SyntheticConfig(size=64)
    plan = _plan(vignette=(10.0, 50.0, 30.0))
    mask = _vignettes([plan], 64, "cpu")[0, 0, 0]
    _, layer = _compose(black, r, plan, cfg)
    assert torch.allclose(layer, r * mask, atol=1e-6) and mask[10, 50] == 1 and mask[63, 0] < 0.2
    ghost = torch.roll(r, 7, dims=2)
    _, layer = _compose(black, r, _plan(ghost=torch.tensor([0.0, 7.0]), ghost_gain=0.5), cfg, ghost)
    assert torch.allclose(layer, (r + 0.5 * ghost) / 1.5, atol=1e-6)
    _, sharp = _compose(black, r, _plan(sigma=0.0), cfg)
    _, soft = _compose(black, r, _plan(sigma=3.0), cfg)
    assert torch.allclose(sharp, r) and torch.allclose(soft, gaussian_blur(r, 3.0), atol=1e-6)


def test_each_part_shows_up_at_its_rate_and_leaves_the_motion_alone():
    from declare.data.synthetic import plan_sequence

    recipe = SyntheticConfig(size=32, clean_share=0.2, screen_share=0.5, sharp_share=0.3, ghost_share=0.4,
                             r_gain=(0.05, 1.0), t_gain=(0.8, 1.0), t_tint=0.1, vignette=True)
    plans = [plan_sequence((100, 100), (100, 100), recipe, torch.Generator().manual_seed(i)) for i in range(2000)]
    for share, seen in ((0.2, [p.clean for p in plans]), (0.5, [p.screen for p in plans]),
                        (0.3, [p.sigma == 0 for p in plans]), (0.4, [p.ghost is not None for p in plans])):
        assert abs(np.mean(seen) - share) < 0.04
    assert min(p.gain for p in plans) < 0.1 and max(p.gain for p in plans) > 0.95
    scales = torch.stack([p.t_scale for p in plans])
    assert scales.min() >= 0.8 * 0.9 - 1e-6 and scales.max() <= 1.0
    assert all(p.vignette is not None for p in plans[:5])
    plain = SyntheticConfig(size=64)
    a = make_sequence(_texture(5), _texture(6), plain, torch.Generator().manual_seed(1))
    b = make_sequence(_texture(5), _texture(6), replace(recipe, size=64), torch.Generator().manual_seed(1))
    assert torch.equal(a["t_offsets"], b["t_offsets"]) and torch.equal(a["r_offsets"], b["r_offsets"])
    assert torch.equal(a["t"], b["t"])  # the target scene is the same; only the blend differs


def test_a_batch_renders_as_its_samples_do_one_by_one(photo_folder):
    """The batched path (on the training device) and the per-sample path agree."""
    from declare.data.synthetic import render

    photos = images_in(photo_folder)
    recipe = SyntheticConfig(clean_share=0.2, screen_share=0.3, sharp_share=0.3, ghost_share=0.5,
                             r_gain=(0.05, 1.0), t_gain=(0.8, 1.0), t_tint=0.1, vignette=True, linear_light=True)
    data = SyntheticSequences(photos, 6, crop=48, seed=2, synthetic=recipe)
    one_by_one = [data[i] for i in range(6)]
    drawn = [data.plan(i) for i in range(6)]
    t_imgs = [load_photo(data.t_pool[t]) for t, _, _ in drawn]
    r_imgs = [load_photo(data.r_pool[r]) for _, r, _ in drawn]
    pad = lambda imgs: torch.stack([torch.nn.functional.pad(x, (0, 160 - x.shape[2], 0, 160 - x.shape[1]))
                                    for x in imgs])
    sizes = lambda imgs: torch.tensor([x.shape[-2:] for x in imgs])
    batch = render(pad(t_imgs), sizes(t_imgs), pad(r_imgs), sizes(r_imgs), [p for _, _, p in drawn], data.config)
    for k in range(6):
        for key in ("frames", "t", "r"):
            assert torch.allclose(batch[key][k], one_by_one[k][key], atol=1e-5), (k, key)


def test_motion_goes_every_way():
    """Each axis's direction is random per sequence: a camera moves left as often as right."""
    from declare.data.synthetic import window_path

    signs = torch.stack([window_path(torch.Generator().manual_seed(i), 3, (10.0, 20.0))[1].sign()
                         for i in range(200)])
    for axis in range(2):
        share = float((signs[:, axis] > 0).float().mean())
        assert 0.35 < share < 0.65, (axis, share)


def test_pair_crops_take_a_scale_a_flip_and_one_exposure_for_both(tmp_path):
    from declare.data.datasets import PairFolder

    rng = np.random.default_rng(0)
    (tmp_path / "blended").mkdir()
    (tmp_path / "transmission_layer").mkdir()
    truth = rng.integers(20, 200, (300, 400, 3), dtype=np.uint8)
    Image.fromarray(truth).save(tmp_path / "transmission_layer" / "0.png")
    Image.fromarray(truth).save(tmp_path / "blended" / "0.png")  # input == truth: any augmentation keeps it so
    data = PairFolder(tmp_path, crop=64, seed=1)
    first, again = data[0], data[0]
    assert first["frames"].shape == (3, 3, 64, 64)
    assert torch.equal(first["frames"], again["frames"])  # (seed, epoch, index) decides everything
    assert torch.allclose(first["frames"][1], first["t"][1])
    means = []
    for epoch in range(12):
        data.set_epoch(epoch)
        means.append(float(data[0]["t"][1].mean()))
    assert np.std(means) > 0.01  # exposure and scale vary by epoch
    held = PairFolder(tmp_path, crop=64, exclude=frozenset({"9.png"}))
    assert len(held) == 1
    with pytest.raises(DataError):
        PairFolder(tmp_path, crop=64, exclude=frozenset({"0.png"}))


def test_a_pairs_reflection_layer_is_what_the_glass_added(tmp_path):
    from declare.data.real_reflections import reflection_layer

    truth = torch.from_numpy(real_array("glass-1.jpg", size=(96, 72)).astype(np.float32) / 255).permute(2, 0, 1)
    veil = torch.zeros_like(truth)
    veil[:, 20:50, 30:70] = 0.3  # a reflection over part of the scene
    image = (0.85 * truth + veil).clamp(0, 1)
    layer = reflection_layer(image, truth)
    inside, outside = layer[:, 25:45, 35:65], torch.cat([layer[:, :15], layer[:, 55:]], 1)
    assert float(inside.mean()) == pytest.approx(0.3, abs=0.03)  # the glass's dimming is not reflection
    assert float(outside.mean()) < 0.01


def test_real_reflection_samples_lay_a_layer_over_another_photo(photo_folder, tmp_path):
    from declare.data.layouts import images_in
    from declare.data.real_reflections import RealReflections

    pairs = tmp_path / "pairs"
    for i in range(2):
        truth = real_array(f"glass-{i + 1}.jpg", size=(120, 90))
        image = np.clip(truth.astype(np.float32) * 0.9 + 60, 0, 255).astype(np.uint8)
        for folder, a in (("blended", image), ("transmission_layer", truth)):
            (pairs / folder).mkdir(parents=True, exist_ok=True)
            Image.fromarray(a).save(pairs / folder / f"{i}.png")
    data = RealReflections(images_in(photo_folder), find_pairs(pairs), length=10, crop=48, seed=3)
    a, b = data[4], data[4]
    assert all(torch.equal(a[k], b[k]) for k in a)  # every draw derives from (seed, epoch, index)
    image, t, r = a["frames"][1], a["t"][1], a["r"][1]
    assert image.shape == (3, 48, 48) and bool(a["t_valid"][1]) and not bool(a["has_views"])
    assert float(r.mean()) > 0.05  # a reflection is there ...
    assert torch.allclose(image, (t + r).clamp(0, 1), atol=1e-6)  # ... over the target itself, undimmed:
    assert float(r.min()) >= 0  # a composite teaches removal, never a change of level
    other = data[5]["t"][1]
    assert not torch.equal(other, t)  # another draw, another scene


def _one_pair(root, image, truth):
    """A pair folder holding one pair, found."""
    for folder, a in (("blended", image), ("transmission_layer", truth)):
        (root / folder).mkdir(parents=True)
        Image.fromarray(a).save(root / folder / "0.png")
    return find_pairs(root)


def test_real_reflection_clean_share_leaves_photos_untouched(photo_folder, tmp_path):
    from declare.data.layouts import images_in
    from declare.data.real_reflections import RealReflections

    truth = real_array("glass-1.jpg", size=(120, 90))
    image = np.clip(truth.astype(np.float32) * 0.9 + 60, 0, 255).astype(np.uint8)
    photos, found = images_in(photo_folder), _one_pair(tmp_path / "pairs", image, truth)
    veiled = RealReflections(photos, found, length=40, crop=32, seed=1)
    mixed = RealReflections(photos, found, length=40, crop=32, seed=1, clean_share=0.5)
    clean = [i for i in range(40) if torch.equal(mixed[i]["frames"][1], mixed[i]["t"][1])]
    assert 8 <= len(clean) <= 32  # about half: the input is the target, nothing to remove
    assert all(float(mixed[i]["r"][1].abs().max()) == 0 for i in clean)
    assert not any(torch.equal(veiled[i]["frames"][1], veiled[i]["t"][1]) for i in range(40))
    kept = [i for i in range(40) if i not in clean]
    assert all(torch.equal(mixed[i]["frames"][1], veiled[i]["frames"][1]) for i in kept)  # same draws otherwise


def test_recoloured_layers_keep_their_shape_and_mean_and_change_their_tint(photo_folder, tmp_path):
    from declare.data.layouts import images_in
    from declare.data.real_reflections import RealReflections, recolour

    layer = torch.stack([torch.full((8, 8), 0.3), torch.full((8, 8), 0.1), torch.zeros(8, 8)])
    layer[:, 2:4, 2:4] *= 2  # a brighter patch in every channel
    gen = torch.Generator().manual_seed(0)
    tints = [recolour(layer, gen) for _ in range(12)]
    for t in tints:
        assert float(t.mean()) == pytest.approx(float(layer.mean()), rel=1e-5)
        assert float(t.min()) >= 0 and sorted(float(c.max()) > 0 for c in t) == [False, True, True]
        assert torch.allclose(t[:, 2, 2], 2 * t[:, 0, 0])  # the patch stands out as before
    assert len({tuple(round(float(c), 5) for c in t[:, 0, 0]) for t in tints}) == 12  # each its own tint
    assert len({int(t[:, 0, 0].argmin()) for t in tints}) == 3  # the dark channel moves

    truth = real_array("glass-1.jpg", size=(120, 90))
    image = truth.astype(np.float32) * 0.9
    image[..., 0] += 60  # a red reflection
    image = np.clip(image, 0, 255).astype(np.uint8)
    photos, found = images_in(photo_folder), _one_pair(tmp_path / "pairs", image, truth)
    plain = RealReflections(photos, found, length=30, crop=32, seed=2)
    mixed = RealReflections(photos, found, length=30, crop=32, seed=2, colour=1.0)
    reddest = [int(s["r"][1].mean((1, 2)).argmax()) for s in (mixed[i] for i in range(30))]
    assert all(int(plain[i]["r"][1].mean((1, 2)).argmax()) == 0 for i in range(30))
    assert len(set(reddest)) > 1  # other tints than the shoot's
    for i in range(30):
        s = mixed[i]
        assert torch.allclose(s["frames"][1], (s["t"][1] + s["r"][1]).clamp(0, 1), atol=1e-6)
        assert torch.equal(s["t"][1], plain[i]["t"][1])  # the same scene under it


def test_a_layer_without_its_floor_keeps_its_shape_and_loses_its_veil():
    from declare.data.real_reflections import without_floor

    veil = torch.full((3, 20, 20), 30, dtype=torch.uint8)
    veil[:, 5:10, 5:10] = 200  # a bright reflected lamp on a veil
    shape = without_floor(veil, 0.5)
    assert int(shape[:, 0, 0].max()) == 0 and int(shape[0, 7, 7]) == 170  # the lamp stands out by as much as before
    assert torch.equal(without_floor(veil, 0.0), veil)
    assert int(without_floor(torch.zeros(3, 4, 4, dtype=torch.uint8), 0.5).max()) == 0  # never below 0 (uint8 wrap)


def test_handheld_leftovers_keep_the_reference_and_move_only_the_other_views():
    """Parallax, exposure jitter and noise (what --burst's alignment leaves): the
    middle view's target is the paper recipe's, the others' T moves by at most the
    parallax and is re-exposed by at most the jitter, and noise is on frames only."""
    t_photo, r_photo = _texture(1), _texture(2)
    base = SyntheticConfig(size=96, clean_share=0.0)
    aligned = replace(base, parallax=3.0, exposure_jitter=0.05, noise=0.03)
    plain = make_sequence(t_photo, r_photo, base, torch.Generator().manual_seed(5))
    handheld = make_sequence(t_photo, r_photo, aligned, torch.Generator().manual_seed(5))
    assert torch.equal(plain["t"][1], handheld["t"][1])
    assert torch.equal(plain["r"][1], handheld["r"][1])
    for view in (0, 2):
        assert not torch.equal(plain["t"][view], handheld["t"][view])
        ratio = (handheld["t"][view].mean((1, 2)) / plain["t"][view].mean((1, 2)))
        assert ((ratio - 1).abs() < 0.06).all()
    noise = handheld["frames"][1] - (plain["frames"][1])
    assert 0 < noise.std() <= 0.03 + 1e-6
    shift = measured_shift(plain["t"][0], handheld["t"][0], patch=48, reach=6)
    assert np.abs(shift).max() <= 3.0


def test_handheld_settings_are_checked():
    with pytest.raises(ValueError, match="exposure-jitter"):
        SyntheticConfig(exposure_jitter=1.5)
    with pytest.raises(ValueError, match="parallax"):
        SyntheticConfig(parallax=-1.0)
