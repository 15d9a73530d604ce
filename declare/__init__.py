"""declare: remove reflections from photos taken through glass.

    import declare
    clean = declare.clean(image)                 # a PIL image or NumPy array, same kind back
    cleaner = declare.Cleaner("small")           # a model loaded once, for many images
    view = cleaner.clean_burst([a, b, c])        # the middle view of a burst, cleaned
    records = declare.clean_files("shots/", output="clean/", cluster="local:2")   # files, as the CLI

The names below load on first use (declare/api.py), so ``import declare`` stays
light: the command line reads only ``__version__`` before it knows its command.
"""

__version__ = "0.1.0"

__all__ = ["clean", "Cleaner", "clean_files", "BatchError", "BurstWarning", "SessionError", "__version__"]

_LAZY = {"clean": "declare.api", "Cleaner": "declare.api", "clean_files": "declare.api",
         "BatchError": "declare.api", "BurstWarning": "declare.api", "SessionError": "declare.session"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'declare' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
