"""The named models declare knows, in one place.

Each entry says where its safetensors file lives (mirrors tried in order), its
sha256 and size (a download is checked against both), and what it is. The
``bundled`` entry, when set, names a file shipped inside the package that works
with no network at all.

No trained weights exist yet, so no model is registered: ``declare`` then says
that no trained model is installed and how to use a checkpoint of your own.
The training issue registers the first ones here.
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


MODELS: dict[str, ModelEntry] = {}

# The model `declare photo.jpg` uses when --model is not given (None: none yet).
DEFAULT_MODEL: str | None = None
