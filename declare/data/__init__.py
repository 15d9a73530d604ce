"""Training data: synthetic multi-view sequences, Seq1K-style sequences, image pairs."""
