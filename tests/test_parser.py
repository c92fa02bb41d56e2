"""The parser: statements and blocks, positions, and recovery that reports every syntax error in plain words."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from flowc.grammar import GRAMMAR_PATH, TABLES_PATH
from flowc.syntax.grammar_tables import build_tables, render
from flowc.syntax.parser import MAX_SYNTAX_ERRORS, PLAIN_NAMES, parse

ROOT = Path(__file__).resolve().parent.parent


def codes(text: str) -> list[str]:
    return [d.code for d in parse(text, "t.flow")[1]]


def test_statements_blocks_and_atoms():
    module, errors = parse('flow main {\n    say "Hi" gender male  # trailing\n    join support\n}\n', "t.flow")
    assert errors == []
    [flow] = module.statements
    assert [a.text for a in flow.atoms] == ["flow", "main"]
    say, join = flow.block.statements
    assert [a.kind for a in say.atoms] == ["WORD", "STRING", "WORD", "WORD"]
    assert [a.text for a in join.atoms] == ["join", "support"]
    assert [c.text for c in module.comments] == ["# trailing"]


def test_token_kinds():
    module, errors = parse("x 2s 500ms 1.5 -3 +15551234567 $from env(A) a, b ; y\n", "t.flow")
    assert errors == []
    first, second = module.statements
    kinds = [a.kind for a in first.atoms]
    assert kinds == ["WORD", "DURATION", "DURATION", "NUMBER", "NUMBER", "PHONE", "VAR", "call", "WORD", "COMMA",
                     "WORD"]
    assert [a.text for a in second.atoms] == ["y"]


def test_spans_are_character_offsets():
    text = 'flow a {\n    say "héllo"\n}\n'
    module, _ = parse(text, "t.flow")
    string = module.statements[0].block.statements[0].atoms[1]
    assert text[string.start : string.end] == '"héllo"'


def test_comment_lines_between_statements_are_kept():
    module, errors = parse("# a\n\nflow x {\n  # b\n\n  # c\n  hangup\n}\n# d", "t.flow")
    assert errors == []
    assert [c.text for c in module.comments] == ["# a", "# b", "# c", "# d"]


@pytest.mark.parametrize(
    ("text", "code", "message"),
    [
        ('flow a {\n  say "x" (\n}\n', "FC001", "expected a word or value, '{', '}' or end of line, found `(`"),
        ("}\n", "FC001", "unmatched `}`"),
        ("flow a {\n  hangup\n", "FC001", "this `{` is never closed"),
        ('flow a {\n  say @\n}\n', "FC005", "unexpected character `@`"),
        ('flow a {\n  say "x\n}\n', "FC006", "unterminated string"),
        ("flow a {\n  pause 2sec\n}\n", "FC007", "`2sec` is not a number or a duration"),
    ],
)
def test_syntax_errors(text, code, message):
    [error] = [d for d in parse(text, "t.flow")[1]]
    assert (error.code, error.message) == (code, message)
    assert error.span.end > error.span.start


def test_every_error_in_a_file_is_reported_and_parsing_continues():
    text = 'flow a {\n  say "x" (\n  play ,, )\n}\nflow b {\n  hangup\n}\n}\n'
    module, errors = parse(text, "t.flow")
    lines = sorted({text.count("\n", 0, e.span.start) + 1 for e in errors})
    assert lines == [2, 3, 8]
    assert [s.atoms[1].text for s in module.statements] == ["a", "b"]


def test_messages_use_plain_words_not_token_names():
    for _, errors in [parse(t, "t.flow") for t in ["flow a { ( }", "x env(", "a b c {", "}}", ") ("]]:
        for error in errors:
            for name in ("LBRACE", "RBRACE", "_NL", "$END", "LPAR", "RPAR", "STRING", "WORD"):
                assert name not in error.message


def test_every_terminal_has_a_plain_name():
    tables = json.loads(TABLES_PATH.read_text())
    terminals = {symbol for state in tables["states"] for symbol in state if symbol.isupper() or symbol[0] in "_$"}
    terminals = {t for t in terminals if not t.startswith("__") and t.upper() == t}
    assert terminals <= set(PLAIN_NAMES)


def test_shipped_tables_match_the_grammar():
    """grammar/flow.tables.json is generated from grammar/flow.lark: after editing the grammar, regenerate it."""
    assert TABLES_PATH.read_text() == render(build_tables(GRAMMAR_PATH.read_text())), (
        "grammar/flow.tables.json is stale: run `python -m flowc.syntax.grammar_tables`")


def test_a_grammar_edit_makes_the_shipped_tables_stale():
    """The comparison above can fail: any change to the syntax changes the generated tables."""
    edited = GRAMMAR_PATH.read_text().replace("_argument: WORD | STRING | NUMBER", "_argument: WORD | STRING")
    assert edited != GRAMMAR_PATH.read_text()
    assert render(build_tables(edited)) != TABLES_PATH.read_text()


@pytest.mark.parametrize("edit", [("statement:", "?statement:"), ("         | block", "         | block -> bare"),
                                  ("call:", "!call:")])
def test_the_generator_refuses_grammar_features_the_driver_ignores(edit):
    """`?rule`, `-> alias` and `!rule` change the tree Lark would build; the driver would silently not, so the
    generator refuses them rather than ship tables that parse differently from the grammar's meaning."""
    grammar = GRAMMAR_PATH.read_text()
    assert edit[0] in grammar
    with pytest.raises(ValueError, match="not supported"):
        build_tables(grammar.replace(edit[0], edit[1], 1))


def test_table_generation_does_not_depend_on_hash_order():
    """Lark numbers states in hash order; the generator renumbers them, so every run writes the same file."""
    script = ("from flowc.syntax.grammar_tables import *; "
              "print(render(build_tables(GRAMMAR_PATH.read_text())), end='')")
    for seed in ("1", "2"):
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                             env={**os.environ, "PYTHONHASHSEED": seed}).stdout
        assert out == TABLES_PATH.read_text()


def test_the_compiler_runs_without_lark(tmp_path):
    """Lark is a build-time and test dependency only: checking, formatting and compiling never import it."""
    examples, seed, out = str(ROOT / "examples"), str(ROOT / "examples" / "seed"), str(tmp_path / "out")
    script = (
        "import sys; sys.modules['lark'] = None  # any `import lark` now raises ImportError\n"
        "from flowc.cli.commands import main\n"
        f"print([main(['check', {examples!r}]), main(['fmt', '--check', {examples!r}]),\n"
        f"       main(['compile', {seed!r}, '-o', {out!r}])])\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert result.stdout.splitlines()[-1:] == ["[0, 0, 0]"], result.stderr[-2000:]


def test_grammar_has_no_conflicts():
    pytest.importorskip("interegular")
    from lark import Lark

    Lark(GRAMMAR_PATH.read_text(), parser="lalr", strict=True)


@pytest.mark.parametrize("text, codes", [
    (" " * 1_000_000, []),  # a run of blanks with nothing after it: once quadratic in the scanner
    ("\n" * 1_000_000, []),  # a million blank lines are one newline token, scanned without backtracking
    ("{" * 500_000, ["FC008"]),  # nesting past MAX_OPEN_BLOCKS stops the parse instead of crawling
    ("$" * 500_000, ["FC005"] * MAX_SYNTAX_ERRORS),  # lexical errors are capped like syntax errors
])
def test_pathological_input_is_quick_and_bounded(text, codes):
    start = time.perf_counter()
    _, diagnostics = parse(text, "big.flow")
    assert [d.code for d in diagnostics] == codes
    assert time.perf_counter() - start < 5  # generous: each case takes well under a second here


def test_comment_on_a_last_line_without_newline_keeps_its_semicolons():
    module, diagnostics = parse("flow main { hangup }; # a; b", "t.flow")
    assert diagnostics == [] and [c.text for c in module.comments] == ["# a; b"]


def test_characters_xml_cannot_carry_are_reported_in_strings_not_crashing_the_emitter():
    from flowc.backend.build import render
    from flowc.semantics.project import compile_sources

    text = 'flow main {\n    say "a\x1bb\x07" gender male\n    play "https://cdn.example.com/\ufffe.wav"\n}\n'
    compilation = compile_sources({"main.flow": text.encode()})
    found = [d for d in compilation.diagnostics if d.code == "FC005"]
    assert [text[d.span.start : d.span.end] for d in found] == ["\x1b", "\x07", "\ufffe"]
    assert "U+001B" in found[0].message and compilation.has_errors
    clean = compile_sources({"main.flow": b'flow main {\n    say "tab\\there\tand\\n"\n}\n'})
    assert clean.diagnostics == [] and render(clean)[1]


def test_an_unterminated_string_is_one_error_not_also_missing_text():
    from flowc.semantics.project import compile_sources

    text = 'flow main {\n    say "Hello\n    play "https://cdn.example.com/a.wav\n}\n'
    found = compile_sources({"main.flow": text.encode()}).diagnostics
    assert [(d.code, text[d.span.start : d.span.end]) for d in found] == [
        ("FC006", '"Hello'), ("FC006", '"https://cdn.example.com/a.wav')]


@pytest.mark.parametrize("stray", ["}\n", "flow a {\n    say \"x\"\n}\n}\n", 'flow a { say "x" } }\n'])
def test_a_stray_closing_brace_does_not_hide_the_rest_of_the_file(stray):
    module, errors = parse(stray + 'flow z {\n    play "https://cdn.example.com/a.wav"\n}\n', "t.flow")
    assert [e.message for e in errors] == ["unmatched `}`"]
    assert [a.text for a in module.statements[-1].atoms] == ["flow", "z"]


def test_an_unclosed_block_ends_at_the_next_declaration_so_later_errors_are_still_reported():
    from flowc.semantics.project import compile_sources

    text = ('flow a {\n    gather then b {\n        say "x"\n\nflow b {\n    paly "x"\n}\n'
            'conference c {\n    on member join {\n}\nflow d {\n    hangup\n}\n')
    found = compile_sources({"t.flow": text.encode()}).sorted_diagnostics()
    assert [(d.code, d.message, text[d.span.start : d.span.end]) for d in found] == [
        ("FC001", "this `{` is never closed", "{"), ("FC001", "this `{` is never closed", "{"),
        ("FC102", "unknown statement `paly`", "paly"), ("FC001", "this `{` is never closed", "{")]
    assert [d.span.start for d in found if d.code == "FC001"] == [text.index("{"), text.index("{", 10),
                                                                    text.index("{", text.index("conference"))]
    # a file whose braces balance is read as written, even with `flow` starting a line inside a block
    assert parse("x {\nflow\n}\n", "t.flow")[1] == []


def test_a_call_left_open_at_the_end_of_the_file_is_reported():
    # Recovery inserts the missing `)` to keep the tree, but the file is still wrong (found by the formatter's
    # comment-place property: `flow(#` used to format as `flow()  #`).
    [diagnostic] = parse('flow main {\n    say "x"\n}\nhangup env(X', "t.flow")[1]
    assert diagnostic.code == "FC001" and "')'" in diagnostic.message and "end of file" in diagnostic.message
