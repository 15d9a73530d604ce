"""Checkpoints: safetensors files that carry their own config.

The header's metadata holds the architecture, the ModelConfig as JSON and any
caller metadata (step, dataset, ...), so a file is enough to rebuild its model.
Loading never unpickles: a file that is not safetensors is refused.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import torch
from torch import nn

from declare.atomic import atomic_path
from declare_models import ARCHITECTURES, ModelConfig, create_model

FORMAT = "declare-checkpoint"
FORMAT_VERSION = "1"
_RESERVED = ("format", "format_version", "arch", "config")


class CheckpointError(ValueError):
    """A file that is not a usable declare checkpoint; the message says why."""


def arch_of(model: nn.Module) -> str:
    for name, cls in ARCHITECTURES.items():
        if type(model) is cls:
            return name
    raise CheckpointError(f"cannot checkpoint a {type(model).__name__}: not a declare network")


def save_checkpoint(path: str | Path, model: nn.Module, metadata: dict[str, str] | None = None,
                    dtype: torch.dtype | None = None) -> Path:
    """Write ``model`` atomically (temporary file + rename); ``dtype`` e.g. float16 to ship."""
    from safetensors.torch import save_file

    path = Path(path)
    extra = {str(k): str(v) for k, v in (metadata or {}).items()}
    clash = sorted(set(extra) & set(_RESERVED))
    if clash:
        raise ValueError(f"metadata keys reserved by the format: {', '.join(clash)}")
    header = {**extra, "format": FORMAT, "format_version": FORMAT_VERSION,
              "arch": arch_of(model), "config": model.config.to_json()}
    tensors = {}
    for key, value in model.state_dict().items():
        value = value.detach().to("cpu").contiguous()
        tensors[key] = value.to(dtype) if dtype is not None and value.is_floating_point() else value
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=header)
    return path


def read_metadata(path: str | Path) -> dict[str, str]:
    """The header metadata of a checkpoint, validated, without reading its tensors."""
    path = Path(path)
    header = _read_header(path)
    meta = header.get("__metadata__") or {}
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: a safetensors file, but not a declare checkpoint")
    if meta.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"{path}: checkpoint format {meta.get('format_version')!r}, "
                              f"this declare reads {FORMAT_VERSION!r}; upgrade declare")
    if meta.get("arch") not in ARCHITECTURES:
        raise CheckpointError(f"{path}: unknown architecture {meta.get('arch')!r}")
    return meta


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu"
                    ) -> tuple[nn.Module, dict[str, str]]:
    """Rebuild the network a checkpoint describes; returns (model in eval mode, metadata)."""
    from safetensors.torch import load_file

    path = Path(path)
    meta = read_metadata(path)
    try:
        config = ModelConfig.from_json(meta["config"])
    except (KeyError, ValueError, TypeError) as exc:
        raise CheckpointError(f"{path}: bad model config in header ({exc})") from None
    model = create_model(meta["arch"], config)
    try:
        state = load_file(str(path), device="cpu")
    except Exception as exc:  # safetensors raises its own error types for cut or corrupt files
        raise CheckpointError(f"{path}: damaged checkpoint, its tensors cannot be read "
                              f"({str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}); "
                              "download or copy it again") from None
    bad = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise CheckpointError(f"{path}: damaged checkpoint, {len(bad)} tensors hold NaN or Inf "
                              f"(first: {bad[0]}); download or copy it again")
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[-1].strip()
        raise CheckpointError(f"{path}: weights do not match its config ({first})") from None
    return model.to(device).eval(), meta


def _read_header(path: Path) -> dict:
    """Parse the safetensors JSON header by hand, so a pickle or junk file gets a clear error."""
    not_st = (f"{path}: not a safetensors file; declare loads only safetensors "
              "checkpoints (pickled .pt/.pth files are refused)")
    try:
        with open(path, "rb") as f:
            raw = f.read(8)
            if len(raw) < 8:
                raise CheckpointError(not_st)
            (size,) = struct.unpack("<Q", raw)
            if size > 100_000_000 or size > path.stat().st_size - 8:
                raise CheckpointError(not_st)
            header = json.loads(f.read(size))
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CheckpointError(f"{path}: is a folder, not a checkpoint") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CheckpointError(not_st) from None
    if not isinstance(header, dict):
        raise CheckpointError(not_st)
    return header
