"""Exporters to photo editors, each found through the ``declare.exporters`` entry points."""
