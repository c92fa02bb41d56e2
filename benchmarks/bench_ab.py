"""Compare two checkouts of flowc on a shared machine: CPU time, runs alternating between the two.

    .venv/bin/python benchmarks/bench_ab.py OLD_CHECKOUT NEW_CHECKOUT [--rounds 8] [--cold 41]

Wall-clock figures (bench_check.py, bench_compile.py) swing by 50% when other jobs share the two cores; the CPU
time a process spends is steadier, and alternating the two versions spreads the remaining noise over both. Each
checkout is imported as `flowc` from a temporary directory of links (its compiler/, grammar/ and lsp/), so the
editable install of this worktree does not interfere. Measured per side:

- the checker rules over bench_check.py's 10,000-line project (`check_project`, best of 5 per round);
- `flowc check`'s work in process (`compile_sources`: decode, parse, lower, every rule; best of 5);
- compile (`compile_sources` + plan + render every document; best of 3);
- a cold `python -m flowc check examples/support-line/agent.flow` (user + system CPU of the child).

A checkout is a directory such as one written by `git archive COMMIT | tar -x -C DIR`.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IN_PROCESS = """
import gc, sys, time
sys.path.insert(0, {benchmarks!r})
import bench_check
from flowc.backend.build import render
from flowc.check import check_project
from flowc.semantics.project import compile_sources

gc.set_threshold(100_000, 50, 100)
files = bench_check.generate(10_000)

def best(function, repeat):
    times = []
    for _ in range(repeat):
        start = time.process_time()
        function()
        times.append(time.process_time() - start)
    return min(times) * 1000

project = compile_sources(files, check=False).project
print(best(lambda: check_project(project), 5), best(lambda: compile_sources(files), 5),
      best(lambda: render(compile_sources(files)), 3))
"""


def linked(checkout: Path, into: Path) -> Path:
    """A directory holding `flowc` -> checkout/compiler, with its grammar/ and lsp/ packages beside it."""
    package = into / "flowc"
    package.mkdir(parents=True)
    for entry in (checkout / "compiler").iterdir():
        if entry.name not in ("grammar", "lsp"):
            (package / entry.name).symlink_to(entry)
    (package / "grammar").symlink_to(checkout / "grammar")
    (package / "lsp").symlink_to(checkout / "lsp")
    return into


def child_cpu(command: list[str], env: dict[str, str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, env=env, capture_output=True, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("old", type=Path)
    arguments.add_argument("new", type=Path)
    arguments.add_argument("--rounds", type=int, default=8)
    arguments.add_argument("--cold", type=int, default=41, help="cold `flowc check` runs per side")
    options = arguments.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        sides = {name: {**os.environ, "PYTHONPATH": str(linked(path.resolve(), Path(temporary) / name))}
                 for name, path in (("old", options.old), ("new", options.new))}
        script = IN_PROCESS.format(benchmarks=str(ROOT / "benchmarks"))
        figures: dict[str, list[list[float]]] = {name: [] for name in sides}
        for _ in range(options.rounds):
            for name, env in sides.items():
                result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                                        check=True)
                figures[name].append([float(x) for x in result.stdout.split()])
        cold: dict[str, list[float]] = {name: [] for name in sides}
        target = str(ROOT / "examples" / "support-line" / "agent.flow")
        for _ in range(options.cold):
            for name, env in sides.items():
                cold[name].append(child_cpu([sys.executable, "-m", "flowc", "check", target], env))
    print(f"Python {sys.version.split()[0]}; CPU ms, best (median) of {options.rounds} rounds; cold: median (min) "
          f"of {options.cold}\n")
    print("| side | checker rules | check (front end + rules) | compile (+ plan + render) | cold `flowc check` |")
    print("|---|---|---|---|---|")
    for name in sides:
        columns = list(zip(*figures[name], strict=True))
        cells = [f"{min(c):.1f} ({statistics.median(c):.1f})" for c in columns]
        cells.append(f"{statistics.median(cold[name]):.1f} ({min(cold[name]):.1f})")
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
