"""How the command line speaks: the program's name in advice, and one style of line.

In bash, zsh and ksh ``declare`` is a shell builtin that swallows the
arguments and prints nothing, so advice must name the program the user
actually started (``declare-photo``, ``declare`` from fish or a plug-in,
``python -m declare``), or ``declare-photo`` where that cannot be known
(help texts, the man page, the README, the library used from Python): it works
in every shell. Every error and warning is one line in one style,
``declare[ COMMAND]: error: [WHERE: ]MESSAGE``. Nothing here imports click
unless the command line has already.
"""

from __future__ import annotations

import sys

KNOWN = ("declare-photo", "declare", "python -m declare")
DEFAULT = "declare-photo"


def program() -> str:
    """The program name of the running command, as the user typed it."""
    click = sys.modules.get("click")  # the library used from Python has no command line
    ctx = click.get_current_context(silent=True) if click is not None else None
    name = ctx.find_root().info_name if ctx is not None else None
    return name if name in KNOWN else DEFAULT


def line(kind: str, message: str, where: str | None = None, command: str | None = None) -> str:
    """``declare[ COMMAND]: KIND: [WHERE: ]MESSAGE``: every error and warning the user reads."""
    return f"declare{' ' + command if command else ''}: {kind}: {where + ': ' if where else ''}{message}"


def needs(what: str, *modules: str, extra: str | None = None) -> None:
    """A click error (one line, the missing-extra exit status) unless ``modules`` are installed."""
    import click

    from declare.extras import EXIT_STATUS, MissingExtra, require

    try:
        require(what, *modules, extra=extra)
    except MissingExtra as exc:
        error = click.ClickException(str(exc))
        error.exit_code = EXIT_STATUS
        raise error from None
