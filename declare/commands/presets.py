"""`declare-photo presets`: the network size presets and their parameter counts."""

from __future__ import annotations

import click

from declare.program import needs


@click.command()
def presets() -> None:
    """List the network size presets and their parameter counts."""
    needs("presets", "torch")
    from declare_models import count_parameters, create_model, describe_preset, list_presets

    click.echo(f"{'preset':<8} {'student':>12} {'teacher':>12}  description")
    for name in list_presets():
        student, teacher = (count_parameters(create_model(arch, name)) for arch in ("student", "teacher"))
        click.echo(f"{name:<8} {student:>12,} {teacher:>12,}  {describe_preset(name)}")
