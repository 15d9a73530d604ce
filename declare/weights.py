"""Model weights: find, download once, verify, cache.

Files live in the user cache folder (``DECLARE_CACHE_DIR`` overrides it). A
download streams to ``NAME.safetensors.part``, resumes with an HTTP Range
request after an interruption, is checked against the registry's size and
sha256, and only then is renamed into place (a model's ONNX graphs the same
way); a lock file keeps two runs from writing the same file. ``DECLARE_WEIGHTS_URL`` replaces the registry's hosts
with a mirror; ``DECLARE_OFFLINE=1`` never touches the network. Only
safetensors checkpoints and ONNX graphs are accepted, so nothing from the network
is unpickled.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from declare import registry
from declare.registry import ModelEntry

CHUNK = 1 << 16
TIMEOUT = (10.0, 30.0)  # connect, read (seconds)
PACKAGE_WEIGHTS = Path(__file__).with_name("bundled")  # weights shipped inside the package


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


def get_entry(name: str, file_hint: bool = True) -> ModelEntry:
    """A registered model; ``file_hint``: the error suggests a checkpoint file (where
    one is accepted, as by --model; not by 'models download')."""
    try:
        return registry.MODELS[name]
    except KeyError:
        known = ", ".join(sorted(registry.MODELS)) or "none yet"
        hint = "; pass a checkpoint file path instead" if file_hint else ""
        raise WeightsError(f"unknown model {name!r} (registered: {known}){hint}") from None


def cached_path(entry: ModelEntry) -> Path:
    return cache_dir() / entry.filename


def bundled_path(entry: ModelEntry) -> Path | None:
    if entry.bundled is None:
        return None
    path = PACKAGE_WEIGHTS / entry.bundled
    return path if path.is_file() else None


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


def resolve(spec: str | None, progress: bool = True, burst: bool = False) -> Path:
    """A checkpoint file for ``--model``: a path, a registered name, or the default
    (for one photo, or with ``burst`` for three views)."""
    spec = spec if spec is not None else _default(burst)
    path = Path(spec).expanduser()
    if names_file(spec):
        if not path.exists():
            raise WeightsError(f"--model {spec}: no such checkpoint file")
        return path
    return fetch(get_entry(spec), progress=progress)


def names_file(spec: str) -> bool:
    """Whether ``--model SPEC`` names a file (a path, or a checkpoint or graph's suffix),
    not a registered model."""
    return (Path(spec).expanduser().exists() or os.sep in spec
            or spec.endswith((".safetensors", ".pt", ".pth", ".ckpt", ".onnx")))


@dataclass(frozen=True)
class Graphs:
    """The ONNX graphs of one model, for the ONNX Runtime engine."""

    main: Path
    statistics: Path | None        # a student's statistics graph (two-pass tiling); None: a teacher's
    checkpoint_sha256: str | None  # the checkpoint they must have been made from (a user's own)


class GraphsMissing(WeightsError):
    """A model with no ONNX graphs to run (or stale ones); the PyTorch engine can still run it."""


def graph_paths(base: Path) -> tuple[Path, Path]:
    """Where the graphs of checkpoint ``base``.safetensors live: (main, statistics)."""
    return base.with_name(base.name + ".onnx"), base.with_name(base.name + ".statistics.onnx")


def resolve_graphs(spec: str | None, progress: bool = True, burst: bool = False) -> Graphs:
    """The ONNX graphs for ``--model``: a registered model's (fetched and verified), the
    ones exported beside a checkpoint file, or an .onnx file given itself."""
    spec = spec if spec is not None else _default(burst)
    path = Path(spec).expanduser()
    if spec.endswith(".onnx"):
        if not path.is_file():
            raise WeightsError(f"--model {spec}: no such ONNX file")
        return Graphs(path, graph_paths(path.with_suffix(""))[1], None)
    if names_file(spec):
        checkpoint = resolve(spec, progress, burst)
        main, statistics = graph_paths(checkpoint.with_suffix(""))
        if not main.is_file():
            from declare.program import program

            raise GraphsMissing(f"--model {spec}: no ONNX graph beside it ({main.name}); make it with "
                                f"'{program()} models export {spec}' (needs declare[train]), or run "
                                "it with --engine torch")
        return Graphs(main, statistics, sha256_of(checkpoint))
    entry = get_entry(spec)
    if not entry.graphs:
        raise GraphsMissing(f"model {entry.name} has no ONNX graphs; run it with --engine torch")
    paths = [fetch(part, progress=progress) for part in entry.graph_entries()]
    return Graphs(paths[0], paths[1] if len(paths) > 1 else None, None)


def _default(burst: bool) -> str:
    spec = registry.default_model(burst)
    if spec is None:
        raise WeightsError(f"no trained {'burst ' if burst else ''}model is installed yet; pass "
                           "--model PATH to a declare checkpoint (.safetensors), e.g. one made "
                           "by 'declare-photo train'")
    return spec


def fetch(entry: ModelEntry, progress: bool = True, timeout=TIMEOUT) -> Path:
    """The verified local file of ``entry``: bundled, cached, or downloaded now."""
    shipped = bundled_path(entry)
    if shipped is not None:
        if not is_valid(entry, shipped):  # small: checking costs milliseconds
            raise WeightsError(f"{shipped}: the model shipped with declare is damaged (its size or "
                               f"sha256 is not the registered {entry.sha256[:12]}...); reinstall declare")
        return shipped
    path = cached_path(entry)
    if path.is_file():
        if is_valid(entry, path):
            return path
        path.unlink()  # damaged or stale: fetch it again
    if offline():
        raise WeightsError(f"{entry.name} is not cached and DECLARE_OFFLINE is set; "
                           + _by_hand(entry))
    return download(entry, progress=progress, timeout=timeout)


def _by_hand(entry: ModelEntry) -> str:
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
    raise WeightsError(f"cannot download {entry.name} ({reason}); " + _by_hand(entry))


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
