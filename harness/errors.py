"""User-facing errors: the CLI prints them as one line and exits with code 2."""


class HarnessError(Exception):
    """Bad input (a file, a key, an option). The message names what is wrong and where."""

    exit_code = 2
