"""``declare bench speed``, ``quality``, ``tradeoff`` and ``bursts``."""

from __future__ import annotations

import functools
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import click

from declare.cli_types import FiniteFloat
from declare.bench.methods import BASELINES
from declare.burst import METHODS as BURST_METHODS
from declare.bench.published import SOURCE, with_published
from declare.bench.tradeoff import METRICS as TRADEOFF_METRICS
from declare.metrics import METRICS, SSIM_KINDS
from declare.device import DEVICES, ENGINES
from declare.program import line
from declare.tiling import OVERLAP, TILE, tile_problem

SPEED_COLUMNS = [("method", "method"), ("engine", "engine"), ("device", "device"), ("precision", "prec"),
                 ("megapixels", "MP", 2), ("size", "size"), ("seconds", "s/photo", 3),
                 ("mp_per_s", "MP/s", 2), ("peak_mb", "peak MB", 0), ("gflop_per_mp", "GFLOP/MP", 1),
                 ("machine_fraction", "of matmul", 3)]
METRIC_COLUMNS = [(m.name, m.heading, m.digits) for m in METRICS.values()]
QUALITY_COLUMNS = [("dataset", "dataset"), ("method", "method"), ("images", "images"),
                   *METRIC_COLUMNS, ("seconds", "s/image", 3)]
IMAGE_COLUMNS = [("dataset", "dataset"), ("image", "image"), ("method", "method"),
                 *METRIC_COLUMNS, ("seconds", "s", 3)]


def _floats(ctx, param, value: str) -> list[float]:
    try:
        sizes = [float(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise click.BadParameter("give megapixels separated by commas, e.g. 0.5,2,12") from None
    if not sizes or min(sizes) <= 0 or not all(math.isfinite(v) for v in sizes):
        raise click.BadParameter("sizes must be positive")
    return sizes


def _tile(ctx, param, value: int) -> int:
    problem = tile_problem(value, OVERLAP)
    if problem:
        raise click.BadParameter(problem)
    return value


@dataclass(frozen=True)
class Outputs:
    """Where a bench command writes besides its table: --json, --csv ('-': stdout), --plot."""

    json: str | None
    csv: str | None
    plot: str | None

    @property
    def table(self) -> bool:
        """Whether the table is printed (not when JSON or CSV go to stdout)."""
        return "-" not in (self.json, self.csv)

    def emit(self, document: dict, rows: list[dict], columns, shown=None) -> None:
        from declare.bench import report

        if self.json == "-":
            click.echo(report.json_text(document))
        elif self.json:
            report.write_json(Path(self.json), document)
        if self.csv == "-":
            report.csv_to(sys.stdout, rows)
        elif self.csv:
            report.write_csv(Path(self.csv), rows)
        if self.table:
            click.echo(report.table(shown if shown is not None else rows, columns))

    def draw(self, draw) -> None:
        """``draw(path)`` when --plot was given, with a missing matplotlib as one error line."""
        if not self.plot:
            return
        try:
            draw(Path(self.plot))
        except RuntimeError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"plot: {self.plot}")


@dataclass(frozen=True)
class Choice:
    """What to measure: --model (repeatable), --baseline (repeatable), --tile."""

    models: tuple[str, ...]
    baselines: tuple[str, ...]
    tile: int


def _gathered(func, into: str, make, names: tuple[str, ...]):
    """``func`` taking one ``into`` object made from the click parameters ``names``."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        kwargs[into] = make(*(kwargs.pop(n) for n in names))
        return func(*args, **kwargs)
    return wrapper


def output_options(func):
    func = _gathered(func, "out", Outputs, ("json_path", "csv_path", "plot_path"))
    for option in reversed([
        click.option("--json", "json_path", type=click.Path(dir_okay=False, allow_dash=True),
                     metavar="FILE", help="Also write the results as JSON ('-' for stdout, no table)."),
        click.option("--csv", "csv_path", type=click.Path(dir_okay=False, allow_dash=True),
                     metavar="FILE", help="Also write one CSV row per measurement ('-' for stdout)."),
        click.option("--plot", "plot_path", type=click.Path(dir_okay=False), metavar="FILE.png",
                     help="Also draw a bar chart (needs matplotlib)."),
    ]):
        func = option(func)
    return func


@click.group()
def bench() -> None:
    """How fast and how good a model is, side by side with baselines."""


def model_options(func):
    """--model, --baseline and --tile, which every bench command takes alike, as one Choice."""
    func = _gathered(func, "pick", Choice, ("models", "baselines", "tile"))
    for option in reversed([
        click.option("--model", "models", multiple=True, metavar="NAME|PATH",
                     help="A model to measure (repeatable). Default: the installed default model."),
        click.option("--baseline", "baselines", multiple=True, type=click.Choice(BASELINES[2:]),
                     help="Also measure a classic method (repeatable). The identity and global-gain "
                          "baselines are always in quality tables."),
        click.option("--tile", type=click.IntRange(0), default=TILE, show_default=True, callback=_tile,
                     help="Tile side, as in 'declare-photo clean'."),
    ]):
        func = option(func)
    return func


@bench.command()
@model_options
@click.option("--preset", "presets", multiple=True, metavar="NAME",
              help="Time an untrained student of this preset (repeatable); speed does not depend on weights.")
@click.option("--sizes", default="0.5,2,12,24", show_default=True, callback=_floats,
              help="Photo sizes in megapixels, comma-separated.")
@click.option("--engine", "engines", multiple=True, type=click.Choice(ENGINES[1:]),
              help="Engine(s) to time (repeatable). Default: onnx, and torch where PyTorch is installed.")
@click.option("--device", "devices", multiple=True, type=click.Choice(DEVICES),
              help="Device(s) to time on (repeatable). Default: auto.")
@click.option("--precision", "precisions", multiple=True, type=click.Choice(["auto", "fp32", "fp16"]),
              help="Precision(s) (repeatable). Default: auto (fp16 on GPUs, fp32 on the CPU).")
@click.option("--repeats", type=click.IntRange(1), default=3, show_default=True, help="Timed runs per size.")
@click.option("--warmup", type=click.IntRange(0), default=1, show_default=True, help="Untimed runs first.")
@output_options
def speed(pick: Choice, presets, sizes, engines, devices, precisions, repeats, warmup, out: Outputs) -> None:
    """Seconds per photo, megapixels per second and peak memory at several sizes."""
    from tqdm import tqdm

    from declare.bench import report
    from declare.bench.methods import speed_methods
    from declare.bench.speed import flops_per_megapixel, matmul_rates, measure, tf32_state

    specs = _specs(list(pick.models) + [f"preset:{p}" for p in presets], trained=False)
    methods = speed_methods(specs, engines, devices, precisions, pick.baselines, pick.tile, OVERLAP, _note)
    if not methods:
        raise click.ClickException("nothing could be timed")
    rates = matmul_rates(methods)
    rows = []
    steps = [(m, mp) for m in methods for mp in sizes]
    for method, mp in tqdm(steps, unit="run", leave=False, disable=not sys.stderr.isatty()):
        flops = flops_per_megapixel(method)
        rate = rates.get((method.device, method.precision))
        rows.append(measure(method, mp, repeats, warmup, flops, rate).as_dict())
    header = {"matmul_gflops": {f"{d} {p}": r / 1e9 for (d, p), r in rates.items()}, "tf32": tf32_state(),
              "repeats": repeats, "warmup": warmup, "tile": pick.tile}
    out.emit({**header, "rows": rows}, rows, SPEED_COLUMNS)
    if out.table and rates:  # none without PyTorch, which measures it
        click.echo("matmul rate (the 'of matmul' reference, same device and precision): "
                   + ", ".join(f"{d} {p} {r / 1e9:.0f} GFLOP/s" for (d, p), r in rates.items())
                   + ("" if header["tf32"] is None else f"; CUDA fp32 with TF32 {'on' if header['tf32'] else 'off'}"))
    summary = [{**r, "dataset": f"{r['megapixels']} MP"} for r in rows]
    metrics = [("mp_per_s", "megapixels / s"), ("peak_mb", "peak MB")]
    out.draw(lambda path: report.plot_bars(path, summary, metrics, "declare bench speed"))


@bench.command()
@click.option("--data", "folders", multiple=True, required=True, metavar="DIR",
              help="Benchmark folder (repeatable): pairs in the Real20, Nature, SIR^2 or CEILNet "
                   "layouts, at any depth (first-level folders are subsets), or sequences.")
@model_options
@click.option("--published", is_flag=True,
              help="Also show the figures the paper's Table 1 publishes for a recognised benchmark "
                   "(Real20, Nature, SIR^2 and its subsets, Seq1K), marked [published]: not measured here.")
@click.option("--ssim", "ssim_kind", type=click.Choice(SSIM_KINDS), default="gaussian", show_default=True,
              help="gaussian: 11x11 Gaussian window (Wang et al.). paper: as the SIRR papers' "
                   "evaluation code (ERRNet's), 7x7 uniform window on 8-bit images.")
@click.option("--device", type=click.Choice(DEVICES), default="auto", show_default=True)
@click.option("--engine", type=click.Choice(ENGINES), default="auto", show_default=True,
              help="What runs the models, as in 'declare-photo clean' (both give the same pixels).")
@click.option("--limit", type=click.IntRange(1), default=None, help="At most N images per folder.")
@click.option("--per-image", is_flag=True, help="Print every image's scores, not only the means.")
@output_options
def quality(folders, pick: Choice, published, ssim_kind, device, engine, limit, per_image, out: Outputs) -> None:
    """PSNR, SSIM, LMSE and reflection removed against ground truth, per image, subset and dataset.

    One image at a time; with --json FILE the results so far are written after
    every image, so an interrupted run keeps what it measured.
    """
    from tqdm import tqdm

    from declare.bench import report
    from declare.bench.quality import evaluate, summarise

    datasets = _benchmark_folders(folders, limit)
    methods = _quality_methods(pick, device, engine)
    rows, failed = [], 0

    def on_error(where, message):
        nonlocal failed
        failed += 1
        tqdm.write(line("error", message, where), file=sys.stderr)

    total = sum(len(pairs) for _, pairs in datasets) * len(methods)
    bar = tqdm(total=total, unit="run", leave=False, disable=not sys.stderr.isatty(),
               desc="images x methods")

    def on_step(image, method):
        bar.set_postfix_str(f"{image} {method}", refresh=False)
        bar.update()

    header = {"ssim": ssim_kind, "methods": [m.name for m in methods]}
    try:
        for name, pairs in datasets:
            for image_rows in evaluate(name, pairs, methods, ssim_kind, on_error, on_step):
                rows += image_rows
                if out.json and out.json != "-":
                    report.write_json(Path(out.json), {**header, "complete": False,
                                                        "summary": summarise(rows), "images": rows})
    except KeyboardInterrupt:
        bar.close()
        kept = f"; {len(rows)} scores so far are in {out.json}" if out.json and out.json != "-" else ""
        click.echo(f"declare bench: interrupted{kept}", err=True)
        sys.exit(130)
    finally:
        bar.close()
    summary = summarise(rows)
    shown = with_published(summary, datasets) if published else summary
    document = {**header, "complete": True, "summary": shown, "images": rows}
    if per_image and out.table:
        click.echo(report.table(rows, IMAGE_COLUMNS) + "\n")
    out.emit(document, rows, QUALITY_COLUMNS, shown=shown)
    if published and out.table and len(shown) > len(summary):
        click.echo(f"[published]: as printed in {SOURCE}, not measured here; their SSIM is "
                   "ERRNet's evaluation code (--ssim paper is the same formula).")
    if summary:
        metrics = [(m.name, m.label) for m in METRICS.values()]
        out.draw(lambda path: report.plot_bars(path, summary, metrics, "declare bench quality"))
    sys.exit(1 if failed else 0)


BURST_COLUMNS = [("method", "method"), ("sequences", "seqs"), ("vs_psnr", "vs ref dB", 2),
                 ("gain", "gain dB", 2), ("worst", "worst dB", 2), ("vs_ssim", "vs ref SSIM", 3),
                 ("change", "change", 1), ("in_reflection", "in refl.", 1), ("elsewhere", "elsewhere", 1),
                 ("detail", "detail", 2), ("seconds", "s/burst", 2)]
BURST_ROW_COLUMNS = [("sequence", "sequence"),
                     *(c for c in BURST_COLUMNS if c[0] not in ("sequences", "gain", "worst"))]


@bench.command()
@click.option("--data", "folders", multiple=True, required=True, metavar="DIR",
              help="A folder of burst sequences (repeatable): frame0.jpg .. frameN.jpg each, with "
                   "other methods' results for the middle frame in published/ (Ours.jpg, the "
                   "reference the scores compare with).")
@click.option("--method", "methods", multiple=True, type=click.Choice(BURST_METHODS),
              help="A burst method to measure (repeatable). Default: classical.")
@click.option("--model", default=None, metavar="NAME|PATH",
              help="The teacher for --method teacher. Default: the installed burst model.")
@click.option("--views", type=click.IntRange(2, 9), default=None,
              help="Use this many frames of each sequence, spread evenly, the middle one included "
                   "(5 frames, --views 3: frames 0, 2, 4). Default: all.")
@click.option("--sheets", type=click.Path(file_okay=False), metavar="DIR",
              help="Also write a contact sheet per sequence (input | declare | published) into DIR.")
@click.option("--per-sequence", is_flag=True, help="Print every sequence's scores, not only the means.")
@output_options
def bursts(folders, methods, model, views, sheets, per_sequence, out: Outputs) -> None:
    """Burst methods on real sequences, beside the published results of other methods.

    No ground truth exists for real bursts: the scores compare each result with
    the best published multi-frame result (Liu et al. 2020) and say where it
    changed the input (in levels of 255): in the reflection (where that
    reference is more than 15 levels darker than the input) and elsewhere, and
    how much of the input's finest detail it kept outside the reflection.
    """
    from declare.bench import bursts as burst_bench
    from declare.bench import report

    sequences = [s for folder in folders for s in burst_bench.find_sequences(folder)]
    if not sequences:
        raise click.ClickException(f"no burst sequences (frame0.jpg ..) in {', '.join(folders)}")
    methods = list(methods) or ["classical"]
    from declare.api import Cleaner
    from declare.session import SessionError

    cleaner = Cleaner(burst_model=model, load=False)
    try:
        if "teacher" in methods:
            cleaner.session(burst=True)  # a teacher that cannot load stops here, in one line
    except SessionError as exc:
        raise click.ClickException(str(exc)) from None
    rows = burst_bench.run(sequences, methods, views, cleaner, Path(sheets) if sheets else None)
    summary = burst_bench.summary(rows)
    if per_sequence and out.table:
        click.echo(report.table(rows, BURST_ROW_COLUMNS) + "\n")
    out.emit({"views": views, "sequences": [s.name for s in sequences], "summary": summary, "bursts": rows},
             rows, BURST_COLUMNS, shown=summary)
    if sheets:
        click.echo(f"contact sheets: {sheets}")


TRADEOFF_COLUMNS = [("method", "method"), ("seconds", "s/photo", 2), ("sets", "sets"),
                    *((f"{prefix}{m.name}_gain", f"{label}{m.heading} gained", m.digits)
                      for m in METRICS.values() if m.name in TRADEOFF_METRICS
                      for prefix, label in (("", ""), ("min_", "worst set ")))]


@bench.command()
@click.option("--quality", "quality_path", required=True, type=click.Path(dir_okay=False), metavar="FILE",
              help="JSON written by 'declare-photo bench quality --json FILE'.")
@click.option("--speed", "speed_path", required=True, type=click.Path(dir_okay=False), metavar="FILE",
              help="JSON written by 'declare-photo bench speed --json FILE' (same --model list).")
@click.option("--megapixels", type=FiniteFloat(0, min_open=True), default=12.0, show_default=True,
              help="The photo size of the speed run to compare at.")
@click.option("--title", default="quality against time per photo", show_default=True)
@output_options
def tradeoff(quality_path, speed_path, megapixels, title, out: Outputs) -> None:
    """Quality gained over the input against seconds per photo, from two earlier runs.

    Gains are each model's mean over the datasets of the quality run of what it
    adds to the identity baseline (the photo left alone), with its worst set beside it.
    """
    import json

    from declare.bench import report, tradeoff as tr

    documents = []
    for path in (quality_path, speed_path):
        try:
            documents.append(json.loads(Path(path).read_text()))
        except (OSError, ValueError) as exc:
            raise click.ClickException(f"{path}: {exc}") from None
    try:
        records = tr.points(*documents, megapixels)
    except tr.TradeoffError as exc:
        raise click.ClickException(str(exc)) from None
    flat = [{k: v for k, v in r.items() if k != "per_set"} for r in records]
    out.emit({"megapixels": megapixels, "points": records}, flat, TRADEOFF_COLUMNS)
    out.draw(lambda path: report.plot_tradeoff(path, records, megapixels, title, off_scale=set(BASELINES)))


def _benchmark_folders(folders, limit) -> list[tuple[str, list]]:
    """Every --data folder checked before any work: a missing or empty one is one error
    line and exit 2."""
    from declare.bench.quality import benchmark_folders
    from declare.data.layouts import DataError

    try:
        return benchmark_folders(folders, limit)
    except DataError as exc:
        click.echo(line("error", str(exc)), err=True)
        sys.exit(2)


def _specs(given: list[str], trained: bool) -> list[str | None]:
    """The models asked for, or the default one (saying what stands in when none is installed)."""
    from declare.bench.methods import default_spec

    if given:
        return given
    spec, note = default_spec(trained)
    if note:
        _note(note)
    return [spec]


def _quality_methods(pick: Choice, device, engine) -> list:
    from declare.bench.methods import MethodError, quality_methods

    specs = _specs(list(pick.models), trained=True)
    try:
        return quality_methods(specs, pick.baselines, device, pick.tile, OVERLAP, engine)
    except MethodError as exc:
        raise click.ClickException(str(exc)) from None


def _note(text: str) -> None:
    click.echo(f"declare bench: {text}", err=True)
