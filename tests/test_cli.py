"""The `harness` group: `harness --help` lists every command without importing its module, with the
help the command gives itself."""

import inspect
import pkgutil
import subprocess
import sys

import pytest
import typer

import harness.commands
from harness.cli import COMMANDS, load_command


@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_listed_help_is_the_commands_own(name):
    module, text = COMMANDS[name]
    real = load_command(name)
    assert real.name == name
    assert inspect.cleandoc(real.help).split("\n\n")[0].replace("\n", " ") == text


def test_every_command_module_is_listed():
    listed = set()
    for info in pkgutil.iter_modules(harness.commands.__path__):
        module = __import__(f"harness.commands.{info.name}", fromlist=["_"])
        if hasattr(module, "register"):
            holder = typer.Typer()
            module.register(holder)
            names = typer.main.get_group(holder).commands
        elif hasattr(module, "NAME"):
            names = [module.NAME]
        else:
            continue  # a helper of the commands (progress.py)
        for name in names:
            assert COMMANDS.get(name, (None,))[0] == info.name, f"{name} ({info.name}.py) is not in cli.COMMANDS"
            listed.add(name)
    assert listed == set(COMMANDS)


def test_help_imports_no_command():
    code = ("import sys\nfrom harness.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith(('harness.commands.', 'harness.pipeline', "
            "'pydantic', 'numpy'))))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "Commands" in result.stdout and result.stdout.strip().endswith("[]")
