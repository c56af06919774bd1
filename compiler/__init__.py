"""mlc: a compiler for distributed machine-learning experiments."""

__version__ = "0.1.0"
