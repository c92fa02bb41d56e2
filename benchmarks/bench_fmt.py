"""Formatter speed: formatting the generated 10,000-line project of bench_check.py vs parsing it alone, and a
cold `flowc fmt --check` of the whole project as a user runs it.

    .venv/bin/python benchmarks/bench_fmt.py [--lines 10000] [--repeat 5]

The project is written in a deliberately unformatted variant (tabs, `;`-joined statements, aligned comments)
so the formatter has real work to do; the figures are the best of `--repeat` runs (median for the command).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_check import CLI_GC_THRESHOLDS, best_of, generate
from flowc.syntax.formatter import format_module, format_source
from flowc.syntax.parser import parse


def unformat(text: str) -> str:
    """The same program, badly laid out: tabs, extra blanks, aligned comments, two statements per line."""
    text = text.replace("\n    ", "\n\t").replace(" {\n", "{   # block\n").replace('"\n\t', '";  ')
    return text.replace("\n", "\r\n")


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--lines", type=int, default=10_000)
    arguments.add_argument("--repeat", type=int, default=5)
    options = arguments.parse_args()
    gc.set_threshold(*CLI_GC_THRESHOLDS)
    texts = {path: unformat(data.decode()) for path, data in generate(options.lines).items()}
    formatted = {path: format_source(text, path) for path, text in texts.items()}
    assert all(formatted.values()), "the generated project must parse"
    lines = sum(text.count("\n") for text in formatted.values())  # counted once formatted
    changed = sum(formatted[p] != t for p, t in texts.items())
    print(f"project: {len(texts)} files, {lines} lines once formatted ({changed} files need formatting)")

    parse_time = best_of(options.repeat, lambda: [parse(text, path) for path, text in texts.items()])
    format_time = best_of(options.repeat, lambda: [format_source(text, path) for path, text in texts.items()])
    modules = [(parse(text, path)[0], text) for path, text in texts.items()]
    layout_time = best_of(options.repeat, lambda: [format_module(module, text) for module, text in modules])
    again_time = best_of(options.repeat, lambda: [format_source(text, path) for path, text in formatted.items()])
    print(f"  parse alone:                     {parse_time * 1000:8.1f} ms")
    print(f"  format (parse + layout):         {format_time * 1000:8.1f} ms  ({format_time / parse_time:.2f}x parse,"
          f" {lines / format_time:,.0f} lines/s)")
    print(f"    of which the layout alone:     {layout_time * 1000:8.1f} ms  (measured on its own)")
    print(f"  format already formatted files:  {again_time * 1000:8.1f} ms")

    with tempfile.TemporaryDirectory() as directory:
        for path, text in texts.items():
            target = Path(directory) / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(text.encode())
        runs = []
        for _ in range(options.repeat):
            start = time.perf_counter()
            result = subprocess.run([sys.executable, "-m", "flowc", "fmt", "--check", directory],
                                    capture_output=True)
            runs.append(time.perf_counter() - start)
            assert result.returncode == 1, result.stderr[-500:]
        print(f"  `flowc fmt --check` cold, whole project (median): {statistics.median(runs) * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
