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
import functools
import json
from dataclasses import dataclass
from pathlib import Path


# sha256 and size of each file in declare/bundled/, written by scripts/ship_default.py
# when it ships one (never pasted by hand).
MANIFEST = Path(__file__).with_name("bundled") / "manifest.json"


@functools.lru_cache(maxsize=1)
def _manifest() -> dict[str, dict]:
    return json.loads(MANIFEST.read_text()) if MANIFEST.is_file() else {}


def shipped(file: str) -> dict:
    """``sha256`` and ``size`` of a bundled file, from the manifest."""
    try:
        return {k: _manifest()[file][k] for k in ("sha256", "size")}
    except KeyError:
        raise KeyError(f"{file} is not in {MANIFEST}: ship it with scripts/ship_default.py") from None


@dataclass(frozen=True)
class ModelFile:
    """One more file of a model (its ONNX graphs), checked like the checkpoint."""

    file: str        # name in the cache, in declare/bundled/ and at the mirrors
    sha256: str
    size: int        # bytes

    @classmethod
    def shipped(cls, file: str) -> "ModelFile":
        return cls(file, **shipped(file))


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
        **shipped("medium-fp16.safetensors"),
        licence="MIT (training photos: ImageNet samples, BSDS500, Urban100 and others; research use)",
        description="CPU student (333k parameters, fp16) trained on realistic synthetic "
                    "reflections, chosen by the size study on real pairs",
        bundled="medium-fp16.safetensors",
        graphs=(
            ModelFile.shipped("medium.onnx"),
            ModelFile.shipped("medium.statistics.onnx"),
        ),
    ),
    "small": ModelEntry(
        name="small",
        arch="student",
        preset="small",
        urls=(),
        **shipped("small-fp16.safetensors"),
        licence="MIT (training photos: ImageNet samples, BSDS500, Urban100 and others; research use)",
        description="fast CPU student (111k parameters, fp16): about 60% of medium's time, "
                    "a little less gain",
        bundled="small-fp16.safetensors",
        graphs=(
            ModelFile.shipped("small.onnx"),
            ModelFile.shipped("small.statistics.onnx"),
        ),
    ),
    "medium-teacher": ModelEntry(
        name="medium-teacher",
        arch="teacher",
        preset="medium",
        urls=(),
        **shipped("medium-teacher-fp16.safetensors"),
        licence="MIT (training photos: ImageNet samples, BSDS500, Urban100 and others; research use)",
        description="CPU teacher of the medium preset (376k parameters, fp16), 3,000 steps on "
                    "three-view synthesis from photos-train; cleans bursts (--burst-method teacher)",
        bundled="medium-teacher-fp16.safetensors",
        graphs=(
            ModelFile.shipped("medium-teacher.onnx"),
        ),
    ),
    "small-teacher": ModelEntry(
        name="small-teacher",
        arch="teacher",
        preset="small",
        urls=(),
        **shipped("small-teacher-fp16.safetensors"),
        licence="MIT (training photos: Pascal VOC, BSDS500; research use)",
        description="CPU teacher of the small preset (342k parameters, fp16), trained on the "
                    "older synthesis; cleans bursts (--burst-method teacher)",
        bundled="small-teacher-fp16.safetensors",
        graphs=(
            ModelFile.shipped("small-teacher.onnx"),
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
