"""Turn a trained model into weights bundled with the package, with their ONNX graphs.

    python scripts/ship_default.py runs/default/student/student.safetensors --name medium-fp16.safetensors
    python scripts/ship_default.py runs/kt-mix/teacher/teacher.safetensors --name medium-teacher-fp16.safetensors

Writes declare/bundled/NAME (float16, with the training step and config in its
header) and the ONNX graphs exported from it (NAME less "-fp16.safetensors",
.onnx and for a student .statistics.onnx), and records each file's sha256 and
size in declare/bundled/manifest.json, which declare/registry.py reads.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from declare.checkpoint import load_checkpoint, save_checkpoint
from declare.export import export_checkpoint
from declare_models import get_config, list_presets
from declare.registry import MANIFEST
from declare.download import sha256_of
from declare.weights import PACKAGE_WEIGHTS


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """--name has no default: it names the bundled file this replaces, which must be chosen."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--name", required=True, metavar="NAME-fp16.safetensors",
                        help="the bundled file to write, e.g. medium-fp16.safetensors (the default model's)")
    return parser.parse_args(argv)


def main() -> None:
    args = parse()

    model, meta = load_checkpoint(args.checkpoint, torch.device("cpu"))
    keep = {k: meta[k] for k in ("step", "epoch", "stage", "preset") if k in meta}
    # A run trained from a JSON size file records its path; name the registered preset
    # with the same numbers instead, as the registry does.
    same = [name for name in list_presets() if get_config(name) == model.config]
    if same:
        keep["preset"] = same[0]
    out = save_checkpoint(PACKAGE_WEIGHTS / args.name, model, metadata=keep, dtype=torch.float16)
    base = PACKAGE_WEIGHTS / args.name.removesuffix(".safetensors").removesuffix("-fp16")
    written = [out, *export_checkpoint(out, base)]
    record(written)
    for path in written:
        print(f"{path}\n  sha256 {sha256_of(path)}\n  size {path.stat().st_size}")


def record(paths: list[Path], manifest: Path = MANIFEST) -> None:
    """Each file's sha256 and size into the manifest of bundled files (others kept)."""
    entries = json.loads(manifest.read_text()) if manifest.is_file() else {}
    entries.update({p.name: {"sha256": sha256_of(p), "size": p.stat().st_size} for p in paths})
    manifest.write_text(json.dumps(dict(sorted(entries.items())), indent=2) + "\n")


if __name__ == "__main__":
    main()
