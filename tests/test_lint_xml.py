"""Linting raw BXML files: positions, malformed input, unknown names with fixes, webhook contexts, the CLI,
and no false alarms on Bandwidth's own published examples."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from flowc.bxml.lint_xml import lint_sources, read_bxml
from flowc.core.diagnostics import Diagnostic, Severity
from flowc.syntax.source import SourceFile

CORPUS = Path(__file__).resolve().parent / "corpus" / "bandwidth_docs"


def lint(text: str, context: str = "call", path: str = "doc.xml") -> list[Diagnostic]:
    return sorted(lint_sources({path: text.encode()}, context)[1], key=lambda d: d.span.start)


def codes(text: str, context: str = "call") -> list[str]:
    return [d.code for d in lint(text, context)]


def position(text: str, diagnostic: Diagnostic) -> tuple[int, int]:
    return SourceFile("doc.xml", text).position(diagnostic.span.start)


def apply(text: str, diagnostic: Diagnostic) -> str:
    for edit in sorted(diagnostic.fix.edits, key=lambda e: e.span.start, reverse=True):
        text = text[: edit.span.start] + edit.new_text + text[edit.span.end :]
    return text


def corpus_files() -> list[Path]:
    return sorted(CORPUS.glob("*.xml")) if CORPUS.is_dir() else []


@pytest.mark.skipif(not CORPUS.is_dir(), reason="Bandwidth documentation corpus not present")
@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name)
def test_bandwidth_documentation_examples_check_clean(path):
    contexts = json.loads((CORPUS / "contexts.json").read_text())
    found = lint_sources({str(path): path.read_bytes()}, contexts.get(path.name, "call"))[1]
    assert found == [], [(d.code, d.message) for d in found]


def test_the_corpus_converts_every_element():
    for path in corpus_files():
        document = read_bxml(str(path), path.read_bytes())
        assert document.root is not None and document.verbs, path.name


# -- positions -----------------------------------------------------------------------------------------------


def test_attribute_value_span_and_line_column():
    text = '<?xml version="1.0"?>\n<Response>\n    <Gather maxDigits="60"/>\n</Response>\n'
    [problem] = lint(text)
    assert problem.code == "FC203"
    assert text[problem.span.start : problem.span.end] == "60"
    assert position(text, problem) == (3, 24)


def test_positions_after_non_ascii_text_and_crlf():
    text = ('<Response>\r\n  <SpeakSentence>Questo è un test 😀</SpeakSentence>\r\n  <Pause duration="0"/>\r\n'
            "</Response>")
    [problem] = lint(text)
    assert text[problem.span.start : problem.span.end] == "0"
    assert position(text, problem) == (3, 20)


def test_text_content_span_is_trimmed():
    text = "<Response>\n    <Conference>\n        my room\n    </Conference>\n</Response>\n"
    [problem] = lint(text)
    assert problem.code == "FC304" and text[problem.span.start : problem.span.end] == " "
    assert apply(text, problem) == text.replace("my room", "my-room")
    assert codes(apply(text, problem)) == []


def test_single_quotes_and_entities_in_attributes():
    text = "<Response><Redirect redirectUrl='http://flow.url/a?x=1&amp;y=2' redirectMethod='PUT'/></Response>"
    [problem] = lint(text)
    assert problem.code == "FC202" and text[problem.span.start : problem.span.end] == "PUT"


# -- malformed input -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, where, hint", [
    ("<Response>\n    <SpeakSentence>Tom & Jerry</SpeakSentence>\n</Response>", (2, 24), "&amp;"),
    ("<Response>\n  <Gather>\n  </Response>", (3, 5), "still open"),
    ("", (1, 1), "empty"),
    ("<Response/>\n<Response/>", (2, 1), "one root"),
    ("<Response><Hangup</Response>", (1, 18), None),
])
def test_malformed_xml_is_a_diagnostic_with_a_position(text, where, hint):
    [problem] = lint(text)
    assert problem.code == "FC501" and problem.severity is Severity.ERROR
    assert problem.message.startswith("malformed XML: ")
    assert position(text, problem) == where
    if hint:
        assert hint in problem.help


@pytest.mark.parametrize("declaration", ['<!ENTITY a "aaaa">', '<!ENTITY a SYSTEM "file:///etc/hostname">',
                                         "<!ENTITY a 'x>y'>"])
def test_entity_declarations_are_refused(declaration):
    text = (f'<?xml version="1.0"?>\n<!DOCTYPE r [{declaration}]>\n'
            "<Response><SpeakSentence>&a;</SpeakSentence></Response>")
    [problem] = lint(text)
    assert problem.code == "FC501" and text[problem.span.start : problem.span.end] == declaration


def test_binary_and_non_utf8_files():
    assert [d.code for d in lint_sources({"a.xml": b"<Response>\x00</Response>"})[1]] == ["FC003"]
    assert [d.code for d in lint_sources({"a.xml": b"<Response>\xe9</Response>"})[1]] == ["FC004"]


# -- names -----------------------------------------------------------------------------------------------------


def test_unknown_attribute_gets_did_you_mean_fix():
    text = '<Response>\n    <Conference calbackTimeout="5">room</Conference>\n</Response>\n'
    [problem] = lint(text)  # one edit from a real attribute: an error (FC507), as FC103 is in .flow
    assert problem.code == "FC507" and problem.is_error and "callbackTimeout" in problem.help
    assert apply(text, problem) == text.replace("calbackTimeout", "callbackTimeout")
    assert codes(apply(text, problem)) == []
    text = '<Response>\n    <Conference CallbackTimeout="5">room</Conference>\n</Response>\n'  # case: one edit
    assert codes(text) == ["FC507"]


def test_an_unknown_attribute_further_from_any_is_a_warning_with_its_fix():
    text = '<Response>\n    <Conference callbakTimeot="5" musicOnHold="true">room</Conference>\n</Response>\n'
    problems = lint(text)
    assert [p.code for p in problems] == ["FC503", "FC503"] and not any(p.is_error for p in problems)
    assert apply(text, problems[0]) == text.replace("callbakTimeot", "callbackTimeout")


def test_an_undocumented_attribute_gets_a_note_in_xml_only():
    text = '<Response>\n    <Gather input="speech" gatherUrl="/next"/>\n</Response>\n'
    [note] = lint(text)
    assert note.code == "FC508" and note.severity.name == "INFO" and text[note.span.start:note.span.end] == "input"
    assert codes('<Response>\n    <Gather gatherUrl="/next"/>\n</Response>\n') == []
    from flowc.semantics.project import compile_sources

    assert compile_sources({"a.flow": b'flow a {\n    gather input speech then a\n}\n'}).diagnostics == []


def test_unknown_element_fix_renames_both_tags():
    text = "<Response>\n    <speakSentence>Hello</speakSentence>\n</Response>\n"
    [problem] = lint(text)
    assert problem.code == "FC502"
    assert apply(text, problem) == text.replace("speakSentence", "SpeakSentence")


def test_wrong_root_and_misplaced_elements():
    assert codes("<Document><Hangup/></Document>") == ["FC504"]
    assert codes("<Bxml><Hangup/></Bxml>") == []
    assert codes("<Response><PhoneNumber>+15551234567</PhoneNumber></Response>") == ["FC505"]
    assert codes('<Response><Gather gatherUrl="/next"><Hangup/></Gather></Response>') == ["FC505"]


def test_stray_text():
    assert codes("<Response>Hello<Hangup/></Response>") == ["FC506"]
    assert codes("<Response><Hangup>now</Hangup></Response>") == ["FC506"]


def test_ssml_is_read_as_nested_elements():
    text = ('<Response><SpeakSentence>Hi <break time="1s"/><emphasis level="loud">there</emphasis>'
            "</SpeakSentence></Response>")
    [problem] = lint(text)
    assert problem.code == "FC202" and text[problem.span.start : problem.span.end] == "loud"


# -- the same rules as .flow ---------------------------------------------------------------------------------


@pytest.mark.parametrize("verb, context, code", [
    ("<Transfer><PhoneNumber>+15551234567</PhoneNumber></Transfer>", "transfer-answer", "FC302"),
    ("<Conference>room</Conference>", "transfer-answer", "FC302"),
    ('<Pause duration="1"/>', "conference", "FC301"),
    ("<Hangup/>", "conference", "FC301"),
    ("<SpeakSentence>Hi</SpeakSentence>", "conference", None),
    ('<StartRecording multiChannel="true"/>', "conference", "FC311"),
    ("<Transfer><PhoneNumber>+15551234567</PhoneNumber></Transfer>", "call", None),
])
def test_webhook_contexts(verb, context, code):
    assert codes(f"<Response>{verb}</Response>", context) == ([code] if code else [])


def test_value_rules_on_every_attribute():
    text = ('<Response><Gather maxDigits="1.5" repeatCount="7" gatherMethod="PATCH">'
            "<SpeakSentence>a</SpeakSentence><SpeakSentence>b</SpeakSentence><SpeakSentence>c</SpeakSentence>"
            '</Gather><Conference mute="yes">r</Conference></Response>')
    assert sorted(codes(text)) == ["FC201", "FC201", "FC202", "FC208"]


def test_coach_list_and_unreachable_verbs():
    ids = ",".join(f"c-{i}" for i in range(20))
    assert codes(f'<Response><Conference callIdsToCoach="{ids}">room</Conference></Response>') == ["FC307"]
    assert codes("<Response><Hangup/><SpeakSentence>never</SpeakSentence></Response>") == ["FC405"]


def test_settings_conflicts_across_files():
    a = '<Response><Conference tag="a">room</Conference></Response>'
    b = '<Response><Conference tag="b">room</Conference></Response>'
    found = lint_sources({"a.xml": a.encode(), "b.xml": b.encode()})[1]
    assert [d.code for d in found] == ["FC309"]
    assert "a.xml" in found[0].message


def test_literal_passwords_are_not_reported_in_bxml():
    assert codes('<Response><Redirect redirectUrl="/next" username="u" password="p"/></Response>') == []


def test_legacy_voice_names_are_accepted_case_insensitively():
    assert codes('<Response><SpeakSentence voice="Julie">Hi</SpeakSentence></Response>') == []
    assert codes('<Response><SpeakSentence voice="robot">Hi</SpeakSentence></Response>') == ["FC202"]


# -- command line --------------------------------------------------------------------------------------------


def flowc(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "flowc", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=60)


def test_cli_context_flag_and_rendering(tmp_path):
    doc = tmp_path / "answer.xml"
    doc.write_text('<?xml version="1.0"?>\n<Response>\n    <Conference>room</Conference>\n</Response>\n')
    assert flowc("check", "answer.xml", cwd=tmp_path).returncode == 0
    result = flowc("check", "--context", "transfer-answer", "answer.xml", cwd=tmp_path)
    assert result.returncode == 1
    assert "error[FC302]" in result.stdout and "answer.xml:3:6" in result.stdout
    result = flowc("check", "--context", "transfer-answer", "--format", "json", "answer.xml", cwd=tmp_path)
    [entry] = json.loads(result.stdout)
    assert entry["code"] == "FC302" and entry["location"] == {"row": 3, "column": 6}


def test_cli_malformed_file_never_tracebacks(tmp_path):
    (tmp_path / "bad.xml").write_bytes(b"<Response><Gather></Response>")
    result = flowc("check", "bad.xml", cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "error[FC501]" in result.stdout and "bad.xml:1:21" in result.stdout


def test_check_stays_light(tmp_path):
    """`flowc check` on .flow and .xml files imports none of the heavy libraries."""
    (tmp_path / "a.flow").write_text('flow main {\n    say "Hi"\n}\n')
    (tmp_path / "b.xml").write_text("<Response><Hangup/></Response>")
    probe = ("import sys\nfrom flowc.cli.commands import main\nstatus = main(['check', 'a.flow', 'b.xml'])\n"
             "heavy = {'lxml', 'pydantic', 'jinja2', 'pygls', 'lsprotocol', 'lark'} & set(sys.modules)\n"
             "print(sorted(heavy)); sys.exit(status)")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_a_duration_written_in_bxml_is_told_to_be_a_number_of_seconds():
    text = '<Response><Record maxDuration="10s"/><SendDtmf toneDuration="0.2s">1</SendDtmf></Response>'
    found = lint(text)
    assert [(d.code, d.message) for d in found] == [
        ("FC201", "`maxDuration` takes a number of seconds"),
        ("FC201", "`toneDuration` takes a number of milliseconds")]
    assert text[found[0].span.start : found[0].span.end] == "10s"


@pytest.mark.parametrize(("text", "covered"), [
    ("<Response><SpeakSentence>hi</Response>", "Response"),
    ('<Response><Gather maxDigits="3" maxDigits="4"/></Response>', "maxDigits"),
    ("<Response><Hangup/></Response>\n<Hangup/>\n", "<Hangup/>"),
])
def test_malformed_xml_underlines_the_offending_name_or_junk(text, covered):
    [problem] = lint(text)
    assert problem.code == "FC501" and text[problem.span.start : problem.span.end] == covered


def test_an_empty_item_in_a_comma_list_is_reported():
    text = '<Response><Conference callIdsToCoach="c-1, c-2,">room</Conference></Response>'
    [problem] = lint(text)
    assert (problem.code, problem.message) == ("FC201", "`callIdsToCoach` has an empty item")
    assert problem.span.start == text.index('">room')
    assert lint('<Response><Conference callIdsToCoach="c-1, c-2">room</Conference></Response>') == []


def test_statements_after_a_conference_in_bxml_are_explained_in_bxml_terms():
    [problem] = lint("<Response><Conference>room</Conference><Hangup/></Response>")
    assert problem.code == "FC406" and problem.help == "move it before the <Conference> to run first"
