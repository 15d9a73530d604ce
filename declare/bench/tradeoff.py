"""Quality against cost: ``declare bench quality`` and ``declare bench speed`` results side by side.

A model is worth its seconds only if it gains over leaving the photo alone, so
quality here is the gain over the identity baseline of the same quality run,
averaged over the datasets with each dataset weighing the same (a set of 3
photos counts as much as one of 20), and cost is the seconds one photo of the
chosen size took in the speed run. Methods are matched by their labels, so
give both runs the same ``--model`` list.
"""

from __future__ import annotations

from declare.metrics import METRICS as TABLE

METRICS = ("psnr", "ssim")  # the gains shown (by name from declare.metrics.METRICS)


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
        sign = {k: 1 if TABLE[k].higher_is_better else -1 for k in METRICS}
        gains = {d: {k: sign[k] * (r[k] - identity[d][k]) for k in METRICS} for d, r in mine.items()}
        record = {"method": method, "seconds": seconds[method], "sets": len(gains)}
        for k in METRICS:
            record[f"{k}_gain"] = sum(g[k] for g in gains.values()) / len(gains)
            record[f"min_{k}_gain"] = min(g[k] for g in gains.values())
        record["per_set"] = {d: {f"{k}_gain": g[k] for k in METRICS} for d, g in gains.items()}
        out.append(record)
    if not out:
        raise TradeoffError("no method is in both results; give both runs the same --model list")
    return out
