"""What is done to a network's result before anyone sees it, apart from reading and
writing files (declare/images.py): the photo's tone kept, the strength blend, the
reflection layer. The command line and the Python API both use these."""

from __future__ import annotations

import numpy as np

# Pixels the tone step samples: its median is as good from a 1 MP grid as from 24 MP.
TONE_SAMPLES = 1 << 20


def keep_tone(original: np.ndarray, result: np.ndarray) -> np.ndarray:
    """``result`` (H x W x 3, changed in place) with the median of original minus result
    added back per channel: a model with ``keep_tone`` may change a reflection's shape,
    never the photo's exposure or colour balance (the even dimming its training pairs
    teach: issue 22). Whole photos only: each tile's own median would leave seams."""
    h, w = original.shape[:2]
    step = max(1, int(np.sqrt(h * w / TONE_SAMPLES)))
    diff = original[::step, ::step] - result[::step, ::step]
    result += np.median(diff.reshape(-1, diff.shape[-1]), axis=0).astype(result.dtype)
    return np.clip(result, 0, 1, out=result)


def reflection_of(original: np.ndarray, transmission: np.ndarray) -> np.ndarray:
    """The estimated reflection layer: the photo minus its transmission, clipped."""
    return np.clip(original - transmission, 0, 1)


def blend(result: np.ndarray, original: np.ndarray, strength: float) -> np.ndarray:
    """``strength`` 1: the result; 0: the original; between: the mix (``--strength``)."""
    if strength < 1:
        return strength * result + (1 - strength) * original
    return result
