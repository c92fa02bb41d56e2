"""The parser candidates of docs/architecture.md ("Parser"), side by side: parse speed and cold start-up.

    .venv/bin/python benchmarks/bench_parser.py [--lines 10000] [--repeat 5] [--cold 21] [--baseline FILE]
                                                [--clock wall|cpu]

Candidates, each building flowc's syntax tree (flowc.syntax.tree) from grammar/flow.lark:
- flowc's driver running the tables generated through Lark's JSON export (flowc.syntax.parser: what ships);
- Lark's own LALR runtime (`Lark(..., parser="lalr", transformer=...)`, grammar cached), with Lark's basic or
  contextual lexer, or fed by flowc's scanner through Lark's custom-lexer interface;
- Lark's standalone generator (`python -m lark.tools.standalone`): a generated module, no Lark at run time.
The Lark candidates build the nodes in a transformer applied during the parse (no intermediate tree) and
parse clean input only: error recovery is not modelled, so their figures are a lower bound.
`--baseline FILE` adds an older flowc/parser.py (e.g. `git show REV:compiler/syntax/parser.py > FILE`).

Speed: the project of benchmarks/bench_check.py, best of --repeat, candidates interleaved, gc thresholds as
`flowc` sets them. Cold start-up: a fresh interpreter imports the candidate and parses one typical file
(examples/support-line/agent.flow); median of --cold runs, interleaved. `--clock cpu` counts CPU time (this
process's, and the children's user + system time for the cold runs) instead of the wall clock, which on a shared
machine also counts other jobs' time slices. Needs Lark (the `test` extra).
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flowc.grammar import GRAMMAR_PATH
from flowc.syntax.parser import BUILDERS, parse
from flowc.syntax.tree import Module, Token

ROOT = Path(__file__).resolve().parent.parent
TYPICAL_FILE = ROOT / "examples" / "support-line" / "agent.flow"
VALUE_TERMINALS = ("WORD", "STRING", "NUMBER", "DURATION", "PHONE", "VAR", "COMMA", "LPAR", "RPAR", "LBRACE",
                   "RBRACE")
Parse = Callable[[str, str], tuple[Module, list[Any]]]


def node_transformer(transformer_class: type) -> Any:
    """A Lark transformer that builds flowc's nodes with flowc.syntax.parser's own builders."""
    def token(self: Any, t: Any) -> Token:
        return Token(t.type, t.value, t.start_pos, t.end_pos)

    def rule(build: Callable[[list[Any]], Any]) -> Callable[[Any, list[Any]], Any]:
        return lambda self, children: build(children)

    methods: dict[str, Any] = {name: token for name in VALUE_TERMINALS}
    methods.update({name: rule(build) for name, build in BUILDERS.items()})
    methods["start"] = lambda self, children: children
    return type("ToNodes", (transformer_class,), methods)()


def lark_runtime(lexer: str, cache_dir: str) -> Parse:
    from lark import Lark, Transformer

    comments: list[Any] = []
    parser = Lark(GRAMMAR_PATH.read_text(), parser="lalr", lexer=lexer, transformer=node_transformer(Transformer),
                  cache=f"{cache_dir}/flow-{lexer}.cache", lexer_callbacks={"COMMENT": comments.append})
    return lambda text, path="<input>": (Module(path, parser.parse(text), comments), [])


def lark_runtime_flowc_scanner() -> Parse:
    from flowc.syntax.parser import lex
    from lark import Lark, Transformer
    from lark import Token as LarkToken
    from lark.lexer import Lexer

    comments: list[Token] = []

    class FlowScanner(Lexer):
        def __init__(self, lexer_conf: Any) -> None:
            pass

        def lex(self, data: str) -> Any:  # type: ignore[override]
            for t in lex(data, comments, [], "<input>"):
                yield LarkToken(t.kind, t.text, t.start, end_pos=t.end)

    parser = Lark(GRAMMAR_PATH.read_text(), parser="lalr", lexer=FlowScanner,
                  transformer=node_transformer(Transformer))
    return lambda text, path="<input>": (Module(path, parser.parse(text), comments), [])


def standalone(module_dir: str) -> Parse:
    sys.path.insert(0, module_dir)
    module = __import__("flow_standalone")
    comments: list[Any] = []
    parser = module.Lark_StandAlone(transformer=node_transformer(module.Transformer),
                                    lexer_callbacks={"COMMENT": comments.append})
    return lambda text, path="<input>": (Module(path, parser.parse(text), comments), [])


def load_baseline(path: str) -> Parse:
    spec = importlib.util.spec_from_file_location("baseline_parser", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    baseline: Parse = module.parse
    return baseline


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


CLOCKS = {"wall": (time.perf_counter, time.perf_counter), "cpu": (time.process_time, children_cpu)}
clock, child_clock = CLOCKS["wall"]


def measure_speed(parsers: dict[str, Parse], texts: dict[str, str], repeat: int) -> dict[str, float]:
    shape = [len(parse(text)[0].statements) for text in texts.values()]
    for name, candidate in parsers.items():  # every candidate reads the project as flowc does
        assert [len(candidate(text, path)[0].statements) for path, text in texts.items()] == shape, name
    best = dict.fromkeys(parsers, float("inf"))
    for _ in range(repeat):
        for name, candidate in parsers.items():
            start = clock()
            for path, text in texts.items():
                candidate(text, path)
            best[name] = min(best[name], clock() - start)
    return best


def measure_cold(snippets: dict[str, str], runs: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in snippets}
    for _ in range(runs):
        for name, code in snippets.items():
            start = child_clock()
            subprocess.run([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)  # `flowc check` of one file of a project exits 1
            times[name].append(child_clock() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    from bench_check import CLI_GC_THRESHOLDS, generate  # here: the cold runs import this module, not the checker

    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--lines", type=int, default=10_000)
    arguments.add_argument("--repeat", type=int, default=5)
    arguments.add_argument("--cold", type=int, default=21, help="cold start-up runs per candidate (0: skip)")
    arguments.add_argument("--baseline", metavar="FILE", help="an older flowc/parser.py to compare with")
    arguments.add_argument("--clock", choices=sorted(CLOCKS), default="wall")
    options = arguments.parse_args()
    global clock, child_clock
    clock, child_clock = CLOCKS[options.clock]
    work = tempfile.mkdtemp(prefix="bench-parser-")
    subprocess.run([sys.executable, "-m", "lark.tools.standalone", "-l", "basic", str(GRAMMAR_PATH),
                    "-o", f"{work}/flow_standalone.py"], check=True)
    here = str(Path(__file__).resolve().parent)

    parsers: dict[str, Parse] = {"flowc driver + exported tables (shipped)": parse}
    if options.baseline:
        parsers["baseline: " + options.baseline] = load_baseline(options.baseline)
    parsers["Lark LALR runtime, basic lexer"] = lark_runtime("basic", work)
    parsers["Lark LALR runtime, contextual lexer"] = lark_runtime("contextual", work)
    parsers["Lark LALR runtime, flowc's scanner"] = lark_runtime_flowc_scanner()
    parsers["Lark standalone module, basic lexer"] = standalone(work)

    texts = {path: data.decode() for path, data in generate(options.lines).items()}
    gc.set_threshold(*CLI_GC_THRESHOLDS)
    speed = measure_speed(parsers, texts, options.repeat)
    gc.set_threshold(700, 10, 10)
    lines = sum(text.count("\n") for text in texts.values())
    shipped = speed["flowc driver + exported tables (shipped)"]
    print(f"parse {len(texts)} files, {lines} lines (best of {options.repeat}):")
    for name, seconds in speed.items():
        print(f"  {name:45s} {seconds * 1000:7.1f} ms  {seconds / shipped:5.2f}x")
    if not options.cold:
        return

    prelude = f"import sys; sys.path[:0] = [{here!r}, {work!r}]; text = open({str(TYPICAL_FILE)!r}).read()\n"
    snippets = {"python -c pass": "pass",
                "flowc driver + exported tables (shipped)":
                    prelude + "import bench_check\nfrom flowc.syntax.parser import parse; parse(text)"}
    if options.baseline:
        snippets["baseline: " + options.baseline] = prelude + (
            f"from bench_check import use_parser; use_parser({options.baseline!r})\n"
            "from flowc.syntax.parser import parse; parse(text)")
    snippets["Lark LALR runtime (grammar cached)"] = prelude + (
        f"from bench_parser import lark_runtime; lark_runtime('basic', {work!r})(text, '')")
    snippets["Lark standalone module"] = prelude + (
        f"from bench_parser import standalone; standalone({work!r})(text, '')")
    check = f"from flowc.cli.commands import main; main(['check', {str(TYPICAL_FILE)!r}])"
    snippets["`flowc check` with the shipped parser"] = prelude + "import bench_check\n" + check
    if options.baseline:  # installed as flowc.syntax.parser before the CLI imports the real one
        snippets["`flowc check` with the baseline parser"] = prelude + (
            f"from bench_check import use_parser; use_parser({options.baseline!r})\n" + check)
    cold = measure_cold(snippets, options.cold)
    shown = TYPICAL_FILE.relative_to(ROOT)
    print(f"cold start-up: import and parse {shown}, or check it (median of {options.cold}):")
    for name, seconds in cold.items():
        print(f"  {name:45s} {seconds * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
