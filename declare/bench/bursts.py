"""Scoring burst results on real sequences, where no ground truth exists.

A sequence folder holds ``frame0.jpg`` .. ``frameN.jpg`` (the views, in capture
order) and, optionally, ``published/<Method>.jpg``: other methods' results for
the middle frame. The best multi-frame method's result (``Ours.jpg``: Liu et
al. 2020) stands in for the truth, so a score says how close a result comes to
it, and where it differs from the input:

- ``vs_psnr`` / ``vs_ssim``: against the published reference;
- ``change``: the mean change of the result from the input, in levels of 255
  (negative: darker);
- ``in_reflection``: how much darker than the input the result is where the
  reference is more than 15 levels darker than the input (the reflection, as
  the reference sees it); ``elsewhere``: the same over the rest, which should
  stay near 0 (a method that only dims scores well in_reflection too);
- ``detail``: the result's finest detail (what a 1 px blur takes away) over the
  input's, outside the reflection (everywhere without a reference): under 1, a
  result softer than the photo it cleans.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from declare.metrics import psnr, ssim

REFERENCE_METHOD = "Ours"      # Liu et al. 2020, as the sequences' PROVENANCE names it
REFLECTION_LEVELS = 15         # levels of 255 by which the reference is darker: "the reflection"
_FRAME = re.compile(r"frame(\d+)\.(jpe?g|png|tiff?|webp)$", re.I)


@dataclass(frozen=True)
class Sequence:
    name: str
    frames: list[Path]
    published: dict[str, Path]

    @property
    def middle(self) -> int:
        """The frame the published results are for, and the one a burst cleans by default."""
        from declare.burst import middle

        return middle(len(self.frames))


def find_sequences(root: str | Path) -> list[Sequence]:
    """Every folder under ``root`` (itself included) holding frame0.. files, sorted by name."""
    root = Path(root)
    found = []
    for folder in sorted({p.parent for p in root.rglob("frame*") if _FRAME.search(p.name)}):
        frames = sorted((p for p in folder.iterdir() if _FRAME.search(p.name)),
                        key=lambda p: int(_FRAME.search(p.name).group(1)))
        pub = folder / "published"
        published = {p.stem: p for p in sorted(pub.iterdir())} if pub.is_dir() else {}
        found.append(Sequence(folder.name, frames, published))
    return found


def score(result: np.ndarray, image: np.ndarray, reference: np.ndarray | None) -> dict[str, float]:
    """The columns above for one result (H x W x 3 in [0, 1]); vs_* and the two regions
    need the published reference, and are NaN without it."""
    change = float((result - image).mean()) * 255
    out = {"vs_psnr": float("nan"), "vs_ssim": float("nan"), "change": change,
           "in_reflection": float("nan"), "elsewhere": float("nan"), "detail": detail_kept(result, image)}
    if reference is None:
        return out
    darkening = (image - result).mean(-1) * 255
    reflection = (image - reference).mean(-1) * 255 > REFLECTION_LEVELS
    out["detail"] = detail_kept(result, image, ~reflection)
    out.update(vs_psnr=psnr(result, reference), vs_ssim=ssim(result, reference),
               in_reflection=float(darkening[reflection].mean()) if reflection.any() else float("nan"),
               elsewhere=float(darkening[~reflection].mean()) if (~reflection).any() else float("nan"))
    return out


def detail_kept(result: np.ndarray, image: np.ndarray, where: np.ndarray | None = None) -> float:
    """The result's finest detail over the image's (mean absolute difference from a 1 px
    Gaussian blur, over ``where``)."""
    from declare.burst.compose import channel_mean, fine_band

    def fine(a: np.ndarray) -> np.ndarray:
        return channel_mean(np.abs(fine_band(np.ascontiguousarray(a, np.float32), 1.0)))

    where = np.ones(image.shape[:2], bool) if where is None else where
    base = float(fine(image)[where].mean()) if where.any() else 0.0
    return float(fine(result)[where].mean()) / base if base > 0 else float("nan")


def spread(count: int, views: int | None) -> list[int]:
    """``views`` frame indices spread evenly over ``count`` (5 frames, 3 views: 0, 2, 4), the
    middle one always among them; all frames when ``views`` is None or not fewer."""
    if views is None or views >= count:
        return list(range(count))
    from declare.burst import middle

    picked = [round(x) for x in np.linspace(0, count - 1, max(views, 2))][:views]
    if middle(count) not in picked:
        nearest = min(range(len(picked)), key=lambda k: abs(picked[k] - middle(count)))
        picked[nearest] = middle(count)
    return sorted(set(picked))


def run(sequences: list[Sequence], methods: list[str], views: int | None, cleaner,
        sheets: Path | None = None) -> list[dict]:
    """One row per sequence and method: the input, each burst method, each published result.
    ``cleaner`` (declare.Cleaner) runs the bursts as the command line does."""
    import time

    from declare.images import read_photo

    def load(path: Path) -> np.ndarray:
        return read_photo(path).pixels

    rows = []
    for seq in sequences:
        chosen = spread(len(seq.frames), views)
        frames = [load(seq.frames[i]) for i in chosen]
        ref = chosen.index(seq.middle)
        image = frames[ref]
        reference = load(seq.published[REFERENCE_METHOD]) if REFERENCE_METHOD in seq.published else None
        if reference is not None and reference.shape != image.shape:
            reference = None
        panels = [("input", image)]
        rows.append({"sequence": seq.name, "method": "input", "views": 1, "seconds": 0.0,
                     **score(image, image, reference)})
        for method in methods:
            start = time.perf_counter()
            result = cleaner.burst(frames, ref, method)
            seconds = time.perf_counter() - start
            panels.append((f"declare {method}", result.transmission))
            rows.append({"sequence": seq.name, "method": f"declare {method}", "views": len(frames),
                         "seconds": seconds, **score(result.transmission, image, reference),
                         "warnings": "; ".join(result.warnings)})
        for name, path in seq.published.items():
            other = load(path)
            if other.shape != image.shape:
                continue
            panels.append((f"{PUBLISHED_NAMES.get(name, name)} (published)", other))
            rows.append({"sequence": seq.name, "method": PUBLISHED_NAMES.get(name, name), "views": None,
                         "seconds": None, **score(other, image, reference)})
        if sheets is not None:
            contact_sheet(sheets / f"{seq.name}.jpg", panels)
    return rows


# The published results' file names, as the sequences' PROVENANCE.md explains them.
PUBLISHED_NAMES = {"Ours": "Liu et al. 2020", "Li2013": "Li & Brown 2013", "Xue2015": "Xue et al. 2015",
                   "Guo2014": "Guo et al. 2014", "Wei2019": "ERRNet 2019 (single)",
                   "Zhang2018": "Zhang et al. 2018 (single)"}
COLUMNS = ("vs_psnr", "vs_ssim", "change", "in_reflection", "elsewhere", "detail", "seconds")


def summary(rows: list[dict]) -> list[dict]:
    """Each method's means over the sequences it has (NaN cells left out), with its PSNR gain
    over the input on the same sequences and its worst sequence's."""
    inputs = {r["sequence"]: r["vs_psnr"] for r in rows if r["method"] == "input"}
    out = []
    for method in dict.fromkeys(r["method"] for r in rows):
        mine = [r for r in rows if r["method"] == method]
        row = {"method": method, "sequences": len(mine)}
        for column in COLUMNS:
            values = [r[column] for r in mine if r.get(column) is not None and np.isfinite(r[column])]
            row[column] = float(np.mean(values)) if values else float("nan")
        gains = [r["vs_psnr"] - inputs[r["sequence"]] for r in mine
                 if np.isfinite(r["vs_psnr"]) and np.isfinite(inputs.get(r["sequence"], np.nan))]
        row["gain"] = float(np.mean(gains)) if gains else float("nan")
        row["worst"] = float(np.min(gains)) if gains else float("nan")
        out.append(row)
    return out


def contact_sheet(path: Path, panels: list[tuple[str, np.ndarray]], width: int = 360) -> None:
    """The panels side by side, each ``width`` px wide under its heading, written atomically."""
    from PIL import Image, ImageDraw

    from declare.atomic import atomic_path
    from declare.bench.report import thumbnail

    band = 20
    thumbs = [(title, thumbnail(pixels, width)) for title, pixels in panels]
    height = max(t.height for _, t in thumbs) + band
    sheet = Image.new("RGB", (width * len(thumbs), height), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (title, thumb) in enumerate(thumbs):
        sheet.paste(thumb, (i * width, band))
        draw.text((i * width + 4, 4), title, fill="black")
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        sheet.save(tmp, format="JPEG", quality=90)
