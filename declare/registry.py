"""The named models declare knows, in one place.

Each entry says where its safetensors file lives (mirrors tried in order), its
sha256 and size (a download is checked against both), and what it is. The
``bundled`` entry, when set, names a file shipped inside the package that works
with no network at all.

``small`` is the default: the ``small`` preset student, trained on synthesis
that resembles real photos through glass (the realistic recipe less linear
light) from the 1,710 photos of ../shared/data/photos-train, and chosen by its
scores on real pairs, where it does no harm on any set (README, "Default
model"). ``python scripts/ablate_synthesis.py ... --only "recipe without linear
light"`` reproduces it and ``scripts/ship_default.py`` turns the result into
the bundled fp16 file, printing what to paste here. ``small-teacher`` is the
earlier teacher (distilled into the previous default), shipped so that
``--burst`` works offline.
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
    bundled: str | None = None  # file name inside declare/weights/, if shipped

    @property
    def filename(self) -> str:
        return f"{self.name}.safetensors"


MODELS: dict[str, ModelEntry] = {
    "small": ModelEntry(
        name="small",
        arch="student",
        preset="small",
        urls=(),  # ships inside the package; nothing to download
        sha256="c46058fa2b940f9ad3e7fe18663ac550e315c5eb5ee02647d7d87255b8617537",
        size=228406,
        licence="MIT (training photos: ImageNet samples, BSDS500, Urban100 and others; research use)",
        description="CPU student (111k parameters, fp16) trained on realistic synthetic "
                    "reflections, selected on real pairs; the offline default",
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
        description="CPU teacher (342k parameters, fp16) of the previous default; "
                    "cleans three-view bursts",
        bundled="small-teacher-fp16.safetensors",
    ),
}

# The models declare uses when --model is not given: for one photo, and for --burst.
DEFAULT_MODEL: str | None = "small"
DEFAULT_BURST_MODEL: str | None = "small-teacher"
