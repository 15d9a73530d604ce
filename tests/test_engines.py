"""Two engines behind one session: ONNX Runtime and PyTorch give the same pixels."""

import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from declare import registry, weights
from declare.checkpoint import load_checkpoint, save_checkpoint
from declare.cli import main
from declare.device import DeviceError, pick_engine
from declare.session import Session, SessionError
from photos import copy_real, real_array

NO_TORCH = ("import sys; sys.modules['torch'] = None; "  # any import of torch now fails
            "from declare.cli import main; sys.argv[0] = 'declare-photo'; main()")


def _psnr(a, b):
    return 10 * np.log10(1 / max(float(np.mean((a - b) ** 2)), 1e-20))


@pytest.fixture(scope="module")
def photo():
    photo = real_array("glass-6.jpg").astype(np.float32) / 255
    return np.kron(photo, np.ones((2, 2, 1), np.float32))  # 1000 x 756: tiled at 512 px


@pytest.mark.parametrize("name", [registry.DEFAULT_MODEL, "small"])
def test_bundled_students_agree_across_engines_whole_and_tiled(name, photo):
    onnx, torch_ = (Session.load(name, "cpu", False, engine=e) for e in ("onnx", "torch"))
    assert (onnx.engine.name, torch_.engine.name) == ("onnx", "torch")
    for tile in (0, 512):  # whole photo; two-pass tiling with the photo's shared statistics
        a, b = onnx.clean(photo, tile, 64), torch_.clean(photo, tile, 64)
        assert np.abs(a - photo).max() > 0.01  # the model changes the photo
        assert _psnr(a, b) >= 50, tile  # measured: 159-161 dB (6e-8 apart)


def test_bundled_teacher_agrees_across_engines(photo):
    frames = [photo[:400, :600], photo[2:402, 1:601], photo[4:404, 2:602]]
    onnx, torch_ = (Session.load(None, "cpu", False, burst=True, engine=e) for e in ("onnx", "torch"))
    for tile in (0, 256):
        assert _psnr(onnx.clean_burst(frames, tile, 64), torch_.clean_burst(frames, tile, 64)) >= 50


def test_odd_and_tiny_photos_come_back_their_own_size(photo):
    onnx = Session.load("small", "cpu", False, engine="onnx")
    torch_ = Session.load("small", "cpu", False, engine="torch")
    for h, w in ((37, 53), (101, 7), (333, 517)):
        a = onnx.clean(photo[:h, :w], 0, 0)
        assert a.shape == (h, w, 3)
        assert _psnr(a, torch_.clean(photo[:h, :w], 0, 0)) >= 50


@pytest.mark.parametrize("name", sorted(registry.MODELS))
def test_registered_graphs_are_intact(name):
    entry = registry.MODELS[name]
    parts = entry.graph_entries()
    assert len(parts) == (2 if entry.arch == "student" else 1)
    for part in parts:
        path = weights.fetch(part, progress=False)
        assert path.stat().st_size == part.size and weights.sha256_of(path) == part.sha256


def test_a_damaged_bundled_graph_is_refused_in_one_line(tmp_path, monkeypatch):
    shipped = tmp_path / "bundled"
    shutil.copytree(weights.PACKAGE_WEIGHTS, shipped)
    graph = shipped / registry.MODELS["small"].graphs[0].file
    data = bytearray(graph.read_bytes())
    data[len(data) // 2] ^= 0xFF
    graph.write_bytes(bytes(data))
    monkeypatch.setattr(weights, "PACKAGE_WEIGHTS", shipped)
    with pytest.raises(SessionError, match="damaged"):
        Session.load("small", "cpu", False, engine="onnx")


def test_a_checkpoint_of_ones_own_runs_on_onnx_once_exported(checkpoints, tmp_path, photo):
    """conftest exports the tiny checkpoints beside themselves, as 'models export' does."""
    path = checkpoints["student"]
    onnx = Session.load(str(path), "cpu", False, engine="onnx")
    assert onnx.engine.name == "onnx"
    torch_ = Session.load(str(path), "cpu", False, engine="torch")
    assert _psnr(onnx.clean(photo, 256, 64), torch_.clean(photo, 256, 64)) >= 50
    # not exported: auto falls back to PyTorch; --engine onnx says how to export
    bare = tmp_path / "bare.safetensors"
    shutil.copy(path, bare)
    assert Session.load(str(bare), "cpu", False).engine.name == "torch"
    with pytest.raises(SessionError, match="models export"):
        Session.load(str(bare), "cpu", False, engine="onnx")


def test_graphs_of_an_older_checkpoint_are_never_run(checkpoints, tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    for f in checkpoints["student"].parent.glob("student.*"):
        shutil.copy(f, folder / f.name)
    model, _ = load_checkpoint(folder / "student.safetensors")
    with torch.no_grad():
        model.decoder.output.bias.add_(0.1)  # trained further: the graphs beside it are stale
    save_checkpoint(folder / "student.safetensors", model)
    with pytest.raises(SessionError, match="another version"):
        Session.load(str(folder / "student.safetensors"), "cpu", False, engine="onnx")
    assert Session.load(str(folder / "student.safetensors"), "cpu", False).engine.name == "torch"


def test_models_export_writes_graphs_that_load(checkpoints, tmp_path):
    base = tmp_path / "out" / "mine"
    result = CliRunner().invoke(main, ["models", "export", str(checkpoints["student"]), "-o", str(base)])
    assert result.exit_code == 0, result.output
    assert "mine.onnx" in result.output and "mine.statistics.onnx" in result.output
    session = Session.load(str(base) + ".onnx", "cpu", False, engine="onnx")
    assert session.engine.kind == "student"


def test_engine_choice():
    assert pick_engine("auto", "cpu") == "onnx"
    assert pick_engine("onnx", "auto") == "onnx"
    assert pick_engine("torch", "cpu") == "torch"
    for device, half in (("cuda", None), ("mps", None), ("auto", True)):
        with pytest.raises(DeviceError, match="--engine torch"):
            pick_engine("onnx", device, half)
    if not torch.cuda.is_available():  # auto picks PyTorch only for a GPU it finds
        assert pick_engine("auto", "auto") == "onnx"


def test_threads_reach_the_engine(monkeypatch, tmp_path):
    onnx = Session.load("small", "cpu", False, engine="onnx", threads=1)
    assert onnx.engine.session.get_session_options().intra_op_num_threads == 1
    seen = []
    import declare.session as session_module

    real = session_module.Session.load.__func__
    monkeypatch.setattr(session_module.Session, "load",
                        classmethod(lambda cls, *a, **k: seen.append(a) or real(cls, *a, **k)))
    src = copy_real(tmp_path)
    monkeypatch.setenv("DECLARE_THREADS", "1")
    assert CliRunner().invoke(main, [str(src), "-o", str(tmp_path / "a.png"), "-q"]).exit_code == 0
    assert CliRunner().invoke(main, [str(src), "-o", str(tmp_path / "b.png"), "-q", "--threads", "2"]).exit_code == 0
    assert [a[-1] for a in seen] == [1, 2]


def test_too_many_threads_are_lowered_to_the_cores_and_a_bad_variable_is_named(monkeypatch, tmp_path):
    import declare.session as session_module
    from declare.device import usable_cores

    seen = []
    real = session_module.Session.load.__func__
    monkeypatch.setattr(session_module.Session, "load",
                        classmethod(lambda cls, *a, **k: seen.append(a) or real(cls, *a, **k)))
    src = copy_real(tmp_path)
    many = CliRunner().invoke(main, [str(src), "-o", str(tmp_path / "a.png"), "-q", "--threads", "1000"])
    assert many.exit_code == 0, many.output
    assert seen[-1][-1] == usable_cores()
    assert f"--threads 1000: this machine runs {usable_cores()} threads at once" in many.stderr
    monkeypatch.setenv("DECLARE_THREADS", "abc")
    bad = CliRunner().invoke(main, [str(src), "-o", str(tmp_path / "b.png")])
    assert bad.exit_code == 2 and not (tmp_path / "b.png").exists()
    lines = bad.stderr.strip().splitlines()
    assert len(lines) == 1 and "DECLARE_THREADS='abc'" in lines[0] and "--threads" not in lines[0]


def _without_torch(args, cwd):
    return subprocess.run([sys.executable, "-c", NO_TORCH, *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


def test_the_photo_path_never_imports_torch(tmp_path):
    src = copy_real(tmp_path)
    result = _without_torch([str(src), "-o", str(tmp_path / "clean.jpg")], tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "clean.jpg").stat().st_size > 1000
    tiled = _without_torch([str(src), "-o", str(tmp_path / "tiled.png"), "--tile", "128"], tmp_path)
    assert tiled.returncode == 0, tiled.stderr
    frames = []
    for i, dx in enumerate((0, 3, 6)):  # the camera moving 3 px a view, so both methods do their work
        frames.append(tmp_path / f"view{i}.png")
        Image.fromarray(real_array(size=(420, 300))[:, dx:dx + 400]).save(frames[-1])
    for method in ("classical", "teacher"):
        out = tmp_path / f"burst-{method}.png"
        burst = _without_torch(["--burst", *map(str, frames), "--burst-method", method, "-o", str(out)], tmp_path)
        assert burst.returncode == 0, burst.stderr
        assert out.is_file() and "views aligned" in burst.stdout  # composed, not handed back


@pytest.mark.parametrize("args, extra", [
    (["train", "student", "--data", "x", "--out", "y"], "train"),
    (["train", "--data", "x", "--out", "y"], "train"),
    (["PHOTO", "--engine", "torch"], "torch"),
    (["PHOTO", "--device", "cuda"], "torch"),
    (["models", "export", "small"], "train"),   # ONNX export needs onnx, which only [train] brings
    (["models", "show", "medium"], "torch"),
    (["presets"], "torch"),
])
def test_what_needs_torch_says_which_extra_in_one_line(tmp_path, args, extra):
    """Every command short of an extra: one line naming it, and one exit status (2) for all."""
    src = copy_real(tmp_path)
    result = _without_torch([str(src) if a == "PHOTO" else a for a in args], tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"pip install 'declare[{extra}]'" in lines[0], result.stderr


def test_an_unknown_model_is_unknown_even_without_torch(tmp_path):
    result = _without_torch(["models", "show", "nosuch"], tmp_path)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1 and "unknown model 'nosuch'" in lines[0], result.stderr


def test_a_model_that_keeps_tone_does_so_on_both_engines_whole_and_tiled(checkpoints, tmp_path, photo):
    """The same weights with keep_tone: on either engine, whole or tiled, the result moves
    from the network's own by one offset per channel, and its median change is gone."""
    import dataclasses

    from declare.export import export_checkpoint

    model, _ = load_checkpoint(checkpoints["student"])
    model.config = dataclasses.replace(model.config, keep_tone=True)
    path = save_checkpoint(tmp_path / "kept.safetensors", model)
    export_checkpoint(path)
    plain = Session.load(str(checkpoints["student"]), "cpu", False, engine="torch")
    for tile in (0, 512):
        alone = plain.clean(photo, tile, 64)
        drift = np.median((photo - alone).reshape(-1, 3), axis=0)
        assert np.abs(drift).max() > 1 / 255  # the network alone changes the tone a little
        inside = ((alone > 0.05) & (alone < 0.95)).all(-1)  # pixels away from the clipping
        for engine in ("onnx", "torch"):
            session = Session.load(str(path), "cpu", False, engine=engine)
            assert session.engine.keep_tone
            kept = session.clean(photo, tile, 64)
            assert np.abs(np.median((photo - kept).reshape(-1, 3), axis=0)).max() < 1e-3
            assert np.allclose((kept - alone)[inside], drift, atol=2e-3)


def test_an_engine_exported_from_memory_leaves_no_temporary_folder(tmp_path, monkeypatch):
    """bench times untrained presets through ONNX Runtime: their graphs go to a temporary
    folder, which must be gone once the engine (both graphs loaded) is made."""
    import tempfile

    from declare.export import exported_engine
    from declare_models import Student, get_config

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    engine = exported_engine(Student(get_config("tiny")).eval())
    assert list(tmp_path.iterdir()) == []
    tile = np.random.default_rng(0).random((1, 3, 64, 64), dtype=np.float32)
    assert engine.run(tile, engine.statistics(tile)).shape == tile.shape
