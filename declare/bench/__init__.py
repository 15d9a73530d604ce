"""``declare bench``: how fast (``speed``) and how good (``quality``) a model is.

``methods`` turns models and baselines into one interface, ``speed`` and
``quality`` measure, ``report`` prints tables, JSON, CSV and plots, and
``command`` is the click group.
"""
