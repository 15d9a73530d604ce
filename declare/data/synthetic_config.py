"""The synthesis settings, apart from the code that uses them, so that
``declare train --help`` and settings files are read without loading torch.
What each setting imitates: :mod:`declare.data.synthetic`."""

from __future__ import annotations

from dataclasses import dataclass, field, fields


def knob(default, help: str):
    """A synthesis setting with its help text (``declare train --synth-*`` is built from these)."""
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class SyntheticConfig:
    """The defaults are the recipe measured best on real pairs (README, "Training data
    that resembles real photos"): the shipped default model was trained on it."""

    size: int = 224                      # window side, pixels (the training crop)
    views: int = 3
    t_shift: tuple[float, float] = knob((0.0, 2.0), "T's window motion per frame, px (paper 4.2).")
    r_shift: tuple[float, float] = knob((10.0, 20.0), "R's window motion per frame, px (paper 4.2).")
    blur_sigma: tuple[float, float] = knob((0.5, 5.0), "Gaussian defocus of R, sigma in px.")
    sharp_share: float = knob(0.15, "Share of sequences whose reflection is in focus (no blur).")
    r_gain: tuple[float, float] = knob((0.05, 1.0), "Reflection strength, a factor on R.")
    clean_share: float = knob(0.15, "Share of sequences with no reflection at all (target = input).")
    linear_light: bool = knob(False, "Blend in linear light, gamma 2.2 (Zhang et al. 2018).")
    screen_share: float = knob(0.3, "Share blended as a screen, I = T + R - TR (DSRNet).")
    t_gain: tuple[float, float] = knob((0.8, 1.0), "The glass dims T by this factor (DSRNet).")
    t_tint: float = knob(0.1, "The glass tints T: each channel x U(1 - tint, 1) (RDNet).")
    vignette: bool = knob(True, "Multiply R by a vignetting mask centred at random (Zhang et al. 2018).")
    ghost_share: float = knob(0.2, "Share with a ghost: a second, shifted copy of R (thick glass).")
    ghost_shift: tuple[float, float] = knob((3.0, 12.0), "Ghost offset, px.")
    ghost_gain: tuple[float, float] = knob((0.3, 0.7), "Ghost strength relative to R.")
    # What is left of a real handheld burst after --burst has aligned it on the scene
    # (declare.burst.align): all off by default, the paper's recipe; configs/teacher-aligned.toml.
    parallax: float = knob(0.0, "Depth parallax: a smooth displacement of T in the other views, up to this "
                                "many px (the scene's depth that one alignment leaves).")
    exposure_jitter: float = knob(0.0, "The other views' exposure and white balance: each channel x "
                                       "U(1 - j, 1 + j), T and R alike (what exposure matching leaves).")
    noise: float = knob(0.0, "Sensor and video noise: Gaussian, sigma up to this (0-1 scale), each frame.")

    def __post_init__(self) -> None:
        for f in fields(self):  # TOML and JSON give lists
            value = getattr(self, f.name)
            if isinstance(value, list):
                object.__setattr__(self, f.name, tuple(float(v) for v in value))
        for name in ("sharp_share", "clean_share", "screen_share", "ghost_share", "t_tint", "exposure_jitter"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"synthesis {name.replace('_', '-')} must be between 0 and 1")
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
                raise ValueError(f"synthesis {f.name.replace('_', '-')} must be at least 0")
            if isinstance(value, tuple) and (len(value) != 2 or value[0] > value[1] or value[0] < 0):
                raise ValueError(f"synthesis {f.name.replace('_', '-')} must be two numbers, low <= high")


# The settings a user can change (the window size and view count are the trainer's).
SETTINGS = tuple(f.name for f in fields(SyntheticConfig) if "help" in f.metadata)


# The blend declare used before (CEILNet's): always a reflection, 0.6-1 strong,
# blurred, added in sRGB. Real pairs showed it teaches models to harm photos.
CEILNET_STYLE = SyntheticConfig(blur_sigma=(1.0, 5.0), sharp_share=0.0, r_gain=(0.6, 1.0), clean_share=0.0,
                                screen_share=0.0, t_gain=(1.0, 1.0), t_tint=0.0, vignette=False,
                                ghost_share=0.0)
