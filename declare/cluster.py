"""Cleaning on a Dask cluster (``--cluster``; ``pip install 'declare[cluster]'``).

Why Dask distributed rather than Ray (README, "Past one machine"): a sixth of the
install (44 MB against 259 MB here), a local cluster of two workers ready in
1.2-1.4 s against 3-4.6 s, and the same answer to a lost worker (its tasks run
again elsewhere). The plan of outputs is made once, on this machine, as without
a cluster: names, --skip-existing and --overwrite mean what they always mean.
Every photo (or burst) is one task; a worker loads the model once
(``_worker_cleaner``, per process) and writes atomically, so a worker killed
mid-photo leaves no partial file and the photo is written by the task's next
attempt. Inputs and outputs must be on storage every worker sees.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass, replace

from declare.batch import Outcome, attempt, clean_burst_views, clean_photo
from declare.device import usable_cores
from declare.options import Options
from declare.plan import Job


# A task runs again when its worker is lost; if the lost attempt had written the photo,
# the next finds it there: written once, and said so.
APPEARED = "already written: by this photo's attempt on a lost worker, or by another run"


class ClusterError(Exception):
    """The cluster cannot be started, reached or used; one line for the user."""


@dataclass(frozen=True)
class Address:
    local_workers: int | None    # local:N; None for a running scheduler's address
    scheduler: str | None = None


def parse_address(text: str) -> Address:
    """``local`` (one worker per two cores), ``local:N``, or a scheduler address
    (``tcp://host:8786``)."""
    if text == "local":
        return Address(max(1, usable_cores() // 2))
    if text.startswith("local:"):
        count = text.split(":", 1)[1]
        if not count.isdigit() or int(count) < 1:
            raise ClusterError("give local:N with N at least 1")
        return Address(int(count))
    if "://" not in text and ":" not in text:
        raise ClusterError("give local, local:N or a scheduler address such as tcp://host:8786")
    return Address(None, text)


def connect(address: Address):
    """A dask.distributed Client (and the local cluster it owns, or None)."""
    from declare.extras import MissingExtra, require

    try:
        require("cleaning on a cluster", "distributed", extra="cluster")
    except MissingExtra as exc:
        raise ClusterError(str(exc)) from None
    import logging

    from dask.distributed import Client, LocalCluster

    logging.getLogger("distributed").setLevel(logging.ERROR)  # its own chatter is not the user's business
    try:
        if address.local_workers is not None:
            cluster = LocalCluster(n_workers=address.local_workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None)
            return Client(cluster), cluster
        return Client(address.scheduler, timeout="10s"), None
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"cannot reach the scheduler ({exc})") from None


def worker_threads(opts: Options, address: Address) -> int:
    """ONNX Runtime's threads in each worker: --threads, else the worker's share of the cores."""
    if opts.threads:
        return opts.threads
    return max(1, usable_cores() // address.local_workers) if address.local_workers else 0


@functools.lru_cache(maxsize=2)
def _worker_cleaner(opts: Options):
    """The model of these options in this worker process: loaded once, then reused."""
    from declare.batch import cleaner_for

    return cleaner_for(opts)


@functools.lru_cache(maxsize=2)
def _worker_exporters(names: tuple[str, ...]) -> dict:
    from declare.plugins import PluginError, discover

    found = discover()
    missing = [n for n in names if n not in found.exporters]
    if missing:
        raise PluginError(f"--export {missing[0]}: not installed on this worker")
    return {name: found.exporters[name] for name in names}


def load_model(opts: Options) -> str | None:
    """Run on every worker before any photo: None, or why the model cannot be had there."""
    from declare.session import SessionError

    try:
        _worker_cleaner(opts)
    except SessionError as exc:
        return str(exc)
    return None


def run_job(job: Job, opts: Options, burst: tuple | None = None) -> Outcome:
    """One photo (or with ``burst`` = (frames, reference) one burst) on a worker."""
    cleaner = _worker_cleaner(opts)
    try:
        exporters = _worker_exporters(tuple(opts.export))
    except Exception as exc:  # PluginError: one line, like a local failure
        return Outcome("failed", 0.0, str(exc))
    if burst is None:
        return attempt(lambda: clean_photo(cleaner, job, opts, exporters), opts.skip_existing, APPEARED)
    frames, reference = burst
    return attempt(lambda: clean_burst_views(cleaner, frames, reference, job, opts, exporters),
                   opts.skip_existing, APPEARED)


def clean_on_cluster(jobs: list[Job], opts: Options, report, burst: tuple | None = None) -> int | None:
    """Every job a task on the cluster ``opts.cluster``; each outcome recorded as it lands.
    None when the cluster could not be used (the error line is printed), else 0."""
    try:
        address = parse_address(opts.cluster)
        client, cluster = connect(address)
    except ClusterError as exc:
        report.error(f"--cluster {opts.cluster}", str(exc))
        return None
    futures = []
    try:
        opts = replace(opts, threads=worker_threads(opts, address))  # what each worker runs with
        problems: dict[str, list[str]] = {}
        for worker, why in client.run(load_model, opts).items():
            if why:
                problems.setdefault(why, []).append(worker)
        for why, workers in problems.items():  # one line per reason, however many workers share it
            report.error(f"{len(workers)} worker{'s' if len(workers) > 1 else ''} of --cluster {opts.cluster}", why)
        if problems:
            return None
        from dask.distributed import as_completed

        owner, run = {}, uuid.uuid4().hex  # keys unique on a scheduler that other runs share
        for job in jobs:
            future = client.submit(run_job, job, opts, burst, pure=False,
                                   key=f"declare-{run}-{len(futures)}")
            owner[future.key] = job
            futures.append(future)
        for future in report.progress(as_completed(futures), "photo", total=len(futures)):
            job = owner[future.key]
            try:
                report.outcome(job, future.result())
            except Exception as exc:  # the task itself died (e.g. every worker it tried was lost)
                report.outcome(job, Outcome("failed", 0.0, f"on the cluster: {type(exc).__name__}: {exc}"))
        return 0
    except KeyboardInterrupt:
        client.cancel(futures)  # what has not started is dropped; finished photos stay
        raise
    finally:
        client.close()
        if cluster is not None:
            cluster.close()

