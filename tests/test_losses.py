"""Loss values on hand-made tensors, and gradients through the full objectives."""

import pytest
import torch
from safetensors.torch import save_file

from declare_models import PatchDiscriminator, Student, Teacher, get_config
from declare_models import losses
from declare_models.layers import warp

pytestmark = pytest.mark.slow  # training, editors, networks: the full suite's (pytest -m 'not slow' skips them)

TINY = get_config("tiny")


def test_reconstruction_loss_by_hand():
    pred = torch.tensor([[[[0.0, 1.0], [2.0, 3.0]]]])
    target = torch.zeros_like(pred)
    # pixels: mean |x| = 1.5; x-gradients (1, 1) vs 0 -> 1; y-gradients (2, 2) -> 2
    assert losses.reconstruction_loss(pred, target).item() == pytest.approx(4.5)
    assert losses.reconstruction_loss(pred, pred).item() == 0.0
    # a constant offset changes pixels but not gradients
    assert losses.reconstruction_loss(pred + 0.5, pred).item() == pytest.approx(0.5)


def test_warp_with_integer_flow_is_a_shift():
    x = torch.arange(48.0).view(1, 1, 6, 8)
    flow = torch.zeros(1, 2, 6, 8)
    flow[:, 0] = 2  # sample two pixels to the right
    out = warp(x, flow)
    assert torch.allclose(out[..., :, :6], x[..., :, 2:], atol=1e-4)
    assert torch.allclose(warp(x, torch.zeros(1, 2, 6, 8)), x, atol=1e-4)
    flow[:, 0], flow[:, 1] = 0.5, 1  # half a pixel right, one down
    assert warp(x, flow)[0, 0, 0, 0].item() == pytest.approx((x[0, 0, 1, 0] + x[0, 0, 1, 1]).item() / 2, abs=1e-4)


def test_view_synthesis_loss_is_zero_for_the_true_motion():
    out = Teacher(TINY)(torch.rand(1, 3, 3, 32, 32))
    mkl = out.mkl
    base = torch.rand(1, TINY.phi_channels, 8, 12)
    shifted = torch.roll(base, shifts=-1, dims=-1)  # neighbour content one pixel left
    mkl.phi_t = mkl.phi_r = [shifted, base[..., :, :], shifted]
    right = torch.zeros(1, 2, 8, 12)
    right[:, 0] = -1
    mkl.flows = {k: right for k in mkl.flows}
    exact = losses.view_synthesis_loss(mkl)
    mkl.flows = {k: torch.zeros_like(right) for k in mkl.flows}
    wrong = losses.view_synthesis_loss(mkl)
    # border column differs (sampling clamps), everything else aligns exactly
    assert exact.item() < 0.2 * wrong.item()


def test_feature_decoupling_uses_the_views_that_have_ground_truth():
    out = Teacher(TINY)(torch.rand(2, 3, 3, 30, 22))
    t = torch.rand(2, 3, 3, 30, 22)
    every, none = torch.ones(2, 3, dtype=torch.bool), torch.zeros(2, 3, dtype=torch.bool)
    centre = none.clone()
    centre[:, 1] = True
    full = losses.feature_decoupling_loss(out.mkl, t, t, every, every)
    only_centre_t = losses.feature_decoupling_loss(out.mkl, t, t, centre, none)
    assert full.item() > only_centre_t.item() > 0
    one_row = none.clone()
    one_row[0, 1] = True
    expected = losses.reconstruction_loss(
        out.mkl.recon_t[1][:1], torch.nn.functional.adaptive_avg_pool2d(t[:1, 1], (15, 11)))
    assert losses.feature_decoupling_loss(out.mkl, t, t, one_row, none).item() == pytest.approx(expected.item())
    with pytest.raises(ValueError, match="at least one"):
        losses.feature_decoupling_loss(out.mkl, t, t, none, none)


def test_lsgan_and_transfer_by_hand():
    ones, zeros = torch.ones(2, 1, 3, 3), torch.zeros(2, 1, 3, 3)
    assert losses.generator_loss(ones).item() == 0
    assert losses.generator_loss(zeros).item() == 1
    assert losses.discriminator_loss(real_scores=ones, fake_scores=zeros).item() == 0
    assert losses.discriminator_loss(real_scores=zeros, fake_scores=ones).item() == 2
    assert losses.transfer_loss(ones, zeros).item() == 1


def test_perceptual_loss_is_disabled_without_weights_and_says_so():
    loss = losses.PerceptualLoss()
    assert not loss.enabled
    assert "disabled" in loss.reason
    with pytest.raises(RuntimeError, match="disabled"):
        loss(torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32))


@pytest.fixture(scope="module")
def vgg_file(tmp_path_factory):
    """A VGG-19 state dict as a user would have it (random values: no download here)."""
    torch.manual_seed(1)
    path = tmp_path_factory.mktemp("vgg") / "vgg19.safetensors"
    feats = losses.vgg19_conv5_3()
    save_file({f"features.{k}": v for k, v in feats.state_dict().items()}, str(path))
    return path


def test_perceptual_loss_loads_local_weights(vgg_file, tmp_path):
    loss = losses.PerceptualLoss(vgg_file)
    assert loss.enabled and str(vgg_file) in loss.reason
    x = torch.rand(1, 3, 32, 32)
    assert loss(x, x).item() == 0
    assert loss(x, torch.rand(1, 3, 32, 32)).item() > 0
    # the same weights as a torchvision-style .pth state dict
    pth = tmp_path / "vgg19.pth"
    torch.save({f"features.{k}": v for k, v in loss.features.state_dict().items()}, pth)
    assert losses.PerceptualLoss(pth)(x, torch.zeros_like(x)).item() > 0
    with pytest.raises(FileNotFoundError):
        losses.PerceptualLoss(tmp_path / "missing.pth")


def _all_have_gradients(module):
    missing = [n for n, p in module.named_parameters()
               if p.grad is None or not torch.any(p.grad != 0)]
    assert not missing, f"no gradient reached: {missing}"


def _sequence(b=2, h=48, w=40):
    t = [torch.rand(b, 3, h, w) for _ in range(3)]
    r = [0.5 * torch.rand(b, 3, h, w) for _ in range(3)]
    frames = torch.stack([(ti + ri).clamp(0, 1) for ti, ri in zip(t, r)], dim=1)
    return frames, t, r


def test_gradients_reach_every_teacher_parameter_under_its_full_objective(vgg_file):
    teacher, perceptual = Teacher(TINY), losses.PerceptualLoss(vgg_file)
    frames, t, r = _sequence()
    out = teacher(frames)
    valid = torch.ones(2, 3, dtype=torch.bool)
    total = (losses.reconstruction_loss(out.transmission, t[1])
             + perceptual(out.transmission, t[1])
             + losses.feature_decoupling_loss(out.mkl, torch.stack(t, 1), torch.stack(r, 1), valid, valid)
             + 0.1 * losses.view_synthesis_loss(out.mkl))
    total.backward()
    _all_have_gradients(teacher)
    assert all(p.grad is None for p in perceptual.parameters())


def test_gradients_reach_every_student_and_discriminator_parameter(vgg_file):
    teacher, student = Teacher(TINY).eval(), Student(TINY)
    disc, perceptual = PatchDiscriminator(TINY), losses.PerceptualLoss(vgg_file)
    frames, t, _ = _sequence()
    with torch.no_grad():
        real = teacher(frames).representation
    out = student(frames[:, 1])
    total = (losses.reconstruction_loss(out.transmission, t[1])
             + perceptual(out.transmission, t[1])
             + losses.generator_loss(disc(out.representation))
             + losses.transfer_loss(out.representation, real))
    total.backward()
    _all_have_gradients(student)
    disc.zero_grad()
    losses.discriminator_loss(disc(real), disc(out.representation.detach())).backward()
    _all_have_gradients(disc)


def test_shift_tolerant_loss_forgives_small_misalignment_only():
    from declare_models.losses import reconstruction_loss, shift_tolerant_reconstruction_loss

    torch.manual_seed(0)
    scene = torch.rand(2, 3, 40, 40)
    truth, shifted = scene[..., 4:36, 4:36], scene[..., 5:37, 6:38]  # the pair is off by (1, 2) px
    tolerant = shift_tolerant_reconstruction_loss(shifted, truth, 2)
    assert tolerant.shape == (2,) and float(tolerant.max()) < 1e-6
    assert float(reconstruction_loss(shifted, truth)) > 0.1
    far = scene[..., 8:40, 8:40]  # 4 px off: not forgiven by 2
    assert float(shift_tolerant_reconstruction_loss(far, truth, 2).min()) > 0.1
    # shift 0 is plain L_R per sample
    assert torch.allclose(shift_tolerant_reconstruction_loss(shifted, truth, 0).mean(),
                          reconstruction_loss(shifted, truth), atol=1e-6)


def test_gain_fit_loss_ignores_exposure_but_not_structure():
    from declare_models.losses import shift_tolerant_reconstruction_loss

    torch.manual_seed(0)
    truth = torch.rand(2, 3, 32, 32) * 0.8 + 0.1
    brighter = truth * 1.15  # the same scene, shot 15% brighter
    assert float(shift_tolerant_reconstruction_loss(brighter, truth, 0).min()) > 0.02
    assert float(shift_tolerant_reconstruction_loss(brighter, truth, 0, fit_gain=True).max()) < 1e-5
    other = torch.rand(2, 3, 32, 32)
    assert float(shift_tolerant_reconstruction_loss(other, truth, 0, fit_gain=True).min()) > 0.1
    # the factor is a constant: the gradient still pulls the structure towards the truth
    pred = other.clone().requires_grad_()
    shift_tolerant_reconstruction_loss(pred, truth, 1, fit_gain=True).sum().backward()
    assert pred.grad.abs().sum() > 0


def test_exclusion_loss_is_low_when_edges_differ_and_high_when_they_coincide():
    from declare_models.losses import exclusion_loss

    t = torch.zeros(1, 3, 64, 64)
    t[..., :, 20:] = 0.6  # a vertical edge
    r_apart = torch.zeros(1, 3, 64, 64)
    r_apart[..., 40:, :] = 0.3  # a horizontal edge elsewhere
    r_same = 0.5 * t  # the same edge, fainter
    apart, same = float(exclusion_loss(t, r_apart)), float(exclusion_loss(t, r_same))
    assert same > 0.05 and apart < 0.1 * same  # measured: 0.085 against 0.001 (the floor)
    pred = t.clone().requires_grad_()
    exclusion_loss(pred, r_same).backward()
    assert pred.grad.abs().sum() > 0


def test_reflection_area_loss_counts_only_where_the_reflection_is():
    from declare_models.losses import reflection_area_loss

    target = torch.full((1, 3, 8, 8), 0.4)
    image = target.clone()
    image[..., :4, :] += 0.3  # a reflection over the top half
    assert float(reflection_area_loss(image, target, image)) == pytest.approx(0.3 / 2)  # keeping it costs
    assert float(reflection_area_loss(target, target, image)) == 0  # removing it does not
    wrong_elsewhere = target.clone()
    wrong_elsewhere[..., 4:, :] += 0.3  # an error where there is no reflection: plain L_R's business
    assert float(reflection_area_loss(wrong_elsewhere, target, image)) == 0
