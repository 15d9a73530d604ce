"""Which files to read and where each result goes.

Inputs are files, shell globs (also quoted ones, expanded here), and folders
(``-r`` to recurse). Outputs go beside the input as ``NAME.declare.EXT`` unless
``-o`` names a file (one input) or a folder. An input is never overwritten, and
an existing output only with ``--overwrite``. declare's own results given as
inputs (an unquoted ``trip/*.jpg`` after a first run names them too) are
skipped, not cleaned again.
"""

from __future__ import annotations

import glob
import os
import tempfile
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
    replaceable: frozenset[Path] = frozenset()  # outputs that existed when planned and may be replaced
    own_result: bool = False      # the input is one of declare's results: skipped


def _is_result(path: Path) -> bool:
    """Our own outputs (by their names), so re-running on a folder or an expanded glob
    does not clean them again."""
    return any(path.stem.endswith(s) for s in (SUFFIX, REFLECTION_SUFFIX))


def _folder_images(folder: Path, recursive: bool) -> list[Path]:
    pattern = "**/*" if recursive else "*"
    return sorted(p for p in folder.glob(pattern)
                  if p.is_file() and p.suffix.lower() in _IMAGE_SUFFIXES
                  and not _is_result(p) and not p.name.startswith("."))


def _inside(path: Path, folder: Path | None) -> bool:
    return folder is not None and path.resolve().is_relative_to(folder)


def expand_inputs(args: list[str], recursive: bool, unique: bool = True, exclude: Path | None = None
                  ) -> list[tuple[Path, Path | None, str | None]]:
    """Expand arguments to (file, the folder it came from or None, error) triples.

    ``unique`` drops repeats of a file (a burst may name one file three times).
    Folders and globs never yield files under ``exclude`` (the run's own output
    folder, which may sit inside an input folder).
    """
    exclude = exclude.resolve() if exclude is not None else None
    found: list[tuple[Path, Path | None, str | None]] = []
    for arg in args:
        path = Path(arg).expanduser()
        if path.is_dir():
            files = [f for f in _folder_images(path, recursive) if not _inside(f, exclude)]
            if not files:
                found.append((path, None, "folder holds no JPEG, PNG, TIFF or WebP images"
                              + ("" if recursive else " (use -r to look in subfolders)")))
            found += [(f, path, None) for f in files]
        elif path.exists():
            regular = path.is_file()  # a FIFO named .jpg would block the run forever
            found.append((path, None, None if regular else "not a regular file (a pipe, device or socket); skipped"))
        elif glob.has_magic(arg):
            matches = sorted(Path(m) for m in glob.glob(os.path.expanduser(arg), recursive=recursive))
            matches = [m for m in matches if m.is_file() and not _is_result(m) and not _inside(m, exclude)]
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


def output_problem(args: list[str], output: str | None, recursive: bool) -> str | None:
    """Why ``-o`` makes no sense for these inputs, or None (checked before anything runs)."""
    if output is None:
        return None
    out = Path(output).expanduser()
    if out.exists() and not out.is_dir() and not out.is_file():
        return "is neither a folder nor a photo file"
    for arg in args:
        if Path(arg).expanduser().is_dir() and Path(arg).expanduser().resolve() == out.resolve():
            return ("is the input folder: the results would replace its photos; give another "
                    "folder, or leave out -o to write NAME.declare.EXT beside each photo")
    if _names_a_file(output) and out.suffix.lower() in _IMAGE_SUFFIXES:
        count = len([i for i in expand_inputs(args, recursive) if i[2] is None])
        if count > 1:
            return f"names one file, but {count} photos were given; give a folder (-o {out.stem}/)"
    return None


def plan_jobs(args: list[str], output: str | None, recursive: bool, overwrite: bool,
              skip_existing: bool, reflection: bool) -> list[Job]:
    """Every input's job, with its outputs checked before any photo is computed:
    extension, a writable destination, no output shared by two inputs."""
    out_dir = Path(output) if output and not _names_a_file(output) else None
    items = expand_inputs(args, recursive, exclude=out_dir)
    own = [Job(p, skip=True, own_result=True) for p, _, e in items if e is None and _is_result(p)]
    items = [i for i in items if i[2] is not None or not _is_result(i[0])]
    runnable = [i for i in items if i[2] is None]
    single_file_out = output is not None and out_dir is None and len(items) == 1 and len(runnable) == 1
    if output is not None and out_dir is None and not single_file_out:
        out_dir = Path(output)  # only unusable inputs (output_problem refuses a file name for several)
    jobs, probed = [], {}
    inputs = {p.resolve() for p, _, _ in runnable}
    for path, root, error in items:
        job = Job(path, error=error)
        if error is None:
            job.output = Path(output) if single_file_out else _output_for(path, root, out_dir)
            if reflection:
                job.reflection = job.output.with_name(
                    job.output.stem + REFLECTION_SUFFIX + job.output.suffix)
            job.error, job.skip = _check_outputs(job, inputs, overwrite, skip_existing, probed)
        jobs.append(job)
    _refuse_shared_outputs(jobs)
    return jobs + own


def _names_a_file(output: str) -> bool:
    """``-o x.jpg`` names a file; ``-o cleaned``, ``-o cleaned/`` and an existing folder name folders."""
    path = Path(output)
    return not output.endswith(("/", os.sep)) and not path.is_dir() and path.suffix != ""


def _refuse_shared_outputs(jobs: list[Job]) -> None:
    """Two inputs that would write one file (c1/a.jpg and c2/a.jpg into -o out/) both fail."""
    owners: dict[Path, list[Job]] = {}
    for job in jobs:
        if job.output is not None and job.error is None:
            for target in (job.output, job.reflection):
                if target is not None:
                    owners.setdefault(target.resolve(), []).append(job)
    for target, claimants in owners.items():
        for job in claimants if len(claimants) > 1 else []:
            others = " and ".join(str(o.input) for o in claimants if o is not job)
            job.error = (f"{others} would write the same {target}; give them separate "
                         "-o folders, or leave out -o to write each beside its input")
            job.skip = False


def _output_for(path: Path, root: Path | None, out_dir: Path | None) -> Path:
    suffix = path.suffix if path.suffix.lower() in _IMAGE_SUFFIXES else ".png"
    if out_dir is None:
        return path.with_name(path.stem + SUFFIX + suffix)
    rel = path.relative_to(root).parent if root is not None else Path()
    return out_dir / rel / (path.stem + suffix)


def _check_outputs(job: Job, inputs: set[Path], overwrite: bool, skip_existing: bool,
                   probed: dict[Path, str | None]) -> tuple[str | None, bool]:
    """(error, skip). A photo is done only when all its outputs exist, so
    --skip-existing completes one that was interrupted between two of them."""
    targets = [t for t in (job.output, job.reflection) if t is not None]
    for target in targets:
        if target.resolve() in inputs:
            return f"output {target} is an input; declare never overwrites its inputs", False
    if EXTENSIONS.get(job.output.suffix.lower()) is None:
        return (f"cannot write {job.output.suffix or 'files without an extension'}; "
                f"use one of {', '.join(sorted(EXTENSIONS))}"), False
    existing = [t for t in targets if t.exists()]
    if skip_existing and len(existing) == len(targets):
        return None, True
    if overwrite or skip_existing:  # --skip-existing completes a photo interrupted between its outputs
        job.replaceable = frozenset(existing)
    if existing and not overwrite and not skip_existing:
        return f"{existing[0]} exists (use --overwrite to replace it, --skip-existing to skip)", False
    return _unwritable(job.output.parent, probed), False


def _unwritable(folder: Path, probed: dict[Path, str | None]) -> str | None:
    """Why nothing can be written in ``folder`` (created later if missing), or None.
    Probed by writing, since permissions alone do not tell (root, read-only mounts)."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    key = existing.resolve()
    if key not in probed:
        if not existing.is_dir():
            probed[key] = f"cannot create folder {folder}: {existing} is not a folder"
        else:
            try:
                fd, probe = tempfile.mkstemp(prefix=".declare-probe-", dir=existing)
                os.close(fd)
                os.unlink(probe)
                probed[key] = None
            except OSError as exc:
                probed[key] = f"cannot write in {existing}: {exc.strerror or exc}"
    return probed[key]
