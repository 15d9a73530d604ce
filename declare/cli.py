"""The ``declare`` command line."""

from __future__ import annotations

import click

from declare import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="declare")
def main() -> None:
    """Remove reflections from photos taken through glass."""


@main.command()
def presets() -> None:
    """List the network size presets and their parameter counts."""
    from declare_models import Student, Teacher, count_parameters, describe_preset, get_config, list_presets

    click.echo(f"{'preset':<8} {'student':>12} {'teacher':>12}  description")
    for name in list_presets():
        cfg = get_config(name)
        student, teacher = count_parameters(Student(cfg)), count_parameters(Teacher(cfg))
        click.echo(f"{name:<8} {student:>12,} {teacher:>12,}  {describe_preset(name)}")
