"""Machine-applicable fixes: `flowc check --fix` applies them, ruff-style (safe by default)."""

import os
import subprocess
import sys

from flowc.core.diagnostics import Diagnostic, Edit, Fix, Severity, Span
from flowc.core.fixes import apply_edits, choose_edits

MISSPELT = """flow main on answer {
    join conference "room-{from}" calbackTimeout 10
    redirect to mainn
}
flow spare {
    hangup
}
"""


def flowc(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flowc", *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "NO_COLOR": "1"})


def fix(file: str, start: int, end: int, text: str, safe: bool = True) -> Diagnostic:
    span = Span(file, start, end)
    return Diagnostic("FC103", Severity.ERROR, "m", span, fix=Fix("f", (Edit(span, text),), safe))


def test_edits_apply_from_the_end_so_offsets_stay_valid():
    edits = [Edit(Span("f", 0, 1), "AAA"), Edit(Span("f", 2, 3), "C")]
    assert apply_edits("abcd", edits) == "AAAbCd"


def test_overlapping_fixes_wait_for_the_next_pass_and_unsafe_needs_asking():
    chosen = choose_edits([fix("f", 0, 4, "x"), fix("f", 2, 6, "y"), fix("f", 8, 9, "z", safe=False)])
    assert [e.new_text for e in chosen["f"]] == ["x"]
    chosen = choose_edits([fix("f", 8, 9, "z", safe=False)], unsafe=True)
    assert [e.new_text for e in chosen["f"]] == ["z"]


def test_check_fix_applies_safe_fixes_and_reports_what_is_left(tmp_path):
    path = tmp_path / "main.flow"
    path.write_text(MISSPELT)
    path.chmod(0o640)
    result = flowc("check", "--fix", str(path))
    text = path.read_text()
    assert "callbackTimeout 10" in text and "redirect to main\n" in text and "{from|safe}" in text
    assert "flow spare" in text  # removing an unused flow is unsafe: kept without --unsafe-fixes
    assert "fixed 3 problems" in result.stderr and "FC403" in result.stdout
    assert result.returncode == 0  # only the unused-flow warning and an info are left
    assert path.stat().st_mode & 0o777 == 0o640
    again = flowc("check", "--fix", str(path))
    assert "fixed" not in again.stderr and path.read_text() == text


def test_unsafe_fixes_on_request(tmp_path):
    path = tmp_path / "main.flow"
    path.write_text(MISSPELT)
    flowc("check", "--fix", "--unsafe-fixes", str(path))
    assert "flow spare" not in path.read_text()
    assert flowc("check", str(path)).returncode == 0


def test_fix_in_a_bxml_file(tmp_path):
    path = tmp_path / "join.xml"
    path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<Response>\n'
                    '<Conference calbackTimeout="5">room</Conference>\n</Response>\n')
    flowc("check", "--fix", "--context", "call", str(path))
    assert 'callbackTimeout="5"' in path.read_text()


def test_a_deletion_takes_the_blank_before_it_along():
    text = 'say "x" gender male gender female\nsay "y" voice kate  gender male\n'
    first = text.index(" gender female") + 1
    second = text.index("voice kate")
    edits = [Edit(Span("f", first, first + len("gender female")), ""),
             Edit(Span("f", second, second + len("voice kate")), "")]
    assert apply_edits(text, edits) == 'say "x" gender male\nsay "y"  gender male\n'
    # an insertion or replacement keeps its surroundings; a deletion never eats into the edit before it
    assert apply_edits("a b", [Edit(Span("f", 1, 2), "_")]) == "a_b"
    assert apply_edits("ab  c", [Edit(Span("f", 1, 2), "B"), Edit(Span("f", 4, 5), "")]) == "aB"


def test_check_fix_removes_a_repeated_credential_pair_whole(tmp_path):
    path = tmp_path / "main.flow"
    declared = "application auth env(U) env(P)\n"  # the document holds secrets: only served with credentials
    path.write_text(declared + 'flow main {\n    redirect to "/next" auth env(A) env(B) auth env(C) env(D)\n}\n')
    result = flowc("check", "--fix", str(path))
    assert path.read_text() == declared + 'flow main {\n    redirect to "/next" auth env(A) env(B)\n}\n'
    assert result.returncode == 0 and "fixed 1 problem " in result.stderr


def test_check_fix_through_a_symlink_fixes_the_file_and_keeps_the_link(tmp_path):
    real = tmp_path / "real.flow"
    real.write_text('flow main {\n    say "Hi" gendr male\n}\n')
    link = tmp_path / "link.flow"
    link.symlink_to(real.name)
    assert flowc("check", "--fix", str(link)).returncode == 0
    assert link.is_symlink() and 'gender male' in real.read_text()


def test_removing_a_whole_declaration_leaves_one_blank_line_between_the_others():
    def remove(text: str, declaration: str) -> str:
        start = text.index(declaration)
        return apply_edits(text, [Edit(Span("f", start, start + len(declaration)), "")])

    spare = "flow spare {\n    hangup\n}"
    main, other = "flow main {\n    hangup\n}\n", "flow other {\n    hangup\n}\n"
    assert remove(f"{main}\n{spare}\n\n{other}", spare) == f"{main}\n{other}"
    assert remove(f"{main}\n{spare}\n", spare) == main
    assert remove(f"{spare}\n\n{other}", spare) == other


def test_url_fixes_are_written_as_a_flow_string_or_as_escaped_xml(tmp_path):
    flow = tmp_path / "main.flow"
    flow.write_text('flow main {\n    play "https://cdn.example.com/a b.wav"\n    redirect to "/next step"\n}\n')
    xml = tmp_path / "doc.xml"
    xml.write_text('<Response><PlayAudio>https://x.example.com/a b.wav?x=1&amp;y=2</PlayAudio>'
                   '<Redirect redirectUrl="/next step"/></Response>')
    result = flowc("check", "--fix", str(flow), str(xml))
    assert result.returncode == 0, result.stdout
    assert flow.read_text() == ('flow main {\n    play "https://cdn.example.com/a%20b.wav"\n'
                                '    redirect to "/next%20step"\n}\n')
    assert xml.read_text() == ('<Response><PlayAudio>https://x.example.com/a%20b.wav?x=1&amp;y=2</PlayAudio>'
                               '<Redirect redirectUrl="/next%20step"/></Response>')
    xml.write_text('<Response><Gather gatherUrl="cdn.example.com/g"/></Response>')
    flowc("check", "--fix", "--unsafe-fixes", str(xml))
    assert xml.read_text() == '<Response><Gather gatherUrl="https://cdn.example.com/g"/></Response>'


def test_check_fix_keeps_a_byte_order_mark_and_crlf(tmp_path):
    path = tmp_path / "main.flow"
    path.write_bytes(b'\xef\xbb\xbfflow main {\r\n    say "Hi" gendr male\r\n}\r\n')
    assert flowc("check", "--fix", str(path)).returncode == 0
    assert path.read_bytes() == b'\xef\xbb\xbfflow main {\r\n    say "Hi" gender male\r\n}\r\n'


def test_a_deletion_takes_what_it_would_leave_behind():
    def delete(text: str, word: str) -> str:
        start = text.index(word)
        return apply_edits(text, [Edit(Span("f", start, start + len(word)), "")])

    assert delete('flow a {\n    say "a"; hangup; say "b"\n}\n', "hangup") == 'flow a {\n    say "a"; say "b"\n}\n'
    assert delete("flow a {\n    pause 5s duration 3\n}\n", "duration 3") == "flow a {\n    pause 5s\n}\n"
    last = "flow b {\n    hangup\n}"  # a declaration's span ends at its `}`
    assert delete("flow a {\n    hangup\n}\n\n" + last + "\n", last) == "flow a {\n    hangup\n}\n"
