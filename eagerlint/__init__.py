"""eagerlint: keep model-weight loading streaming."""

__version__ = "0.1.0"
