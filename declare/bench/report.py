"""Benchmark results for people (a table, charts) and for scripts (JSON, CSV)."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np

from declare.atomic import atomic_path


def _cell(value, digits: int | None = None) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if math.isinf(value):
            return "inf"
        if digits is None:
            digits = 4 if abs(value) < 1 else 2
        return f"{value:.{digits}f}"
    return str(value)


def table(records: list[dict], columns: list[tuple]) -> str:
    """A plain aligned text table; ``columns`` are (key, heading[, decimals]) tuples."""
    cells = [[c[1] for c in columns]]
    cells += [[_cell(r.get(c[0]), *c[2:]) for c in columns] for r in records]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(c.rjust(w) if i else c.ljust(w)
                               for i, (c, w) in enumerate(zip(row, widths))).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _atomic(path: Path, write, mode: str = "w") -> None:
    """Write through a temporary file in the target folder, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, open(tmp, mode, **({"newline": ""} if mode == "w" else {})) as f:
        write(f)


def json_text(document: dict) -> str:
    """JSON with infinities (a perfect PSNR) as null, which strict parsers accept."""
    return json.dumps(_finite(document), indent=2)


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def write_json(path: Path, document: dict) -> None:
    _atomic(path, lambda f: f.write(json_text(document) + "\n"))


def csv_to(stream, records: list[dict]) -> None:
    if records:
        out = csv.DictWriter(stream, fieldnames=list(records[0]))
        out.writeheader()
        out.writerows(records)


def write_csv(path: Path, records: list[dict]) -> None:
    _atomic(path, lambda f: csv_to(f, records))


def pyplot():
    """matplotlib's pyplot without a display, or a RuntimeError saying how to get it."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise RuntimeError("--plot needs matplotlib: pip install 'declare[bench]'") from None
    return plt


def save_figure(plt, fig, path: Path) -> None:
    fig.tight_layout()
    suffix = path.suffix.lstrip(".") or "png"
    _atomic(path, lambda f: fig.savefig(f, format=suffix, dpi=120), "wb")
    plt.close(fig)


def plot_bars(path: Path, summary: list[dict], metrics: list[tuple[str, str]], title: str) -> None:
    """Grouped bars: one panel per metric, a group per dataset, a bar per method."""
    plt = pyplot()
    datasets = list(dict.fromkeys(r["dataset"] for r in summary))
    methods = list(dict.fromkeys(r["method"] for r in summary))
    value = {(r["dataset"], r["method"]): r for r in summary}
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.6), squeeze=False)
    width = 0.8 / len(methods)
    for ax, (key, label) in zip(axes[0], metrics):
        for j, m in enumerate(methods):
            ys = [value.get((d, m), {}).get(key, float("nan")) for d in datasets]
            xs = [i + (j - (len(methods) - 1) / 2) * width for i in range(len(datasets))]
            ax.bar(xs, ys, width, label=m)
        ax.set_xticks(range(len(datasets)), datasets, rotation=15)
        ax.set_title(label)
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].legend(fontsize=8, loc="lower left", framealpha=0.9)
    fig.suptitle(title)
    save_figure(plt, fig, path)


def plot_tradeoff(path: Path, records: list[dict], megapixels: float, title: str,
                  off_scale: set[str] = frozenset()) -> None:
    """``declare bench tradeoff``'s two panels, PSNR and SSIM gained over the input against
    seconds per photo; the zero line is leaving the photo alone. The vertical range fits
    the methods not in ``off_scale`` (classic baselines far below would flatten them); a
    point outside it sits on the edge with its value written."""
    from declare.bench.tradeoff import METRICS as SHOWN
    from declare.metrics import METRICS

    plt = pyplot()
    fig, axes = plt.subplots(1, len(SHOWN), figsize=(5.5 * len(SHOWN), 4.4), squeeze=False)
    panels = [(ax, f"{m.name}_gain", f"min_{m.name}_gain", f"{m.heading} gained over the input",
               f"{{:+.{m.digits}f}}") for ax, m in zip(axes[0], (METRICS[k] for k in SHOWN))]
    for ax, key, low, label, fmt in panels:
        fitted = [r for r in records if r["method"] not in off_scale] or records
        bottom = min(0.0, *(r[low] for r in fitted))
        top = max(0.0, *(r[key] for r in fitted))
        pad = (top - bottom) * 0.25 or 0.1
        bottom, top = bottom - pad, top + pad
        ax.axhline(0, color="grey", lw=1, ls="--", label="input left alone")
        for i, r in enumerate(records):
            name = r["method"].removesuffix("/student")
            if bottom <= r[key] <= top:
                ax.errorbar(r["seconds"], r[key], yerr=[[r[key] - max(r[low], bottom)], [0]], fmt="o", capsize=3)
                ax.annotate(name, (r["seconds"], r[key]), textcoords="offset points",
                            xytext=(6, 8 if i % 2 else -12), fontsize=8)
            else:
                edge = bottom if r[key] < bottom else top
                ax.plot(r["seconds"], edge, "v" if r[key] < bottom else "^", color="black")
                ax.annotate(f"{name}: {fmt.format(r[key])}", (r["seconds"], edge), textcoords="offset points",
                            xytext=(6, 6 if r[key] < bottom else -12), fontsize=8)
        ax.set_ylim(bottom, top)
        ax.set_xlim(left=0)
        ax.set_xlabel(f"seconds per {megapixels:g} MP photo")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8, loc="upper right")
    fig.suptitle(f"{title}\n(dot: mean over the sets; bar down to the worst set)", fontsize=10)
    save_figure(plt, fig, path)


def thumbnail(pixels, width: int):
    """An H x W x 3 float image as a ``width``-pixel-wide PIL image, for contact sheets."""
    from PIL import Image

    image = Image.fromarray((np.clip(pixels, 0, 1) * 255 + 0.5).astype(np.uint8))
    return image.resize((width, round(width * image.height / image.width)), Image.LANCZOS)


def level_changes(before: np.ndarray, after: np.ndarray) -> dict[str, float]:
    """Mean change in levels of 255: overall, in bright and in dark areas, and the mean
    absolute change (what moved at all, whatever its sign)."""
    lum = before[..., :3].mean(axis=2)
    diff = (np.clip(after, 0, 1) - before)[..., :3].mean(axis=2) * 255
    bright, dark = lum >= 0.7, lum <= 0.25
    return {"all": float(diff.mean()),
            "bright": float(diff[bright].mean()) if bright.any() else float("nan"),
            "dark": float(diff[dark].mean()) if dark.any() else float("nan"),
            "abs": float(np.abs(diff).mean())}
