"""Option types shared by every command.

click's FLOAT and FloatRange accept "nan" and "inf" (NaN compares false with
both bounds), and a NaN strength or learning rate fails far from where it was
typed, or not at all. Every float option is one of these.
"""

from __future__ import annotations

import math

import click

from declare.device import usable_cores


class FiniteFloat(click.FloatRange):
    """A float that is a real number, within optional bounds."""

    name = "float"

    def convert(self, value, param, ctx):
        number = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return super().convert(number, param, ctx)

    def _describe_range(self) -> str:
        """No range in the help when there are no bounds (click would print "x<=None")."""
        return "" if self.min is None and self.max is None else super()._describe_range()


class Threads(click.IntRange):
    """A thread count: 0 (every core) or at most the machine's cores; more is lowered to
    them with a warning (1,000 threads on 2 cores ran a small photo 200 times slower).
    A bad DECLARE_THREADS is reported under its own name, not as --threads."""

    name = "integer"

    def __init__(self) -> None:
        super().__init__(min=0)

    def convert(self, value, param, ctx):
        source = ctx.get_parameter_source(param.name) if ctx is not None and param is not None else None
        from_env = source == click.core.ParameterSource.ENVIRONMENT
        try:
            count = super().convert(value, param, ctx)
        except click.BadParameter as exc:
            if not from_env:
                raise
            raise click.BadParameter(exc.message, ctx=ctx, param_hint=f"{param.envvar}={value!r}") from None
        cores = usable_cores()
        if count > cores:
            where = f"{param.envvar}={value}" if from_env else f"--threads {value}"
            from declare.program import line

            click.echo(line("warning", f"this machine runs {cores} threads at once; using {cores}", where), err=True)
            return cores
        return count
