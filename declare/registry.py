"""The named models declare knows, in one place.

Each entry says where its safetensors file lives (mirrors tried in order; its ONNX
graphs lie beside it), its sha256 and size (a download is checked against both), what it is, and the
network preset it was trained as (declare_models' presets). ``bundled``, when
set, names a file shipped inside the package (declare/bundled/) that works with
no network at all. How each model was trained and measured: README, "Default
model", and docs/training/.

:func:`default_model` is the one rule for "no --model given", for every
command; :func:`lookup` answers "what is NAME?" for a registered model or a
preset alike.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class ModelFile:
    """One more file of a model (its ONNX graphs), checked like the checkpoint."""

    file: str        # name in the cache, in declare/bundled/ and at the mirrors
    sha256: str
    size: int        # bytes


@dataclass(frozen=True)
class ModelEntry:
    name: str
    arch: str                 # "student" or "teacher"
    preset: str               # a declare_models preset
    urls: tuple[str, ...]     # mirrors of one file, tried in order
    sha256: str
    size: int                 # bytes
    licence: str
    description: str              # what it is for, as models list shows it: no history (that is the README's)
    bundled: str | None = None  # file name inside declare/bundled/, if shipped
    # ONNX graphs for the ONNX Runtime engine (declare/export.py makes them): the main
    # graph, then for a student the statistics graph of two-pass tiling.
    graphs: tuple[ModelFile, ...] = ()
    file: str = ""              # the file's name when not NAME.safetensors (a graph's)

    @property
    def filename(self) -> str:
        return self.file or f"{self.name}.safetensors"

    def graph_entries(self) -> list["ModelEntry"]:
        """Each ONNX graph as an entry of its own, fetched and verified like the checkpoint;
        at every mirror it lies beside the checkpoint."""
        return [dataclasses.replace(self, file=g.file, sha256=g.sha256, size=g.size, graphs=(),
                                    urls=tuple(u.rsplit("/", 1)[0] + "/" + g.file for u in self.urls),
                                    bundled=g.file if self.bundled else None) for g in self.graphs]


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
                    "reflections, chosen by the size study on real pairs",
        bundled="medium-fp16.safetensors",
        graphs=(
            ModelFile("medium.onnx", "cda8907ef4ca1b7a933a4624a6c4e5873e9928d2904dee4be64f9732a7a88187", 1375522),
            ModelFile("medium.statistics.onnx", "989f5ff04e030fbbc246527263228083d23a49c13df777c3649c6f5ea799f953", 1188726),
        ),
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
                    "a little less gain",
        bundled="small-fp16.safetensors",
        graphs=(
            ModelFile("small.onnx", "b991c94cc25559265dd9725d59a0c914de5c7e183e82a7f096be2a1b20fcdca8", 480312),
            ModelFile("small.statistics.onnx", "925c5b5dcdeb5800329a1b4fcc57d7fb01aa7afa97ea33bec52695116b637b9d", 381786),
        ),
    ),
    "medium-teacher": ModelEntry(
        name="medium-teacher",
        arch="teacher",
        preset="medium",
        urls=(),
        sha256="a76c6e5cfc7296cd234a3235405d5397154d8c29eb880ccc7bcfe28dfca931d6",
        size=759706,
        licence="MIT (training photos: ImageNet samples, BSDS500, Urban100 and others; research use)",
        description="CPU teacher of the medium preset (376k parameters, fp16), 3,000 steps on "
                    "three-view synthesis from photos-train; cleans bursts (--burst-method teacher)",
        bundled="medium-teacher-fp16.safetensors",
        graphs=(
            ModelFile("medium-teacher.onnx", "d0ee49fefdd290153d57fda68c632933dacb27b6c9f1921c3478415cddd218ea", 1494016),
        ),
    ),
    "small-teacher": ModelEntry(
        name="small-teacher",
        arch="teacher",
        preset="small",
        urls=(),
        sha256="a148860c43dd4f697a1c688b01762973680be851ab632417a22f5baeb82f7902",
        size=692498,
        licence="MIT (training photos: Pascal VOC, BSDS500; research use)",
        description="CPU teacher of the small preset (342k parameters, fp16), trained on the "
                    "older synthesis; cleans bursts (--burst-method teacher)",
        bundled="small-teacher-fp16.safetensors",
        graphs=(
            ModelFile("small-teacher.onnx", "ca50075e7266ead3e9eaed3a09a063a136c98797b04098954f6d7530edcb488a", 1359750),
        ),
    ),
}

# The models declare uses when --model is not given: for one photo, and for --burst.
DEFAULT_MODEL: str | None = "medium"
DEFAULT_BURST_MODEL: str | None = "medium-teacher"


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
