"""Clean a batch of photos: one bad file costs one line, never the batch.

Exit status: 0 when every photo was cleaned or skipped, 1 when any failed,
2 when the run could not start (model, device), 130 on Ctrl-C, 143 on SIGTERM
and 129 on SIGHUP. Outputs are written atomically, so an interruption leaves
finished files and no partial one.
"""

from __future__ import annotations

import functools
import os
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np
from tqdm import tqdm

from declare.plan import Job, expand_inputs, output_problem, plan_jobs
from declare.images import ImageError, OutputAppeared, Photo, format_for, read_photo, write_photo
from declare.results import blend, reflection_of
from declare.options import Options
from declare.program import line

if TYPE_CHECKING:  # the engine loads only once there is a photo to clean
    from declare.api import Cleaner


@dataclass
class Report:
    opts: Options
    failed: int = 0
    bars: bool = field(init=False)
    silent: bool = False          # the Python API's: nothing printed, the records kept instead
    records: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.bars = not self.silent and not self.opts.quiet and not self.opts.as_json and sys.stdout.isatty()

    def progress(self, items, unit, total: int | None = None):
        total = len(items) if total is None else total
        return tqdm(items, unit=unit, total=total, leave=False, disable=not self.bars or total < 2)

    def say(self, text: str) -> None:
        if not self.silent and not self.opts.quiet and not self.opts.as_json:
            tqdm.write(text, file=sys.stdout)

    def error(self, where: str, message: str) -> None:
        text = line("error", message, where)
        if self.silent:
            self.errors.append(text)
        else:
            tqdm.write(text, file=sys.stderr)

    def warn(self, where: str, message: str) -> None:
        if not self.silent:
            tqdm.write(line("warning", message, where), file=sys.stderr)

    def outcome(self, job: Job, outcome: "Outcome") -> None:
        """A finished job, wherever it ran: its warnings, then its line (or JSON record)."""
        for warning in outcome.warnings:
            self.warn(str(job.input), warning)
        self.record(job, outcome.status, outcome.seconds, outcome.error, outcome.notes)

    def record(self, job: Job, status: str, seconds: float, error: str | None = None,
               notes: list[str] | None = None) -> None:
        if status == "failed":
            self.failed += 1
            self.error(str(job.input), error or "failed")
        elif status == "ok":
            extra = f" ({'; '.join(notes)})" if notes else ""
            self.say(f"{job.input} -> {job.output}  {seconds:.1f} s{extra}")
        elif status == "skipped" and not job.own_result:
            self.say(f"{job.input}: skipped, {job.output} exists" + (f" ({'; '.join(notes)})" if notes else ""))
        record = {"input": str(job.input), "output": str(job.output) if job.output else None,
                  "reflection": str(job.reflection) if job.reflection else None,
                  "status": status, "seconds": round(seconds, 3), "error": error, "notes": notes or []}
        if self.silent:  # the Python API returns them; a long run on the command line keeps none
            self.records.append(record)
        elif self.opts.as_json:
            print(json.dumps(record), flush=True)


def run(args: list[str], opts: Options, report: Report | None = None) -> int:
    """Clean every photo ``args`` name; the exit status (module docstring)."""
    report = report or Report(opts)
    try:
        frames = None
        if opts.burst:
            planned = _burst_jobs(args, opts, report)
            if planned is None:
                return 2
            jobs, frames, reference = planned
        else:
            problem = output_problem(args, opts.output, opts.recursive)
            if problem:
                report.error(f"-o {opts.output}", problem)
                return 2
            _warn_if_folder_meant_a_file(args, opts, report)
            jobs = plan_jobs(args, opts.output, opts.recursive, opts.overwrite, opts.skip_existing,
                             opts.save_reflection)
        todo = [j for j in jobs if j.error is None and not j.skip]
        for job in jobs:
            if job.error is not None:
                report.record(job, "failed", 0.0, job.error)
            elif job.skip:
                report.record(job, "skipped", 0.0, notes=["declare's own result"] if job.own_result else None)
        _summarise_own_results(jobs, report)
        if not todo:
            return 1 if report.failed else 0
        exporters = _exporters(opts.export, report)
        if exporters is None:
            return 2
        if opts.cluster:  # the workers load the model and run the jobs planned here
            from declare.cluster import clean_on_cluster

            if clean_on_cluster(todo, opts, report, (frames, reference) if opts.burst else None) is None:
                return 2
            return 1 if report.failed else 0
        cleaner = _cleaner(opts, report)
        if cleaner is None:
            return 2
        if opts.burst:
            _clean_burst(cleaner, frames, reference, todo[0], opts, report, exporters)
        else:
            for job in report.progress(todo, "photo"):
                _clean_one(cleaner, job, opts, report, exporters)
    except KeyboardInterrupt as exc:  # Ctrl-C, SIGTERM, SIGHUP (declare.signals)
        from declare.signals import exit_status, what_stopped

        tqdm.write(f"declare: {what_stopped(exc)}; finished photos are kept, no partial file was written",
                   file=sys.stderr)
        return exit_status(exc)
    return 1 if report.failed else 0


def _warn_if_folder_meant_a_file(args: list[str], opts: Options, report: Report) -> None:
    """``-o clean`` with one photo: a name without an extension is a folder (so ``-o
    cleaned`` works for one photo as for many), which someone who meant a file must be told."""
    out = opts.output
    if out is None or out.endswith(("/", os.sep)) or Path(out).suffix or Path(out).exists():
        return
    files = [p for p, _, error in expand_inputs(args, opts.recursive) if error is None]
    if len(files) == 1 and not Path(args[0]).is_dir():
        report.warn(f"-o {out}", f"has no extension, so it is a folder: writing {Path(out) / files[0].name} "
                                 f"(for a file, give a name such as {out}{files[0].suffix})")


def _summarise_own_results(jobs: list[Job], report: Report) -> None:
    """One line for all the results of an earlier run among the inputs."""
    own = [j.input for j in jobs if j.own_result]
    if own:
        named = ", ".join(p.name for p in own[:3]) + (", ..." if len(own) > 3 else "")
        report.say(f"skipped {len(own)} of declare's own results ({named}); "
                   "rename one to clean it again")


def _exporters(names: tuple[str, ...], report: Report) -> dict | None:
    """The --export plugins, loaded once; None (and a line each) if one is unusable."""
    if not names:
        return {}
    from declare.plugins import discover

    found = discover()
    chosen, ok = {}, True
    for name in names:
        if name in found.exporters:
            chosen[name] = found.exporters[name]
        else:
            why = found.broken.get(name, f"not installed (installed: {', '.join(found.exporters) or 'none'})")
            report.error(f"--export {name}", why)
            ok = False
    return chosen if ok else None


def _export(job: Job, original: np.ndarray, transmission: np.ndarray, exporters: dict) -> list[str]:
    """Hand the written result (``transmission``, blended) to each exporter."""
    if not exporters:  # the common case: no full-size copies to make
        return []
    from declare.plugins import ExportItem, run_export

    item = ExportItem(job.input, job.output, original, transmission, reflection_of(original, transmission))
    written = [p for name, exporter in exporters.items() for p in run_export(exporter, name, item)]
    return [f"exported {', '.join(str(p) for p in written)}"] if written else []


def _finite(result: np.ndarray) -> np.ndarray:
    """A result with NaN or Inf in it comes from damaged weights: never written."""
    if not np.isfinite(result).all():
        raise ImageError("the model returned NaN/Inf pixels (damaged weights?); nothing was written")
    return result


def _cleaner(opts: Options, report: Report) -> "Cleaner | None":
    """The Python API's Cleaner with the model loaded now (the classical burst loads none);
    None, and the error line, if it cannot be."""
    from declare.session import SessionError

    try:
        return cleaner_for(opts)
    except SessionError as exc:
        report.error(exc.where, str(exc))
        return None


def cleaner_for(opts: Options) -> "Cleaner":
    """A Cleaner for these photo options, its model loaded (here or on a cluster's worker)."""
    from declare.api import Cleaner

    cleaner = Cleaner(None if opts.burst else opts.model, burst_model=opts.model, engine=opts.engine,
                      device=opts.device, half=opts.half, threads=opts.threads, tile=opts.tile,
                      overlap=opts.overlap, strength=opts.strength, load=not opts.burst)
    if opts.burst and opts.burst_method == "teacher":
        cleaner.session(burst=True)
    return cleaner


def clean_photo(cleaner: "Cleaner", job: Job, opts: Options, exporters: dict, progress=None) -> Done:
    """One photo read, cleaned, written (and exported): the work of a job, here or on a worker."""
    photo = read_photo(job.input)
    result = _finite(cleaner.transmission(photo.pixels, progress))
    result = blend(result, photo.pixels, opts.strength)
    notes = _write_results(job, photo, result, opts)
    return Done(notes + _export(job, photo.pixels, result, exporters))


def _clean_one(cleaner: "Cleaner", job: Job, opts: Options, report: Report, exporters: dict) -> None:
    report.outcome(job, attempt(lambda: clean_photo(cleaner, job, opts, exporters,
                                                    lambda boxes: report.progress(boxes, "tile")),
                                opts.skip_existing))


def _release_memory() -> None:
    """Hand the freed pixel buffers of the last photo back to the system (glibc keeps them,
    fragmented, so a later large photo would raise the peak instead of reusing them)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.lru_cache(maxsize=1)
def _malloc_trim():
    """glibc's malloc_trim, looked up once; None elsewhere (musl, macOS, Windows)."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


@dataclass
class Done:
    """What a job's work reports when it succeeds."""

    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    """How one job ended, as a plain record a worker can send back."""

    status: str                       # "ok", "skipped" or "failed"
    seconds: float
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def attempt(work: Callable[[], Done], skip_existing: bool, appeared: str | None = None) -> Outcome:
    """Run one job's work; whatever goes wrong costs that photo one line, never the batch.
    An output made meanwhile is a skip with --skip-existing, or where ``appeared`` says
    why it may be (a cluster: this photo's earlier attempt on a lost worker)."""
    from declare.plugins import PluginError
    from declare.session import SessionError

    start = time.perf_counter()
    try:
        done = work()
    except OutputAppeared as exc:  # another run finished this photo meanwhile
        if skip_existing or appeared:
            return Outcome("skipped", time.perf_counter() - start, notes=[appeared or "another run wrote it meanwhile"])
        return Outcome("failed", time.perf_counter() - start, str(exc))
    except (ImageError, SessionError, PluginError) as exc:
        return Outcome("failed", time.perf_counter() - start, str(exc))
    except MemoryError:
        return Outcome("failed", time.perf_counter() - start, "out of memory; try a smaller --tile")
    except Exception as exc:  # a bug must cost one photo, not the batch
        return Outcome("failed", time.perf_counter() - start, f"internal error: {type(exc).__name__}: {exc}")
    finally:
        _release_memory()
    return Outcome("ok", time.perf_counter() - start, notes=done.notes, warnings=done.warnings)


def _write_results(job: Job, photo: Photo, transmission: np.ndarray, opts: Options) -> list[str]:
    """The result (already blended with --strength) and, if asked, its reflection layer."""
    format_for(job.output)  # a bad extension fails before any work is written
    try:
        job.output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ImageError(f"cannot create folder {job.output.parent}: {exc.strerror or exc}") from None
    notes = write_photo(job.output, photo.with_pixels(transmission), opts.quality,
                        replace=opts.overwrite or job.output in job.replaceable)
    if job.reflection is not None:
        reflection = reflection_of(photo.pixels, transmission)
        write_photo(job.reflection, photo.with_pixels(reflection), opts.quality,
                    replace=opts.overwrite or job.reflection in job.replaceable)
    return notes


def _burst_jobs(args: list[str], opts: Options, report: Report) -> tuple[list[Job], list, int] | None:
    """The reference view's job, the views' paths, expanded once, and the reference's place
    among them; None if unusable."""
    from declare.burst import MAX_VIEWS, MIN_VIEWS, middle

    items = expand_inputs(args, opts.recursive, unique=False)
    bad = [(p, e) for p, _, e in items if e is not None]
    for path, error in bad:
        report.error(str(path), error)
    if bad:
        return None
    if not MIN_VIEWS <= len(items) <= MAX_VIEWS:
        report.error("--burst", f"takes {MIN_VIEWS} to {MAX_VIEWS} views of one scene, got {len(items)}")
        return None
    if opts.reference is not None and opts.reference > len(items):
        report.error("--reference", f"is {opts.reference}, but the burst has {len(items)} views")
        return None
    frames = [p for p, _, _ in items]
    reference = middle(len(frames)) if opts.reference is None else opts.reference - 1
    jobs = plan_jobs([str(frames[reference])], opts.output, False, opts.overwrite, opts.skip_existing,
                     opts.save_reflection)
    return jobs, frames, reference


def clean_burst_views(cleaner: "Cleaner", frames: list, reference: int, job: Job, opts: Options,
                      exporters: dict, progress=None) -> Done:
    """A burst's reference view cleaned and written: one job, here or on a worker."""
    photos = []
    for path in frames:
        try:
            photos.append(read_photo(path))
        except ImageError as exc:
            raise ImageError(f"burst view {path}: {exc}") from None
    result = cleaner.burst([p.pixels for p in photos], reference, opts.burst_method, progress,
                           labels=[str(p) for p in frames])
    transmission = blend(_finite(result.transmission), photos[reference].pixels, opts.strength)
    notes = result.notes + ([f"warning: {w}" for w in result.warnings] if opts.as_json else [])
    notes += _write_results(job, photos[reference], transmission, opts)
    return Done(notes + _export(job, photos[reference].pixels, transmission, exporters), result.warnings)


def _clean_burst(cleaner: "Cleaner", frames: list, reference: int, job: Job, opts: Options,
                 report: Report, exporters: dict) -> None:
    report.outcome(job, attempt(lambda: clean_burst_views(cleaner, frames, reference, job, opts, exporters,
                                                          lambda boxes: report.progress(boxes, "tile")),
                                opts.skip_existing))
