"""What an optional part of declare needs, said in one line.

The base install cleans photos with ONNX Runtime alone; PyTorch comes with the
extras (``torch``: the GPU engine; ``train``: training and ONNX export). A
command that needs a missing one says which extra to install, never a traceback.
"""

from __future__ import annotations

import importlib.util

# The exit status of a command that cannot start for want of an extra: 2, "could not
# start", the same for every command (photos, train, models, presets).
EXIT_STATUS = 2

# The extra that brings each module, for the message.
EXTRA_OF = {"torch": "torch", "timm": "torch", "safetensors": "torch", "onnx": "train"}


class MissingExtra(Exception):
    """A part of declare whose packages are not installed; one line for the user."""


def installed(module: str) -> bool:
    """Whether ``module`` can be imported, without importing it (torch takes seconds)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def require(what: str, *modules: str, extra: str | None = None) -> None:
    """MissingExtra naming the extra to install (``extra``, else the first missing module's)
    unless every one of ``modules`` is there."""
    missing = [m for m in modules if not installed(m)]
    if missing:
        extra = extra or EXTRA_OF.get(missing[0], missing[0])
        raise MissingExtra(f"{what} needs {', '.join(missing)}, which this installation lacks: "
                           f"pip install 'declare[{extra}]'")
