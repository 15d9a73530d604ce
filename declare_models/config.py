"""Width and depth of the networks, as data.

Every size in the networks comes from a :class:`ModelConfig`, so the paper's
model and a laptop-sized one are the same code. A checkpoint stores the config
it was trained with (``asdict`` -> JSON) and is rebuilt from it.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class ModelConfig:
    """Sizes of teacher, student and discriminator.

    Defaults are the paper's numbers (section 3) with docs/design.md's decisions.
    """

    # Shared encoder (teacher) and feature encoder (student): one 3x3 conv per
    # stride; the product of strides is the feature resolution (1/4).
    encoder_channels: int = 256
    encoder_strides: tuple[int, ...] = (1, 2, 1, 2)
    # Decouple net: a one-level encoder-decoder; output splits into Phi_T, Phi_R.
    decouple_channels: int = 256
    phi_channels: int = 128
    # G_T / G_R heads: deconv 4x4 + convs, then a 3-channel output conv.
    head_channels: int = 128
    head_convs: int = 3
    # Flow net convs; the last width is the feature map the fusion net reads.
    flow_channels: tuple[int, ...] = (512, 128, 128, 128)
    # Fusion net: stage 1 (flow features + centre Phi_T), stage 2 (+ warped Phi_T).
    fusion_stage1_channels: tuple[int, ...] = (640, 128, 128)
    fusion_stage2_channels: tuple[int, ...] = (128,)
    representation_channels: int = 128
    # Decoder: block 1 width (deconv + conv + pyramid pooling), block 2 width
    # and its number of convs after the deconv.
    decoder_channels: tuple[int, int] = (256, 256)
    decoder_convs: int = 2
    pyramid_kernels: tuple[int, ...] = (4, 8, 16, 32)
    # Student: hallucination module widths/strides (last width is the
    # representation), context module depth and channel-attention reduction.
    hallucination_channels: tuple[int, ...] = (256, 256, 256, 256)
    hallucination_strides: tuple[int, ...] = (1, 2, 1, 2, 1)
    context_blocks: int = 10
    attention_reduction: int = 16
    # Student: a frozen ImageNet encoder beside its own ("" for none; see pretrained_encoder.py),
    # its features narrowed to this many channels by a trainable 1x1 conv.
    pretrained_encoder: str = ""
    pretrained_channels: int = 32
    # What an engine does after the network, over the whole photo: add back the median
    # change per channel, so that the model changes a reflection's shape and leaves the
    # photo's tone as it was (declare.results.keep_tone).
    keep_tone: bool = False
    # PatchGAN discriminator on representations.
    discriminator_channels: tuple[int, ...] = (64, 128, 256)
    # Ablations of the paper's Table 2 (all on = the full model).
    use_mkl: bool = True            # off: per-view features -> one conv -> representation
    use_decouple_net: bool = True   # off: one conv gives shared features; no G_T/G_R, no L_FD
    use_flow_net: bool = True       # off: no motion, neighbours' Phi_T are not warped; no L_VS
    use_fusion_net: bool = True     # off: representation = 1x1 projection of the concatenated Phi_T
    use_hallucination: bool = True  # student: off leaves the feature encoder alone
    use_student_encoder: bool = True  # student: off leaves the hallucination module alone

    def __post_init__(self) -> None:
        if len(self.hallucination_strides) != len(self.hallucination_channels) + 1:
            raise ValueError("hallucination_strides needs one entry per conv "
                             "(hallucination_channels plus the output conv)")
        if _product(self.encoder_strides) != _product(self.hallucination_strides):
            raise ValueError("encoder and hallucination module must reach the "
                             "same feature resolution")
        if not (self.use_hallucination or self.use_student_encoder):
            raise ValueError("the student needs its hallucination module or its encoder")
        if self.feature_stride != 4:
            raise ValueError("features must be at 1/4 resolution: the decoder "
                             "upsamples twice")

    @property
    def feature_stride(self) -> int:
        """How much smaller the feature maps are than the image."""
        return _product(self.encoder_strides)

    @property
    def size_multiple(self) -> int:
        """Image sides are padded to this so every down/up-sampling is exact."""
        return self.feature_stride * 2  # the decouple net halves once more

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "ModelConfig":
        raw = json.loads(text)
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(raw) - set(known))
        if unknown:
            raise ValueError(f"unknown config fields: {', '.join(unknown)}")
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}
        return cls(**values)


def _product(values: tuple[int, ...]) -> int:
    out = 1
    for v in values:
        out *= v
    return out


_PRESETS: dict[str, Callable[[], ModelConfig]] = {}
_DESCRIPTIONS: dict[str, str] = {}


def register_preset(name: str, description: str):
    """Decorator: register a function returning a ModelConfig under ``name``."""

    def wrap(fn: Callable[[], ModelConfig]):
        if name in _PRESETS:
            raise ValueError(f"preset {name!r} is already registered")
        _PRESETS[name] = fn
        _DESCRIPTIONS[name] = description
        return fn

    return wrap


def get_config(name: str) -> ModelConfig:
    """The config registered as ``name``, or read from a JSON file of ModelConfig
    fields (a new size is data: ``--preset configs/my-size.json``)."""
    if name.endswith(".json"):
        from pathlib import Path

        path = Path(name)
        if not path.is_file():
            raise KeyError(f"model config file {name} not found")
        try:
            return ModelConfig.from_json(path.read_text())
        except (ValueError, TypeError) as exc:
            raise KeyError(f"{name}: {exc}") from None
    try:
        return _PRESETS[name]()
    except KeyError:
        raise KeyError(f"unknown preset {name!r}; known: {', '.join(list_presets())}") from None


def list_presets() -> list[str]:
    return sorted(_PRESETS)


def describe_preset(name: str) -> str:
    get_config(name)
    return _DESCRIPTIONS[name]


@register_preset("paper", "the paper's widths and depths (section 3); GPU-sized")
def paper() -> ModelConfig:
    return ModelConfig()


@register_preset("small", "CPU preset: a 12-megapixel photo in seconds on a laptop")
def small() -> ModelConfig:
    return ModelConfig(
        encoder_channels=24,
        encoder_strides=(2, 2, 1, 1),
        decouple_channels=32,
        phi_channels=16,
        head_channels=16,
        head_convs=2,
        flow_channels=(64, 32, 32, 32),
        fusion_stage1_channels=(64, 32, 32),
        fusion_stage2_channels=(32,),
        representation_channels=16,
        decoder_channels=(16, 8),
        decoder_convs=1,
        hallucination_channels=(16, 24, 24, 24),
        hallucination_strides=(2, 2, 1, 1, 1),
        context_blocks=2,
        attention_reduction=4,
        discriminator_channels=(32, 64),
    )


@register_preset("medium", "the default: small's layout, wider and with 4 context blocks; "
                           "a 12-megapixel photo in about 7 s on 2 CPU cores")
def medium() -> ModelConfig:
    # Chosen by the size study (README, "Model sizes"): of four sizes it gained most on real
    # pairs, at about twice small's time. Teacher fields are small's; the representation is
    # 24 channels wide in both, as distillation needs.
    return dataclasses.replace(
        small(),
        encoder_channels=32,
        hallucination_channels=(24, 32, 32, 32),
        representation_channels=24,
        context_blocks=4,
        decoder_channels=(24, 12),
    )


@register_preset("medium-lite0", "medium joined by frozen ImageNet features (EfficientNet-Lite0, "
                                 "Apache-2.0, carried inside the checkpoint)")
def medium_lite0() -> ModelConfig:
    # Issue 22: single-image methods that work on real photos lean on ImageNet features.
    return dataclasses.replace(medium(), pretrained_encoder="efficientnet-lite0", pretrained_channels=32)


@register_preset("tiny", "a few thousand parameters, for tests and smoke runs")
def tiny() -> ModelConfig:
    return ModelConfig(
        encoder_channels=8,
        encoder_strides=(2, 1, 2, 1),
        decouple_channels=8,
        phi_channels=4,
        head_channels=4,
        head_convs=1,
        flow_channels=(8, 8),
        fusion_stage1_channels=(8, 8),
        fusion_stage2_channels=(8,),
        representation_channels=4,
        decoder_channels=(8, 4),
        decoder_convs=1,
        hallucination_channels=(8, 8),
        hallucination_strides=(2, 2, 1),
        context_blocks=2,
        attention_reduction=2,
        discriminator_channels=(8, 8),
    )
