"""The named models declare knows, in one place.

Each entry says where its safetensors file lives (mirrors tried in order), its
sha256 and size (a download is checked against both), and what it is. The
``bundled`` entry, when set, names a file shipped inside the package that works
with no network at all.

``medium`` is the default: the ``medium`` preset student, chosen by the size
study (README, "Model sizes") as the size that gained most on real pairs within
the CPU's time budget; trained alone (the paper's "w/o KT": distilled from
``medium-teacher`` it scored lower) on synthesis that resembles real photos
through glass from the 1,710 photos of ../shared/data/photos-train, and chosen
by its scores on real pairs, where it does no harm on any set.
``scripts/size_study.sh`` reproduces it and ``scripts/ship_default.py
runs/sizes/medium/student.safetensors --name medium-fp16.safetensors`` turns
the result into the bundled fp16 file, printing what to paste here.
``small`` is the fast option (the previous default, about 60% of the time).
``small-teacher``, the teacher of the default before that, is still what
``--burst`` runs: the ``medium`` teacher trained here on the new synthesis
(``scripts/train_realistic.sh ... configs/realistic-medium.toml``) learned to
return its input almost unchanged (+0.02 dB on synthetic bursts,
``scripts/burst_check.py``), so it is not shipped.
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
