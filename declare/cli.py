"""The ``declare`` command line.

``declare photo.jpg -o clean.jpg`` is the main job, so a group whose first
argument is not a subcommand runs ``clean``: the photos need no verb.
"""

from __future__ import annotations

import sys

import click

from declare import __version__
from declare.options import Options, photo_options
from declare.program import line


class DefaultGroup(click.Group):
    """A click group that falls back to ``default_command`` for anything else.

    ``train`` and ``bench`` live in their own packages and are imported only when
    asked for (building train's options from its dataclass takes 50 ms that a
    photo need not wait)."""

    default_command = "clean"
    lazy = {"train": "declare.training.command", "bench": "declare.bench.command",
            "models": "declare.commands.models", "plugins": "declare.commands.plugins",
            "presets": "declare.commands.presets"}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, name: str):
        if name in self.lazy and name not in self.commands:
            import importlib

            self.add_command(getattr(importlib.import_module(self.lazy[name]), name))
        return self.commands.get(name)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        own = {"-h", "--help", "-V", "--version"}
        if args and args[0] not in self.commands and args[0] not in self.lazy and args[0] not in own:
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)

    def main(self, *args, standalone_mode: bool = True, **kwargs):
        """Click's errors in our one-line style (``declare: error: ...``), like every other error."""
        from declare.signals import exit_status, stop_like_ctrl_c, what_stopped

        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            with stop_like_ctrl_c():
                return super().main(*args, standalone_mode=False, **kwargs)
        except click.ClickException as exc:
            hint = " (see --help)" if isinstance(exc, click.UsageError) else ""
            click.echo(line("error", exc.format_message() + hint), err=True)
            sys.exit(exc.exit_code)
        except click.exceptions.Abort as exc:
            click.echo(f"declare: {what_stopped(exc)}", err=True)
            sys.exit(exit_status(exc))

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The photo command's options first: they are what most people came for."""
        command = self.commands[self.default_command]
        options = [p for p in command.get_params(ctx)
                   if isinstance(p, click.Option) and "--help" not in p.opts]
        with formatter.section("Photo options"):
            formatter.write_dl([r for r in (p.get_help_record(ctx) for p in options) if r])
        super().format_options(ctx, formatter)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, "[OPTIONS] PHOTOS...")
        formatter.write_usage(ctx.command_path, "COMMAND [ARGS]...", prefix="   or: ")


@click.group(cls=DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="declare")
def main() -> None:
    """Remove reflections from photos taken through glass.

    \b
      declare-photo photo.jpg -o clean.jpg      one photo
      declare-photo shots/ -o cleaned/ -r       a folder, with subfolders
      declare-photo 'trip/*.jpg' --skip-existing   resume a batch
      declare-photo --burst a.jpg b.jpg c.jpg   three views: cleans b.jpg

    (In bash, zsh and ksh 'declare' is a shell builtin: use declare-photo or
    python -m declare there; 'declare' works from fish, dash and programs.)
    """


@main.command()
@click.argument("photos", nargs=-1, required=True, metavar="PHOTOS...")
@photo_options
def clean(photos, **values):
    """Remove reflections from PHOTOS (files, globs or folders)."""
    from declare.batch import run

    opts = Options.from_click(values)
    if opts.problem():
        raise click.UsageError(opts.problem())
    sys.exit(run(list(photos), opts))
