"""A burst's views brought onto the reference: registered, warped, exposure-matched."""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from declare.burst.align import (AlignConfig, AlignError, exposure_gains, gray, homography_to, reference,
                                 register, sampling_map, shrink, warp_view, work_scale)

MIN_MOTION_PX = 0.75  # below this (full-size px, median over the views) the scene barely moves
MIN_CHANGE = 0.03     # and if nothing differs more than this (99th percentile), nothing moved at all


@dataclass
class AlignedBurst:
    index: int                                # the reference's place in the burst
    reference: np.ndarray                     # H x W x 3, the view being cleaned
    views: list[np.ndarray]                   # the other views, warped and exposure-matched
    weights: list[np.ndarray]                 # H x W confidence of each, in [0, 1]
    indices: list[int]                        # each kept view's place in the burst
    left_out: dict[int, str] = field(default_factory=dict)   # index -> why
    motion: float = 0.0                       # median scene motion over kept views, full-size px
    change: float = 0.0                       # the largest view's 99th-percentile difference

    @property
    def still(self) -> bool:
        """Nothing moves: neither the scene nor anything in front of it (a reflection can move
        while the scene stays, when what it mirrors moves)."""
        return not self.views or (self.motion < MIN_MOTION_PX and self.change < MIN_CHANGE)


def align_burst(frames: list[np.ndarray], index: int, cfg: AlignConfig = AlignConfig()) -> AlignedBurst:
    """Every frame but the one at ``index`` registered and warped onto it; frames that cannot
    be are left out with the reason (the caller warns)."""
    ref = frames[index]
    scale = work_scale(ref.shape, cfg)
    ref_g = gray(shrink(ref, scale))
    target = reference(ref_g, cfg)
    out = AlignedBurst(index, ref, [], [], [])
    motions, changes = [], []
    grays = {i: gray(shrink(f, work_scale(f.shape, cfg))) for i, f in enumerate(frames) if i != index}
    homographies = {}
    for i in sorted(grays, key=lambda k: abs(k - index)):   # nearest first: a far view may need its neighbour
        frame, view_g = frames[i], grays[i]
        try:
            reg = _register(target, grays, homographies, i, index, cfg)
        except AlignError as exc:
            out.left_out[i] = str(exc)
            continue
        homographies[i] = reg.homography
        view_up = (frame.shape[1] / view_g.shape[1], frame.shape[0] / view_g.shape[0])
        maps = sampling_map(reg, ref_g.shape[1] / ref.shape[1], view_up, ref.shape[:2])
        warped, inside = warp_view(frame, maps)
        weight = _full_size(reg.confidence, ref.shape[:2]) * inside
        warped *= exposure_gains(ref, warped, weight)
        out.views.append(warped)
        out.weights.append(weight.astype(np.float32))
        out.indices.append(i)
        motions.append(reg.motion / scale)
        changes.append(reg.change)
    order = np.argsort(out.indices)                         # back in frame order
    out.views, out.weights = [out.views[k] for k in order], [out.weights[k] for k in order]
    out.indices = [out.indices[k] for k in order]
    out.left_out = dict(sorted(out.left_out.items()))
    out.motion = float(np.median(motions)) if motions else 0.0
    out.change = max(changes, default=0.0)
    return out


def _register(target, grays: dict, homographies: dict, i: int, index: int, cfg: AlignConfig):
    """View ``i`` registered on the reference; where neither its features nor the whole image
    register it (a far view of a scene poor in texture), through its registered neighbour
    towards the reference: the neighbour's homography chained with the one from the
    neighbour to this view."""
    try:
        return register(target, grays[i], cfg)
    except AlignError as direct:
        nbr = i + 1 if i < index else i - 1
        if nbr not in homographies:
            raise
        try:
            step = homography_to(reference(grays[nbr], cfg), grays[i], cfg)
        except AlignError:
            raise direct from None
        return register(target, grays[i], cfg, homography=step @ homographies[nbr])


def _full_size(a: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    if a.shape[:2] == shape:
        return a
    return cv2.resize(a, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
