"""Trainer state on disk: weights, optimizers and counters, all safetensors.

``step-00001000.safetensors`` is a normal declare checkpoint of the network
being trained (usable with ``declare --model``); with a weight average,
``step-00001000.averaged.safetensors`` is the average at that step, as validation
scores and shipping uses it (the raw weights are what a resumed run continues
from); ``step-00001000.state.safetensors``
holds the optimizer moments, the discriminator and its optimizer, with the
non-tensor parts (counters, hyper-parameters) as JSON in the header. No pickle.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from declare.atomic import atomic_path
from declare.checkpoint import save_checkpoint


def _flatten_optimizer(name: str, optimizer: torch.optim.Optimizer,
                       tensors: dict[str, torch.Tensor]) -> dict:
    state = optimizer.state_dict()
    for pid, values in state["state"].items():
        for key, value in values.items():
            if not torch.is_tensor(value):
                value = torch.tensor(value)
            tensors[f"{name}/state/{pid}/{key}"] = value.detach().cpu().contiguous()
    return {"param_groups": state["param_groups"]}


def _unflatten_optimizer(name: str, tensors: dict[str, torch.Tensor], meta: dict) -> dict:
    state: dict[int, dict] = {}
    prefix = f"{name}/state/"
    for key, value in tensors.items():
        if key.startswith(prefix):
            pid, field = key[len(prefix):].split("/", 1)
            state.setdefault(int(pid), {})[field] = value
    return {"state": state, "param_groups": meta["param_groups"]}


def save_state(folder: Path, step: int, model: nn.Module, optimizers: dict[str, torch.optim.Optimizer],
               modules: dict[str, nn.Module], counters: dict, keep: int,
               averaged: nn.Module | None = None) -> Path:
    """Write step-N checkpoint + state atomically (and the weight average, when there is
    one); keep the newest ``keep`` steps."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    stem = f"step-{step:08d}"
    save_checkpoint(folder / f"{stem}.safetensors", model, metadata={"step": step, **counters})
    if averaged is not None:
        save_checkpoint(folder / f"{stem}.averaged.safetensors", averaged, metadata={"step": step, **counters})
    tensors: dict[str, torch.Tensor] = {}
    meta = {"counters": counters, "optimizers": {}}
    for name, optimizer in optimizers.items():
        meta["optimizers"][name] = _flatten_optimizer(name, optimizer, tensors)
    for name, module in modules.items():
        for key, value in module.state_dict().items():
            tensors[f"{name}/module/{key}"] = value.detach().cpu().contiguous()
    with atomic_path(folder / f"{stem}.state.safetensors") as tmp:
        save_file(tensors, str(tmp), metadata={"trainer": json.dumps(meta)})
    for old in sorted(folder.glob("step-*.state.safetensors"))[:-keep]:
        old.unlink()
        old.with_name(old.name.replace(".state", "")).unlink(missing_ok=True)
        old.with_name(old.name.replace(".state", ".averaged")).unlink(missing_ok=True)
    return folder / f"{stem}.safetensors"


def latest(folder: Path) -> Path | None:
    """The newest complete checkpoint in ``folder`` (its state file written last)."""
    states = sorted(folder.glob("step-*.state.safetensors")) if folder.is_dir() else []
    for state in reversed(states):
        model = state.with_name(state.name.replace(".state", ""))
        if model.exists():
            return model
    return None


def _check_decay(saved: list[dict], current: list[dict]) -> None:
    """A checkpoint's optimizer restores its own hyperparameters: a changed --weight-decay
    would be silently undone (or fail on another number of groups), so it is refused."""
    before, now = ([g.get("weight_decay", 0.0) for g in groups] for groups in (saved, current))
    if before != now:
        raise ValueError(f"the run was started with --weight-decay {max(before):g}, not {max(now):g}: "
                         "resume it with its own")


def load_state(model_path: Path, model: nn.Module, optimizers: dict[str, torch.optim.Optimizer],
               modules: dict[str, nn.Module]) -> dict:
    """Restore everything saved with ``model_path``; returns the counters."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    weights = load_file(str(model_path))
    model.load_state_dict(weights)
    state_path = model_path.with_name(model_path.name.replace(".safetensors", ".state.safetensors"))
    tensors = load_file(str(state_path))
    with safe_open(str(state_path), "pt") as f:
        meta = json.loads(f.metadata()["trainer"])
    for name, optimizer in optimizers.items():
        saved = _unflatten_optimizer(name, tensors, meta["optimizers"][name])
        _check_decay(saved["param_groups"], optimizer.param_groups)
        optimizer.load_state_dict(saved)
    for name, module in modules.items():
        prefix = f"{name}/module/"
        module.load_state_dict({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})
    return meta["counters"]
