"""User-facing errors: the CLI prints them as one line and exits with code 2."""

EXCERPT_CHARS = 60


class HarnessError(Exception):
    """Bad input (a file, a key, an option). The message names what is wrong and where."""

    exit_code = 2


def excerpt(value: object, limit: int = EXCERPT_CHARS) -> str:
    """A short, escaped quotation of a value for an error message: repr() of at most `limit`
    characters (so a message never carries a whole file, a control character or a newline)."""
    if isinstance(value, str) and len(value) > limit:
        return repr(value[:limit]) + f"… ({len(value)} chars)"
    text = repr(value)
    return text if len(text) <= limit + 2 else text[:limit] + f"… ({len(text)} chars)"


class ConfigError(HarnessError):
    """A problem in a YAML file the harness reads (a run config, a prompt or task definition file);
    the message starts with `file:line: key.path:`."""


class DatasetError(HarnessError):
    """A problem with a task's data; `key` is the definition key it concerns (for config errors)."""

    def __init__(self, message: str, key: str = "dataset"):
        super().__init__(message)
        self.key = key
