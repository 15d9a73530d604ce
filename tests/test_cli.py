"""The declare command on real photos with a tiny random-weight checkpoint."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import piexif
import png
import pytest
from click.testing import CliRunner
from PIL import Image, ImageCms

from declare.cli import main
from photos import copy_real, real_array


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def student(checkpoints):
    return checkpoints["student"]


@pytest.fixture
def shots(tmp_path):
    """A folder of three real photos and a subfolder with one more."""
    folder = tmp_path / "shots"
    folder.mkdir()
    for name in ("glass-1.jpg", "glass-2.jpg", "glass-5.png"):
        copy_real(folder, name)
    (folder / "sub").mkdir()
    copy_real(folder / "sub", "glass-3.jpg")
    return folder


def test_one_photo_default_output_beside_it(shots, student):
    src = shots / "glass-5.png"
    before = src.read_bytes()
    result = invoke(src, "--model", student)
    assert result.exit_code == 0, result.output
    out = shots / "glass-5.declare.png"
    assert out.exists() and src.read_bytes() == before
    with Image.open(src) as a, Image.open(out) as b:
        assert a.size == b.size
        diff = np.abs(np.asarray(a.convert("RGB"), float) - np.asarray(b.convert("RGB"), float))
        assert 0 < diff.mean() < 20  # changed, and still the same picture


def test_output_file_and_exif_orientation(tmp_path, student):
    src = tmp_path / "turned.jpg"
    exif = piexif.dump({"0th": {piexif.ImageIFD.Make: b"DeclareTest", piexif.ImageIFD.Orientation: 6},
                        "Exif": {}, "1st": {}, "GPS": {}, "thumbnail": None})
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    Image.fromarray(real_array()).save(src, quality=95, exif=exif, icc_profile=icc)
    out = tmp_path / "clean.jpg"
    result = invoke(src, "-o", out, "--model", student)
    assert result.exit_code == 0, result.output
    with Image.open(src) as a, Image.open(out) as b:
        assert b.size == (a.size[1], a.size[0])  # rotated into the pixels
        tags = piexif.load(b.info["exif"])["0th"]
        assert tags[piexif.ImageIFD.Orientation] == 1
        assert tags[piexif.ImageIFD.Make] == b"DeclareTest"
        assert b.info["icc_profile"] == icc
        upright = np.rot90(np.asarray(a, float), -1)
        assert np.abs(np.asarray(b, float) - upright).mean() < 20


def test_16bit_png_stays_16bit(tmp_path, student):
    data = (real_array(size=(64, 48)).astype(np.uint16) * 257 + 100).astype(np.uint16)
    src = tmp_path / "deep.png"
    with open(src, "wb") as f:
        png.Writer(64, 48, greyscale=False, bitdepth=16).write_array(f, data.reshape(-1))
    assert invoke(src, "--model", student).exit_code == 0
    _, _, rows, info = png.Reader(filename=str(tmp_path / "deep.declare.png")).asDirect()
    out = np.vstack([np.asarray(r, dtype=np.uint16) for r in rows])
    assert info["bitdepth"] == 16
    assert np.any(out % 257 != 0)  # real 16-bit values, not 8-bit ones scaled


def test_folders_globs_and_recursion(shots, student, tmp_path, monkeypatch):
    result = invoke(shots, "-o", tmp_path / "flat", "--model", student)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "flat").iterdir()) == [
        "glass-1.jpg", "glass-2.jpg", "glass-5.png"]
    result = invoke(shots, "-r", "-o", tmp_path / "deep", "--model", student)
    assert result.exit_code == 0
    assert (tmp_path / "deep" / "sub" / "glass-3.jpg").exists()
    monkeypatch.chdir(shots)
    result = invoke("glass-*.jpg", "--model", student)  # a quoted glob: declare expands it
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in shots.glob("*.declare.*")) == [
        "glass-1.declare.jpg", "glass-2.declare.jpg"]
    again = invoke(".", "--model", student, "--skip-existing", "--json")
    records = [json.loads(line) for line in again.stdout.splitlines()]
    assert {r["status"] for r in records} == {"ok", "skipped"}  # our outputs are not inputs
    assert len(records) == 3


def test_corrupt_file_fails_alone(shots, student):
    (shots / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    result = invoke(shots, "--model", student, "--json")
    assert result.exit_code == 1
    records = {Path(r["input"]).name: r for r in map(json.loads, result.stdout.splitlines())}
    assert records["broken.jpg"]["status"] == "failed"
    assert sum(r["status"] == "ok" for r in records.values()) == 3
    errors = [line for line in result.stderr.splitlines() if line]
    assert errors == [f"declare: error: {shots / 'broken.jpg'}: {records['broken.jpg']['error']}"]
    assert "Traceback" not in result.output


def test_never_overwrites(shots, student):
    src = shots / "glass-5.png"
    result = invoke(src, "-o", src, "--model", student)
    assert result.exit_code == 1 and "never overwrites its inputs" in result.stderr
    assert invoke(src, "--model", student).exit_code == 0
    out = shots / "glass-5.declare.png"
    stamp = out.stat().st_mtime_ns
    result = invoke(src, "--model", student)
    assert result.exit_code == 1 and "--overwrite" in result.stderr
    assert out.stat().st_mtime_ns == stamp
    assert invoke(src, "--model", student, "--overwrite").exit_code == 0


def test_missing_paths_and_bad_outputs(shots, student, tmp_path):
    result = invoke(shots / "nope.jpg", shots / "glass-5.png", "--model", student)
    assert result.exit_code == 1
    assert "nope.jpg: no such file" in result.stderr
    assert (shots / "glass-5.declare.png").exists()
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = invoke(shots / "glass-5.png", "-o", blocker / "x.png", "--model", student)
    assert result.exit_code == 1 and "cannot create folder" in result.stderr
    result = invoke(shots / "glass-5.png", "-o", tmp_path / "x.bmp", "--model", student)
    assert result.exit_code == 1 and "cannot write .bmp" in result.stderr


def test_strength_and_reflection(shots, student, tmp_path):
    src = shots / "glass-5.png"
    result = invoke(src, "-o", tmp_path / "none.png", "--strength", "0", "--save-reflection",
                    "--model", student)
    assert result.exit_code == 0, result.output
    with Image.open(src) as a, Image.open(tmp_path / "none.png") as b:
        assert np.array_equal(np.asarray(a.convert("RGB")), np.asarray(b))
    with Image.open(tmp_path / "none.reflection.png") as r:
        assert np.asarray(r).max() == 0  # nothing removed at strength 0


def test_model_and_device_errors(shots, checkpoints, monkeypatch):
    from declare import registry

    src = shots / "glass-5.png"
    monkeypatch.setattr(registry, "DEFAULT_MODEL", None)  # as before a model shipped
    result = invoke(src)
    assert result.exit_code == 2 and "no trained model is installed" in result.stderr
    result = invoke(src, "--model", checkpoints["student"], "--device", "cpu", "--half")
    assert result.exit_code == 2 and "--half needs a GPU" in result.stderr
    result = invoke(src, "--model", checkpoints["teacher"])
    assert result.exit_code == 2 and "--burst" in result.stderr
    pickle = shots / "net.pt"
    pickle.write_bytes(b"\x80\x04junk")
    result = invoke(src, "--model", pickle)
    assert result.exit_code == 2 and "not a safetensors file" in result.stderr
    assert not (shots / "glass-5.declare.png").exists()


def test_burst_teacher_method(tmp_path, checkpoints):
    frames = []
    for i, dx in enumerate((0, 3, 6)):  # the camera moving 3 px a view
        path = tmp_path / f"f{i}.jpg"
        Image.fromarray(real_array(size=(130, 90))[:, dx:dx + 120]).save(path)
        frames.append(path)
    teacher = ("--burst-method", "teacher", "--model", checkpoints["teacher"])
    result = invoke("--burst", *frames, *teacher)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "f1.declare.jpg").exists() and not (tmp_path / "f0.declare.jpg").exists()
    result = invoke("--burst", *frames, "--burst-method", "teacher", "--model", checkpoints["student"],
                    "--overwrite")
    assert result.exit_code == 2 and "teacher checkpoint" in result.stderr
    result = invoke("--burst", *frames, "--model", checkpoints["student"], "--overwrite")
    assert result.exit_code == 0, result.output  # the classical method runs no model at all


def test_burst_uses_the_shipped_teacher_with_no_model_given(tmp_path, monkeypatch):
    monkeypatch.setenv("DECLARE_OFFLINE", "1")
    monkeypatch.setenv("DECLARE_CACHE_DIR", str(tmp_path / "empty-cache"))
    frames = []
    for i, dx in enumerate((0, 1, 2)):  # three views, the camera moving a pixel each
        path = tmp_path / f"f{i}.png"
        Image.fromarray(real_array(size=(160, 120))[:, dx:dx + 150]).save(path)
        frames.append(path)
    result = invoke("--burst", *frames, "--burst-method", "teacher")
    assert result.exit_code == 0, result.output
    with Image.open(frames[1]) as a, Image.open(tmp_path / "f1.declare.png") as b:
        assert a.size == b.size
        # it ran the teacher, not a copy: medium-teacher changes this photo by 0.17 levels on average
        assert np.abs(np.asarray(b, np.float32) - np.asarray(a, np.float32)).mean() > 0.1


def test_interrupt_keeps_finished_photos_and_no_partial_file(shots, student, monkeypatch):
    from declare import session as session_module

    real_clean, calls = session_module.Session.clean, []

    def clean_then_interrupt(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_clean(self, *args, **kwargs)

    monkeypatch.setattr(session_module.Session, "clean", clean_then_interrupt)
    result = invoke(shots, "--model", student)
    assert result.exit_code == 130 and "interrupted" in result.stderr
    written = sorted(p.name for p in shots.iterdir() if ".declare." in p.name or p.name.startswith("."))
    assert written == ["glass-1.declare.jpg"]  # the first in name order


def test_usage_errors_are_one_line(shots, student):
    result = invoke(shots, "--overwrite", "--skip-existing", "--model", student)
    assert result.exit_code == 2 and "contradict" in result.output
    result = invoke(shots, "--tile", "128", "--tile-overlap", "128", "--model", student)
    assert result.exit_code == 2 and "--tile-overlap" in result.output


def test_end_to_end_subprocess_on_a_real_photo(tmp_path, student):
    src = copy_real(tmp_path, "glass-4.jpg")
    out = tmp_path / "clean.jpg"
    cmd = [sys.executable, "-m", "declare", str(src), "-o", str(out), "--model", str(student),
           "--tile", "128", "--tile-overlap", "32", "--json"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "error"})
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)
    assert record["status"] == "ok" and record["output"] == str(out) and record["seconds"] > 0
    assert proc.stderr == ""  # no bars when stdout is not a terminal, no warnings
    with Image.open(src) as a, Image.open(out) as b:
        assert a.size == b.size and b.format == "JPEG"


def test_shipped_default_cleans_a_photo_offline_with_no_flags(tmp_path):
    """The README's first command, as a user runs it: no --model, no network, empty cache."""
    src = copy_real(tmp_path, "glass-4.jpg")
    out = tmp_path / "clean.jpg"
    env = {**os.environ, "DECLARE_OFFLINE": "1", "DECLARE_CACHE_DIR": str(tmp_path / "empty-cache")}
    proc = subprocess.run([sys.executable, "-m", "declare", str(src), "-o", str(out)],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    with Image.open(src) as a, Image.open(out) as b:
        before, after = np.asarray(a.convert("RGB"), np.float32), np.asarray(b, np.float32)
    change = np.abs(after - before).mean()
    assert 0.5 < change < 40, change  # it did something, and did not wreck the photo
    assert not (tmp_path / "empty-cache").exists()  # nothing downloaded or cached


# `declare models list` in bash runs the shell builtin: it prints nothing and exits 0.
_BUILTIN_TRAP = __import__("re").compile(
    r"(?<![\w/.-])declare (models|plugins|presets|train|bench|clean)\b")


def _help_pages(command, path):
    import click

    yield path, CliRunner().invoke(main, [*path, "--help"]).output
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _help_pages(sub, [*path, name])


def test_advice_never_names_the_shell_builtin():
    pages = dict((" ".join(p), text) for p, text in _help_pages(main, []))
    assert "models list" in pages and "train student" in pages
    for where, text in pages.items():
        text = text.replace("-m declare ", "-m declare-module ")  # python -m declare works in every shell
        assert not _BUILTIN_TRAP.search(text), (where, _BUILTIN_TRAP.search(text).group(0))
    root = Path(__file__).resolve().parents[1]
    for doc in ("README.md", "man/declare.1", "docs/training/README.md", "docs/quality-study.md",
                "benchmarks/README.md"):
        text = (root / doc).read_text().replace("\\-", "-").replace("-m declare ", "-m declare-module ")
        hits = _BUILTIN_TRAP.findall(text)
        assert not hits, (doc, hits)


def test_help_pages_show_only_real_bounds():
    pages = dict((" ".join(p), text) for p, text in _help_pages(main, []))
    assert "0<=x<=1" in pages[""]  # --strength's bounds still show
    for where, text in pages.items():
        assert "None" not in text, where  # an unbounded float once read "[x<=None]"


@pytest.mark.parametrize("prog", ["declare-photo", "declare", "python -m declare", "other"])
def test_messages_name_the_program_that_was_run(tmp_path, monkeypatch, prog):
    monkeypatch.setenv("DECLARE_CACHE_DIR", str(tmp_path))
    import dataclasses

    from declare import registry

    remote = dataclasses.replace(registry.MODELS["small"], name="remote", urls=("http://127.0.0.1:9/x",),
                                 bundled=None)
    monkeypatch.setitem(registry.MODELS, "remote", remote)
    result = CliRunner().invoke(main, ["models", "path", "remote"], prog_name=prog)
    assert result.exit_code == 1
    expected = prog if prog != "other" else "declare-photo"
    assert f"'{expected} models download remote'" in result.stderr


def test_unquoted_glob_rerun_skips_our_own_results(shots, student):
    """`declare-photo shots/*.jpg --skip-existing` after a first run: the shell's list
    now holds the results too; they are skipped with one line, and nothing fails."""
    assert invoke(shots / "glass-1.jpg", shots / "glass-2.jpg", "--model", student).exit_code == 0
    expanded = sorted(shots.glob("*.jpg"))  # what the shell passes on the second run
    assert len(expanded) == 4
    result = invoke(*expanded, "--skip-existing", "--model", student)
    assert result.exit_code == 0, result.output
    assert not list(shots.glob("*.declare.declare.*"))
    assert result.output.count("declare's own results") == 1
    assert "skipped 2 of declare's own results" in result.output
    records = [json.loads(line) for line in invoke(*expanded, "--skip-existing", "--model", student,
                                                    "--json").stdout.splitlines()]
    assert [r["status"] for r in records] == ["skipped"] * 4


def test_an_output_name_without_extension_for_one_photo_says_it_is_a_folder(shots, student, tmp_path):
    result = invoke(shots / "glass-1.jpg", "-o", tmp_path / "noext", "--model", student)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "noext" / "glass-1.jpg").is_file()
    warning = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warning) == 1 and "is a folder" in warning[0] and "noext.jpg" in warning[0]
    quiet = invoke(shots / "glass-2.jpg", "-o", str(tmp_path / "folder") + "/", "--model", student)
    assert "warning" not in quiet.stderr  # a trailing slash says folder
