"""The named models declare knows, in one place.

Each entry says where its safetensors file lives (mirrors tried in order), its
sha256 and size (a download is checked against both), and what it is. The
``bundled`` entry, when set, names a file shipped inside the package that works
with no network at all.

``small`` is the default: the ``small`` preset student, distilled from a
teacher trained on synthetic sequences made from ../shared/data/photos
(Pascal VOC and BSDS500 photographs). ``scripts/train_default.sh`` reproduces
it and ``scripts/ship_default.py`` turns the result into the bundled fp16 file;
both print what to paste here. ``small-teacher`` is the teacher it was
distilled from, shipped too so that ``--burst`` works offline.
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
        sha256="7a196a7b52458f5a23168217fa967fb40eb40243d2a76ae6e7bbe3fd0b435b1c",
        size=228406,
        licence="MIT (training photos: Pascal VOC, BSDS500; research use)",
        description="CPU student (111k parameters, fp16), distilled from the small "
                    "teacher; the offline default",
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
        description="CPU teacher (342k parameters, fp16) that taught `small`; "
                    "cleans three-view bursts",
        bundled="small-teacher-fp16.safetensors",
    ),
}

# The models declare uses when --model is not given: for one photo, and for --burst.
DEFAULT_MODEL: str | None = "small"
DEFAULT_BURST_MODEL: str | None = "small-teacher"
