"""The `harness` command line.

`harness --help` imports no command module: those import the pipeline, pydantic and numpy, which
would make every `--help` several times slower. The top-level group lists each command from
COMMANDS and imports its module only when the command runs or shows its own help.
"""

from __future__ import annotations

import importlib
import sys

import typer
from typer.core import TyperCommand, TyperGroup

from harness import interrupt
from harness.errors import HarnessError

try:  # typer >= 0.20 vendors click
    from typer import _click as click
except ImportError:  # pragma: no cover - older typer
    import click

HELP = ("Evaluation harness for Chinese summarisation and Chinese↔English translation: "
        "build the dataset, score outputs with Chinese-aware ROUGE/BLEU/chrF, with signatures and CIs.")

#: The commands in `harness --help` order: name → (module under harness.commands, the first
#: paragraph of the command's help). A module registers its commands with `register(app)`, or is
#: one group (`harness data ...`) with NAME and a Typer `app`. tests/test_cli.py checks this table
#: against the modules.
COMMANDS: dict[str, tuple[str, str]] = {
    "score": ("score", "Score outputs against references with Chinese-aware ROUGE / BLEU / chrF(++) / TER."),
    "judge": ("judge", "Judge outputs with a model of a run config: MQM error annotation (translation), faithfulness or coverage ratings, or pairwise preference in both orders (summaries)."),
    "run": ("run", "Run every model of FILE on its tasks, score, and write RESULTS/<run>/."),
    "rescore": ("run", "Recompute item scores, scores.json, results.md and results.csv from the stored predictions."),
    "render": ("run", "Print the exact strings each model will receive (chat template applied, truncation marked)."),
    "leaderboard": ("report", "Leaderboard tables from results folders: Markdown, CSV, JSON and a static HTML page."),
    "compare": ("report", "Compare run B against run A on the same items: B − A with 95 % CI and paired p-values."),
    "data": ("data", "Build and inspect the dataset made from seeds/."),
    "refs": ("refs", "Check the references, write review sheets and apply a reviewer's verdicts."),
    "metrics": ("metrics", "Check what the metrics notice: controlled errors in the project's own references."),
    "config": ("run", "Check run configs."),
}


def load_command(name: str) -> TyperCommand | TyperGroup:
    """The command `name` as its module builds it (the module is imported here)."""
    module = importlib.import_module(f"harness.commands.{COMMANDS[name][0]}")
    holder = typer.Typer()
    if hasattr(module, "register"):
        module.register(holder)
    else:
        holder.add_typer(module.app, name=module.NAME)
    return typer.main.get_group(holder).commands[name]


class LazyCommand(TyperCommand):
    """A command listed by its name and help; the real one is loaded when it parses its arguments
    (to run, or to show its own help)."""

    def make_context(self, info_name, args, parent=None, **extra):
        return load_command(self.name).make_context(info_name, args, parent=parent, **extra)


def command() -> TyperGroup:
    """The `harness` group."""
    return TyperGroup(name="harness", help=HELP, no_args_is_help=True,
                      commands=[LazyCommand(name, help=text) for name, (_, text) in COMMANDS.items()])


def main(argv: list[str] | None = None) -> None:
    """Entry point: every bad input becomes one line on stderr and exit code 2."""
    group = command()
    try:
        interrupt.install()  # SIGINT/SIGTERM: commit what finished, one line, exit 130/143
        group.main(args=argv if argv is not None else sys.argv[1:], prog_name="harness", standalone_mode=False)
    except BaseException as e:
        interrupt.finish()  # the command has ended: a signal from now on is ignored, the outcome stands
        _exit_for(e)
    else:
        interrupt.finish()
    finally:
        if argv is not None:  # called in-process (tests): give the caller its handlers back
            interrupt.uninstall()


def _exit_for(error: BaseException) -> None:
    """The one line and exit code for how a command ended."""
    if isinstance(error, HarnessError):
        typer.echo(f"error: {error}", err=True)
        sys.exit(error.exit_code)
    if isinstance(error, click.exceptions.NoArgsIsHelpError):  # bare `harness` / `harness data`: help, exit 0
        typer.echo(error.ctx.get_help())
        return
    if isinstance(error, click.exceptions.UsageError):
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
