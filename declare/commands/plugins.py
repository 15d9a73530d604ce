"""`declare-photo plugins`: exporter plugins, listed and installed."""

from __future__ import annotations

from pathlib import Path

import click

from declare.program import program


@click.group()
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
