"""Checker speed: parsing a generated 10,000-line project alone vs checking it (front end + every rule).

    .venv/bin/python benchmarks/bench_check.py [--lines 10000] [--repeat 5] [--write DIR] [--parser FILE]
                                               [--clock wall|cpu]

It prints the figures twice: with Python's default garbage-collector thresholds, and with the thresholds the
`flowc` command sets (see flowc.cli.commands.main), which is how `flowc check` actually runs.

The project is spread over files of ~100 lines; each file has a conference declaration with handlers, flows
that gather and branch, flows that refer to flows of the previous file (so whole-program rules have work to
do) and joins of literal and declared conferences. The figure is the best of `--repeat` runs of each.
`--clock cpu` times with this process's CPU time instead of the wall clock: on a shared machine the wall clock
also counts other jobs' time slices. `--parser FILE` runs everything with another flowc/parser.py (e.g.
`git show REV:compiler/syntax/parser.py > FILE`), to compare a parser change end to end.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import sys
import time
from pathlib import Path

FILE_TEMPLATE = """\
# generated file {n}
application auth env(BANDWIDTH_CALLBACK_USER) env(BANDWIDTH_CALLBACK_PASSWORD)
conference room{n} "room-{n}-{{to|safe}}" {{
    events "/conf/{n}/events" method POST timeout 10s
    auth "agent{n}" env(CONF_PASSWORD_{n})
    tag "room {n}"
    on created {{ play "https://cdn.example.com/created.wav" }}
    on member join {{
        say "A new member joined room {n}." gender female
        start recording on recording "/recordings/{n}" format mp3
    }}
    on member exit {{ say "Someone left." }}
}}
flow main{n} on initiate, answer {{
    say "Welcome to line {n}, {{from}}." gender male locale en_US
    pause 500ms
    gather max 1 timeout 5s until "#" then route{n} {{
        say "Press 1 for support, 2 for sales, 3 to leave a message."
        play "https://cdn.example.com/menu-{n}.wav"
    }}
}}
flow route{n} {{
    when digits "1" {{
        say "Connecting you to support."
        redirect to support{n}
    }}
    when digits "2" {{
        transfer +15551230{n:03d}, "sip:sales{n}@example.com" timeout 30s then after{n}
    }}
    when digits "3" {{
        say "Please leave a message after the tone."
        record max 60s then after{n}
    }}
    when digits "9" {{ redirect to prev{n} }}
    say "Sorry, I did not get that."
    redirect to main{n}
}}
flow support{n} {{
    say gender female {{
        "Please hold while we find an agent."
        break 500ms
        emphasis level strong "Thank you"
    }}
    start recording format wav
    join room{n} mute
}}
flow coach{n} on answer {{
    say "You are coaching."
    join conference "coaching-{n}" as coach of "c-1-{n}", "c-2-{n}" tag "coach {n}" timeout 5s
}}
flow listen{n} on answer {{
    join conference "coaching-{n}" hold tag "coach {n}" timeout 5s
}}
flow after{n} {{
    say "Thank you, goodbye."
    tag "done {n}"
    hangup
}}
flow prev{n} {{
    say "Going back."
    redirect to main{prev}
}}
"""


CLI_GC_THRESHOLDS = (100_000, 50, 100)  # what flowc.cli.commands.main sets before running a command


def generate(lines: int) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    total = 0
    n = 0
    while total < lines:
        text = FILE_TEMPLATE.format(n=n, prev=max(n - 1, 0))
        files[f"project/file{n:04d}.flow"] = text.encode()
        total += text.count("\n")
        n += 1
    return files


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
clock = CLOCKS["wall"]


def best_of(repeat: int, function) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = clock()
        function()
        best = min(best, clock() - start)
    return best


def use_parser(path: str) -> None:
    """Install the parser module at `path` as flowc.syntax.parser, before anything imports the real one."""
    spec = importlib.util.spec_from_file_location("flowc.syntax.parser", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["flowc.syntax.parser"] = module
    spec.loader.exec_module(module)


def measure(files: dict[str, bytes], repeat: int) -> tuple[float, float, float]:
    from flowc.check import check_project
    from flowc.semantics.project import compile_sources
    from flowc.syntax.parser import parse

    texts = {path: data.decode() for path, data in files.items()}
    parse_time = best_of(repeat, lambda: [parse(text, path) for path, text in texts.items()])
    check_time = best_of(repeat, lambda: compile_sources(files))
    front = compile_sources(files, check=False)
    rules_time = best_of(repeat, lambda: check_project(front.project))
    return parse_time, check_time, rules_time


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--lines", type=int, default=10_000)
    arguments.add_argument("--repeat", type=int, default=5)
    arguments.add_argument("--write", metavar="DIR", help="also write the project to DIR")
    arguments.add_argument("--parser", metavar="FILE", help="run with this flowc/parser.py instead")
    arguments.add_argument("--clock", choices=sorted(CLOCKS), default="wall")
    options = arguments.parse_args()
    global clock
    clock = CLOCKS[options.clock]
    if options.parser:
        use_parser(options.parser)
    from flowc.semantics.project import compile_sources

    files = generate(options.lines)
    if options.write:
        for path, data in files.items():
            target = Path(options.write) / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    lines = sum(data.count(b"\n") for data in files.values())

    compilation = compile_sources(files)  # warm caches (tables, vocabulary) and verify the project is clean
    assert not compilation.diagnostics, compilation.diagnostics[:3]
    print(f"project: {len(files)} files, {lines} lines, {len(compilation.diagnostics)} diagnostics")
    default_thresholds = gc.get_threshold()
    for label, thresholds in [("default gc", default_thresholds), ("gc as in flowc.cli.commands", CLI_GC_THRESHOLDS)]:
        gc.set_threshold(*thresholds)
        parse_time, check_time, rules_time = measure(files, options.repeat)
        print(f"{label} {thresholds}:")
        print(f"  parse alone:                  {parse_time * 1000:8.1f} ms")
        print(f"  check (front end + rules):    {check_time * 1000:8.1f} ms")
        print(f"    of which the checker rules: {rules_time * 1000:8.1f} ms")
        print(f"  ratio check / parse:          {check_time / parse_time:8.2f}x")
    gc.set_threshold(*default_thresholds)


if __name__ == "__main__":
    main()
