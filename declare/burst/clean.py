"""A burst's reference view cleaned: aligned views composed, or the teacher run on them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from declare.burst import MAX_VIEWS, METHODS, MIN_VIEWS, middle
from declare.burst.align import AlignConfig
from declare.burst.compose import ComposeConfig, compose
from declare.burst.pipeline import AlignedBurst, align_burst

if TYPE_CHECKING:
    from declare.session import Session


@dataclass
class BurstResult:
    transmission: np.ndarray            # H x W x 3, the reference cleaned
    reference: int                      # which view that is (0-based)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def clean_burst(frames: list[np.ndarray], reference: int | None = None, method: str = "classical",
                session: "Session | None" = None, tile: int = 0, overlap: int = 0, progress=None,
                align: AlignConfig = AlignConfig(), composition: ComposeConfig = ComposeConfig(),
                labels: list[str] | None = None) -> BurstResult:
    """The reference view of ``frames`` (H x W x 3 float arrays in [0, 1], sizes may differ)
    with its reflection removed. ``labels`` name the views in warnings (default: view 1..N)."""
    if not MIN_VIEWS <= len(frames) <= MAX_VIEWS:
        raise ValueError(f"a burst has {MIN_VIEWS} to {MAX_VIEWS} views, got {len(frames)}")
    if method not in METHODS:
        raise ValueError(f"unknown burst method {method!r} ({', '.join(METHODS)})")
    ref = middle(len(frames)) if reference is None else reference
    if not 0 <= ref < len(frames):
        raise ValueError(f"reference {reference} is not one of the {len(frames)} views (0 to {len(frames) - 1})")
    labels = labels or [f"view {i + 1}" for i in range(len(frames))]
    burst = align_burst(frames, ref, align)
    out = BurstResult(frames[ref], ref)
    for i, why in burst.left_out.items():
        out.warnings.append(f"{labels[i]} left out: it could not be aligned ({why})")
    if not burst.views:
        out.warnings.append("no other view could be aligned; the reference is written unchanged")
        return out
    if burst.still:
        out.warnings.append(f"the views barely move ({burst.motion:.1f} px); with nothing to tell "
                            "the reflection from the scene, the reference is written unchanged")
        return out
    out.transmission = compose(burst.reference, burst.views, burst.weights, composition)
    if method == "teacher":
        if session is None:
            raise ValueError("the teacher method needs a session with a teacher model")
        out.transmission = session.clean_burst(_three_views(burst, out.transmission), tile, overlap, progress)
    out.notes.append(f"{len(burst.views) + 1} views aligned, the scene moving {burst.motion:.0f} px")
    return out


def _three_views(burst: AlignedBurst, middle: np.ndarray) -> list[np.ndarray]:
    """The teacher's (before, middle, after): the two aligned views nearest the reference,
    the one view twice if only one is left, where a view is unsure the reference; in the
    middle the classical composite (measured on the real bursts against the reference itself
    there: +0.80 dB against +0.27 over the input, better on each of the seven sequences)."""
    order = sorted(range(len(burst.views)), key=lambda k: abs(burst.indices[k] - burst.index))[:2]
    chosen = [burst.weights[k][..., None] * burst.views[k] + (1 - burst.weights[k][..., None]) * burst.reference
              for k in order]
    if len(chosen) == 1:
        chosen.append(chosen[0])
    return [chosen[0], middle, chosen[1]]

