"""The named models declare knows, in one place.

Each entry says where its safetensors file lives (mirrors tried in order), its
sha256 and size (a download is checked against both), what it is, and the
network preset it was trained as (declare_models' presets). ``bundled``, when
set, names a file shipped inside the package (declare/bundled/) that works with
no network at all. How each model was trained and measured: README, "Default
model", and docs/training/.

:func:`default_model` is the one rule for "no --model given", for every
command; :func:`lookup` answers "what is NAME?" for a registered model or a
preset alike.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelEntry:
    name: str
    arch: str                 # "student" or "teacher"
    preset: str               # a declare_models preset
    urls: tuple[str, ...]     # mirrors of one file, tried in order
    sha256: str
    size: int                 # bytes
    licence: str
    description: str
    bundled: str | None = None  # file name inside declare/bundled/, if shipped

    @property
    def filename(self) -> str:
        return f"{self.name}.safetensors"


MODELS: dict[str, ModelEntry] = {
    "medium": ModelEntry(
        name="medium",
        arch="student",
        preset="medium",
        urls=(),  # ships inside the package; nothing to download
        sha256="b1c5189edacaba58d1988ea8a2211bcdc1a527273b88c39e3a91b0c5d87dddbd",
        size=672742,
        licence="MIT (training photos: ImageNet samples, BSDS500, Urban100 and others; research use)",
        description="CPU student (333k parameters, fp16) trained on realistic synthetic "
                    "reflections, chosen by the size study on real pairs; the offline default",
        bundled="medium-fp16.safetensors",
    ),
    "small": ModelEntry(
        name="small",
        arch="student",
        preset="small",
        urls=(),
        sha256="c46058fa2b940f9ad3e7fe18663ac550e315c5eb5ee02647d7d87255b8617537",
        size=228406,
        licence="MIT (training photos: ImageNet samples, BSDS500, Urban100 and others; research use)",
        description="fast CPU student (111k parameters, fp16): about 60% of medium's time, "
                    "a little less gain; the default until 2026-12-01",
        bundled="small-fp16.safetensors",
    ),
    "small-teacher": ModelEntry(
        name="small-teacher",
        arch="teacher",
        preset="small",
        urls=(),
        sha256="a148860c43dd4f697a1c688b01762973680be851ab632417a22f5baeb82f7902",
        size=692498,
        licence="MIT (training photos: Pascal VOC, BSDS500; research use)",
        description="CPU teacher (342k parameters, fp16) of the previous default, trained "
                    "on the old synthesis; cleans three-view bursts (--burst)",
        bundled="small-teacher-fp16.safetensors",
    ),
}

# The models declare uses when --model is not given: for one photo, and for --burst.
DEFAULT_MODEL: str | None = "medium"
DEFAULT_BURST_MODEL: str | None = "small-teacher"


def default_model(burst: bool = False) -> str | None:
    """The model any command runs without --model (the three-view one with ``burst``);
    None when none is installed."""
    return DEFAULT_BURST_MODEL if burst else DEFAULT_MODEL


@dataclass(frozen=True)
class Lookup:
    """What a name means: a registered model (weights), the preset (network size) it or
    the name itself stands for, and that preset's config."""

    name: str
    entry: ModelEntry | None
    preset: str
    description: str
    config: object  # declare_models.ModelConfig


def lookup(name: str) -> Lookup:
    """A registered model's entry and preset, or a preset alone; KeyError if neither."""
    from declare_models import describe_preset, get_config

    entry = MODELS.get(name)
    preset = entry.preset if entry else name
    try:
        config, about = get_config(preset), describe_preset(preset)
    except KeyError:
        raise KeyError(f"{name!r} is neither a registered model ({', '.join(sorted(MODELS))}) "
                       "nor a preset (declare-photo presets)") from None
    return Lookup(name, entry, preset, entry.description if entry else about, config)
