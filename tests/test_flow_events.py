"""`flow NAME on EVENT`: the events are Bandwidth's webhooks, checked against the vocabulary (FC115), with a
did-you-mean fix, in the CLI and (tests/test_lsp_language.py) the editor; an unknown event is never routed."""

import json
import os
import subprocess
import sys
from pathlib import Path

from flowc.core.diagnostics import Severity
from flowc.core.fixes import apply_edits
from flowc.semantics.analysis import analyse
from flowc.semantics.project import compile_sources


def flowc(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flowc", *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "NO_COLOR": "1"})


def check(text: str):
    return compile_sources({"t.flow": text.encode()})


def fixed(text: str) -> str:
    [diagnostic] = [d for d in check(text).diagnostics if d.code == "FC115"]
    return apply_edits(text, list(diagnostic.fix.edits))


def test_a_misspelt_event_is_an_error_with_its_fix():
    text = 'flow inbound on initate {\n    say "Hi"\n}\n'
    [diagnostic] = check(text).diagnostics
    assert diagnostic.code == "FC115" and diagnostic.severity is Severity.ERROR
    assert "initate" in diagnostic.message and diagnostic.help == "did you mean `initiate`?"
    assert text[diagnostic.span.start:diagnostic.span.end] == "initate" and diagnostic.fix.safe
    assert fixed(text) == 'flow inbound on initiate {\n    say "Hi"\n}\n'
    assert check(fixed(text)).diagnostics == []


def test_an_unknown_event_with_no_near_name_is_removed_by_its_fix():
    text = 'flow inbound on initiate bogus {\n    say "Hi"\n}\n'
    [diagnostic] = check(text).diagnostics
    assert diagnostic.code == "FC115" and "initiate, answer" in diagnostic.help and not diagnostic.fix.safe
    assert fixed(text) == 'flow inbound on initiate {\n    say "Hi"\n}\n'
    assert fixed('flow a on bogus, answer { hangup }\n') == "flow a on answer { hangup }\n"
    assert fixed('flow a on answer, bogus { hangup }\n') == "flow a on answer { hangup }\n"
    assert fixed('flow a on bogus { hangup }\n') == "flow a { hangup }\n"


def test_webhooks_a_flow_cannot_answer_say_why():
    result = check("flow a on disconnect, conferenceMemberJoin { hangup }\n")
    messages = [d.message for d in result.diagnostics]
    assert [d.code for d in result.diagnostics] == ["FC115", "FC115"]
    assert "reply carries no BXML" in messages[0] and "`on member join { ... }`" in messages[1]


def test_every_call_webhook_whose_reply_is_bxml_is_accepted():
    for event in ("initiate", "answer", "redirect", "gather", "transferAnswer", "transferComplete",
                  "recordComplete", "bridgeComplete"):
        assert check(f"flow a on {event} {{ hangup }}\n").diagnostics == [], event


def test_an_unknown_event_is_never_routed_even_when_its_error_is_ignored():
    result = check("flow a on initate, answer { hangup }\n")
    flow = result.project.flows["a"]
    assert analyse(result.project).links.events(flow) == ["answer"]


def test_cli_check_reports_and_fix_repairs_the_file(tmp_path: Path):
    source = tmp_path / "inbound.flow"
    source.write_text('flow inbound on initate {\n    say "Hi"\n}\n')
    result = flowc("check", str(source))
    assert result.returncode == 1 and "error[FC115]" in result.stdout and "did you mean `initiate`?" in result.stdout
    out = tmp_path / "out"
    assert flowc("compile", str(source), "-o", str(out)).returncode == 1 and not out.exists()
    assert flowc("check", "--fix", str(source)).returncode == 0
    assert source.read_text() == 'flow inbound on initiate {\n    say "Hi"\n}\n'
    assert flowc("compile", str(source), "-o", str(out)).returncode == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert [r["events"] for r in manifest["routes"]] == [["initiate"]]
