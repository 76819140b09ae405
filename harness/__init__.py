"""Evaluation harness for Chinese summarisation and Chinese<->English translation."""

__version__ = "0.1.0"
