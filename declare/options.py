"""The photo command's options, declared once.

Each field of :class:`Options` is one command-line option: its flags, help and type
live beside its default, and ``declare-photo clean`` (the default command) is
generated from them (:func:`photo_options`), as ``declare-photo train`` is from
TrainConfig. Adding a photo option is one field here and its use in batch.py.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import click

from declare.cli_types import FiniteFloat, Threads
from declare.burst import METHODS as BURST_METHODS
from declare.device import DEVICES, ENGINES
from declare.tiling import OVERLAP, TILE


def option(default, help: str, *flags: str, **click_kw):
    """A field and the click option that sets it (``flags``; its Python name is the field's)."""
    return field(default=default, metadata={"flags": flags, "help": help, "click": click_kw})


@dataclass(frozen=True)
class Options:  # frozen: hashable, so a cluster worker keys its loaded model by it
    output: str | None = option(
        None, "Output file (one input) or folder (many). Default: NAME.declare.EXT beside each input.",
        "-o", "--output", metavar="PATH")
    recursive: bool = option(False, "Look in subfolders of folder inputs (and ** in globs).",
                             "-r", "--recursive", is_flag=True)
    overwrite: bool = option(False, "Replace outputs that exist. Inputs are never overwritten.",
                             "--overwrite", is_flag=True)
    skip_existing: bool = option(False, "Skip photos whose output exists (to resume a batch).",
                                 "--skip-existing", is_flag=True)
    model: str | None = option(
        None, "A registered model (see 'declare-photo models list'), a checkpoint file (.safetensors) "
              "or its exported graph (.onnx).",
        "--model", metavar="NAME|PATH")
    burst: bool = option(False, "The photos are 2 to 9 views of one scene (a handheld burst through "
                         "glass): the reference view is cleaned using how the others move.",
                         "--burst", is_flag=True)
    reference: int | None = option(None, "With --burst: which view to clean, counted from 1. "
                                   "Default: the middle one.", "--reference", type=click.IntRange(1),
                                   metavar="N")
    burst_method: str = option("classical", "With --burst: classical (the views aligned, the darkest "
                               "confirmed value kept; no network) or teacher (the three-view network "
                               "on that result and the two nearest aligned views).", "--burst-method",
                               type=click.Choice(BURST_METHODS), show_default=True)
    device: str = option("auto", "Where to run; auto picks CUDA, then MPS, then the CPU.",
                         "--device", type=click.Choice(DEVICES), show_default=True)
    engine: str = option("auto", "What runs the network: onnx (ONNX Runtime, the CPU), torch (PyTorch: "
                         "GPUs, --half, checkpoints not exported); auto: PyTorch on a GPU when "
                         "installed, else ONNX Runtime.", "--engine", type=click.Choice(ENGINES),
                         show_default=True)
    threads: int = option(0, "CPU threads to use; 0 = every core (more than the cores is lowered to them). "
                          "Also the DECLARE_THREADS variable.",
                          "--threads", type=Threads(), envvar="DECLARE_THREADS", show_default=True)
    cluster: str | None = option(None, "Clean on a Dask cluster, every photo one task: local (a worker "
                                 "per two cores here), local:N (N workers here) or a scheduler's address "
                                 "(tcp://host:8786; inputs and outputs on storage every worker sees). "
                                 "Needs declare[cluster].", "--cluster", metavar="ADDRESS")
    half: bool | None = option(None, "Half precision. Default: on for CUDA/MPS; not available on the CPU.",
                               "--half/--no-half")
    tile: int = option(TILE, "Tile side in pixels; bounds memory on large photos. 0 = whole photo at once.",
                       "--tile", type=click.IntRange(0), show_default=True)
    overlap: int = option(OVERLAP, "Pixels shared by neighbouring tiles, cross-faded to hide seams.",
                          "--tile-overlap", type=click.IntRange(0), show_default=True)
    strength: float = option(1.0, "Blend of result and original: 1 = full removal, 0 = unchanged.",
                             "--strength", type=FiniteFloat(0, 1), show_default=True)
    save_reflection: bool = option(False, "Also write the removed reflection as NAME.reflection.EXT "
                                   "beside the output.", "--save-reflection", is_flag=True)
    quality: int = option(95, "JPEG/WebP quality (JPEG keeps full chroma, 4:4:4).",
                          "--quality", type=click.IntRange(1, 100), show_default=True)
    quiet: bool = option(False, "No progress bars or per-photo lines; errors still print.",
                         "-q", "--quiet", is_flag=True)
    as_json: bool = option(False, "Print one JSON record per photo on stdout.", "--json", is_flag=True)
    export: tuple[str, ...] = option(
        (), "Also hand each result to an exporter plugin, e.g. gimp (.ora) or darktable (.xmp); "
            "see 'declare-photo plugins list'. Repeatable.", "--export", multiple=True, metavar="NAME")

    def __post_init__(self) -> None:
        if isinstance(self.export, list):  # from Python: a list works as well as a tuple
            object.__setattr__(self, "export", tuple(self.export))

    def problem(self) -> str | None:
        """Why these options contradict each other, or None."""
        from declare.tiling import tile_problem

        if self.overwrite and self.skip_existing:
            return "--overwrite and --skip-existing contradict each other"
        if not self.burst and (self.reference is not None or self.burst_method != "classical"):
            return "--reference and --burst-method go with --burst"
        return tile_problem(self.tile, self.overlap)

    @classmethod
    def from_click(cls, values: dict) -> "Options":
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


def photo_options(func):
    """Attach one click option per Options field, in declaration order."""
    for f in reversed(dataclasses.fields(Options)):
        func = click.option(*f.metadata["flags"], f.name, default=f.default, help=f.metadata["help"],
                            **f.metadata["click"])(func)
    return func
