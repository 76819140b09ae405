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
    except HarnessError as e:
        typer.echo(f"error: {e}", err=True)
        sys.exit(e.exit_code)
    except click.NoArgsIsHelpError as e:  # bare `harness` / `harness data`: help, exit 0
        typer.echo(e.ctx.get_help())
    except click.UsageError as e:
        typer.echo(f"error: {e.format_message()}", err=True)
        sys.exit(2)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(130)
    except interrupt.Interrupted as e:
        interrupt.exit_on(e)
    finally:
        interrupt.uninstall()


if __name__ == "__main__":
    main()
