"""`declare-photo models`: registered models, their weights and their ONNX graphs."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from declare.program import needs, program


@click.group()
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
    from declare.download import cache_dir, cached_path, partial_path
    from declare.weights import bundled_path

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
    needs("models show", "torch")

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
    needs("models export", "torch", "onnx", extra="train")
    from declare.checkpoint import CheckpointError
    from declare.export import export_checkpoint
    from declare.model_name import parse_model_name
    from declare.weights import WeightsError, resolve

    try:
        checkpoint = resolve(model)
        base = output if output is not None else None if parse_model_name(model).is_file else Path(model)
        for path in export_checkpoint(checkpoint, base):
            click.echo(f"wrote {path}")
    except (CheckpointError, WeightsError) as exc:
        raise click.ClickException(str(exc)) from None


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
    from declare.download import cached_path
    from declare.weights import bundled_path

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
    from declare.download import remove
    from declare.weights import bundled_path

    entry = _entry(name)
    gone = remove(entry)
    if gone:
        click.echo(f"removed {', '.join(str(p) for p in gone)}")
    elif bundled_path(entry):
        click.echo(f"{name} ships inside the package and is not cached; nothing to remove")
    else:
        click.echo(f"{name} was not cached")
