"""Atomic file writes: every file declare writes appears whole or not at all."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | Path, replace: bool = True) -> Iterator[Path]:
    """A temporary file beside ``path`` to write; renamed onto ``path`` when the
    block succeeds, deleted when it fails (Ctrl-C included).

    The temporary file lives in the target folder so the rename is atomic, and
    gets the permissions a plain ``open()`` would have given (mkstemp's are 0600).
    With ``replace=False`` a file that exists at ``path`` by then (another run's,
    one made while this one worked) is left alone and FileExistsError raised.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        if replace:
            os.replace(tmp, path)
        else:
            _rename_no_replace(Path(tmp), path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _rename_no_replace(tmp: Path, path: Path) -> None:
    """Atomic no-clobber rename: a hard link fails if ``path`` exists (then the
    temporary name goes). Where hard links are not supported (some network and
    FAT file systems), an exclusive create claims the name first."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)  # FileExistsError if taken
        os.close(fd)
        os.replace(tmp, path)
        return
    tmp.unlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
