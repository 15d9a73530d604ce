"""declare: remove reflections from photos taken through glass."""

__version__ = "0.1.0"
