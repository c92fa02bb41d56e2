"""Type-check flowc with mypy (configured in pyproject.toml); the test suite runs it (tests/test_static.py).

flowc's packages live in folders named differently from the packages (pyproject.toml's package-dir: `flowc` is
compiler/, `flowc.grammar` is grammar/, `flowc.lsp` is lsp/), which mypy cannot follow through the editable
install's import hook. So this lays the modules out under the packages' real names in .mypy_cache/ and checks
that copy; mypy's messages are rewritten to the files' paths in the repository.

    .venv/bin/python tools/typecheck.py [extra mypy arguments]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def package_tree(root: Path = ROOT) -> Path:
    """The packages under their import names: copies of the repository's modules, refreshed when they change.
    (Copies, not symbolic links: mypy's incremental cache would then judge freshness by the link's own date.)"""
    package_dirs = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    tree = root / ".mypy_cache" / "package-tree"
    for package, folder in package_dirs.items():
        target = tree.joinpath(*package.split("."))
        target.mkdir(parents=True, exist_ok=True)
        sources = {source.name: source for source in (root / folder).glob("*.py")}
        for name, source in sources.items():
            copy, stat = target / name, source.stat()
            if not copy.exists() or (copy.stat().st_mtime_ns, copy.stat().st_size) != (stat.st_mtime_ns, stat.st_size):
                shutil.copy2(source, copy)
        for stale in target.glob("*.py"):  # a module deleted or renamed in the repository
            if stale.name not in sources:
                stale.unlink()
    return tree


def main(argv: list[str]) -> int:
    tree = package_tree()
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    command = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
               "--cache-dir", str(ROOT / ".mypy_cache")]
    for package in setuptools["packages"]:
        if "." not in package:  # subpackages are checked with their parent
            command += ["-p", package]
    # Run from inside the tree: from the repository, mypy would also see grammar/ and lsp/ as top-level packages.
    result = subprocess.run(command + argv, capture_output=True, text=True, cwd=tree,
                            env={**os.environ, "MYPYPATH": str(tree)})
    output = result.stdout + result.stderr
    folders = sorted(setuptools["package-dir"].items(), key=lambda item: -len(item[0]))  # flowc.lsp before flowc
    lines = []
    for line in output.splitlines(keepends=True):
        for package, folder in folders:
            prefix = package.replace(".", "/") + "/"
            if line.startswith(prefix):
                line = folder + "/" + line[len(prefix):]
                break
        lines.append(line)
    print("".join(lines), end="")
    return result.returncode


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
