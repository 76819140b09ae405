"""The `harness` command line. Heavy libraries are imported inside the commands."""

from __future__ import annotations

import sys

import typer

from harness.errors import HarnessError

app = typer.Typer(
    help="Evaluation harness for Chinese summarisation and Chinese↔English translation: "
    "build the dataset, score outputs with Chinese-aware ROUGE/BLEU/chrF, with signatures and CIs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register_commands() -> None:
    """Every module in harness.commands registers itself, ordered by its ORDER.

    A module either has NAME and a Typer ``app`` (a command group such as `harness data ...`)
    or a ``register(app)`` function that adds top-level commands (`harness score`). Modules are
    light: heavy libraries are imported inside the commands, so `harness --help` stays instant.
    """
    import importlib
    import pkgutil

    import harness.commands as package

    modules = [importlib.import_module(f"{package.__name__}.{m.name}") for m in pkgutil.iter_modules(package.__path__)]
    for module in sorted(modules, key=lambda m: (getattr(m, "ORDER", 100), m.__name__)):
        if hasattr(module, "register"):
            module.register(app)
        else:
            app.add_typer(module.app, name=module.NAME)


_register_commands()


def main(argv: list[str] | None = None) -> None:
    """Entry point: every bad input becomes one line on stderr and exit code 2."""
    try:  # typer >= 0.20 vendors click
        from typer._click import exceptions as click
    except ImportError:  # pragma: no cover - older typer
        from click import exceptions as click

    from harness import interrupt

    command = typer.main.get_command(app)
    try:
        interrupt.install()  # SIGINT/SIGTERM: commit what finished, one line, exit 130/143
        command.main(args=argv if argv is not None else sys.argv[1:], prog_name="harness", standalone_mode=False)
    except BaseException as e:
        interrupt.finish()  # the command has ended: a signal from now on is ignored, the outcome stands
        _exit_for(e, click)
    else:
        interrupt.finish()
    finally:
        if argv is not None:  # called in-process (tests): give the caller its handlers back
            interrupt.uninstall()


def _exit_for(error: BaseException, click) -> None:
    """The one line and exit code for how a command ended."""
    from harness import interrupt

    if isinstance(error, HarnessError):
        typer.echo(f"error: {error}", err=True)
        sys.exit(error.exit_code)
    if isinstance(error, click.NoArgsIsHelpError):  # bare `harness` / `harness data`: help, exit 0
        typer.echo(error.ctx.get_help())
        return
    if isinstance(error, click.UsageError):
        typer.echo(f"error: {error.format_message()}", err=True)
        sys.exit(2)
    if isinstance(error, typer.Exit):
        sys.exit(error.exit_code)
    if isinstance(error, typer.Abort):
        typer.echo("aborted", err=True)
        sys.exit(130)
    if isinstance(error, interrupt.Interrupted):
        interrupt.exit_on(error)
    raise error  # SystemExit (compare --gate) and anything unforeseen


if __name__ == "__main__":
    main()
