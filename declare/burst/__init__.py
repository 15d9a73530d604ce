"""Cleaning a burst: two to nine views of one scene through glass.

The views are registered onto the reference on the scene behind the glass
(:mod:`declare.burst.align`), brought to its exposure, then composed:

- ``classical``: the guarded lower envelope of :mod:`declare.burst.compose`,
  no network; it can only take light away where another view shows less;
- ``teacher``: the three-view teacher network (the paper's model; needs a
  teacher checkpoint) on the classical composite and the reference's two
  nearest aligned views: it takes away more than the composite alone, and
  changes more elsewhere.

Whatever the method, a burst that cannot help is answered with the reference
itself and a warning, never a darker copy: views that cannot be registered are
left out by name, and views that barely move give nothing to compose.
"""

from __future__ import annotations

METHODS = ("classical", "teacher")
MIN_VIEWS, MAX_VIEWS = 2, 9


def middle(count: int) -> int:
    """The default reference: the middle view (the earlier of the two middle ones)."""
    return (count - 1) // 2
