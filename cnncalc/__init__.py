"""cnncalc: exact shape and arithmetic calculator for convolutional networks."""

__version__ = "0.1.0"
