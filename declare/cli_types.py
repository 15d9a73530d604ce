"""Option types shared by every command.

click's FLOAT and FloatRange accept "nan" and "inf" (NaN compares false with
both bounds), and a NaN strength or learning rate fails far from where it was
typed, or not at all. Every float option is one of these.
"""

from __future__ import annotations

import math

import click


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
