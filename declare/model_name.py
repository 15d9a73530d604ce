"""What a model string names, decided once (timm's ``parse_model_name``).

``--model``, ``declare.Cleaner(model)``, ``bench --model`` and ``models export``
all take one of: a registered name (``medium``), ``preset:NAME`` (a network size
with fresh weights, for timing; NAME may be a ``.json`` size file), a checkpoint
file (``runs/mine/student.safetensors``) or an exported ONNX graph
(``mine.onnx``). None is the default model (the burst one for bursts). Which
files and which engine follow from the kind: declare/weights.py and
declare/session.py.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

CHECKPOINT_SUFFIXES = (".safetensors", ".pt", ".pth", ".ckpt")
KINDS = ("registered", "preset", "checkpoint", "graph")


@dataclass(frozen=True)
class ModelName:
    text: str               # as given (or the default's name)
    kind: str               # one of KINDS
    name: str | None = None  # the registered model or the preset
    path: Path | None = None  # the checkpoint or graph file

    @property
    def is_file(self) -> bool:
        return self.kind in ("checkpoint", "graph")


def parse_model_name(text: "str | ModelName | None", burst: bool = False) -> ModelName:
    """The one reading of a model string (a ModelName is passed through)."""
    if isinstance(text, ModelName):
        return text
    if text is None:
        name = _default(burst)
        return ModelName(name, "registered", name=name)
    if text.startswith("preset:"):
        return ModelName(text, "preset", name=text.split(":", 1)[1])
    path = Path(text).expanduser()
    if text.endswith(".onnx"):
        return ModelName(text, "graph", path=path)
    if text.endswith(".json"):
        return ModelName(text, "preset", name=text)
    if path.exists() or os.sep in text or text.endswith(CHECKPOINT_SUFFIXES):
        return ModelName(text, "checkpoint", path=path)
    return ModelName(text, "registered", name=text)


def _default(burst: bool) -> str:
    from declare import registry
    from declare.download import WeightsError
    from declare.program import program

    name = registry.default_model(burst)
    if name is None:
        raise WeightsError(f"no trained {'burst ' if burst else ''}model is installed yet; pass "
                           "--model PATH to a declare checkpoint (.safetensors), e.g. one made "
                           f"by '{program()} train'")
    return name
