"""`<Bxml>` documents (issue 11, item 5): the update-call and update-conference contexts on raw BXML and on
flows (`flow NAME for update-call`), `flow NAME as bxml`, and every `<Bxml>` document of tests/corpus
checked in its context (their import round trip is in tests/test_import.py)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from flowc.backend.build import render
from flowc.backend.plan import plan
from flowc.bxml.import_xml import import_source
from flowc.bxml.lint_xml import lint_sources
from flowc.core.fixes import apply_edits
from flowc.semantics.project import compile_sources

CORPUS = Path(__file__).resolve().parent / "corpus"
CONTEXTS = {**json.loads((CORPUS / "bxml" / "contexts.json").read_text()),
            **json.loads((CORPUS / "bandwidth_docs" / "contexts.json").read_text())}
BXML_DOCUMENTS = [p for p in sorted(CORPUS.rglob("*.xml")) if b"<Bxml" in p.read_bytes()]


def lint(xml: str, context: str) -> list[str]:
    return [d.code for d in lint_sources({"doc.xml": xml.encode()}, context)[1]]


def flow_codes(text: str) -> list[str]:
    return [d.code for d in compile_sources({"t.flow": text.encode()}).diagnostics]


@pytest.mark.parametrize("path", BXML_DOCUMENTS, ids=lambda p: p.name)
def test_every_bxml_document_of_the_corpus_checks_clean_in_its_context(path):
    context = CONTEXTS[path.name]
    assert [d.code for d in lint_sources({path.name: path.read_bytes()}, context)[1]] == []
    imported = import_source(str(path), path.read_bytes())
    assert imported.flow is not None and " as bxml {" in imported.flow and imported.diagnostics == []


def test_update_conference_applies_the_conference_reply_verb_rule():
    xml = "<Bxml><SpeakSentence>Bye</SpeakSentence><Hangup/></Bxml>"
    assert lint(xml, "update-conference") == ["FC301"]
    assert lint(xml, "update-call") == []
    [diagnostic] = lint_sources({"doc.xml": xml.encode()}, "update-conference")[1]
    assert "update-conference document" in diagnostic.message


def test_cli_check_takes_the_update_contexts(tmp_path: Path):
    document = tmp_path / "announce.xml"
    document.write_text("<Bxml>\n    <Hangup/>\n</Bxml>\n")
    env = {**os.environ, "NO_COLOR": "1"}

    def check(context: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "flowc", "check", "--context", context, str(document)],
                              capture_output=True, text=True, timeout=60, env=env)

    refused = check("update-conference")
    assert refused.returncode == 1 and "error[FC301]" in refused.stdout
    accepted = check("update-call")
    assert accepted.returncode == 0 and accepted.stdout == ""


PROJECT = """\
flow main on initiate {
    say "Hi"
}
flow menu as bxml on redirect {
    say "Menu"
}
flow hold for update-call {
    play "https://cdn.example.com/moh.wav"
    redirect to main
}
flow announce for update-conference {
    say "The meeting ends in five minutes."
}
"""


def test_flows_for_update_endpoints_are_documents_without_routes():
    compilation = compile_sources({"p.flow": PROJECT.encode()})
    assert compilation.diagnostics == []  # no FC403: your code sends hold and announce
    project_plan = plan(compilation.project)
    contexts = {d.flow: str(d.context) for d in project_plan.documents}
    assert contexts == {"main": "call", "menu": "call", "hold": "update-call", "announce": "update-conference"}
    assert {r.flow for r in project_plan.routes} == {"main", "menu"}
    _, rendered, _ = render(compilation)
    roots = {r.document.flow: r.xml.split(b"\n")[1] for r in rendered}
    assert roots == {"main": b"<Response>", "menu": b"<Bxml>", "hold": b"<Bxml>", "announce": b"<Bxml>"}


def test_a_flow_for_update_conference_is_checked_as_a_conference_reply():
    assert flow_codes("flow announce for update-conference {\n    hangup\n}\n") == ["FC301"]
    assert flow_codes("flow hold for update-call {\n    hangup\n}\n") == []


def test_an_unknown_document_kind_is_an_error_with_its_fix():
    text = "flow hold for update-cal {\n    hangup\n}\n"
    [diagnostic] = compile_sources({"t.flow": text.encode()}).diagnostics
    assert diagnostic.code == "FC107" and diagnostic.help == "did you mean `for update-call`?"
    assert apply_edits(text, list(diagnostic.fix.edits)) == text.replace("update-cal", "update-call")
    assert flow_codes("flow hold as xml {\n    hangup\n}\n") == ["FC107"]


def test_a_document_for_an_update_endpoint_answers_no_webhook():
    assert flow_codes("flow hold for update-call on initiate {\n    hangup\n}\n") == ["FC107"]
