"""Training: teacher first, then the student distilled from the frozen teacher.

``config`` (the settings), ``trainer`` (the loop), ``state`` (checkpoints with
optimizer state), ``command`` (``declare train``). Import the one you need:
this package itself imports nothing heavy, so ``declare --help`` stays fast.
"""
