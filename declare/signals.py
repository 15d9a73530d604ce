"""SIGTERM and SIGHUP stop declare the way Ctrl-C does.

Their default action kills the process on the spot, and a photo being written
leaves its hidden ``.NAME.*.part`` file behind (the clean-up in
:mod:`declare.atomic` runs only on Python exceptions). Raised as
:class:`Stopped`, a kind of KeyboardInterrupt, they take Ctrl-C's path: no
partial file, a message, and the shell's exit status for the signal (128 + its
number: 143 for SIGTERM, 129 for SIGHUP; Ctrl-C's is 130).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

CAUGHT = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class Stopped(KeyboardInterrupt):
    """The process was asked to stop by a signal other than Ctrl-C's."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
        self.name = signal.Signals(signum).name


def _stopped(exc: BaseException | None) -> Stopped | None:
    """The Stopped behind ``exc`` (click wraps it in Abort), or None for a plain Ctrl-C."""
    while exc is not None and not isinstance(exc, Stopped):
        exc = exc.__cause__ or exc.__context__
    return exc


def exit_status(exc: BaseException | None) -> int:
    """128 + the signal's number for a Stopped, else Ctrl-C's 130."""
    stopped = _stopped(exc)
    return 128 + stopped.signum if stopped is not None else 130


def what_stopped(exc: BaseException | None) -> str:
    """'interrupted', or 'stopped by SIGTERM'."""
    stopped = _stopped(exc)
    return f"stopped by {stopped.name}" if stopped is not None else "interrupted"


def _raise(signum, frame):
    raise Stopped(signum)


@contextmanager
def stop_like_ctrl_c() -> Iterator[None]:
    """While the block runs, SIGTERM and SIGHUP raise Stopped (main thread only; the
    previous handlers come back after it)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, _raise) for s in CAUGHT}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
