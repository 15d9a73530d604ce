"""Everything a benchmark can run, behind one interface: photo in, photo out.

A *method* is a declare model (registered name, checkpoint file, or an
untrained preset for speed alone), the identity baseline (the input as the
output, so every table shows where doing nothing stands), the global-gain
baseline (the input times one factor: reflections add light, so darkening
alone gains PSNR on real pairs, and a model must beat this to show it removes
reflections), or the classic
method of Yang et al. (CVPR 2019, the paper's reference [40]) through the
optional PyPI package ``fast-reflection-removal``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from declare.extras import installed

BASELINES = ("identity", "global-gain", "yang2019")
# The one factor that scores best on the validation sets (real89's split, Nature, Kim et al.),
# fitted once by scripts/fit_global_gain.py: mean PSNR 20.50 dB there, 20.13 at 1.0.
GLOBAL_GAIN = 0.945
YANG_H = 0.11  # the smoothing threshold h used for our reference figures (0..0.13 recommended)


class MethodError(Exception):
    """A method that cannot run here; one line for the user."""


@dataclass
class Method:
    name: str
    run: Callable[[np.ndarray], np.ndarray]   # H x W x 3 float in [0, 1] -> same
    device: str = "cpu"
    precision: str = "fp32"
    engine: str = "-"
    # PyTorch's engine for the same network, whose FLOP counter can see it (an ONNX method's
    # twin), and the same work run on it; None where PyTorch is not installed
    network: object | None = field(default=None, repr=False)
    count: Callable[[np.ndarray], np.ndarray] | None = field(default=None, repr=False)


def unique_labels(specs: list[str]) -> dict[str, str]:
    """Short table labels for model specs: a checkpoint's file stem, with as many
    parent folders as it takes to tell it apart (runs/a/student, runs/b/student)."""
    def label(spec: str, depth: int) -> str:
        if not spec.endswith(".safetensors"):
            return spec
        parents = Path(spec).parent.parts
        return "/".join([*parents[len(parents) - depth:], Path(spec).stem])

    labels = {}
    for spec in specs:
        depth = 0
        while (depth < len(Path(spec).parent.parts)
               and [label(other, depth) for other in specs].count(label(spec, depth)) > 1):
            depth += 1
        labels[spec] = label(spec, depth)
    return labels


def model_method(spec: str, device: str, half: bool, tile: int, overlap: int,
                 label: str | None = None, engine: str = "auto") -> Method:
    """A declare model: a registered name, a checkpoint path, or ``preset:NAME`` (untrained),
    on ``engine`` (auto: as 'declare-photo clean' picks)."""
    session = _session(spec, device, half, engine)
    name = label or unique_labels([spec])[spec]
    method = Method(name, lambda x: session.clean(x, tile, overlap), session.engine.device_type,
                    session.engine.precision, session.engine.name)
    if session.engine.name == "torch":
        method.network, method.count = session.engine, method.run
    elif installed("torch"):
        twin = _session(spec, "cpu", False, "torch")
        method.network, method.count = twin.engine, lambda x: twin.clean(x, tile, overlap)
    return method


def _session(spec: str, device: str, half: bool | None, engine: str):
    from declare.session import Session, SessionError

    try:
        return Session.load(spec, device, half, engine=engine)  # preset:NAME too (declare.model_name)
    except SessionError as exc:
        raise MethodError(f"{spec}: {exc}") from None


def baseline_method(name: str) -> Method:
    if name == "identity":
        return Method("identity", lambda x: x)
    if name == "global-gain":
        return Method("global-gain", lambda x: np.clip(x * np.float32(GLOBAL_GAIN), 0, 1))
    if name == "yang2019":
        return Method("yang2019", yang2019())
    raise MethodError(f"unknown baseline {name!r}; known: {', '.join(BASELINES)}")


def yang2019(h: float = YANG_H) -> Callable[[np.ndarray], np.ndarray]:
    """Yang et al. 2019 through ``fast-reflection-removal`` (``pip install 'declare[bench]'``)."""
    os.environ.setdefault("MPLBACKEND", "Agg")  # the package imports pyplot; no display needed
    try:
        from frr import FastReflectionRemoval
        import frr.core
    except ImportError:
        raise MethodError("--baseline yang2019 needs the fast-reflection-removal package: "
                          "pip install 'declare[bench]'") from None
    if not hasattr(np.ndarray, "ptp"):
        # fast-reflection-removal 1.1 rescales with ndarray.ptp(), removed in NumPy 2;
        # hand its module the same rescaling written with np.ptp (works on both).
        frr.core.min_max_scale = _min_max_scale
    solver = FastReflectionRemoval(h=h)

    def run(x: np.ndarray) -> np.ndarray:
        return np.clip(solver.remove_reflection(np.clip(x.astype(np.float64), 0, 1)), 0, 1)
    return run


def _min_max_scale(ar: np.ndarray, new_min: float = 0, new_max: float = 1) -> None:
    """In place, as the package's own helper does (including its arithmetic)."""
    ar -= ar.min()
    span = np.ptp(ar)
    if span > 0:
        ar /= span
    ar *= (new_max - new_min) + new_min


def default_spec(trained: bool = False) -> tuple[str | None, str | None]:
    """(spec, note): the installed default model (registry.default_model, as every command
    takes it); without one, for timing, the small preset untrained (same cost); for quality
    None. The note says what was substituted."""
    from declare import registry

    if registry.default_model():
        return registry.default_model(), None
    if trained:
        return None, "no trained model is installed; scoring baselines only (give --model PATH)"
    return "preset:small", "no trained model is installed; timing an untrained 'small' student (same cost)"


def speed_engines() -> tuple[str, ...]:
    """The engines timed by default: ONNX Runtime, and PyTorch where it is installed."""
    return ("onnx", "torch") if installed("torch") else ("onnx",)


def speed_methods(specs: list[str], engines, devices, precisions, baselines, tile: int, overlap: int,
                  skipped: Callable[[str], None]) -> list[Method]:
    """Every model spec on every engine, device and precision, then the baselines; what
    cannot run here is reported through ``skipped`` and left out."""
    labels = unique_labels(specs)
    methods = []
    for spec in specs:
        for engine in engines or speed_engines():
            for device in devices or ("auto",):
                for precision in precisions or ("auto",):
                    half = {"auto": None, "fp32": False, "fp16": True}[precision]
                    try:
                        methods.append(model_method(spec, device, half, tile, overlap, labels[spec], engine))
                    except MethodError as exc:
                        skipped(f"skipped {spec} with {engine} on {device} ({precision}): {exc}")
    for name in baselines:
        try:
            methods.append(baseline_method(name))
        except MethodError as exc:
            skipped(f"skipped {name}: {exc}")
    return methods


def quality_methods(specs: list[str | None], baselines, device: str, tile: int, overlap: int,
                    engine: str = "auto") -> list[Method]:
    """Identity and global gain first (every quality table shows them), the models, the
    baselines asked for; MethodError if one cannot run."""
    methods = [baseline_method("identity"), baseline_method("global-gain")]
    labels = unique_labels([s for s in specs if s])
    methods += [model_method(spec, device, None, tile, overlap, labels[spec], engine) for spec in specs if spec]
    return methods + [baseline_method(name) for name in baselines]
