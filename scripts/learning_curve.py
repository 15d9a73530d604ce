"""Learning curves of training runs: validation gain on real pairs against step.

For each run folder (its log.jsonl), one line per validation set: dB gained over the
input in PSNR after a per-photo gain fit (which a brightness change cannot move), for
the averaged weights (solid) and the raw weights (dotted, where logged), and the
selection score (black). Issue 22 asks where longer training stops paying:

    python scripts/learning_curve.py runs/lite0 runs/medium-mix -o docs/learning-curve.png
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from declare.bench.report import pyplot, save_figure


def curves(run: Path) -> dict[str, dict[str, list[tuple[int, float]]]]:
    """{"averaged"|"raw": {set name or "score": [(step, gain)]}}."""
    out: dict[str, dict[str, list]] = {"averaged": {}, "raw": {}}
    for line in (run / "log.jsonl").read_text().splitlines():
        record = json.loads(line)
        for key, kind in (("val_real", "averaged"), ("val_real_raw", "raw")):
            if key not in record:
                continue
            for name, v in record[key].items():
                if isinstance(v, dict):
                    out[kind].setdefault(name, []).append((record["step"], v["psnr_fit"] - v["input_psnr_fit"]))
            out[kind].setdefault("score", []).append((record["step"], record[key]["score"]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("-o", "--out", type=Path, default=Path("docs/learning-curve.png"))
    args = parser.parse_args()
    plt = pyplot()
    fig, axes = plt.subplots(1, len(args.runs), figsize=(6 * len(args.runs), 4.2), squeeze=False,
                             sharey=False)
    for ax, run in zip(axes[0], args.runs):
        data = curves(run)
        for kind, style in (("averaged", "-"), ("raw", ":")):
            for i, (name, points) in enumerate(sorted(data[kind].items())):
                steps, gains = zip(*points)
                colour = "black" if name == "score" else f"C{i}"
                label = (f"{name} ({kind})" if name != "score" else f"selection score ({kind})")
                ax.plot(steps, gains, style, color=colour, label=label, linewidth=1.4)
        ax.axhline(0, color="grey", linewidth=0.8)
        ax.set_title(str(run))
        ax.set_xlabel("step (batches of 8)")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("dB over the input (PSNR after gain fit)")
    axes[0][-1].legend(fontsize=7, loc="lower right")
    save_figure(plt, fig, args.out)
    from PIL import Image

    with Image.open(args.out) as im:  # a line plot needs few colours: a quarter of the bytes
        small = im.convert("RGB").quantize(64)
    small.save(args.out, optimize=True)
    print(f"plot: {args.out}")


if __name__ == "__main__":
    main()
