"""The weights cache and the network: download once, resume, verify.

Files live in the user cache folder (``DECLARE_CACHE_DIR`` overrides it). A
download streams to ``NAME.safetensors.part``, resumes with an HTTP Range
request after an interruption, is checked against the registry's size and
sha256, and only then is renamed into place (a model's ONNX graphs the same
way); a lock file keeps two runs from writing the same file.
``DECLARE_WEIGHTS_URL`` replaces the registry's hosts with a mirror;
``DECLARE_OFFLINE=1`` never touches the network. Only safetensors checkpoints
and ONNX graphs are accepted, so nothing from the network is unpickled. Which
file a ``--model`` name means: declare/weights.py.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path

from declare.registry import ModelEntry

CHUNK = 1 << 16
TIMEOUT = (10.0, 30.0)  # connect, read (seconds)


class WeightsError(Exception):
    """Weights that cannot be had; one line that says what to do."""


def cache_dir() -> Path:
    env = os.environ.get("DECLARE_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("declare")) / "models"


def offline() -> bool:
    return os.environ.get("DECLARE_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def cached_path(entry: ModelEntry) -> Path:
    return cache_dir() / entry.filename


def urls_for(entry: ModelEntry) -> list[str]:
    base = os.environ.get("DECLARE_WEIGHTS_URL")
    if base:
        return [base.rstrip("/") + "/" + entry.filename]
    return list(entry.urls)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_valid(entry: ModelEntry, path: Path) -> bool:
    return path.is_file() and path.stat().st_size == entry.size and sha256_of(path) == entry.sha256


def by_hand(entry: ModelEntry) -> str:
    where = urls_for(entry)[0] if urls_for(entry) else "its publisher"
    return (f"download {entry.filename} from {where} and place it at {cached_path(entry)} "
            f"(sha256 {entry.sha256})")


def download(entry: ModelEntry, progress: bool = True, timeout=TIMEOUT) -> Path:
    """Download (resuming a .part file), verify, and move into the cache."""
    path = cached_path(entry)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _Lock(_lock(path)):
        if is_valid(entry, path):  # another run finished it while we waited
            return path
        errors = []
        for url in urls_for(entry):
            try:
                _fetch_to_part(entry, url, progress, timeout)
            except WeightsError as exc:
                errors.append(str(exc))
                continue
            part = _part(path)
            os.replace(part, path)
            return path
    reason = "; ".join(errors) or "no download address"
    raise WeightsError(f"cannot download {entry.name} ({reason}); " + by_hand(entry))


def _part(path: Path) -> Path:
    return path.with_name(path.name + ".part")


def _lock(path: Path) -> Path:
    """The lock of one file's download (NAME.onnx and NAME.safetensors each have their own)."""
    return path.with_name(path.name + ".lock")


def partial_path(entry: ModelEntry) -> Path:
    """Where an interrupted download of ``entry`` waits to be resumed."""
    return _part(cached_path(entry))


def _fetch_to_part(entry: ModelEntry, url: str, progress: bool, timeout) -> None:
    import requests

    part = _part(cached_path(entry))
    have = part.stat().st_size if part.exists() else 0
    if have > entry.size:
        part.unlink()
        have = 0
    headers = {"Range": f"bytes={have}-"} if have else {}
    try:
        with requests.get(url, headers=headers, stream=True, timeout=timeout) as r:
            if r.status_code == 416 and have == entry.size:
                pass  # the .part is already whole
            elif r.status_code not in (200, 206):
                raise WeightsError(f"{url}: HTTP {r.status_code}")
            else:
                if r.status_code == 200:
                    have = 0  # the server ignored the range: start over
                elif not r.headers.get("Content-Range", "").startswith(f"bytes {have}-"):
                    part.unlink()
                    raise WeightsError(f"{url}: server resumed at the wrong offset; "
                                       "partial download discarded")
                _stream(r, part, have, entry, progress)
    except requests.RequestException as exc:
        kind = "timed out" if isinstance(exc, requests.Timeout) else "connection failed"
        raise WeightsError(f"{url}: {kind}, {part.stat().st_size if part.exists() else 0} of "
                           f"{entry.size} bytes kept for resuming") from None
    got = part.stat().st_size
    if got != entry.size:
        raise WeightsError(f"{url}: got {got} of {entry.size} bytes, kept for resuming")
    digest = sha256_of(part)
    if digest != entry.sha256:
        part.unlink()
        raise WeightsError(f"{url}: checksum mismatch (expected sha256 {entry.sha256[:12]}..., "
                           f"got {digest[:12]}...); the download was deleted")
    if entry.filename.endswith(".safetensors"):  # a graph is checked by ONNX Runtime at load
        _check_safetensors(part, url)


def _stream(response, part: Path, have: int, entry: ModelEntry, progress: bool) -> None:
    from tqdm import tqdm

    bar = tqdm(total=entry.size, initial=have, unit="B", unit_scale=True, unit_divisor=1024,
               desc=entry.filename, leave=False, disable=not (progress and sys.stderr.isatty()))
    with open(part, "ab" if have else "wb") as f, bar:
        for block in response.iter_content(CHUNK):
            f.write(block)
            bar.update(len(block))
            if f.tell() > entry.size:
                break


def _check_safetensors(path: Path, url: str) -> None:
    from declare.checkpoint import CheckpointError, read_metadata

    try:
        read_metadata(path)
    except CheckpointError as exc:
        path.unlink()
        raise WeightsError(f"{url}: {exc}") from None


def remove(entry: ModelEntry) -> list[Path]:
    """Delete the cached files of ``entry`` (checkpoint and graphs, with partial downloads)."""
    gone = []
    for part in (entry, *entry.graph_entries()):
        path = cached_path(part)
        gone += [p for p in (path, _part(path), _lock(path)) if p.exists()]
    for p in gone:
        p.unlink()
    return gone


class _Lock:
    """An exclusive lock on a file, held while one process downloads."""

    def __init__(self, path: Path, poll: float = 0.2):
        self.path, self.poll, self.fd = path, poll, None

    def __enter__(self) -> "_Lock":
        self.fd = os.open(self.path, os.O_CREAT | os.O_RDWR)
        if os.name != "nt":
            return self._lock_posix()
        import msvcrt

        while True:
            try:
                msvcrt.locking(self.fd, msvcrt.LK_NBLCK, 1)
                return self
            except OSError:
                time.sleep(self.poll)

    def _lock_posix(self) -> "_Lock":
        """Lock, then check the file is still the one at ``path``: the holder before us
        deletes it on the way out, so a lock on a deleted file means start again."""
        import fcntl

        while True:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
            try:
                if os.stat(self.path).st_ino == os.fstat(self.fd).st_ino:
                    return self
            except FileNotFoundError:
                pass
            os.close(self.fd)
            self.fd = os.open(self.path, os.O_CREAT | os.O_RDWR)

    def __exit__(self, *exc) -> None:
        if os.name == "nt":
            import msvcrt

            msvcrt.locking(self.fd, msvcrt.LK_UNLCK, 1)
            os.close(self.fd)
            return
        import fcntl

        self.path.unlink(missing_ok=True)  # no empty .lock left in the cache; still holding it
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
