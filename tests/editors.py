"""The real photo editors for tests: GIMP 3 in a Debian 13 root, darktable on a virtual screen.

GIMP 3 runs from the root scripts/gimp3_root.sh builds (Debian 12 has only GIMP
2.10); declare is not installed there but reached the way a user's plug-in
reaches it, by the path of the Python it was installed into: this checkout and
that Python are bind-mounted into the root at their own paths, inside a private
mount namespace that vanishes with the command. darktable is Debian 12's own,
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
GIMP3_ROOT = Path(os.environ.get("DECLARE_GIMP3_ROOT", "/var/cache/declare/gimp3-root"))
GIMP_BATCH = Path(__file__).with_name("gimp_batch.py")


def gimp3_missing() -> str | None:
    """Why GIMP 3 cannot run here, or None."""
    if os.geteuid() != 0:
        return "GIMP 3 tests need root (a chroot into the Debian 13 root)"
    if not shutil.which("unshare"):
        return "GIMP 3 tests need unshare (util-linux)"
    if not (GIMP3_ROOT / ".declare-ready").exists():
        return f"no GIMP 3 root at {GIMP3_ROOT} (build it: sudo scripts/gimp3_root.sh)"
    return None


def _outermost(paths: list[Path]) -> list[Path]:
    paths = sorted({p.resolve() for p in paths}, key=lambda p: len(p.parts))
    return [p for i, p in enumerate(paths) if not any(p.is_relative_to(q) for q in paths[:i])]


def run_gimp(code: str, work: Path, timeout: float = 240) -> tuple[list[dict], str]:
    """Run ``code`` (Python, with tests/gimp_batch.py's helpers) in gimp-console-3.0,
    HOME=WORK/home, TMPDIR=WORK/tmp. Returns the records the code printed with ``report`` and all output."""
    binds = _outermost([REPO, Path(sys.prefix), Path(sys.base_prefix), work])
    mounts = "".join(f'mkdir -p "$R{p}" && mount --bind "{p}" "$R{p}" && ' for p in binds)
    (work / "tmp").mkdir(exist_ok=True)
    script = work / "batch.py"
    script.write_text(GIMP_BATCH.read_text() + "\n" + code)
    gimp = ["env", "-i", f"HOME={work / 'home'}", "PATH=/usr/bin:/bin", "LANG=C.UTF-8",
            f"TMPDIR={work / 'tmp'}",
            "gimp-console-3.0", "-i", "-n", "--batch-interpreter", "python-fu-eval",
            "-b", f"exec(open({str(script)!r}).read())", "--quit"]
    shell = (f'R="{GIMP3_ROOT}" && mount -t proc proc "$R/proc" && mount --rbind /dev "$R/dev" && '
             f'{mounts}exec chroot "$R" "$@"')
    done = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", shell, "sh", *gimp],
                          capture_output=True, text=True, timeout=timeout)
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
