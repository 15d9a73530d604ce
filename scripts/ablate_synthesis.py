"""Each part of the synthesis recipe, off and on, measured on real pairs.

Trains the same student alone (``--ablate no-transfer``: the question is the
data, not the teacher) once with the old synthesis, once with the whole
realistic recipe (configs/synthesis-realistic.toml) and once with the recipe
less each part, all from the same seed for the same steps, validating on
whole real photos through glass; then prints a markdown table of each run's
best real-pair scores. Runs that finished are skipped, so it resumes.

    python scripts/ablate_synthesis.py --data ../shared/data/photos-train \\
        --val-data ../shared/data/real-pairs/real20 --val-data ../shared/data/real-pairs/nature20 \\
        --val-data ../shared/data/real-pairs/kim2020 --out runs/ablate-synthesis
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tomllib
from dataclasses import asdict
from pathlib import Path

from declare.data.synthetic_config import CEILNET_STYLE

ROOT = Path(__file__).resolve().parents[1]
RECIPE = tomllib.loads((ROOT / "configs" / "synthesis-realistic.toml").read_text())["synthesis"]
OLD = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(CEILNET_STYLE).items()
       if k in RECIPE}  # declare's synthesis before the recipe
PARTS = {  # a part of the recipe: the settings that switch it off
    "weak reflections": {"r_gain": [0.6, 1.0]},
    "clean photos": {"clean_share": 0.0},
    "linear light": {"linear_light": False},
    "screen blend": {"screen_share": 0.0},
    "glass dims and tints T": {"t_gain": [1.0, 1.0], "t_tint": 0.0},
    "sharp reflections": {"sharp_share": 0.0, "blur_sigma": [1.0, 5.0]},
    "vignette": {"vignette": False},
    "ghosting": {"ghost_share": 0.0},
}


# After the one-at-a-time ablation: the recipe less the parts that measured worse than without.
CHOSEN_WITHOUT = ("linear light", "glass dims and tints T")


def variants() -> dict[str, dict]:
    runs = {"old synthesis": OLD, "realistic recipe": RECIPE}
    runs.update({f"recipe without {part}": {**RECIPE, **off} for part, off in PARTS.items()})
    chosen = dict(RECIPE)
    for part in CHOSEN_WITHOUT:
        chosen.update(PARTS[part])
    runs["chosen recipe"] = chosen
    return runs


def flags(synthesis: dict) -> list[str]:
    out = []
    for key, value in synthesis.items():
        name = "--synth-" + key.replace("_", "-")
        if isinstance(value, bool):
            out.append(name if value else "--no-" + name[2:])
        elif isinstance(value, list):
            out += [name, str(value[0]), str(value[1])]
        else:
            out += [name, str(value)]
    return out


def slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")


def best_record(out: Path) -> dict | None:
    log = out / "log.jsonl"
    if not log.exists():
        return None
    reals = [json.loads(line) for line in log.read_text().splitlines() if '"val_real"' in line]
    return max(reals, key=lambda r: r["val_real"]["score"]) if reals else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", action="append", required=True)
    ap.add_argument("--val-data", action="append", required=True)
    ap.add_argument("--out", default="runs/ablate-synthesis")
    ap.add_argument("--preset", default="small")
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--perceptual", default="off", help="L_P network for every run (off: the data alone)")
    ap.add_argument("--only", action="append", help="run only these variants (by name)")
    ap.add_argument("train_args", nargs="*", help="more 'declare train' options, after --")
    args = ap.parse_args()
    for name, synthesis in variants().items():
        if args.only and name not in args.only:
            continue
        out = Path(args.out) / slug(name)
        if (out / "student.safetensors").exists():
            continue
        cmd = [sys.executable, "-m", "declare", "train", "student", "--ablate", "no-transfer",
               "--perceptual", args.perceptual, "--preset", args.preset, "--steps", str(args.steps), "--out", str(out), "-q",
               *[a for d in args.data for a in ("--data", d)],
               *[a for d in args.val_data for a in ("--val-data", d)],
               *flags(synthesis), *args.train_args]
        if (out / "checkpoints").exists():
            cmd.append("--resume")
        print(f"== {name}", flush=True)
        subprocess.run(cmd, check=True)
    print_table(Path(args.out))


def print_table(root: Path) -> None:
    rows = [(name, best_record(root / slug(name))) for name in variants()]
    rows = [(n, r) for n, r in rows if r]
    if not rows:
        return
    sets = [k for k in rows[0][1]["val_real"] if k != "score"]
    first = rows[0][1]["val_real"]
    print("| synthesis | best step | " + " | ".join(f"{s} PSNR / SSIM" for s in sets) + " | score |")
    print("|---|---:|" + "---:|" * len(sets) + "---:|")
    print("| identity (input as output) | | " + " | ".join(
        f"{first[s]['input_psnr']:.2f} / {first[s]['input_ssim']:.4f}" for s in sets) + " | 0 |")
    for name, r in rows:
        v = r["val_real"]
        print(f"| {name} | {r['step']} | " + " | ".join(
            f"{v[s]['psnr']:.2f} / {v[s]['ssim']:.4f}" for s in sets) + f" | {v['score']:+.2f} |")


if __name__ == "__main__":
    main()
