"""The catalogue model the gguf tests run: the bundled Gemma 3 270M (the `model_cache` fixture in
tests/conftest.py assembles it once per machine)."""

GEMMA = "gemma3-270m"
