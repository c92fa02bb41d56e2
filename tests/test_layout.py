"""The layout by phase (docs/architecture.md): every package opens with what it owns, and the names modules had
before the layout still import, as the very same module objects."""

import importlib
import subprocess
import sys
from pathlib import Path

import flowc
import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("old, new", sorted(flowc.MOVED_MODULES.items()))
def test_an_old_module_name_is_the_moved_module(old, new):
    assert importlib.import_module(f"flowc.{old}") is importlib.import_module(f"flowc.{new}")


def test_the_commands_and_the_syntax_tree_keep_their_old_import_names():
    from flowc.cli import main
    from flowc.syntax import Module
    from flowc.syntax.tree import Module as TreeModule

    assert callable(main) and main.__module__ == "flowc.cli.commands"
    assert Module is TreeModule


def test_python_m_runs_a_moved_module_under_its_old_name():
    done = subprocess.run([sys.executable, "-m", "flowc.explain", "FC101"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and "FC101" in done.stdout


def test_no_module_is_left_at_the_top_level_and_every_package_says_what_it_owns():
    top = sorted(path.name for path in (ROOT / "compiler").glob("*.py"))
    assert top == ["__init__.py", "__main__.py"]
    for init in (ROOT / "compiler").glob("*/__init__.py"):
        assert init.read_text().startswith('"""'), init
