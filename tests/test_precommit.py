"""The pre-commit hook, run by the real pre-commit against a snapshot of this repository.

pre-commit installs hook repositories from git, so the test copies the package's files into a temporary git
repository (the working tree's own commit would miss files that are not committed yet) and uses it, pinned at
its commit in a .pre-commit-config.yaml, from temporary repositories holding .flow files. Every test shares one
PRE_COMMIT_HOME, so pre-commit builds the hook's virtualenv once for the module (`pre-commit try-repo` would
build a new one on every call: it keeps its store in a temporary directory).
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_FILES = ["pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "compiler", "grammar", "lsp"]
PRE_COMMIT = [sys.executable, "-m", "pre_commit"]
GOOD = 'flow main {\n    say "Hello" gender male\n    join conference "my-conference-name"\n}\n'
BAD = 'flow main {\n    say "Hello" gender mal\n}\n'


def git(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-c", "user.email=test@example.com", "-c", "user.name=test", *args], cwd=cwd,
                          capture_output=True, text=True, check=True)


@pytest.fixture(scope="module")
def environment(tmp_path_factory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("pre-commit-home")
    return {**os.environ, "PRE_COMMIT_HOME": str(home), "NO_COLOR": "1", "PRE_COMMIT_COLOR": "never"}


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory) -> Path:
    repo = tmp_path_factory.mktemp("hook-repo")
    for name in PACKAGE_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, repo / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif source.exists():
            shutil.copy(source, repo / name)
        else:  # pyproject names a readme; a placeholder keeps the package installable before one is written
            (repo / name).write_text("flowc\n")
    git("init", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "snapshot", cwd=repo)
    return repo


def user_repo(tmp_path: Path, files: dict[str, str]) -> Path:
    git("init", "-q", cwd=tmp_path)
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    git("add", "-A", cwd=tmp_path)
    return tmp_path


def hook_config(hook_repo: Path, hooks: tuple[str, ...] = ("flowc-check", "flowc-fmt")) -> str:
    """A .pre-commit-config.yaml using flowc's hooks from hook_repo at its commit."""
    revision = git("rev-parse", "HEAD", cwd=hook_repo).stdout.strip()
    return f"repos:\n-   repo: {hook_repo}\n    rev: {revision}\n    hooks:\n" + "".join(
        f"    -   id: {hook}\n" for hook in hooks)


def run_hook(repo: Path, hook_repo: Path, environment, hook: str = "flowc-check") -> subprocess.CompletedProcess:
    """`pre-commit run HOOK --all-files` in repo, configured (and staged) to use hook_repo's hooks."""
    (repo / ".pre-commit-config.yaml").write_text(hook_config(hook_repo))
    git("add", ".pre-commit-config.yaml", cwd=repo)
    return subprocess.run([*PRE_COMMIT, "run", hook, "--all-files"], cwd=repo, env=environment,
                          capture_output=True, text=True, timeout=600)


def test_a_bad_file_fails_the_hook(tmp_path, hook_repo, environment):
    repo = user_repo(tmp_path, {"good.flow": GOOD.replace("main", "other"), "bad.flow": BAD})
    result = run_hook(repo, hook_repo, environment)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "error[FC202]" in result.stdout and "bad.flow:2:24" in result.stdout


def test_good_files_pass_the_hook(tmp_path, hook_repo, environment):
    repo = user_repo(tmp_path, {"main.flow": GOOD, "notes.txt": "not a flow"})
    result = run_hook(repo, hook_repo, environment)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "flowc check" in result.stdout and "Passed" in result.stdout


def test_installed_hook_blocks_the_commit(tmp_path, hook_repo, environment):
    config = hook_config(hook_repo, ("flowc-check",))
    repo = user_repo(tmp_path, {".pre-commit-config.yaml": config, "main.flow": BAD})
    subprocess.run([*PRE_COMMIT, "install"], cwd=repo, env=environment, check=True, capture_output=True)
    blocked = subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-m", "bad"],
                             cwd=repo, env=environment, capture_output=True, text=True, timeout=600)
    assert blocked.returncode != 0 and "FC202" in blocked.stdout + blocked.stderr
    (repo / "main.flow").write_text(GOOD)
    git("add", "-A", cwd=repo)
    allowed = subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-m", "good"],
                             cwd=repo, env=environment, capture_output=True, text=True, timeout=600)
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr


def test_format_hook_rewrites_unformatted_files_then_passes(tmp_path, hook_repo, environment):
    messy = 'flow main {say "Hello" gender male;   hangup}  # done\n'
    repo = user_repo(tmp_path, {"main.flow": messy, "tidy.flow": GOOD})
    first = run_hook(repo, hook_repo, environment, "flowc-fmt")
    assert first.returncode == 1 and "files were modified by this hook" in first.stdout, first.stdout
    assert (repo / "main.flow").read_text() == 'flow main {\n    say "Hello" gender male\n    hangup\n}  # done\n'
    assert (repo / "tidy.flow").read_text() == GOOD
    git("add", "-A", cwd=repo)
    second = run_hook(repo, hook_repo, environment, "flowc-fmt")
    assert second.returncode == 0, second.stdout + second.stderr
