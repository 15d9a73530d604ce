"""Which files to read and where each result goes.

Inputs are files, shell globs (also quoted ones, expanded here), and folders
(``-r`` to recurse). Outputs go beside the input as ``NAME.declare.EXT`` unless
``-o`` names a file (one input) or a folder. An input is never overwritten, and
an existing output only with ``--overwrite``.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path

from declare.images import EXTENSIONS

SUFFIX = ".declare"
REFLECTION_SUFFIX = ".reflection"
_IMAGE_SUFFIXES = set(EXTENSIONS)


@dataclass
class Job:
    input: Path
    output: Path | None = None
    reflection: Path | None = None
    error: str | None = None      # set when the job cannot run
    skip: bool = False            # --skip-existing and the output exists


def _is_result(path: Path) -> bool:
    """Our own outputs, so re-running on a folder does not clean them again."""
    return any(path.stem.endswith(s) for s in (SUFFIX, REFLECTION_SUFFIX))


def _folder_images(folder: Path, recursive: bool) -> list[Path]:
    pattern = "**/*" if recursive else "*"
    return sorted(p for p in folder.glob(pattern)
                  if p.is_file() and p.suffix.lower() in _IMAGE_SUFFIXES
                  and not _is_result(p) and not p.name.startswith("."))


def expand_inputs(args: list[str], recursive: bool, unique: bool = True
                  ) -> list[tuple[Path, Path | None, str | None]]:
    """Expand arguments to (file, the folder it came from or None, error) triples.

    ``unique`` drops repeats of a file (a burst may name one file three times).
    """
    found: list[tuple[Path, Path | None, str | None]] = []
    for arg in args:
        path = Path(arg).expanduser()
        if path.is_dir():
            files = _folder_images(path, recursive)
            if not files:
                found.append((path, None, "folder holds no JPEG, PNG, TIFF or WebP images"
                              + ("" if recursive else " (use -r to look in subfolders)")))
            found += [(f, path, None) for f in files]
        elif path.exists():
            found.append((path, None, None))
        elif glob.has_magic(arg):
            matches = sorted(Path(m) for m in glob.glob(os.path.expanduser(arg), recursive=recursive))
            matches = [m for m in matches if m.is_file() and not _is_result(m)]
            found += [(m, None, None) for m in matches] or [(path, None, "no files match")]
        else:
            found.append((path, None, "no such file or folder"))
    if not unique:
        return found
    seen, kept = set(), []
    for item in found:
        key = item[0].resolve() if item[2] is None else item
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return kept


def plan_jobs(args: list[str], output: str | None, recursive: bool, overwrite: bool,
              skip_existing: bool, reflection: bool) -> list[Job]:
    items = expand_inputs(args, recursive)
    runnable = [i for i in items if i[2] is None]
    single_file_out = (output is not None and len(items) == 1 and len(runnable) == 1
                       and not output.endswith(("/", os.sep)) and not Path(output).is_dir())
    jobs = []
    inputs = {p.resolve() for p, _, _ in runnable}
    for path, root, error in items:
        job = Job(path, error=error)
        if error is None:
            job.output = (Path(output) if single_file_out
                          else _output_for(path, root, Path(output) if output else None))
            if reflection:
                job.reflection = job.output.with_name(
                    job.output.stem + REFLECTION_SUFFIX + job.output.suffix)
            job.error, job.skip = _check_outputs(job, inputs, overwrite, skip_existing)
        jobs.append(job)
    return jobs


def _output_for(path: Path, root: Path | None, out_dir: Path | None) -> Path:
    suffix = path.suffix if path.suffix.lower() in _IMAGE_SUFFIXES else ".png"
    if out_dir is None:
        return path.with_name(path.stem + SUFFIX + suffix)
    rel = path.relative_to(root).parent if root is not None else Path()
    return out_dir / rel / (path.stem + suffix)


def _check_outputs(job: Job, inputs: set[Path], overwrite: bool, skip_existing: bool
                   ) -> tuple[str | None, bool]:
    targets = [t for t in (job.output, job.reflection) if t is not None]
    for target in targets:
        if target.resolve() in inputs:
            return f"output {target} is an input; declare never overwrites its inputs", False
    existing = [t for t in targets if t.exists()]
    if existing and skip_existing and job.output.exists():
        return None, True
    if existing and not overwrite:
        return f"{existing[0]} exists (use --overwrite to replace it, --skip-existing to skip)", False
    return None, False
