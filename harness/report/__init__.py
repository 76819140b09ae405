"""Reporting: leaderboards (Markdown, CSV, JSON, static HTML) and run-to-run comparison with a CI gate.

Everything here reads `results/<run>/` folders (the contract in docs/architecture.md) and never
loads a model: numbers come from `scores.json`, significance is recomputed from the stored
predictions and the dataset's references with `harness.score.compare`.
"""
