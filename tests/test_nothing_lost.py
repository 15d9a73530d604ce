"""Nothing lost, nothing silently wrong: the defects a new user met, each pinned."""

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from declare.cli import main


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def _photo(path: Path, seed: int = 0, size=(96, 64)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(path)
    return path


@pytest.fixture
def student(checkpoints):
    return checkpoints["student"]


@pytest.fixture
def counted_clean(monkeypatch):
    """How many photos reached the network."""
    from declare import session as session_module

    calls, real = [], session_module.Session.clean

    def clean(self, *args, **kwargs):
        calls.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(session_module.Session, "clean", clean)
    return calls


@pytest.mark.parametrize("as_glob", [False, True])
def test_two_inputs_never_write_one_output(tmp_path, student, monkeypatch, counted_clean, as_glob):
    a, b = _photo(tmp_path / "c1" / "a.png", 1), _photo(tmp_path / "c2" / "a.png", 2)
    _photo(tmp_path / "c1" / "other.png", 3)
    monkeypatch.chdir(tmp_path)
    inputs = ["c*/a.png"] if as_glob else ["c1/a.png", "c2/a.png"]
    result = invoke(*inputs, "c1/other.png", "-o", "cout", "--model", student, "--json")
    assert result.exit_code == 1
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 2 and all("would write the same" in e for e in errors)
    assert "c2/a.png" in errors[0] and "c1/a.png" in errors[1]  # each line names the other input
    assert sorted(p.name for p in (tmp_path / "cout").iterdir()) == ["other.png"]
    assert len(counted_clean) == 1  # refused before any work


def test_the_output_folder_is_never_taken_as_input(tmp_path, student):
    shots = tmp_path / "shots"
    for i in range(2):
        _photo(shots / f"{i}.png", i)
    first = invoke(shots, "-r", "-o", shots / "cleaned", "--model", student)
    assert first.exit_code == 0, first.output
    again = invoke(shots, "-r", "-o", shots / "cleaned", "--skip-existing", "--model", student, "--json")
    assert again.exit_code == 0, again.output
    records = [json.loads(line) for line in again.stdout.splitlines()]
    assert [r["status"] for r in records] == ["skipped", "skipped"]
    assert not (shots / "cleaned" / "cleaned").exists()
    glob_run = invoke(str(shots / "**" / "*.png"), "-r", "-o", shots / "cleaned", "--skip-existing",
                      "--model", student, "--json")
    assert [json.loads(x)["status"] for x in glob_run.stdout.splitlines()] == ["skipped", "skipped"]


def _nan_checkpoint(tmp_path, student) -> Path:
    from safetensors.torch import load_file, save_file
    from safetensors import safe_open

    with safe_open(str(student), "pt") as f:
        meta = f.metadata()
    state = load_file(str(student))
    key = next(k for k in state if k.endswith("weight"))
    state[key] = state[key] * float("nan")
    out = tmp_path / "nan.safetensors"
    save_file(state, str(out), metadata=meta)
    return out


def test_nan_weights_are_refused_and_nothing_is_written(tmp_path, student):
    src = _photo(tmp_path / "p.png")
    good = tmp_path / "p.declare.png"
    assert invoke(src, "--model", student).exit_code == 0
    before = good.read_bytes()
    result = invoke(src, "--model", _nan_checkpoint(tmp_path, student), "--overwrite")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "NaN or Inf" in result.stderr
    assert good.read_bytes() == before  # --overwrite did not replace a good file with a bad one


def test_a_result_with_nan_is_never_written(tmp_path, student, monkeypatch):
    """Weights can be finite and still overflow to NaN: the result itself is checked."""
    from declare import session as session_module

    monkeypatch.setattr(session_module.Session, "clean", lambda self, pixels, *a, **k: pixels * np.nan)
    src = _photo(tmp_path / "p.png")
    result = invoke(src, "--model", student, "-o", tmp_path / "out.png")
    assert result.exit_code == 1 and "NaN/Inf" in result.stderr
    assert not (tmp_path / "out.png").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["p.png"]  # no temporary file left either


def test_truncated_checkpoint_is_one_line_exit_2(tmp_path, student):
    cut = tmp_path / "cut.safetensors"
    data = Path(student).read_bytes()
    (size,) = struct.unpack("<Q", data[:8])
    cut.write_bytes(data[: 8 + size + (len(data) - 8 - size) // 2])
    src = _photo(tmp_path / "p.png")
    result = invoke(src, "--model", cut)
    assert result.exit_code == 2
    assert "Traceback" not in result.output and result.stderr.count("\n") == 1
    assert "damaged checkpoint" in result.stderr


@pytest.mark.parametrize("engine", ["onnx", "torch"])
def test_a_tampered_bundled_model_is_refused(tmp_path, monkeypatch, engine):
    import shutil

    from declare import registry, weights

    entry = registry.MODELS[registry.DEFAULT_MODEL]
    name = entry.graphs[0].file if engine == "onnx" else entry.bundled  # the file this engine reads
    fake = tmp_path / "weights"
    shutil.copytree(weights.PACKAGE_WEIGHTS, fake)
    data = bytearray((fake / name).read_bytes())
    data[-100] ^= 0xFF  # one flipped byte in the weights
    (fake / name).write_bytes(bytes(data))
    monkeypatch.setattr(weights, "PACKAGE_WEIGHTS", fake)
    src = _photo(tmp_path / "p.png")
    result = invoke(src, "-o", tmp_path / "out.png", "--engine", engine)
    assert result.exit_code == 2 and "shipped with declare is damaged" in result.stderr
    assert not (tmp_path / "out.png").exists()


@pytest.mark.parametrize("where", ["proc", "read-only"])
def test_unwritable_destination_is_found_before_any_work(tmp_path, student, counted_clean, where):
    if where == "read-only":
        if os.geteuid() == 0:
            pytest.skip("root writes into read-only folders; the /proc case covers root")
        dest = tmp_path / "locked"
        dest.mkdir()
        dest.chmod(0o555)
    else:
        dest = Path("/proc/declare-cannot-be-here")
    photos = [_photo(tmp_path / f"{i}.png", i) for i in range(3)]
    result = invoke(*photos, "-o", dest, "--model", student)
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 3 and "cannot" in result.stderr
    assert counted_clean == []


def test_output_without_an_extension_is_a_folder(tmp_path, student):
    src = _photo(tmp_path / "p.png")
    result = invoke(src, "-o", tmp_path / "cleaned", "--model", student)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "cleaned" / "p.png").is_file()


def test_a_bad_extension_is_refused_before_any_work(tmp_path, student, counted_clean):
    src = _photo(tmp_path / "p.png")
    result = invoke(src, "-o", tmp_path / "x.bmp", "--model", student)
    assert result.exit_code == 1 and "cannot write .bmp" in result.stderr
    assert counted_clean == []


def test_skip_existing_completes_a_photo_missing_its_reflection(tmp_path, student):
    src = _photo(tmp_path / "p.png")
    out, refl = tmp_path / "out" / "p.png", tmp_path / "out" / "p.reflection.png"
    assert invoke(src, "-o", tmp_path / "out", "--save-reflection", "--model", student).exit_code == 0
    refl.unlink()  # as if Ctrl-C came between the result and its reflection
    result = invoke(src, "-o", tmp_path / "out", "--save-reflection", "--skip-existing", "--model",
                    student, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "ok" and refl.is_file() and out.is_file()
    again = invoke(src, "-o", tmp_path / "out", "--save-reflection", "--skip-existing", "--model",
                   student, "--json")
    assert json.loads(again.stdout)["status"] == "skipped"


@pytest.mark.parametrize("tile", ["8", "127"])
def test_tiles_too_small_for_the_network_are_refused(tmp_path, student, tile):
    src = _photo(tmp_path / "p.png")
    result = invoke(src, "--tile", tile, "--model", student)
    assert result.exit_code == 2 and "at least 128 px" in result.stderr
    assert result.stderr.count("\n") == 1
    assert invoke(src, "--tile", "128", "--tile-overlap", "32", "--model", student).exit_code == 0
    bench = invoke("bench", "speed", "--preset", "tiny", "--tile", tile)
    assert bench.exit_code == 2 and "at least 128 px" in bench.stderr


@pytest.mark.parametrize("args", [["--help"], ["clean", "--help"], ["no-such-photo.jpg"],
                                  ["--tile", "8", "x.jpg"], ["bench", "quality", "--data", "nope"]])
def test_arguments_are_checked_before_torch_loads(args):
    code = ("import sys\nfrom declare.cli import main\n"
            f"try:\n    main({args!r})\nexcept SystemExit as e:\n    print('exit', e.code)\n"
            "print('torch loaded', 'torch' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "torch loaded False" in proc.stdout, proc.stdout + proc.stderr


def test_errors_share_one_style(tmp_path):
    for args in (["--bogus", "x.jpg"], ["bench", "quality"], ["models", "path", "nope"],
                 [str(tmp_path / "missing.jpg")]):
        result = CliRunner().invoke(main, args)
        lines = result.stderr.strip().splitlines()
        assert lines and lines[0].startswith("declare: error: "), (args, result.stderr)
        assert "Error:" not in result.stderr and len(lines) == 1


def test_models_list_columns_line_up():
    result = CliRunner().invoke(main, ["models", "list"])
    lines = [line for line in result.stdout.splitlines()[1:] if not line.startswith("*")]
    header = lines[0]
    for column in ("status", "licence", "description"):
        starts = {line.index(word) for line, word in zip(lines, [column] + [None] * 0) if word}
        start = header.index(column)
        for line in lines[1:]:
            assert line[start - 2:start] == "  " and line[start] != " ", (column, line)
        assert starts == {start}


def test_help_shows_the_photo_options_and_leads_with_declare_photo():
    result = CliRunner().invoke(main, ["--help"])
    assert "Photo options:" in result.stdout and "--output PATH" in result.stdout
    assert "--skip-existing" in result.stdout and "--tile" in result.stdout
    examples = [line.strip() for line in result.stdout.splitlines() if ".jpg" in line]
    assert examples and all(e.startswith("declare-photo") for e in examples[:4])


@pytest.fixture
def race(tmp_path, monkeypatch):
    """Three photos in IN; while 1.png is read, another program writes OUT/1.png (returned)."""
    from declare import batch as run_module

    for i in range(3):
        _photo(tmp_path / "in" / f"{i}.png", i)
    theirs = b"another program's file"
    real_read = run_module.read_photo

    def read_and_race(path):
        if Path(path).name == "1.png":
            (tmp_path / "out" / "1.png").write_bytes(theirs)
        return real_read(path)

    monkeypatch.setattr(run_module, "read_photo", read_and_race)
    return theirs


def test_an_output_that_appears_while_running_is_not_replaced(tmp_path, student, race):
    """Planned when nothing was there; by the time the photo is written, someone made the file."""
    theirs = race
    result = invoke(tmp_path / "in", "-o", tmp_path / "out", "--model", student)
    assert result.exit_code == 1
    assert (tmp_path / "out" / "1.png").read_bytes() == theirs
    line = [e for e in result.stderr.splitlines() if "1.png" in e]
    assert len(line) == 1 and "appeared while running; not replaced" in line[0]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["0.png", "1.png", "2.png"]  # no .part left
    # with --overwrite the same race replaces it, as asked
    result = invoke(tmp_path / "in", "-o", tmp_path / "out", "--model", student, "--overwrite")
    assert result.exit_code == 0 and (tmp_path / "out" / "1.png").read_bytes() != theirs


def test_skip_existing_skips_a_photo_another_run_finished_meanwhile(tmp_path, student, race):
    """Two runs with --skip-existing on one folder: a photo the other finished while this one
    worked is exactly what --skip-existing asks to skip; its file is kept, the run exits 0."""
    theirs = race
    result = invoke(tmp_path / "in", "-o", tmp_path / "out", "--model", student, "--skip-existing", "--json")
    assert result.exit_code == 0, result.output
    statuses = {Path(r["input"]).name: r["status"] for r in map(json.loads, result.stdout.splitlines())}
    assert statuses == {"0.png": "ok", "1.png": "skipped", "2.png": "ok"}
    assert (tmp_path / "out" / "1.png").read_bytes() == theirs
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["0.png", "1.png", "2.png"]


def test_two_batches_into_one_folder_replace_nothing(tmp_path, student):
    """Two runs at once: every photo is written by exactly one of them, never rewritten."""
    for i in range(6):
        _photo(tmp_path / "in" / f"{i}.png", i, size=(160, 120))
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "declare", str(tmp_path / "in"), "-o", str(out), "--model", str(student), "--json"]
    runs = [subprocess.Popen(cmd + ["--strength", s], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for s in ("1.0", "0.5")]
    results = [r.communicate(timeout=300) for r in runs]
    records = [[json.loads(line) for line in stdout.splitlines()] for stdout, _ in results]
    references = []  # each run's own results, made alone: the file on disk must be the winner's
    for strength in ("1.0", "0.5"):
        references.append(tmp_path / f"ref{strength}")
        subprocess.run([sys.executable, "-m", "declare", str(tmp_path / "in"), "-o", str(references[-1]),
                        "--model", str(student), "--strength", strength, "-q"], check=True)
    for i in range(6):
        name = str(tmp_path / "in" / f"{i}.png")
        statuses = [[r["status"] for r in recs if r["input"] == name] for recs in records]
        assert sorted(s for run in statuses for s in run) == ["failed", "ok"], (i, statuses)
        winner = 0 if statuses[0] == ["ok"] else 1
        loser = records[1 - winner]
        error = [r["error"] for r in loser if r["input"] == name][0]
        assert "exists" in error or "appeared while running; not replaced" in error
        assert (out / f"{i}.png").read_bytes() == (references[winner] / f"{i}.png").read_bytes()
    assert sorted(p.name for p in out.iterdir()) == [f"{i}.png" for i in range(6)]


def _one_error(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


def test_a_file_name_for_several_photos_is_refused(tmp_path, student):
    for i in range(3):
        _photo(tmp_path / "in" / f"{i}.png", i)
    result = invoke(tmp_path / "in", "-o", tmp_path / "x.jpg", "--model", student)
    assert result.exit_code == 2
    assert "names one file, but 3 photos were given" in _one_error(result)
    assert not (tmp_path / "x.jpg").exists()


def test_the_input_folder_as_output_says_so(tmp_path, student):
    _photo(tmp_path / "in" / "a.png")
    result = invoke(tmp_path / "in", "-o", tmp_path / "in", "--model", student)
    assert result.exit_code == 2 and "is the input folder" in _one_error(result)
    assert sorted(p.name for p in (tmp_path / "in").iterdir()) == ["a.png"]


def test_an_output_that_is_a_device_says_so(tmp_path, student):
    _photo(tmp_path / "a.png")
    result = invoke(tmp_path / "a.png", "-o", "/dev/full", "--model", student)
    assert result.exit_code == 2 and "/dev/full: is neither a folder nor a photo file" in _one_error(result)


@pytest.mark.parametrize("args", [["--strength", "nan"], ["--strength", "inf"]])
def test_non_finite_numbers_are_refused(tmp_path, student, args):
    _photo(tmp_path / "a.png")
    result = CliRunner().invoke(main, [str(tmp_path / "a.png"), "--model", str(student), *args])
    assert result.exit_code == 2 and "is not a finite number" in result.output
    assert not (tmp_path / "a.declare.png").exists()


@pytest.mark.parametrize("option", ["--lr", "--ema-decay", "--synth-clean-share"])
def test_training_refuses_non_finite_numbers(tmp_path, option):
    result = CliRunner().invoke(main, ["train", "student", "--data", str(tmp_path), option, "nan"])
    assert result.exit_code == 2 and "is not a finite number" in result.output


def test_a_device_error_is_labelled_device(tmp_path, student):
    import torch

    if torch.cuda.is_available():
        pytest.skip("needs a machine without CUDA")
    _photo(tmp_path / "a.png")
    result = invoke(tmp_path / "a.png", "--model", student, "--device", "cuda")
    assert result.exit_code == 2 and _one_error(result).startswith("declare: error: device: ")


def test_a_pipe_named_like_a_photo_is_skipped_not_waited_on(tmp_path, student):
    os.mkfifo(tmp_path / "pipe.jpg")
    _photo(tmp_path / "a.png")
    run = subprocess.run([sys.executable, "-m", "declare", str(tmp_path / "pipe.jpg"), str(tmp_path / "a.png"),
                          "--model", str(student), "-q"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [f"declare: error: {tmp_path / 'pipe.jpg'}: "
                                               "not a regular file (a pipe, device or socket); skipped"]
    assert (tmp_path / "a.declare.png").exists()


# Runs declare with the signal sent from inside the write, after the photo's bytes are in
# the hidden .part file and before its rename: the worst moment to be stopped.
SIGNAL_MID_WRITE = """
import os, signal, sys
from contextlib import contextmanager
import declare.images as images
real, stop = images.atomic_path, getattr(signal, sys.argv.pop(1))
@contextmanager
def stopped_mid_write(path, replace=True):
    with real(path, replace) as tmp:
        yield tmp
        os.kill(os.getpid(), stop)
images.atomic_path = stopped_mid_write
from declare.cli import main
sys.argv[0] = "declare-photo"
main()
"""


@pytest.mark.parametrize("name, status", [("SIGTERM", 143), ("SIGHUP", 129), ("SIGINT", 130)])
def test_a_signal_while_writing_leaves_no_partial_file(tmp_path, student, name, status):
    """A photo being written when the session is closed (SIGHUP) or the process is
    terminated (SIGTERM): as with Ctrl-C, one message, the signal's exit status, and
    no hidden .part file left behind."""
    import signal
    if not hasattr(signal, name):
        pytest.skip(f"no {name} on this system")
    for i in range(2):
        _photo(tmp_path / "in" / f"{i}.png", i)
    done = subprocess.run([sys.executable, "-c", SIGNAL_MID_WRITE, name, str(tmp_path / "in"),
                           "-o", str(tmp_path / "out"), "--model", str(student)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == status, done.stderr
    assert list((tmp_path / "out").iterdir()) == []
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "no partial file was written" in lines[0], done.stderr
