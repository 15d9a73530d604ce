"""--cluster: the same command on a local Dask cluster of two worker processes, faults included."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photos import real_array

pytest.importorskip("distributed", reason="declare[cluster] not installed (pip install -e '.[dev]')")


def _photos(folder: Path, count: int, size=(480, 360)) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    names = ["glass-1.jpg", "glass-2.jpg", "glass-3.jpg", "glass-6.jpg"]
    paths = []
    for i in range(count):
        path = folder / f"p{i:02d}.png"
        Image.fromarray(real_array(names[i % len(names)], size)).save(path)
        paths.append(path)
    return paths


def _declare(*args, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "declare", *map(str, args)], capture_output=True, text=True,
                          timeout=300, **kw)


def _records(stdout: str) -> dict[str, dict]:
    return {Path(r["input"]).name: r for r in map(json.loads, stdout.splitlines())}


def test_a_local_cluster_gives_what_one_process_gives(tmp_path, checkpoints):
    _photos(tmp_path / "in", 6)
    (tmp_path / "in" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    model = checkpoints["student"]
    alone = _declare(tmp_path / "in", "-o", tmp_path / "alone", "--model", model, "-q")
    assert alone.returncode == 1  # the broken one
    run = _declare(tmp_path / "in", "-o", tmp_path / "out", "--model", model, "--cluster", "local:2", "--json")
    assert run.returncode == 1, run.stderr
    records = _records(run.stdout)
    assert records["broken.png"]["status"] == "failed" and records["broken.png"]["error"]
    assert sum(r["status"] == "ok" for r in records.values()) == 6
    for i in range(6):
        a, b = (np.asarray(Image.open(tmp_path / d / f"p{i:02d}.png")) for d in ("alone", "out"))
        assert np.array_equal(a, b)
    again = _declare(tmp_path / "in", "-o", tmp_path / "out", "--model", model, "--cluster", "local:2",
                     "--skip-existing", "--json")
    assert {r["status"] for n, r in _records(again.stdout).items() if n != "broken.png"} == {"skipped"}


def test_a_worker_killed_mid_batch_loses_no_photo(tmp_path, checkpoints):
    """SIGKILL to one worker while photos are being cleaned: its tasks run again on the
    other worker (or its replacement); every photo ends written once, whole, and reported."""
    psutil = pytest.importorskip("psutil")
    _photos(tmp_path / "in", 16, size=(960, 720))
    out = tmp_path / "out"
    run = subprocess.Popen([sys.executable, "-m", "declare", str(tmp_path / "in"), "-o", str(out), "--model",
                            str(checkpoints["student"]), "--cluster", "local:2", "--json"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and not (out.is_dir() and any(out.glob("*.png"))):
        time.sleep(0.05)
    workers = [p for p in psutil.Process(run.pid).children(recursive=True)
               if "multiprocessing" in " ".join(p.cmdline()) and "resource_tracker" not in " ".join(p.cmdline())]
    assert workers, "no worker process found"
    os.kill(workers[0].pid, signal.SIGKILL)
    stdout, stderr = run.communicate(timeout=300)
    assert run.returncode == 0, stderr
    records = _records(stdout)
    assert len(records) == 16 and all(r["status"] in ("ok", "skipped") for r in records.values()), records
    assert sorted(p.name for p in out.iterdir()) == [f"p{i:02d}.png" for i in range(16)]  # no .part left
    for path in out.iterdir():
        with Image.open(path) as im:
            im.load()  # whole


def test_cluster_errors_are_one_line(tmp_path, checkpoints):
    _photos(tmp_path / "in", 1)
    bad = _declare(tmp_path / "in", "-o", tmp_path / "out", "--cluster", "local:0")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "local:N" in bad.stderr
    missing = _declare(tmp_path / "in", "-o", tmp_path / "out", "--cluster", "local:2", "--model",
                       tmp_path / "none.safetensors")
    lines = missing.stderr.strip().splitlines()
    assert missing.returncode == 2 and len(lines) == 1 and "2 workers" in lines[0] and "no such" in lines[0]
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_ctrl_c_keeps_finished_photos_and_skip_existing_resumes(tmp_path, checkpoints):
    _photos(tmp_path / "in", 16, size=(960, 720))
    out = tmp_path / "out"
    args = [sys.executable, "-m", "declare", str(tmp_path / "in"), "-o", str(out), "--model",
            str(checkpoints["student"]), "--cluster", "local:2"]
    run = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and not (out.is_dir() and any(out.glob("*.png"))):
        time.sleep(0.05)
    run.send_signal(signal.SIGINT)
    _, stderr = run.communicate(timeout=120)
    assert run.returncode == 130, stderr
    assert "finished photos are kept" in stderr
    done = sorted(p.name for p in out.iterdir())
    assert all(name.endswith(".png") and not name.startswith(".") for name in done) and len(done) < 16
    resumed = subprocess.run(args + ["--skip-existing", "--json"], capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    statuses = [r["status"] for r in _records(resumed.stdout).values()]
    assert statuses.count("skipped") == len(done) and statuses.count("ok") == 16 - len(done)


def test_the_python_api_cleans_files_on_a_cluster(tmp_path, checkpoints):
    import declare

    _photos(tmp_path / "in", 4)
    records = declare.clean_files(tmp_path / "in", tmp_path / "out", model=str(checkpoints["student"]),
                                  cluster="local:2")
    assert sorted(Path(r["output"]).name for r in records) == [f"p{i:02d}.png" for i in range(4)]
    assert {r["status"] for r in records} == {"ok"}
    again = declare.clean_files(tmp_path / "in", tmp_path / "out", model=str(checkpoints["student"]),
                                skip_existing=True)
    assert {r["status"] for r in again} == {"skipped"}
    with pytest.raises(declare.BatchError, match="local:N"):
        declare.clean_files(tmp_path / "in", tmp_path / "x", cluster="local:0")
