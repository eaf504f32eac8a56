"""leakbench: a reproducible benchmark of training-data leakage attacks."""

__version__ = "0.1.0"
