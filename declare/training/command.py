"""``declare train``: the teacher, the student, or both in turn.

Every TrainConfig field is an option (built from the dataclass, so the two
never drift apart). Settings come from the defaults, then ``--config FILE``,
then the command line; options given before a stage name
(``declare train --preset paper teacher``) count as the command line too.
"""

from __future__ import annotations

import dataclasses
import sys
import typing
from pathlib import Path

import click

from declare.data.synthetic_config import SETTINGS, SyntheticConfig
from declare.cli_types import FiniteFloat
from declare.program import line, program
from declare.training.config import TrainConfig, load_config_file

EXAMPLES = """
\b
  declare-photo train --data photos/ --out runs/mine  teacher, then student
  declare-photo train teacher --data seq1k/ --steps 20000
  declare-photo train student --teacher runs/mine/teacher/teacher.safetensors --data real20/
  torchrun --nproc-per-node 4 -m declare train --data seq1k/
"""


def _option(f: dataclasses.Field) -> click.Option:
    """A click option for one TrainConfig field, typed from its annotation."""
    name = "--" + f.name.replace("_", "-")
    hint = typing.get_type_hints(TrainConfig)[f.name]
    args = typing.get_args(hint)
    base = next((a for a in args if a is not type(None)), hint)
    meta = dict(f.metadata)
    default = f.default_factory() if callable(f.default_factory) else f.default
    shown = f"  [default: {default}]" if default not in (None, [], False, True) else ""
    kw = {"help": meta["help"] + shown, "default": None, "metavar": meta.get("metavar")}
    if hint is bool:
        if default:
            return click.Option([f"{name}/--no-{name[2:]}"], **kw)
        return click.Option([name, *([meta["short"]] if "short" in meta else [])], is_flag=True, **kw)
    if typing.get_origin(hint) is list:
        kw["multiple"] = True
        base = args[0]
    if "choices" in meta:
        kw["type"] = click.Choice(meta["choices"])
    else:
        kw["type"] = {int: int, float: FiniteFloat(), str: str}[base]
    return click.Option([name], **kw)


def _synth_option(f: dataclasses.Field) -> click.Option:
    """``--synth-NAME`` for one SyntheticConfig setting; ranges take two numbers."""
    name = "--synth-" + f.name.replace("_", "-")
    help = f.metadata["help"] + f"  [default: {f.default}]"
    if isinstance(f.default, bool):
        return click.Option([f"{name}/--no-synth-{f.name.replace('_', '-')}"], default=None, help=help)
    if isinstance(f.default, tuple):
        return click.Option([name], type=FiniteFloat(), nargs=2, default=None, metavar="LOW HIGH", help=help)
    return click.Option([name], type=FiniteFloat(), default=None, help=help)


def train_options(*exclude: str):
    """Attach one option per TrainConfig field (less ``exclude``), plus --config.

    click lists options in reverse order of attachment, hence the reversals.
    """
    def attach(func):
        params = func.__dict__.setdefault("__click_params__", [])
        params.append(click.Option(["--config", "config_file"], type=click.Path(dir_okay=False),
                                   help="TOML or JSON file of settings; options given here win."))
        for f in reversed([f for f in dataclasses.fields(SyntheticConfig) if f.name in SETTINGS]):
            params.append(_synth_option(f))
        for f in reversed(dataclasses.fields(TrainConfig)):
            if f.metadata.get("cli", True) and f.name not in exclude:
                params.append(_option(f))
        return func
    return attach


def _given(ctx: click.Context, values: dict) -> dict:
    """Options the user actually typed (not click's defaults)."""
    src = click.core.ParameterSource
    return {k: v for k, v in values.items()
            if ctx.get_parameter_source(k) in (src.COMMANDLINE, src.ENVIRONMENT)
            and not (isinstance(v, tuple) and not v)}


def build_config(ctx: click.Context, values: dict, stage: str, **fixed) -> TrainConfig:
    """Defaults < --config file < group options < this command's options."""
    given = {**(ctx.obj or {}), **_given(ctx, values)}
    settings: dict = {}
    config_file = given.pop("config_file", None)
    try:
        if config_file:
            settings.update(load_config_file(config_file))
        synthesis = dict(settings.get("synthesis", {}))
        synthesis.update({k[len("synth_"):]: v for k, v in given.items() if k.startswith("synth_")})
        given = {k: v for k, v in given.items() if not k.startswith("synth_")}
        settings["synthesis"] = synthesis
        settings.update({k: list(v) if isinstance(v, tuple) else v for k, v in given.items()})
        settings.update(fixed)
        settings.pop("stage", None)
        return TrainConfig(stage=stage, **settings)
    except (OSError, ValueError, TypeError) as exc:
        raise click.UsageError(str(exc)) from None


def _require_training() -> None:
    """One line and the missing-extra exit status unless training's packages are installed."""
    from declare.extras import EXIT_STATUS, MissingExtra, require

    try:
        require("declare train", "torch", "timm", extra="train")
    except MissingExtra as exc:
        click.echo(line("error", str(exc), command="train"), err=True)
        sys.exit(EXIT_STATUS)


def run_stage(cfg: TrainConfig) -> Path | None:
    """Train one stage; every failure the user can fix is one line, exit 2."""
    _require_training()
    from declare.data.datasets import DataError
    from declare.training.trainer import TrainError, Trainer

    try:
        trainer = Trainer(cfg)
        if trainer.rank == 0 and not cfg.quiet:
            click.echo(f"declare train: {cfg.stage} ({cfg.preset}) on {trainer.device}, "
                       f"{trainer.total_steps} steps, out {cfg.out}", err=True)
        final = trainer.run()
    except (TrainError, DataError) as exc:
        click.echo(line("error", str(exc), command="train"), err=True)
        sys.exit(2)
    except KeyboardInterrupt as exc:  # Ctrl-C, SIGTERM, SIGHUP (declare.signals)
        from declare.signals import exit_status, what_stopped

        click.echo(f"declare train: {what_stopped(exc)}; '{program()} train ... --resume --out {cfg.out}' "
                   "continues from the last checkpoint", err=True)
        sys.exit(exit_status(exc))
    if final is not None and not cfg.quiet:
        click.echo(f"declare train: {cfg.stage} done: {final}", err=True)
    return final


@click.group(invoke_without_command=True, epilog=EXAMPLES)
@train_options("teacher")
@click.pass_context
def train(ctx: click.Context, **values) -> None:
    """Train the teacher, then the student distilled from it.

    Without a stage name both run: OUT/teacher, then OUT/student with the new
    teacher frozen. Image-pair folders are used by the student stage only.
    """
    if ctx.invoked_subcommand is not None:
        ctx.obj = _given(ctx, values)
        return
    _require_training()
    from declare.training.run_folder import resumes

    both = build_config(ctx, values, "teacher")
    out = Path(both.out)
    teacher_data, weights = _multi_view(both)
    teacher_cfg = dataclasses.replace(both, stage="teacher", out=str(out / "teacher"), data=teacher_data,
                                      data_weights=weights, real_reflections=0.0,
                                      resume=resumes(both.resume, out / "teacher"))
    final = out / "teacher" / "teacher.safetensors"
    needs_teacher = not {"no-transfer", "no-hallucination"} & set(both.ablate)
    if not needs_teacher:
        click.echo("declare train: no teacher stage: the ablated student learns alone", err=True)
    elif both.resume and final.exists():
        click.echo(f"declare train: teacher already trained: {final}", err=True)
    else:
        run_stage(teacher_cfg)
    student_cfg = dataclasses.replace(both, stage="student", out=str(out / "student"),
                                      teacher=str(final) if needs_teacher else None,
                                      resume=resumes(both.resume, out / "student"))
    run_stage(student_cfg)


def _multi_view(cfg: TrainConfig) -> tuple[list[str], list[float]]:
    """The --data folders the teacher can learn from (not image pairs), with their weights."""
    from declare.training.mixture import MixtureError, open_folder, teaches

    keep = []
    for i, root in enumerate(cfg.data):
        try:
            if teaches(open_folder(root, cfg, augment=False)):
                keep.append(i)
        except MixtureError as exc:
            raise click.UsageError(str(exc)) from None
    if cfg.data and not keep:
        raise click.UsageError("every --data folder holds image pairs; the teacher needs "
                               "multi-view sequences or a folder of photos to synthesise them")
    weights = [cfg.data_weights[i] for i in keep] if cfg.data_weights else []
    return [cfg.data[i] for i in keep], weights


@train.command("teacher", epilog=EXAMPLES)
@train_options("teacher")
@click.pass_context
def train_teacher(ctx: click.Context, **values) -> None:
    """Stage 1: the teacher, on multi-view sequences (L_R + L_P + L_FD + L_VS)."""
    run_stage(build_config(ctx, values, "teacher"))


@train.command("student", epilog=EXAMPLES)
@train_options()
@click.pass_context
def train_student(ctx: click.Context, **values) -> None:
    """Stage 2: the student, distilled from a frozen --teacher (L_R + L_P + LSGAN + L_T)."""
    run_stage(build_config(ctx, values, "student"))
