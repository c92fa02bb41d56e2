"""The language server's incremental front end gives exactly what parsing the whole file gives (the statements,
the IR and the diagnostics, offsets included), edit after edit, and falls back to a whole parse on syntax errors."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from flowc.lsp import incremental as incremental_module
from flowc.lsp.incremental import IncrementalFile
from flowc.lsp.workspace import Workspace, analyse
from flowc.syntax.parser import parse
from flowc.syntax.tree import Block, Call, Statement, Token

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_lsp import generate  # noqa: E402

SOURCES = sorted((ROOT / "examples").rglob("*.flow")) + sorted((ROOT / "tests" / "golden").glob("*.flow"))


def shape(node):
    """A syntax tree as plain values (the node classes have no equality of their own)."""
    if type(node) is Statement:
        return ("statement", node.start, node.end, [shape(a) for a in node.atoms], shape(node.block))
    if type(node) is Block:
        return ("block", node.start, node.end, node.closed, [shape(s) for s in node.statements])
    if type(node) is Call:
        return ("call", node.start, node.end, shape(node.name), [shape(a) for a in node.args])
    if type(node) is Token:
        return (node.kind, node.text, node.start, node.end)
    return node


def assert_same(incremental: IncrementalFile, text: str) -> None:
    whole = analyse("f.flow", text)
    parts = incremental.analyse(text)
    assert parts is not None
    module, flow_file, diagnostics = parts
    assert [shape(s) for s in module.statements] == [shape(s) for s in whole.module.statements]
    assert [shape(c) for c in module.comments] == [shape(c) for c in whole.module.comments]
    assert flow_file == whole.flow_file
    assert diagnostics == whole.diagnostics


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_same_result_as_whole_file(path: Path):
    text = path.read_text()
    if analyse("f.flow", text).diagnostics and any(d.code == "FC001" for d in analyse("f.flow", text).diagnostics):
        pytest.skip("syntax errors: whole-file parse by design")
    assert_same(IncrementalFile("f.flow"), text)


def test_edits_reuse_pieces_and_shift_offsets(monkeypatch):
    text = generate(600)
    incremental = IncrementalFile("f.flow")
    assert_same(incremental, text)
    middle = text.index("say", len(text) // 2)
    edits = [
        text[:middle] + "sya" + text[middle + 3 :],  # same length, new diagnostic
        text[:middle] + 'say "inserted" gender mal\n    ' + text[middle:],  # longer: later pieces move
        text.replace('    tag "room 0"\n', '', 1),  # shorter, near the top
        text.replace("flow main0", "flow main0\nflow extra {\n    hangup\n}\nflow main0x", 1),  # a new piece
        text + "flow tail {\n    redirect to main0\n}\n",
        text,
    ]
    for edited in edits:
        assert_same(incremental, edited)
    parsed = []
    monkeypatch.setattr(incremental_module, "parse", lambda text, path: parsed.append(text) or parse(text, path))
    incremental.analyse(text.replace("Thank you, goodbye.", "Goodbye.", 1))
    assert len(parsed) == 1 and "Goodbye." in parsed[0]  # only the edited declaration is parsed again


def test_an_analysis_handed_out_never_changes_under_later_edits():
    """Spans are values: a later edit that moves declarations makes shifted copies, so a result another thread
    still reads keeps the offsets of its own text."""
    text = generate(300)
    incremental = IncrementalFile("f.flow")
    module, flow_file, diagnostics = incremental.analyse(text)
    before = ([shape(s) for s in module.statements], repr(flow_file), repr(diagnostics))
    for edited in ("# a comment that moves everything\n" + text, text.replace("say", "sya", 3), text):
        assert_same(incremental, edited)
    assert ([shape(s) for s in module.statements], repr(flow_file), repr(diagnostics)) == before


def test_duplicate_declarations_and_syntax_errors():
    text = 'flow a {\n    hangup\n}\nflow a {\n    hangup\n}\n'  # identical pieces: each gets its own offsets
    assert_same(IncrementalFile("f.flow"), text)
    broken = 'flow a {\n    say "x"\nflow b {\n    hangup\n}\n'  # an unclosed block swallows the next flow
    assert IncrementalFile("f.flow").analyse(broken) is None
    workspace = Workspace()
    workspace.open["f.flow"] = broken
    analysis = workspace.analyser.front_end("f.flow", broken)
    whole = analyse("f.flow", broken)
    assert analysis.diagnostics == whole.diagnostics and analysis.flow_file == whole.flow_file


def test_hover_and_completion_never_fail_anywhere():
    """Every offset of every example, and every prefix of one cut at each line (a document being typed)."""
    from flowc.lsp.completion import Names, complete
    from flowc.lsp.cursor import locate
    from flowc.lsp.hover import hover_at

    workspace = Workspace()
    workspace.load_folders([str(ROOT / "examples")])
    result = workspace.check()
    names = Names(sorted(result.flows), sorted(result.conferences))
    texts = [(path, a.text) for path, a in result.analyses.items()]
    typed = (ROOT / "examples" / "support-line" / "conference.flow").read_text()
    texts += [("typed.flow", typed[:cut]) for cut in range(0, len(typed), 7)]
    answered = 0
    for path, text in texts:
        analysis = analyse(path, text)
        for offset in range(0, len(text) + 1, 2):
            cursor = locate(analysis.module, text, offset, result.links.context)
            answered += bool(complete(cursor, names))
            answered += bool(hover_at(analysis, offset, result))
    assert answered > len(texts) * 10


def test_pieces_survive_a_syntax_error():
    text = generate(600)
    incremental = IncrementalFile("f.flow")
    assert_same(incremental, text)
    before = set(map(id, incremental.pieces.values()))
    middle = text.index("say", len(text) // 2)
    assert incremental.analyse(text[:middle] + 'say "unterminated\n' + text[middle:]) is None
    assert_same(incremental, text)  # the error fixed again: every piece is reused
    assert set(map(id, incremental.pieces.values())) == before


def test_random_edit_sequences_match_whole_file_parses():
    """Random insertions and deletions (fixed seed) on the examples: whenever the incremental path answers, it
    answers exactly what the whole-file parse does."""
    import random

    rng = random.Random(5)
    sources = [path.read_text() for path in SOURCES]
    snippets = ["flow ", "\n", "{", "}", '"', " ", 'say "x"', "\nflow z {\n", "hangup", "#", ";", "(", "\n}\n"]
    compared = 0
    for _ in range(40):
        text = rng.choice(sources) + rng.choice(sources)
        incremental = IncrementalFile("f.flow")
        for _ in range(12):
            at = rng.randrange(len(text) + 1)
            if rng.random() < 0.5:
                text = text[:at] + rng.choice(snippets) + text[at:]
            else:
                text = text[:at] + text[at + rng.randrange(1, 12) :]
            whole = analyse("f.flow", text)
            parts = incremental.analyse(text)
            if parts is None:
                continue
            assert [shape(s) for s in parts[0].statements] == [shape(s) for s in whole.module.statements]
            assert parts[1] == whole.flow_file and parts[2] == whole.diagnostics
            compared += 1
    assert compared > 30


def test_a_failing_checker_still_leaves_the_front_end_diagnostics(monkeypatch):
    """Fault injection: a bug in the checker's rules must not cost the syntax and structure diagnostics."""
    import flowc.check

    def broken(project):
        raise RuntimeError("checker bug")

    monkeypatch.setattr(flowc.check, "check_project", broken)
    workspace = Workspace()
    workspace.open["f.flow"] = 'flow main {\n    sya "Hi"\n    say "x" )\n}\n'
    result = workspace.check()
    assert sorted(d.code for d in result.diagnostics["f.flow"]) == ["FC001", "FC102"]


def test_completion_just_after_a_nested_brace_in_a_never_closed_flow_offers_statements():
    """Recovery closes the flow with an empty `}`: the flow is still open at the end of the file."""
    from flowc.lsp.completion import Names, complete
    from flowc.lsp.cursor import locate

    text = 'flow main {\n    gather then main {\n        say "Press 1."\n    }'  # the `}` just typed
    analysis = analyse("f.flow", text)
    cursor = locate(analysis.module, text, len(text), lambda name: "call")
    labels = {item.label for item in complete(cursor, Names(["main"], []))}
    assert {"say", "hangup"} <= labels and "flow" not in labels
