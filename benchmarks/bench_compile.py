"""Compiler benchmarks: cold `flowc check` start-up, import costs, and compile throughput.

    python benchmarks/bench_compile.py            # prints a Markdown report (see docs/performance.md)

Throughput is measured in-process (parse + check + emit, no file writes) on a generated 10,000-line project
made of the example projects, copied with renamed flows and conferences until it is large enough.
"""

from __future__ import annotations

import gc
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
TYPICAL = EXAMPLES / "support-line"
TARGET_LINES = 10_000


def run_times(command: list[str], runs: int = 21) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return times


def generated_project(target_lines: int = TARGET_LINES) -> dict[str, bytes]:
    """The example projects, copied with every flow and conference name suffixed, up to target_lines."""
    sources = sorted(p for p in EXAMPLES.glob("*/*.flow") if p.parent.name != "seed")
    texts = [p.read_text() for p in sources]
    names = set()
    for text in texts:
        names.update(re.findall(r"^(?:flow|conference)\s+([A-Za-z_][\w-]*)", text, re.MULTILINE))
    # `(?<!tracks )`: the flow called `inbound` shares its name with a value of `tracks`.
    alternatives = "|".join(sorted(map(re.escape, names), key=len, reverse=True))
    pattern = re.compile(r"(?<!tracks )\b(" + alternatives + r")\b(?![\"-])")
    files: dict[str, bytes] = {}
    lines = copy = 0
    while lines < target_lines:
        for path, text in zip(sources, texts, strict=True):
            renamed = pattern.sub(lambda m, suffix=copy: f"{m.group(1)}_{suffix}", text)
            files[f"gen/{copy}/{path.parent.name}/{path.name}"] = renamed.encode()
            lines += renamed.count("\n")
        copy += 1
    return files


def throughput(files: dict[str, bytes], repeats: int = 5) -> tuple[float, int, int]:
    from flowc.backend.build import render
    from flowc.semantics.project import compile_sources

    lines = sum(data.count(b"\n") for data in files.values())
    best = float("inf")
    gc.set_threshold(100_000, 50, 100)  # what the CLI does
    for _ in range(repeats):
        start = time.perf_counter()
        compilation = compile_sources(files)
        errors = [d for d in compilation.diagnostics if d.is_error]
        assert not errors, errors[:3]
        _, rendered, _ = render(compilation)
        best = min(best, time.perf_counter() - start)
    return lines / best, lines, len(rendered)


def import_costs() -> list[tuple[str, int]]:
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "x.flow"
        target.write_text((EXAMPLES / "seed" / "join.flow").read_text())
        result = subprocess.run([sys.executable, "-X", "importtime", "-m", "flowc", "check", str(target)],
                                capture_output=True, text=True, check=False)
    costs = []
    for line in result.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)", line)
        if match and len(match.group(3)) <= 2:
            costs.append((match.group(4), int(match.group(2))))
    return sorted(costs, key=lambda c: -c[1])[:12]


def main() -> None:
    typical = sorted(TYPICAL.glob("*.flow"))[0] if TYPICAL.exists() else EXAMPLES / "seed" / "join.flow"
    bare = statistics.median(run_times([sys.executable, "-c", "pass"]))
    check = statistics.median(run_times([sys.executable, "-m", "flowc", "check", str(typical)]))
    rate, lines, documents = throughput(generated_project())
    print(f"Python {sys.version.split()[0]}, {sys.platform}")
    print()
    print("| measurement | result |")
    print("|---|---|")
    print(f"| `python -c pass` (median of 21) | {bare * 1000:.0f} ms |")
    print(f"| `flowc check {typical.relative_to(ROOT)}` cold (median of 21) | {check * 1000:.0f} ms "
          f"({check / bare:.1f}x bare Python) |")
    print(f"| compile throughput, {lines:,} lines -> {documents} documents (best of 5) | {rate:,.0f} lines/s |")
    print()
    print("Import cost on the `flowc check` path (cumulative, microseconds):")
    print()
    for module, micros in import_costs():
        print(f"- `{module}`: {micros:,} us")


if __name__ == "__main__":
    main()
