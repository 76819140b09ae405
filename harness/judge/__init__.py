"""A configured model as a judge (issue 20): versioned prompt files (`prompts.py`), strict answer
parsers (`parse.py`), and the `Judge` that asks through a generation session, so judge calls are
cached and resumable exactly like generations (`judge.py`). See docs/scoring.md, "Model as a judge"."""
