"""Benchmark results for people (a table, a bar chart) and for scripts (JSON, CSV)."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

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


def plot_bars(path: Path, summary: list[dict], metrics: list[tuple[str, str]], title: str) -> None:
    """Grouped bars: one panel per metric, a group per dataset, a bar per method."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise RuntimeError("--plot needs matplotlib: pip install 'declare[bench]'") from None
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
    fig.tight_layout()
    suffix = path.suffix.lstrip(".") or "png"
    _atomic(path, lambda f: fig.savefig(f, format=suffix, dpi=120), "wb")
    plt.close(fig)

