"""The name to put in front of a command we tell the user to run.

In bash, zsh and ksh ``declare`` is a shell builtin that swallows the
arguments and prints nothing, so advice must name the program the user
actually started (``declare-photo``, ``declare`` from fish or a plug-in,
``python -m declare``), or ``declare-photo`` where that cannot be known
(help texts, the man page, the README): it works in every shell.
"""

from __future__ import annotations

KNOWN = ("declare-photo", "declare", "python -m declare")
DEFAULT = "declare-photo"


def program() -> str:
    """The program name of the running command, as the user typed it."""
    import click

    ctx = click.get_current_context(silent=True)
    name = ctx.find_root().info_name if ctx is not None else None
    return name if name in KNOWN else DEFAULT
