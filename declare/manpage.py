"""man/declare.1, generated from the click command tree so it cannot drift.

    python -m declare.manpage > man/declare.1

A test regenerates the page and compares it with the committed one.
"""

from __future__ import annotations

import inspect

import click

from declare import __version__
from declare.program import DEFAULT

HEADER = """.TH DECLARE 1 "" "declare {version}" "User Commands"
.SH NAME
declare \\- remove reflections from photos taken through glass
.SH SYNOPSIS
.B declare
[\\fIOPTIONS\\fR] \\fIPHOTOS\\fR...
.br
.B declare
\\fICOMMAND\\fR [\\fIARGS\\fR]...
.br
.B declare\\-photo
\\&... (the same program; bash, zsh and ksh have a builtin named declare)
"""

FOOTER = """.SH ENVIRONMENT
.TP
.B DECLARE_CACHE_DIR
Where downloaded model weights are kept (default: the platform's user cache folder).
.TP
.B DECLARE_OFFLINE
Set to 1 to never download; missing weights are named so they can be placed by hand.
.TP
.B DECLARE_WEIGHTS_URL
A mirror to download weights from instead of the registered addresses.
.TP
.B DECLARE_THREADS
CPU threads to use, as \\-\\-threads (0: every core; more than the cores is lowered to them).
.SH EXIT STATUS
0 when every photo was cleaned or skipped, 1 when any failed, 2 when the run
could not start (model, device, settings, a missing extra such as declare[torch]),
130 when interrupted with Ctrl\\-C, 143 on SIGTERM, 129 on SIGHUP.
.SH SEE ALSO
The README of the declare project; \\fBtorchrun\\fR(1) for training on several processes.
"""


def _roff(text: str) -> str:
    """Escape text for roff: backslashes, leading dots and quotes, hyphens in options."""
    text = text.replace("\\", "\\e")
    lines = []
    for line in text.splitlines():
        if line.startswith((".", "'")):
            line = "\\&" + line
        lines.append(line)
    return "\n".join(lines)


def _help_text(command: click.Command) -> str:
    """Paragraphs; click's \\b (keep as typed) blocks become .nf/.fi blocks."""
    out = []
    for paragraph in inspect.cleandoc(command.help or "").split("\n\n"):
        if paragraph.startswith("\b\n"):
            out += [".nf", _roff(paragraph[2:]), ".fi"]
        else:
            out += [_roff(" ".join(paragraph.split()))]
        out.append(".PP")
    return "\n".join(out[:-1])


def _options(ctx: click.Context, command: click.Command) -> list[str]:
    out = []
    for param in command.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is None:
            continue
        names, help_text = record
        if isinstance(param, click.Argument) and not help_text:
            continue
        out += [".TP", f"\\fB{_roff(names).replace('-', chr(92) + '-')}\\fR", _roff(help_text or "")]
    return out


PROGRAM = DEFAULT.replace("-", "\\-")  # what works in every shell (declare/program.py)


def _section(ctx: click.Context, command: click.Command, path: list[str]) -> list[str]:
    lines = []
    if path:
        usage = " ".join(command.collect_usage_pieces(ctx))
        lines += [".SS " + " ".join([PROGRAM, *path]), f".B {PROGRAM} {' '.join(path)}",
                  _roff(usage), ".PP", _help_text(command)]
    lines += _options(ctx, command)
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is None or sub.hidden:
                continue
            with sub.make_context(name, [], parent=ctx, resilient_parsing=True) as sub_ctx:
                lines += _section(sub_ctx, sub, [*path, name])
    return lines


def render() -> str:
    from declare.cli import main

    with main.make_context("declare", [], resilient_parsing=True) as ctx:
        description = [".SH DESCRIPTION", _help_text(main), ".PP",
                       f"Without a command name, the arguments are photos for \\fB{PROGRAM} clean\\fR.",
                       ".SH OPTIONS"] + _options(ctx, main) + [".SH COMMANDS"]
        body = []
        for name in main.list_commands(ctx):
            sub = main.get_command(ctx, name)
            with sub.make_context(name, [], parent=ctx, resilient_parsing=True) as sub_ctx:
                body += _section(sub_ctx, sub, [name])
    return HEADER.format(version=__version__) + "\n".join(description + body) + "\n" + FOOTER


if __name__ == "__main__":
    print(render(), end="")
