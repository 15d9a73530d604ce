"""Quality against cost: ``declare bench quality`` and ``declare bench speed`` results side by side.

A model is worth its seconds only if it gains over leaving the photo alone, so
quality here is the gain over the identity baseline of the same quality run,
averaged over the datasets with each dataset weighing the same (a set of 3
photos counts as much as one of 20), and cost is the seconds one photo of the
chosen size took in the speed run. Methods are matched by their labels, so
give both runs the same ``--model`` list.
"""

from __future__ import annotations


class TradeoffError(ValueError):
    pass


def points(quality: dict, speed: dict, megapixels: float) -> list[dict]:
    """One record per method found in both documents: seconds per photo of
    ``megapixels`` and the mean PSNR/SSIM gained over identity, with each set's."""
    summary = [r for r in quality.get("summary", []) if "/" not in r["dataset"]
               and not r["method"].endswith("[published]")]
    identity = {r["dataset"]: r for r in summary if r["method"] == "identity"}
    if not identity:
        raise TradeoffError("the quality results hold no identity rows (not from 'declare bench quality'?)")
    seconds = {r["method"]: r["seconds"] for r in speed.get("rows", [])
               if abs(r["megapixels"] - megapixels) < 1e-6 and r.get("seconds") is not None}
    if not seconds:
        sizes = sorted({r["megapixels"] for r in speed.get("rows", [])})
        raise TradeoffError(f"the speed results have no {megapixels:g} MP rows (they have: "
                            f"{', '.join(f'{s:g}' for s in sizes) or 'none'})")
    out = []
    for method in dict.fromkeys(r["method"] for r in summary):
        if method == "identity" or method not in seconds:
            continue
        mine = {r["dataset"]: r for r in summary if r["method"] == method and r["dataset"] in identity}
        gains = {d: (r["psnr"] - identity[d]["psnr"], r["ssim"] - identity[d]["ssim"]) for d, r in mine.items()}
        out.append({"method": method, "seconds": seconds[method], "sets": len(gains),
                    "psnr_gain": sum(g[0] for g in gains.values()) / len(gains),
                    "ssim_gain": sum(g[1] for g in gains.values()) / len(gains),
                    "min_psnr_gain": min(g[0] for g in gains.values()),
                    "min_ssim_gain": min(g[1] for g in gains.values()),
                    "per_set": {d: {"psnr_gain": g[0], "ssim_gain": g[1]} for d, g in gains.items()}})
    if not out:
        raise TradeoffError("no method is in both results; give both runs the same --model list")
    return out


def plot(path, records: list[dict], megapixels: float, title: str, off_scale: set[str] = frozenset()) -> None:
    """Two panels, PSNR and SSIM gained over the input against seconds per photo;
    the zero line is leaving the photo alone. The vertical range fits the
    methods not in ``off_scale`` (classic baselines far below would flatten
    them); a point outside it sits on the edge with its value written."""
    from declare.bench.report import _atomic

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise RuntimeError("--plot needs matplotlib: pip install 'declare[bench]'") from None
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4))
    panels = ((axes[0], "psnr_gain", "min_psnr_gain", "PSNR gained over the input, dB", "{:+.2f} dB"),
              (axes[1], "ssim_gain", "min_ssim_gain", "SSIM gained over the input", "{:+.4f}"))
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
    axes[0].legend(fontsize=8, loc="upper right")
    fig.suptitle(f"{title}\n(dot: mean over the sets; bar down to the worst set)", fontsize=10)
    fig.tight_layout()
    suffix = path.suffix.lstrip(".") or "png"
    _atomic(path, lambda f: fig.savefig(f, format=suffix, dpi=120), "wb")
    plt.close(fig)
