"""Where the pairs and sequences of a dataset folder are: plain Python, no torch,
so commands can check a folder before loading anything heavy.

Layouts accepted (documented in the README):

- Sequences (Seq1K style): ``ROOT/<sequence>/`` holding three views, in file
  name order, and the centre's transmission named ``gt.*``, ``transmission.*``
  or ``t.*``. A ``train/`` or ``test/`` level above the sequences is fine.
- Pairs, found at any depth (a folder's first level names its subsets):
  an input folder (``blended``, ``input``, ``mixture``, ``I``, ``m``) beside a
  ground-truth folder (``transmission_layer``, ``transmission``, ``gt``,
  ``T``, ``g``) with files paired by name (Real20, Nature); SIR^2 as
  distributed, scene folders of ``m.*``, ``g.*``, ``r.*`` (SolidObjectDataset,
  Wildscene) and ``<xx>-<n>-m-<k>.png`` beside ``-g-``/``-r-`` (Postcard
  Dataset); or one folder of ``NAME-input.EXT`` with ``NAME-label1.EXT``
  (CEILNet, whose ``-label2`` reflection is used too), ``NAME_m``/``NAME_g`` or
  ``NAME_input``/``NAME_gt``. SIR^2's and CEILNet's reflections are used too.
- Photos: any folder of photos, turned into synthetic sequences.

"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import NamedTuple

from declare.images import EXTENSIONS

GT_NAMES = ("gt", "transmission", "t")
INPUT_DIRS = ("blended", "input", "mixture", "i", "m")
GT_DIRS = ("transmission_layer", "transmission", "gt", "t", "g")
PAIR_SUFFIXES = (("-input", "-label1", "-label2"), ("_m", "_g", None), ("_input", "_gt", None))
POSTCARD = re.compile(r"^(.+)-m-([^-]+)$", re.IGNORECASE)


class DataError(Exception):
    """A dataset folder declare cannot use; the message says what it expected."""


def images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in EXTENSIONS and not p.name.startswith("."))


def sequence_dirs(root: Path) -> list[Path]:
    dirs = sorted(d for d in root.iterdir() if d.is_dir())
    nested = [d for d in dirs if d.name in ("train", "test", "val")]
    return sorted(s for d in nested for s in d.iterdir() if s.is_dir()) if nested else dirs


def find_sequence(folder: Path) -> tuple[list[Path], Path] | None:
    """Three views and a ground truth; a SIR^2 scene (m, g, r) is a pair, not a sequence."""
    files = images_in(folder)
    if {"m", "g"} <= {f.stem.lower() for f in files}:
        return None
    gts = [f for f in files if f.stem.lower() in GT_NAMES]
    views = [f for f in files if f not in gts]
    if len(gts) == 1 and len(views) == 3:
        return views, gts[0]
    return None


class Pair(NamedTuple):
    """An input photo, its ground-truth transmission, the reflection where the
    benchmark gives one, and the subset it belongs to ("" at the top level)."""

    image: Path
    truth: Path
    reflection: Path | None = None
    subset: str = ""


def find_pairs(root: Path) -> list[Pair]:
    """Every input/ground-truth pair under ``root``, in any layout the public
    benchmarks use, searched recursively. A pair's subset is the first folder
    below ``root`` on its way (SIR^2's ``Postcard Dataset``, or ``real20`` in a
    folder of benchmarks)."""
    pairs = []
    for folder, subdirs, files in os.walk(root):
        subdirs.sort()
        here = Path(folder)
        found, used_dirs = _pairs_here(here, subdirs, sorted(files))
        subdirs[:] = [d for d in subdirs if d not in used_dirs and not d.startswith(".")]
        rel = here.relative_to(root).parts
        pairs += [Pair(*p, rel[0] if rel else "") for p in found]
    return pairs


def _pairs_here(folder: Path, subdirs: list[str], files: list[str]) -> tuple[list[tuple], set[str]]:
    """Pairs one folder holds directly, and which of its subfolders they used."""
    by_name = {d.lower(): d for d in subdirs}
    inputs = next((by_name[n] for n in INPUT_DIRS if n in by_name), None)
    truths = next((by_name[n] for n in GT_DIRS if n in by_name), None)
    if inputs and truths:
        gt_by_stem = {p.stem: p for p in images_in(folder / truths)}
        return ([(p, gt_by_stem[p.stem], None) for p in images_in(folder / inputs) if p.stem in gt_by_stem],
                {inputs, truths})
    images = [folder / f for f in files if Path(f).suffix.lower() in EXTENSIONS and not f.startswith(".")]
    by_stem = {p.stem.lower(): p for p in images}
    if "m" in by_stem and "g" in by_stem:  # SIR^2 scene folders: m.jpg, g.jpg, r.jpg
        return [(by_stem["m"], by_stem["g"], by_stem.get("r"))], set()
    pairs = []
    for p in images:  # SIR^2 Postcard: <xx>-<n>-m-<k>.png beside -g- and -r-
        match = POSTCARD.match(p.stem)
        if match:
            head, tail = match.groups()
            gt = by_stem.get(f"{head}-g-{tail}".lower())
            if gt:
                pairs.append((p, gt, by_stem.get(f"{head}-r-{tail}".lower())))
    if pairs:
        return pairs, set()
    for inp, gt, refl in PAIR_SUFFIXES:
        for p in images:
            if p.stem.endswith(inp):
                base = p.stem[: -len(inp)]
                if (base + gt).lower() in by_stem:
                    pairs.append((p, by_stem[(base + gt).lower()],
                                  by_stem.get((base + refl).lower()) if refl else None))
        if pairs:
            return pairs, set()
    return [], set()
