"""CLI command modules; each registers itself with `harness.cli.app` (see harness/cli.py)."""
