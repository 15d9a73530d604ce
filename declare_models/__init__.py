"""Networks and losses of "Distilling Reflection Dynamics for Single-Image
Reflection Removal". Needs torch only (timm for the perceptual loss's VGG).

    >>> from declare_models import Student, get_config
    >>> net = Student(get_config("small"))
"""

from .config import ModelConfig, describe_preset, get_config, list_presets, register_preset
from .discriminator import PatchDiscriminator
from .mkl import MKLModule, MKLOutput
from .student import Student, StudentOutput
from .teacher import Teacher, TeacherOutput

ARCHITECTURES = {"teacher": Teacher, "student": Student}


def create_model(arch: str, preset: str | ModelConfig = "small"):
    """Build ``arch`` ("teacher" or "student") from a preset name or a config."""
    cfg = get_config(preset) if isinstance(preset, str) else preset
    try:
        return ARCHITECTURES[arch](cfg)
    except KeyError:
        raise KeyError(f"unknown architecture {arch!r}; known: {', '.join(ARCHITECTURES)}") from None


def count_parameters(module) -> int:
    return sum(p.numel() for p in module.parameters())


__all__ = [
    "ARCHITECTURES", "MKLModule", "MKLOutput", "ModelConfig", "PatchDiscriminator", "Student",
    "StudentOutput", "Teacher", "TeacherOutput", "count_parameters", "create_model",
    "describe_preset", "get_config", "list_presets", "register_preset",
]
