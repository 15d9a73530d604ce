"""The ``declare`` command line.

``declare photo.jpg -o clean.jpg`` is the main job, so a group whose first
argument is not a subcommand runs ``clean``: the photos need no verb.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from declare import __version__
from declare.options import Options, photo_options
from declare.program import program


class DefaultGroup(click.Group):
    """A click group that falls back to ``default_command`` for anything else.

    ``train`` and ``bench`` live in their own packages and are imported only when
    asked for (building train's options from its dataclass takes 50 ms that a
    photo need not wait)."""

    default_command = "clean"
    lazy = {"train": "declare.training.command", "bench": "declare.bench.command"}

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
            click.echo(f"declare: error: {exc.format_message()}{hint}", err=True)
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


@main.command()
def presets() -> None:
    """List the network size presets and their parameter counts."""
    _needs("presets", "torch")
    from declare_models import count_parameters, create_model, describe_preset, list_presets

    click.echo(f"{'preset':<8} {'student':>12} {'teacher':>12}  description")
    for name in list_presets():
        student, teacher = (count_parameters(create_model(arch, name)) for arch in ("student", "teacher"))
        click.echo(f"{name:<8} {student:>12,} {teacher:>12,}  {describe_preset(name)}")


@main.group()
def models() -> None:
    """Registered models: list, download, locate and remove cached weights."""


def _entry(name: str):
    from declare.weights import WeightsError, get_entry

    try:
        return get_entry(name, file_hint=False)
    except WeightsError as exc:
        raise click.ClickException(str(exc)) from None


@models.command("list")
def models_list() -> None:
    """What models exist, which are cached, and their sizes."""
    from declare import registry
    from declare.weights import bundled_path, cache_dir, cached_path, partial_path

    click.echo(f"cache: {cache_dir()}")
    if not registry.MODELS:
        click.echo("no models are registered yet; use --model PATH with a checkpoint of your own")
        return
    rows = [("name", "arch", "preset", "size", "status", "licence", "description")]
    for name, e in sorted(registry.MODELS.items()):
        status = ("bundled" if bundled_path(e) else "cached" if cached_path(e).is_file()
                  else "partial" if partial_path(e).exists() else "-")
        mark = "*" if name in (registry.default_model(), registry.default_model(burst=True)) else ""
        rows.append((name + mark, e.arch, e.preset, f"{e.size / 2**20:.1f} MB", status, e.licence, e.description))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for r in rows:  # every column as wide as its widest cell; the description runs on
        cells = [c.rjust(w) if i == 3 else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))]
        click.echo("  ".join(cells + [r[-1]]))
    if registry.default_model() or registry.default_model(burst=True):
        click.echo("* a default: for one photo (student) or for --burst (teacher)")


@models.command("show")
@click.argument("name")
def models_show(name: str) -> None:
    """What NAME is: a registered model (its weights, preset, licence) or a preset (its size)."""
    import dataclasses

    from declare.extras import installed

    if not installed("torch"):
        _known_without_torch(name)
    _needs("models show", "torch")

    from declare import registry
    from declare_models import count_parameters, create_model

    try:
        found = registry.lookup(name)
    except KeyError as exc:
        raise click.ClickException(exc.args[0]) from None
    if found.entry is not None:
        e = found.entry
        click.echo(f"{name}: registered {e.arch}, preset {found.preset}, {e.size / 2**20:.1f} MB, "
                   f"{'bundled' if e.bundled else 'downloaded on first use'}")
        click.echo(f"licence: {e.licence}")
    else:
        click.echo(f"{name}: a preset (network size); train it with '{program()} train --preset {name}'")
    click.echo(f"about: {found.description}")
    student = count_parameters(create_model("student", found.config))
    click.echo(f"student parameters: {student:,}")
    fields = ", ".join(f"{k}={v}" for k, v in dataclasses.asdict(found.config).items())
    click.echo(f"config: {fields}")


def _known_without_torch(name: str) -> None:
    """Refuse a name that is neither a registered model nor a preset one of them uses
    (the full list of presets needs PyTorch): an unknown name is the error to report."""
    from declare import registry

    if name not in registry.MODELS and name not in {e.preset for e in registry.MODELS.values()}:
        raise click.ClickException(f"unknown model {name!r}: not a registered model "
                                   f"({', '.join(sorted(registry.MODELS))})")


@models.command("export")
@click.argument("model", metavar="NAME|CHECKPOINT")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None, metavar="BASE",
              help="Write BASE.onnx (and BASE.statistics.onnx). Default: beside a checkpoint, "
                   "or NAME in this folder for a registered model.")
def models_export(model: str, output: Path | None) -> None:
    """Make the ONNX graphs the ONNX Runtime engine runs from a checkpoint (needs declare[train]).

    \b
      declare-photo models export runs/mine/student.safetensors
      declare-photo photo.jpg --model runs/mine/student.safetensors   runs without PyTorch
    """
    _needs("models export", "torch", "onnx", extra="train")
    from declare.checkpoint import CheckpointError
    from declare.export import export_checkpoint
    from declare.weights import WeightsError, names_file, resolve

    try:
        checkpoint = resolve(model)
        base = output if output is not None else None if names_file(model) else Path(model)
        for path in export_checkpoint(checkpoint, base):
            click.echo(f"wrote {path}")
    except (CheckpointError, WeightsError) as exc:
        raise click.ClickException(str(exc)) from None


def _needs(what: str, *modules: str, extra: str | None = None) -> None:
    """One error line naming the extra to install unless ``modules`` are installed."""
    from declare.extras import EXIT_STATUS, MissingExtra, require

    try:
        require(what, *modules, extra=extra)
    except MissingExtra as exc:
        error = click.ClickException(str(exc))
        error.exit_code = EXIT_STATUS
        raise error from None


@models.command("download")
@click.argument("name")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def models_download(name: str, quiet: bool) -> None:
    """Download NAME and its ONNX graphs into the cache (resuming, verified); print their paths."""
    from declare.weights import WeightsError, fetch

    entry = _entry(name)
    try:
        for part in (entry, *entry.graph_entries()):
            click.echo(fetch(part, progress=not quiet))
    except WeightsError as exc:
        raise click.ClickException(str(exc)) from None


@models.command("path")
@click.argument("name")
def models_path(name: str) -> None:
    """Print where NAME's weights are (or would be) cached; exit 1 if absent."""
    from declare.weights import bundled_path, cached_path

    entry = _entry(name)
    path = bundled_path(entry) or cached_path(entry)
    click.echo(path)
    if not path.is_file():
        click.echo(f"declare: {name} is not downloaded yet ('{program()} models download {name}')", err=True)
        sys.exit(1)


@models.command("remove")
@click.argument("name")
def models_remove(name: str) -> None:
    """Delete NAME's cached weights (and any partial download)."""
    from declare.weights import bundled_path, remove

    entry = _entry(name)
    gone = remove(entry)
    if gone:
        click.echo(f"removed {', '.join(str(p) for p in gone)}")
    elif bundled_path(entry):
        click.echo(f"{name} ships inside the package and is not cached; nothing to remove")
    else:
        click.echo(f"{name} was not cached")


@main.group()
def plugins() -> None:
    """Exporter plugins (GIMP, darktable, third-party): list and install."""


@plugins.command("list")
def plugins_list() -> None:
    """Installed exporters, where they come from, and any that failed to load."""
    from declare.plugins import GROUP, discover

    found = discover()
    if not found.exporters and not found.broken:
        click.echo(f"no exporters installed (entry-point group {GROUP})")
    for name, exporter in sorted(found.exporters.items()):
        installable = f"  [{program()} plugins install {name}]" if hasattr(exporter, "install") else ""
        click.echo(f"{name:<12} {found.sources[name]:<10} {getattr(exporter, 'description', '')}{installable}")
    for name, why in sorted(found.broken.items()):
        click.echo(f"{name:<12} {found.sources[name]:<10} BROKEN: {why}")


@plugins.command("install")
@click.argument("name")
@click.option("--dest", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Install under this folder instead of the editor's own (e.g. a portable setup).")
def plugins_install(name: str, dest: Path | None) -> None:
    """Put NAME's editor-side script where the editor finds it (gimp, darktable)."""
    from declare.plugins import discover

    found = discover()
    if name in found.broken:
        raise click.ClickException(f"plugin {name} is broken: {found.broken[name]}")
    exporter = found.exporters.get(name)
    if exporter is None:
        raise click.ClickException(f"no plugin named {name!r}; installed: {', '.join(found.exporters) or 'none'}")
    if not hasattr(exporter, "install"):
        raise click.ClickException(f"plugin {name} has nothing to install")
    try:
        written = exporter.install(dest)
    except OSError as exc:
        raise click.ClickException(f"cannot install {name}: {exc}") from None
    for path in written:
        click.echo(f"installed {path}")
    if dest is None:  # a Flatpak or Snap editor reads its own folder, and runs in a sandbox
        for label, folder in getattr(exporter, "sandboxed", lambda: [])():
            how = (f"'{program()} plugins install {name} --dest {folder}' (README: Flatpak)" if label == "Flatpak"
                   else "a Snap editor cannot run programs outside its sandbox (README: Snap)")
            click.echo(f"note: a {label} {name} is here too, reading {folder}; {how}")
