"""The README's two commands are the contract with new users and CI: keep them true."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    section = ROOT.joinpath("README.md").read_text().split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [line.strip() for line in section.splitlines() if line.startswith(COMMAND_STARTS)]


COMMAND_STARTS = ("    python3 -m venv", "    bash tools/install-test-deps.sh")
INSTALL_TEST_DEPS = "bash tools/install-test-deps.sh && "


def test_ci_runs_exactly_the_readme_test_command():
    install_and_compile, install_and_test = readme_commands()
    ci = ROOT.joinpath(".ci", "run").read_text().strip().splitlines()[-1]
    assert ci == install_and_test
    assert "pytest" in install_and_test and "flowc compile" in install_and_compile


def test_the_test_command_installs_the_test_tools_first():
    """Graphviz and Mermaid's parser render every generated diagram in the tests: CI gets them from this script."""
    _, install_and_test = readme_commands()
    assert install_and_test.startswith(INSTALL_TEST_DEPS)
    assert (ROOT / INSTALL_TEST_DEPS.split()[1]).is_file()


def test_every_cli_command_is_listed_in_the_readme():
    from flowc.cli.commands import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction").choices
    readme = ROOT.joinpath("README.md").read_text()
    listed = set(re.findall(r"\| `flowc (\w+)", readme))
    assert set(commands) <= listed, set(commands) - listed


def test_the_readme_main_command_compiles_every_example_cleanly(tmp_path):
    import shutil
    import subprocess
    import sys

    install_and_compile, _ = readme_commands()
    loop = install_and_compile[install_and_compile.index("for d in"):]
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    flowc = f"{sys.executable} -m flowc"
    environment = {"PATH": "/usr/bin:/bin", "NO_COLOR": "1"}
    result = subprocess.run(["bash", "-c", loop.replace(".venv/bin/flowc", flowc)], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300, env=environment)
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stdout + result.stderr and "error" not in result.stdout + result.stderr
    for example in (ROOT / "examples").iterdir():
        if example.is_dir():
            assert (tmp_path / "build" / example.name / "out" / "manifest.json").is_file()
