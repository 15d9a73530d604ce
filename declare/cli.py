"""The ``declare`` command line.

``declare photo.jpg -o clean.jpg`` is the main job, so a group whose first
argument is not a subcommand runs ``clean``: the photos need no verb.
"""

from __future__ import annotations

import sys

import click

from declare import __version__


class DefaultGroup(click.Group):
    """A click group that falls back to ``default_command`` for anything else."""

    default_command = "clean"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        own = {"-h", "--help", "-V", "--version"}
        if args and args[0] not in self.commands and args[0] not in own:
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, "[OPTIONS] PHOTOS...")
        formatter.write_usage(ctx.command_path, "COMMAND [ARGS]...", prefix="   or: ")


@click.group(cls=DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="declare")
def main() -> None:
    """Remove reflections from photos taken through glass.

    \b
      declare photo.jpg -o clean.jpg      one photo
      declare shots/ -o cleaned/          a folder (-r for subfolders)
      declare --burst a.jpg b.jpg c.jpg   three views: cleans b.jpg

    The options of the photo command are listed by 'declare clean --help'.
    """


@main.command()
@click.argument("photos", nargs=-1, required=True, metavar="PHOTOS...")
@click.option("-o", "--output", metavar="PATH",
              help="Output file (one input) or folder (many). Default: NAME.declare.EXT beside each input.")
@click.option("-r", "--recursive", is_flag=True, help="Look in subfolders of folder inputs (and ** in globs).")
@click.option("--overwrite", is_flag=True, help="Replace outputs that exist. Inputs are never overwritten.")
@click.option("--skip-existing", is_flag=True, help="Skip photos whose output exists (to resume a batch).")
@click.option("--model", "model", metavar="PATH", help="Checkpoint (.safetensors) to run.")
@click.option("--burst", is_flag=True,
              help="Three views A B C of one scene: the teacher cleans B using A and C.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda", "mps"]), default="auto",
              show_default=True, help="Where to run; auto picks CUDA, then MPS, then the CPU.")
@click.option("--half/--no-half", default=None,
              help="Half precision. Default: on for CUDA/MPS; not available on the CPU.")
@click.option("--tile", type=click.IntRange(0), default=1024, show_default=True,
              help="Tile side in pixels; bounds memory on large photos. 0 = whole photo at once.")
@click.option("--tile-overlap", type=click.IntRange(0), default=64, show_default=True,
              help="Pixels shared by neighbouring tiles, cross-faded to hide seams.")
@click.option("--strength", type=click.FloatRange(0, 1), default=1.0, show_default=True,
              help="Blend of result and original: 1 = full removal, 0 = unchanged.")
@click.option("--save-reflection", is_flag=True,
              help="Also write the removed reflection as NAME.reflection.EXT beside the output.")
@click.option("--quality", type=click.IntRange(1, 100), default=95, show_default=True,
              help="JPEG/WebP quality (JPEG keeps full chroma, 4:4:4).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars or per-photo lines; errors still print.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON record per photo on stdout.")
def clean(photos, output, recursive, overwrite, skip_existing, model, burst, device, half, tile,
          tile_overlap, strength, save_reflection, quality, quiet, as_json):
    """Remove reflections from PHOTOS (files, globs or folders)."""
    from declare.run import Options, run

    if overwrite and skip_existing:
        raise click.UsageError("--overwrite and --skip-existing contradict each other")
    if tile and tile_overlap >= tile:
        raise click.UsageError(f"--tile-overlap ({tile_overlap}) must be smaller than --tile ({tile})")
    opts = Options(output=output, recursive=recursive, overwrite=overwrite,
                   skip_existing=skip_existing, model=model, device=device, half=half,
                   tile=tile, overlap=tile_overlap, strength=strength,
                   save_reflection=save_reflection, quality=quality, quiet=quiet, as_json=as_json)
    sys.exit(run(list(photos), opts, burst))


@main.command()
def presets() -> None:
    """List the network size presets and their parameter counts."""
    from declare_models import Student, Teacher, count_parameters, describe_preset, get_config, list_presets

    click.echo(f"{'preset':<8} {'student':>12} {'teacher':>12}  description")
    for name in list_presets():
        cfg = get_config(name)
        student, teacher = count_parameters(Student(cfg)), count_parameters(Teacher(cfg))
        click.echo(f"{name:<8} {student:>12,} {teacher:>12,}  {describe_preset(name)}")
