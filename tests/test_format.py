"""`flowc fmt`: golden before/after pairs, round-trip properties and the command end to end.

Golden pairs are tests/data/format/CASE.before.flow -> CASE.after.flow. After an intended change to the layout,
regenerate the .after files with `pytest tests/test_format.py --update-golden` and review the diff.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from functools import lru_cache
from pathlib import Path

import pytest
from flowc.semantics.ir import ir_adapter
from flowc.semantics.project import compile_sources
from flowc.syntax.formatter import format_source
from flowc.syntax.parser import parse
from flowc.syntax.tree import MAX_NESTING_DEPTH
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data" / "format"
CASES = sorted(p.name.removesuffix(".before.flow") for p in DATA.glob("*.before.flow"))
REPOSITORY_FLOWS = sorted([*ROOT.glob("examples/**/*.flow"), *ROOT.glob("tests/golden/*.flow")])


def read(path: Path) -> str:
    return path.read_bytes().decode()  # no newline translation: CRLF must reach the formatter


@lru_cache(maxsize=1)
def adapter():
    return ir_adapter()


def strip_spans(data):
    if isinstance(data, dict):
        return {k: strip_spans(v) for k, v in data.items() if k != "span" and not k.endswith(("_span", "_spans"))}
    if isinstance(data, list):
        return [strip_spans(v) for v in data]
    return data


def meaning(text: str):
    """What the compiler makes of a file, positions aside: its IR and its lowering diagnostics."""
    compilation = compile_sources({"case.flow": text.encode("utf-8", "surrogatepass")}, check=False)
    ir = strip_spans(adapter().dump_python(compilation.project, mode="json", warnings=False))
    diagnostics = sorted((d.code, d.message) for d in compilation.diagnostics)
    return ir, diagnostics


def comment_texts(text: str) -> Counter:
    module, _ = parse(text)
    return Counter(c.text.rstrip(" \t\r\f") for c in module.comments)


def comment_places(text: str) -> list[tuple[int, str]]:
    """Each comment with the number of tokens (other than line ends) before it: the construct it belongs to.
    Formatting may move a comment between lines, but never past a word, value or brace."""
    from bisect import bisect_left

    from flowc.syntax.parser import lex

    comments: list = []
    starts = [t.start for t in lex(text, comments, [], "t.flow") if t.kind != "_NL"]
    return [(bisect_left(starts, c.start), c.text.rstrip(" \t\r\f")) for c in comments]


def assert_round_trip(text: str) -> str:
    formatted = format_source(text)
    assert formatted is not None
    assert format_source(formatted) == formatted, "formatting twice differs from formatting once"
    assert meaning(formatted) == meaning(text), "the formatted file means something else"
    assert comment_texts(formatted) == comment_texts(text), "a comment was lost or changed"
    assert comment_places(formatted) == comment_places(text), "a comment moved to another construct"
    return formatted


# -- golden pairs -------------------------------------------------------------------------------------------
def test_there_are_golden_pairs_for_every_construct():
    assert {"flows", "conference", "branches", "ssml", "nested", "calls", "comments", "semicolons", "crlf",
            "tabs", "blank_lines", "empty", "comments_only"} <= set(CASES)
    assert "\r\n" in read(DATA / "crlf.before.flow")  # a checkout that normalised line endings would hide CRLF
    assert "\t" in read(DATA / "tabs.before.flow")


@pytest.mark.parametrize("case", CASES)
def test_golden_pair(case, update_golden):
    before = read(DATA / f"{case}.before.flow")
    formatted = assert_round_trip(before)
    expected_path = DATA / f"{case}.after.flow"
    if update_golden:
        expected_path.write_bytes(formatted.encode())
    assert formatted == read(expected_path)


@pytest.mark.parametrize("path", REPOSITORY_FLOWS, ids=lambda p: str(p.relative_to(ROOT)))
def test_repository_flow_files_round_trip(path):
    assert_round_trip(read(path))


def test_examples_are_formatted():
    unformatted = [str(p) for p in ROOT.glob("examples/**/*.flow") if format_source(read(p)) != read(p)]
    assert unformatted == [], "run `flowc fmt examples`"


def test_the_documented_example_is_what_fmt_does():
    doc = (ROOT / "docs" / "language.md").read_text()
    section = doc[doc.index("## Formatting") :]
    before, after = re.findall(r"^```text\n(.*?)^```$", section, re.MULTILINE | re.DOTALL)[:2]
    assert format_source(before) == after
    assert_round_trip(before)


# -- specific layout decisions ------------------------------------------------------------------------------
def test_end_of_line_comment_gets_two_spaces_and_stays_on_its_line():
    assert format_source('flow a {\n    say "x"          # why\n}\n') == 'flow a {\n    say "x"  # why\n}\n'


def test_comment_before_closing_brace_stays_inside_the_block():
    text = "flow a {\n    transfer {\n# inside\n}\n}\n"
    assert format_source(text) == "flow a {\n    transfer {\n        # inside\n    }\n}\n"


def test_comment_in_a_string_is_text():
    assert format_source('flow a { say "# no" }') == 'flow a {\n    say "# no"\n}\n'


def test_comment_with_a_lone_carriage_return_keeps_all_its_text():
    formatted = format_source("flow a {\n}\n# one\rtwo\nflow b {\n}\n")
    assert formatted == "flow a {\n}\n\n# one\rtwo\nflow b {\n}\n"


def test_semicolon_in_a_last_line_comment_is_comment_text():
    # A comment runs to the end of the line even on a last line without newline after a `;` separator.
    assert format_source("flow a {\n}; # x ; b") == "flow a {\n}  # x ; b\n"
    assert format_source("#\n #;#") == "#\n#;#\n"
    assert_round_trip("#\n #;#")


def test_parser_keeps_every_comment_whole():
    module, errors = parse("x; # a ; b")
    assert errors == [] and len(module.statements) == 1 and [c.text for c in module.comments] == ["# a ; b"]
    module, _ = parse("x\r\n# one\rtwo\r\n# three\r\ny")
    assert [c.text for c in module.comments] == ["# one\rtwo", "# three"] and len(module.statements) == 2


def test_byte_order_mark_is_not_in_the_text_api():
    assert format_source("\ufeffflow a {}\n") is None  # the CLI strips (and keeps) the BOM; the API takes text


def test_syntax_errors_give_none():
    for text in ['flow a { say "unterminated }', "flow a {", "}", "flow a { say ( }", "a\x00"]:
        assert format_source(text) is None


def test_deep_nesting_is_refused_not_exploded():
    deepest = MAX_NESTING_DEPTH
    formatted = format_source("{" * deepest + "}" * deepest)
    assert formatted is not None and formatted.count("\n") == 2 * deepest
    assert " " * 4 * (deepest - 1) + "{\n" in formatted
    assert format_source("{" * (deepest + 1) + "}" * (deepest + 1)) is None
    assert format_source("{" * 100_000 + "}" * 100_000) is None  # refused, not indented 100,000 levels deep


# -- properties ---------------------------------------------------------------------------------------------
WORDS = ["flow", "conference", "say", "play", "gather", "then", "max", "timeout", "transfer", "number", "sip",
         "when", "digits", "otherwise", "join", "on", "member", "exit", "voice", "julie", "redirect", "to", "main",
         "hangup", "record", "param", "tag", "break", "p", "as", "coach", "of", "after-hours", "x_1", "mute"]
STRINGS = ['""', '"x"', '"{from}"', '"a \\"quoted\\" word"', '"back\\\\slash"', '"#not a comment"', '";"',
           '"  spaced  "', '"\ttab"', '"é ✓"', '"{{literal}}"', '"{to|safe}"']
VALUES = ["1", "-3", "2.5", "500ms", "2s", "1m", "+15551234567", "$from", "$a.b", ","]
BLANKS = [" ", "  ", "\t", " \t "]
COMMENT_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"), max_size=12)


@st.composite
def calls(draw) -> str:
    name = draw(st.sampled_from(["env", "hook", "f"]))
    args = draw(st.lists(st.sampled_from(["A", "b_2", '"s"', "3"]), max_size=3))
    gap = draw(st.sampled_from(["", " ", "\t"]))
    return f"{name}{gap}({gap}{(gap + ',' + gap).join(args)}{gap})"


@st.composite
def programs(draw) -> str:
    """Valid .flow text: statements of random atoms with random blocks, blanks, separators and comments."""

    def blank() -> str:
        return draw(st.sampled_from(BLANKS))

    def comment() -> str:
        return "#" + draw(COMMENT_TEXT)

    def maybe_trailing() -> str:
        return blank() + comment() if draw(st.integers(0, 4)) == 0 else ""

    def separator(after_comment: bool) -> str:
        sep = draw(st.sampled_from(["\n", "\n\n", "\n\n\n", ";", " ; ", ";\n", "\n;\n", "\n  \n"]))
        return "\n" + sep if after_comment and not sep.startswith("\n") else sep

    def atom() -> str:
        kind = draw(st.integers(0, 9))
        if kind < 5:
            return draw(st.sampled_from(WORDS))
        if kind < 7:
            return draw(st.sampled_from(STRINGS))
        if kind < 9:
            return draw(st.sampled_from(VALUES))
        return draw(calls())

    def statement(depth: int) -> str:
        if depth == 0 and draw(st.integers(0, 2)):  # mostly declarations, so the IR has flows to compare
            head = draw(st.sampled_from(["flow main", "flow x_1 on answer ,initiate", "conference room \"r\""]))
            return head.replace(" ", blank()) + blank() + block(1)
        atoms = [atom() for _ in range(draw(st.integers(0 if depth < 3 else 1, 5)))]
        if atoms and atoms[0] == ",":
            atoms[0] = "say"
        text = "".join(a if i == 0 or a == "," and draw(st.booleans()) else blank() + a
                       for i, a in enumerate(atoms))
        if depth < 3 and (not atoms or draw(st.integers(0, 2)) == 0):
            text += ("" if not atoms else blank()) + block(depth + 1)
        return text

    def sequence(depth: int, count: int) -> tuple[str, bool]:
        """Statements with separators; True if the text ends in a comment (a newline must follow)."""
        out, ends_in_comment = "", False
        for i in range(count):
            if i:
                out += separator(ends_in_comment)
            if draw(st.integers(0, 5)) == 0:
                out += comment() + "\n" + blank()
            out += statement(depth)
            tail = maybe_trailing()
            out += tail
            ends_in_comment = bool(tail)
        return out, ends_in_comment

    def block(depth: int) -> str:
        opening = draw(st.sampled_from(["", " ", "\n", "\n\n"]))
        if draw(st.integers(0, 4)) == 0:
            opening = blank() + comment() + "\n"
        body, ends_in_comment = sequence(depth, draw(st.integers(0, 3)))
        if draw(st.integers(0, 5)) == 0:
            body += "\n" + blank() + comment()
            ends_in_comment = True
        closing = draw(st.sampled_from(["\n", "\n\n", ";\n"] if ends_in_comment else ["", " ", "\n", "\n\n", ";"]))
        return "{" + opening + body + closing + "}"

    body, ends_in_comment = sequence(0, draw(st.integers(0, 4)))
    head = draw(st.sampled_from(["", "\n", "\n\n", ";"]))
    if draw(st.integers(0, 3)) == 0:
        head = comment() + "\n" + head
    tail = draw(st.sampled_from(["\n", "\n\n", ""] if ends_in_comment else ["", "\n", "\n\n", ";", " ;\n"]))
    if draw(st.integers(0, 3)) == 0:
        tail += ("\n" if ends_in_comment else blank()) + comment()
    text = head + body + tail
    return text.replace("\n", "\r\n") if draw(st.integers(0, 4)) == 0 else text


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_generated_programs_round_trip(text):
    assert parse(text)[1] == [], "the generator must produce valid programs"
    assert_round_trip(text)


PIECES = ["flow", "say", "gather", "then", "{", "}", "(", ")", ",", '"x"', "env(A)", "hook(b)", "$from", "2s",
          "-3", "+15551234567", "\n", "\n\n", " ", "\t", ";", "#", "# note", "\r\n", '"#"', "é", "\r"]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), max_size=40).map("".join))
def test_token_soup_formats_or_gives_none(text):
    formatted = format_source(text)
    assert (formatted is None) == bool(parse(text)[1])
    if formatted is not None:
        assert_round_trip(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_never_raises(text):
    formatted = format_source(text)
    if formatted is not None:
        assert format_source(formatted) == formatted


# -- the command --------------------------------------------------------------------------------------------
UGLY = 'flow main   {say "Hello" ;hangup}\n'
PRETTY = 'flow main {\n    say "Hello"\n    hangup\n}\n'


def flowc(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "flowc", *args], capture_output=True, text=True, env=env,
                          timeout=60)


def test_fmt_rewrites_only_files_that_change(tmp_path):
    ugly = tmp_path / "flows" / "ugly.flow"
    pretty = tmp_path / "flows" / "sub" / "pretty.flow"
    pretty.parent.mkdir(parents=True)
    ugly.write_text(UGLY)
    pretty.write_text(PRETTY)
    os.chmod(ugly, 0o600)
    os.utime(pretty, (1_000_000, 1_000_000))
    result = flowc("fmt", str(tmp_path / "flows"))
    assert result.returncode == 0, result.stderr
    assert ugly.read_text() == PRETTY
    assert ugly.stat().st_mode & 0o777 == 0o600
    assert pretty.stat().st_mtime == 1_000_000  # untouched
    assert f"reformatted {ugly}" in result.stderr and "pretty.flow" not in result.stderr.replace("1 file", "")
    assert "1 file reformatted, 1 file left unchanged" in result.stderr
    assert sorted(p.name for p in ugly.parent.iterdir()) == ["sub", "ugly.flow"]  # no temporary files left
    again = flowc("fmt", str(tmp_path / "flows"))
    assert again.returncode == 0 and "0 files reformatted, 2 files left unchanged" in again.stderr


def test_fmt_dash_formats_standard_input_to_standard_output():
    def run(*args: str, text: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "flowc", "fmt", *args], input=text, capture_output=True,
                              text=True, env={**os.environ, "NO_COLOR": "1"}, timeout=60)

    result = run("-", text=UGLY)  # what editors and pipes use: the text only, nothing on stderr
    assert (result.returncode, result.stdout, result.stderr) == (0, PRETTY, "")
    assert run("-", text=PRETTY).stdout == PRETTY
    broken = run("-", text="flow a {\n")  # nothing to replace the buffer with; the error on stderr
    assert broken.returncode == 1 and broken.stdout == "" and "FC001" in broken.stderr
    assert run("--check", "-", text=UGLY).returncode == 1 and run("--check", "-", text=PRETTY).returncode == 0


def test_fmt_check_writes_nothing_and_fails_when_a_file_would_change(tmp_path):
    ugly, pretty = tmp_path / "ugly.flow", tmp_path / "pretty.flow"
    ugly.write_text(UGLY)
    pretty.write_text(PRETTY)
    result = flowc("fmt", "--check", str(ugly), str(pretty))
    assert result.returncode == 1
    assert f"would reformat {ugly}" in result.stderr and f"would reformat {pretty}" not in result.stderr
    assert result.stdout == ""
    assert ugly.read_text() == UGLY
    assert flowc("fmt", "--check", str(pretty)).returncode == 0


def test_fmt_diff_prints_a_unified_diff(tmp_path):
    path = tmp_path / "main.flow"
    path.write_bytes(b'flow main {\r\n  say "x"   # hi\r\n}')
    result = flowc("fmt", "--diff", str(path))
    assert result.returncode == 1
    assert result.stdout.startswith(f"--- {path} (original)\n+++ {path} (formatted)\n@@")
    assert '+    say "x"  # hi\n' in result.stdout
    assert "\\ No newline at end of file" in result.stdout
    assert path.read_bytes() == b'flow main {\r\n  say "x"   # hi\r\n}'
    path.write_text(PRETTY)
    clean = flowc("fmt", "--diff", str(path))
    assert clean.returncode == 0 and clean.stdout == ""


def test_fmt_keeps_a_byte_order_mark(tmp_path):
    path = tmp_path / "bom.flow"
    path.write_bytes(b"\xef\xbb\xbf" + UGLY.encode())
    assert flowc("fmt", str(path)).returncode == 0
    assert path.read_bytes() == b"\xef\xbb\xbf" + PRETTY.encode()


def test_fmt_leaves_files_with_errors_alone_and_reports_them(tmp_path):
    broken = tmp_path / "broken.flow"
    binary = tmp_path / "binary.flow"
    latin1 = tmp_path / "latin1.flow"
    ugly = tmp_path / "ugly.flow"
    broken.write_text('flow main {\n    say "unterminated\n}\n')
    binary.write_bytes(b"flow\x00main")
    latin1.write_bytes(b'flow main { say "caf\xe9" }')
    ugly.write_text(UGLY)
    result = flowc("fmt", str(tmp_path))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"error[FC006]: unterminated string\n  --> {broken}:2:9" in result.stderr
    assert "error[FC003]" in result.stderr and "error[FC004]" in result.stderr
    assert f"{broken}: not formatted, found 1 error" in result.stderr
    assert "1 file reformatted, 0 files left unchanged, 3 files could not be formatted" in result.stderr
    assert broken.read_text() == 'flow main {\n    say "unterminated\n}\n'
    assert binary.read_bytes() == b"flow\x00main" and latin1.read_bytes() == b'flow main { say "caf\xe9" }'
    assert ugly.read_text() == PRETTY  # the good file is still formatted


def test_fmt_refuses_nesting_deeper_than_the_compiler_follows(tmp_path):
    path = tmp_path / "deep.flow"
    text = "flow main " + "{" * (MAX_NESTING_DEPTH + 1) + "}" * (MAX_NESTING_DEPTH + 1) + "\n"
    path.write_text(text)
    result = flowc("fmt", str(path))
    assert result.returncode == 1
    assert f"error[FC008]: blocks are nested more than {MAX_NESTING_DEPTH} deep" in result.stderr
    assert path.read_text() == text


def test_fmt_goes_on_when_a_file_cannot_be_written(tmp_path):
    locked, free = tmp_path / "locked", tmp_path / "free"
    locked.mkdir()
    free.mkdir()
    (locked / "a.flow").write_text(UGLY)
    (free / "b.flow").write_text(UGLY)
    lock = ["chattr", "+i", str(locked)]
    if shutil.which("chattr") is None or subprocess.run(lock, capture_output=True).returncode:
        pytest.skip("needs chattr +i (root on a filesystem with immutable directories)")
    try:
        result = flowc("fmt", str(locked), str(free))
    finally:
        subprocess.run(["chattr", "-i", str(locked)], check=True)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"cannot write {locked / 'a.flow'}" in result.stderr
    assert (locked / "a.flow").read_text() == UGLY and (free / "b.flow").read_text() == PRETTY


def test_fmt_missing_file_is_an_io_error(tmp_path):
    result = flowc("fmt", str(tmp_path / "missing.flow"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "missing.flow" in result.stderr


def test_fmt_of_examples_keeps_their_bxml(tmp_path):
    """Formatting cannot change what a project compiles to: compile, format a copy, compile again."""
    project = tmp_path / "project"
    shutil.copytree(ROOT / "examples" / "support-line", project)
    for path in project.glob("*.flow"):  # de-format first, so fmt has work to do
        path.write_text(read(path).replace("\n    ", "\n\t  ").replace("\n", "\r\n"))
    assert flowc("compile", str(project), "-o", str(tmp_path / "before")).returncode == 0
    assert flowc("fmt", str(project)).returncode == 0
    assert flowc("compile", str(project), "-o", str(tmp_path / "after")).returncode == 0
    before = {p.relative_to(tmp_path / "before"): p.read_bytes() for p in (tmp_path / "before").rglob("*.xml")}
    after = {p.relative_to(tmp_path / "after"): p.read_bytes() for p in (tmp_path / "after").rglob("*.xml")}
    assert before and before == after
    manifest = json.loads((tmp_path / "after" / "manifest.json").read_text())
    assert manifest["documents"]


def test_comment_places_tell_a_moved_comment_from_a_kept_one():
    original = 'flow main {  # greet first\n    say "Hi"\n}\n'
    assert comment_places(original) == comment_places('flow main {\n    # greet first\n    say "Hi"\n}\n')
    assert comment_places(original) != comment_places('flow main {\n    say "Hi"  # greet first\n}\n')
