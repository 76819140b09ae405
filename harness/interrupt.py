"""One handler for SIGINT and SIGTERM, installed by `harness.cli.main` for every command.

The first signal raises `Interrupted` in the main thread. It is a BaseException, so no
`except Exception` swallows it, and every `finally` on the way out runs: the generation loop
commits the completions that finished, the openai backend cancels its in-flight requests instead
of waiting them out, a staged results folder is removed. The CLI then prints one line and exits
with 128 + the signal number (130 for SIGINT, 143 for SIGTERM).

A second signal while that cleanup runs ends the process at once (os._exit): committed rows are
safe in SQLite's WAL, and a staging folder left behind is cleared by the next run.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from contextlib import contextmanager

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    def message(self) -> str:
        return (f"interrupted by {signal.Signals(self.signum).name}: finished items are cached and nothing partial "
                "was written; rerun the command to resume")


_received: list[int] = []
_finished = False


def _handle(signum, frame) -> None:
    if _finished:  # the command has ended (its one line may be on its way out): keep its outcome
        return
    if _received:  # a second signal during cleanup: stop now
        try:
            os.write(2, f"interrupted again by {signal.Signals(signum).name}: stopping now\n".encode())
        finally:
            os._exit(128 + signum)
    _received.append(signum)
    raise Interrupted(signum)


def install() -> None:
    """Install the handler (main thread only; elsewhere, e.g. in a test's worker thread, a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        return
    global _finished
    _received.clear()
    _finished = False
    for sig in SIGNALS:
        signal.signal(sig, _handle)


def finish() -> None:
    """The command has ended: signals from now on are ignored (the process is about to exit)."""
    global _finished
    _finished = True
    if threading.current_thread() is threading.main_thread():
        for sig in SIGNALS:  # the outcome stands: a late signal must not turn it into a crash at shutdown
            signal.signal(sig, signal.SIG_IGN)


def uninstall() -> None:
    if threading.current_thread() is not threading.main_thread():
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextmanager
def deferred():
    """Hold SIGINT/SIGTERM back while a few renames must happen together (a folder swap); a
    signal that arrives meanwhile is delivered right after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def exit_on(error: Interrupted) -> None:
    """Print the one line and exit with 128 + signal."""
    sys.stderr.write(error.message() + "\n")
    sys.stderr.flush()
    sys.exit(error.exit_code)
