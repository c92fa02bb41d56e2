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


FORBIDDEN_BELOW_THE_BACKEND = ("backend", "runtime", "cli", "sim")
# The runtime's two leaf modules sit below the compiler and the web app alike (their opening comments say so):
# the IR's slots and filters, the business-hours calendar. They import nothing of flowc (tested below).
SHARED_LEAVES = ("flowc.runtime.values", "flowc.runtime.schedule")


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every module an import statement of the file names (at module level or inside a function), with the
    old top-level names (`flowc.plan`) read as the modules they moved to."""
    import ast

    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            prefix, _, rest = name.partition(".")
            head = rest.split(".")[0]
            if prefix == "flowc" and head in flowc.MOVED_MODULES:
                name = f"flowc.{flowc.MOVED_MODULES[head]}"
            found.append((node.lineno, name))
    return sorted(found)


@pytest.mark.parametrize("phase", ["check", "semantics"])
def test_the_checker_and_the_semantics_never_import_the_backend_runtime_cli_or_emulator(phase):
    reached = [f"{path.relative_to(ROOT)}:{line} imports {name}"
               for path in sorted((ROOT / "compiler" / phase).rglob("*.py"))
               for line, name in _imported_modules(path)
               if name.startswith("flowc.") and name.split(".")[1] in FORBIDDEN_BELOW_THE_BACKEND
               and not name.startswith(SHARED_LEAVES)]
    assert reached == []


@pytest.mark.parametrize("leaf", SHARED_LEAVES)
def test_the_shared_runtime_leaves_import_nothing_of_flowc(leaf):
    path = ROOT / "compiler" / (leaf.removeprefix("flowc.").replace(".", "/") + ".py")
    assert [name for _, name in _imported_modules(path) if name.startswith("flowc")] == []


def test_the_import_scan_sees_imports_inside_functions_and_under_old_names(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from flowc.backend.plan import plan\n    import flowc.plan\n"
                      "from flowc.semantics import ir\n")
    assert _imported_modules(sample) == [(2, "flowc.backend.plan"), (2, "flowc.backend.plan.plan"),
                                         (3, "flowc.backend.plan"), (4, "flowc.semantics"),
                                         (4, "flowc.semantics.ir")]


def test_checking_a_project_loads_nothing_of_the_backend_runtime_cli_or_emulator():
    # What the import scan cannot see (a name reached through the old-name finder, `importlib`, a registry):
    # run a check, the open-route rule included (its own bad example fires it), and list what got loaded.
    program = ("import sys\nfrom flowc.core.codes import CODES\nfrom flowc.semantics.project import compile_sources\n"
               "result = compile_sources({'p.flow': CODES['FC712'].bad.encode()})\n"
               "assert [d.code for d in result.diagnostics] == ['FC712'], result.diagnostics\n"
               "print(sorted(m for m in sys.modules if m.startswith('flowc.')))\n")
    import ast

    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    loaded = ast.literal_eval(done.stdout.strip())
    assert [m for m in loaded if m.split(".")[1] in FORBIDDEN_BELOW_THE_BACKEND
            and m not in SHARED_LEAVES and m != "flowc.runtime"] == []
