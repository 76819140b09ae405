"""Code the tests share, kept apart from the tests: fakes, tiny models and results folders.

pytest puts tests/ on the import path (pyproject.toml, `pythonpath`), so a test says
`from helpers.fake_backend import register`; fixtures live in tests/conftest.py.
"""
