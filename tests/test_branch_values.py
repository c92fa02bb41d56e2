"""Branches on any runtime value (issue 11 item 2): `when hook(name)`, `when env(NAME)`, `when $field`, in flows
and in conference handlers. Lowering and diagnostics, then the web app's choice at run time over real HTTP
(uvicorn on loopback) and in the emulator."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from flowc.cli.commands import main as flowc
from flowc.runtime import load_app
from flowc.semantics.project import compile_sources
from test_app import payload, running

PROJECT = """\
flow main on initiate, answer {
    when hook(after_hours) "yes" {
        say "We are closed."
        hangup
    }
    when $tag "vip" {
        say "Welcome back, {from}."
    }
    when env(LINE_MODE) "test" {
        say "Test line."
    }
    otherwise {
        say "Hello."
        say hook(after_hours)
        join support
    }
}

conference support "support-room" {
    on member join {
        when tag "coach" {
            say "The coach is listening."
        }
        when from +15550001111 {
            play "https://cdn.example.com/chime.mp3"
        }
        when hook(is_agent) "yes" {
            say "An agent joined."
        }
        otherwise {
            say "Someone joined."
        }
    }
}
"""

# after_hours: "yes" for calls from +15559990000; each call of a hook is logged, to count them per request
HOOKS = """\
import pathlib

LOG = pathlib.Path(__file__).with_name("calls.log")


def _log(name):
    with LOG.open("a") as f:
        f.write(name + "\\n")


def after_hours(payload):
    _log("after_hours")
    return "yes" if payload.from_ == "+15559990000" else "no"


async def is_agent(payload):
    _log("is_agent")
    return "yes" if payload.from_ == "+15552223333" else "no"
"""


def diagnostics(source: str) -> list[tuple[str, str]]:
    return [(d.code, d.message) for d in compile_sources({"f.flow": source.encode()}).diagnostics]


def flows(source: str):
    return compile_sources({"f.flow": source.encode()}).project.files[0]


# -- lowering and diagnostics --------------------------------------------------------------------------------

def test_a_branch_tests_a_hook_an_environment_variable_or_a_payload_field():
    file = flows(PROJECT)
    branches = file.flows[0].branches
    assert [(b.source, b.field, b.values, b.subject) for b in branches] == [
        ("hook", "after_hours", ["yes"], "hook(after_hours)"), ("payload", "tag", ["vip"], "tag"),
        ("env", "LINE_MODE", ["test"], "env(LINE_MODE)")]
    handler = file.conferences[0].handlers[0]
    assert [(b.source, b.field) for b in handler.branches] == [("payload", "tag"), ("payload", "from"),
                                                               ("hook", "is_agent")]
    assert [e.tag for e in handler.body] == ["SpeakSentence"]  # the otherwise block: the default document
    assert diagnostics(PROJECT) == []


def test_was_fc114_a_hook_branch_compiles_to_its_own_document():
    compilation = compile_sources({"f.flow": b'flow main {\n    when hook(after_hours) "yes" { hangup }\n}\n'})
    assert not compilation.diagnostics
    from flowc.backend.plan import plan

    files = {d.file: d.branch for d in plan(compilation.project).documents}
    assert files == {"flows/main.xml": None, "flows/main.hook-after_hours-yes.xml":
                     {"source": "hook", "field": "after_hours", "values": ["yes"]}}


@pytest.mark.parametrize(("source", "expected"), [
    ('flow main {\n    when "x" "y" { hangup }\n}\n', [("FC114", '`"x"` is not a value a branch can test')]),
    ('flow main {\n    when hook(a) { hangup }\n}\n',
     [("FC114", "a branch is written `when VALUE CHOICE[, CHOICE...] { ... }`")]),
    ('flow main {\n    when lookup(a) "y" { hangup }\n}\n',
     [("FC104", "unknown function `lookup` with 1 argument(s)")]),
    ('flow main {\n    when digits $tag { hangup }\n}\n',
     [("FC114", "`$tag` cannot be a branch's choice: write it as a quoted string")]),
])
def test_malformed_branches(source, expected):
    assert diagnostics(source) == expected


def test_fc405_compares_branches_testing_the_same_value_only():
    source = ('flow main {\n    when hook(a) "1" { hangup }\n    when a "1" { hangup }\n'
              '    when hook(a) "1", "2" { hangup }\n}\n')
    assert diagnostics(source) == [
        ("FC405", 'this value never selects this branch: `hook(a)` "1" is matched by an earlier branch')]
    handler = ('conference c {\n    on member join {\n        when tag "x" { say "a" }\n'
               '        when tag "x" { say "b" }\n    }\n}\nflow main {\n    join c\n}\n')
    assert [code for code, _ in diagnostics(handler)] == ["FC405"]


def test_was_fc102_when_in_a_handler_and_the_help_lists_only_what_a_conference_reply_takes():
    source = 'conference c {\n    on member join {\n        when tag "x" { say "a" }\n        sya "b"\n    }\n}\n'
    found = compile_sources({"f.flow": source.encode()}).diagnostics
    assert [d.code for d in found] == ["FC102"]
    assert found[0].message == "unknown statement `sya`"
    assert found[0].fix is not None and found[0].help == "did you mean `say`?"
    unknown = compile_sources({"f.flow": b'conference c {\n    on member join {\n        zzz\n    }\n}\n'})
    help_text = unknown.diagnostics[0].help or ""
    assert help_text.startswith("statements here: ") and "say" in help_text and "play" in help_text
    assert "gather" not in help_text and "transfer" not in help_text and "join conference" not in help_text
    in_flow = compile_sources({"f.flow": b'flow main {\n    zzz\n}\n'}).diagnostics[0].help or ""
    assert "gather" in in_flow and "transfer" in in_flow  # a flow's help still lists every verb


def test_a_verb_a_conference_reply_rejects_is_still_fc301_in_a_handler_branch():
    source = 'conference c {\n    on member join {\n        when tag "x" { gather then m { say "a" } }\n    }\n}\n'
    assert "FC301" in [code for code, _ in diagnostics(source + 'flow m {\n    hangup\n}\n')]


# -- the web app's choice, over HTTP -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("branches")
    (root / "line.flow").write_text(PROJECT)
    assert flowc(["compile", str(root / "line.flow"), "-o", str(root / "out")]) == 0
    (root / "hooks.py").write_text(HOOKS)
    with running(load_app(root / "out")) as base, httpx.Client(base_url=base, timeout=10) as client:
        yield root, client


def post(client, path: str, event: str, **fields) -> httpx.Response:
    return client.post(path, json=payload(event, **fields))


def served_text(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return response.text


def hook_calls(root: Path) -> list[str]:
    log = root / "calls.log"
    calls = log.read_text().split() if log.exists() else []
    log.unlink(missing_ok=True)
    return calls


def test_the_web_app_branches_on_a_hook_per_request(served, monkeypatch):
    root, client = served
    hook_calls(root)
    closed = served_text(post(client, "/flows/main", "initiate", **{"from": "+15559990000"}))
    assert "We are closed." in closed and "<Hangup/>" in closed
    assert hook_calls(root) == ["after_hours"]
    opened = served_text(post(client, "/flows/main", "initiate", **{"from": "+15551112222"}))
    assert "<SpeakSentence>no</SpeakSentence>" in opened and "support-room" in opened
    assert hook_calls(root) == ["after_hours"]  # once per request: the branch and the document share it


def test_the_web_app_branches_on_a_payload_field_and_an_environment_variable(served, monkeypatch):
    root, client = served
    monkeypatch.delenv("LINE_MODE", raising=False)  # unset: the empty text, which selects no branch
    assert "Hello." in served_text(post(client, "/flows/main", "initiate", **{"from": "+15551112222"}))
    vip = served_text(post(client, "/flows/main", "answer", tag="vip", **{"from": "+15551112222"}))
    assert "Welcome back, +15551112222." in vip
    monkeypatch.setenv("LINE_MODE", "test")
    assert "Test line." in served_text(post(client, "/flows/main", "initiate", **{"from": "+15551112222"}))
    monkeypatch.setenv("LINE_MODE", "live")
    assert "Test line." not in served_text(post(client, "/flows/main", "initiate", **{"from": "+15551112222"}))


def test_a_conference_handler_branches_on_the_members_tag_number_and_a_hook(served):
    root, client = served
    events = "/conferences/support/events"
    member = {"eventType": "conferenceMemberJoin", "name": "support-room", "callId": "c-1"}

    def joined(**fields) -> str:
        return served_text(post(client, events, "conferenceMemberJoin", **{**member, **fields}))

    assert "The coach is listening." in joined(tag="coach", **{"from": "+15551112222"})
    assert "chime.mp3" in joined(**{"from": "+15550001111"})
    hook_calls(root)
    assert "An agent joined." in joined(**{"from": "+15552223333"})
    assert "Someone joined." in joined(**{"from": "+15557778888"})
    assert hook_calls(root) == ["is_agent", "is_agent"]
    created = post(client, events, "conferenceCreated", name="support-room")
    assert created.status_code == 204  # no handler for the event: still an empty reply


def test_the_manifest_lists_what_each_branch_tests(served):
    root, _ = served
    manifest = json.loads((root / "out" / "manifest.json").read_text())
    branches = {d["file"]: d.get("branch") for d in manifest["documents"] if d.get("branch")}
    assert branches["flows/main.hook-after_hours-yes.xml"] == {"source": "hook", "field": "after_hours",
                                                               "values": ["yes"]}
    assert branches["conferences/support.member-join.tag-coach.xml"]["source"] == "payload"
    hooks = (root / "hooks.py").read_text()
    assert "def after_hours" in hooks and "def is_agent" in hooks


def test_the_hooks_module_is_created_with_a_stub_for_a_hook_only_a_branch_uses(tmp_path, capsys):
    (tmp_path / "f.flow").write_text('flow main on initiate {\n    when hook(closed) "yes" { hangup }\n}\n')
    assert flowc(["compile", str(tmp_path / "f.flow"), "-o", str(tmp_path / "out")]) == 0
    stub = (tmp_path / "hooks.py").read_text()
    assert "def closed(payload: Initiate) -> str:" in stub and "flows/main.hook-closed-yes.xml" in stub


# -- in the emulator -------------------------------------------------------------------------------------------

def test_after_hours_in_the_emulator(tmp_path, bandwidth):
    (tmp_path / "line.flow").write_text(PROJECT)
    assert flowc(["compile", str(tmp_path / "line.flow"), "-o", str(tmp_path / "out")]) == 0
    (tmp_path / "hooks.py").write_text(HOOKS)
    bw = bandwidth(tmp_path / "out")
    late = bw.inbound("main", from_="+15559990000")
    assert late.heard == ["We are closed."] and late.state == "completed"
    agent = bw.inbound("main", from_="+15552223333")
    assert agent.heard[:2] == ["Hello.", "no"]
    caller = bw.inbound("main", from_="+15557778888")
    assert "An agent joined." in agent.heard  # the agent joined first: it heard its own join's branch
    assert caller.heard[-1] == "Someone joined." and "Someone joined." in agent.heard
    assert bw.conference("support-room").members == [agent, caller]
