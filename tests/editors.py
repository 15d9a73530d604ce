"""The real photo editors for tests: GIMP 3 in a Debian 13 root, darktable on a virtual screen.

GIMP 3 runs in the root scripts/gimp3_root.sh builds (Debian 12 has only GIMP
2.10); declare is not installed there but reached the way a user's plug-in
reaches it, by the path of the Python it was installed into: the script's
--run binds this checkout and that Python into the root at their own paths. darktable is Debian 12's own,
on an Xvfb screen the test starts.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GIMP3_ROOT = REPO / "scripts" / "gimp3_root.sh"  # builds the root, says if it is ready, runs in it
GIMP_BATCH = Path(__file__).with_name("gimp_batch.py")


def gimp3_missing() -> str | None:
    """Why GIMP 3 cannot run here, or None."""
    ready = subprocess.run([str(GIMP3_ROOT), "--ready"], capture_output=True, text=True)
    return (ready.stdout.strip() or "GIMP 3 root not usable") if ready.returncode else None


def _outermost(paths: list[Path]) -> list[Path]:
    paths = sorted({p.resolve() for p in paths}, key=lambda p: len(p.parts))
    return [p for i, p in enumerate(paths) if not any(p.is_relative_to(q) for q in paths[:i])]


def run_gimp(code: str, work: Path, timeout: float = 240) -> tuple[list[dict], str]:
    """Run ``code`` (Python, with tests/gimp_batch.py's helpers) in gimp-console-3.0,
    HOME=WORK/home, TMPDIR=WORK/tmp. Returns the records the code printed with ``report`` and all output."""
    binds = _outermost([REPO, Path(sys.prefix), Path(sys.base_prefix), work])
    (work / "tmp").mkdir(exist_ok=True)
    script = work / "batch.py"
    script.write_text(GIMP_BATCH.read_text() + "\n" + code)
    gimp = ["env", "-i", f"HOME={work / 'home'}", "PATH=/usr/bin:/bin", "LANG=C.UTF-8",
            f"TMPDIR={work / 'tmp'}",
            "gimp-console-3.0", "-i", "-n", "--batch-interpreter", "python-fu-eval",
            "-b", f"exec(open({str(script)!r}).read())", "--quit"]
    command = [str(GIMP3_ROOT), "--run", *(a for p in binds for a in ("--bind", str(p))), "--", *gimp]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    output = done.stdout + done.stderr
    records = [json.loads(line[len("DECLARE-TEST "):]) for line in done.stdout.splitlines()
               if line.startswith("DECLARE-TEST ")]
    return records, output


def darktable_missing() -> str | None:
    for program in ("darktable", "Xvfb"):
        if not shutil.which(program):
            return f"{program} not installed (Debian: apt-get install darktable xvfb)"
    return None


@contextlib.contextmanager
def virtual_screen(width: int = 1400, height: int = 900):
    """An Xvfb display of its own (no TCP, no auth: only this machine's processes see it)."""
    read, write = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", f"{width}x{height}x24",
                               "-nolisten", "tcp"], pass_fds=(write,), stderr=subprocess.DEVNULL)
    os.close(write)
    try:
        with os.fdopen(read) as pipe:
            number = pipe.readline().strip()
        if not number:
            raise RuntimeError("Xvfb did not start")
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(10)


def wait_for(path: Path, text: str, timeout: float, process: subprocess.Popen) -> bool:
    """Until ``path`` holds ``text``, the process ends or the time is up."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if path.exists() and text in path.read_text():
            return True
        if process.poll() is not None:
            return False
        time.sleep(1)
    return False
