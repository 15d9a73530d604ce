"""Turn a trained student into the package's bundled default weights.

    python scripts/ship_default.py runs/default/student/student.safetensors

Writes declare/bundled/small-fp16.safetensors (float16, with the training
step and config in its header) and prints the sha256 and size to put in
declare/registry.py.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from declare.checkpoint import load_checkpoint, save_checkpoint
from declare_models import get_config, list_presets
from declare.weights import PACKAGE_WEIGHTS, sha256_of


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--name", default="small-fp16.safetensors")
    args = parser.parse_args()

    model, meta = load_checkpoint(args.checkpoint, torch.device("cpu"))
    keep = {k: meta[k] for k in ("step", "epoch", "stage", "preset") if k in meta}
    # A run trained from a JSON size file records its path; name the registered preset
    # with the same numbers instead, as the registry does.
    same = [name for name in list_presets() if get_config(name) == model.config]
    if same:
        keep["preset"] = same[0]
    out = save_checkpoint(PACKAGE_WEIGHTS / args.name, model, metadata=keep, dtype=torch.float16)
    print(f"{out}\nsha256 {sha256_of(out)}\nsize {out.stat().st_size}")


if __name__ == "__main__":
    main()
