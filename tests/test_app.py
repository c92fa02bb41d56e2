"""The generated web app, served by a real uvicorn on loopback and driven over HTTP with httpx.

Every example project is compiled, its hooks module replaced by a small implementation, and every route is
sent every event it expects, with the payload examples in tests/data/webhooks/. Responses are compared with
the documents in OUT, placeholders filled in by the test's own (independent) substitution.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from xml.sax.saxutils import escape

import httpx
import pytest
import uvicorn
from flowc.bxml.webhooks import MODELS
from flowc.cli.commands import main as flowc
from flowc.runtime import load_app
from lxml import etree
from sim_helpers import SECRETS

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p.name for p in (ROOT / "examples").iterdir() if p.is_dir())
PAYLOADS = ROOT / "tests" / "data" / "webhooks"
ENV = SECRETS  # the examples' secrets (tests/sim_helpers.py)
CALL_ID = "c-2a913f94-6a486f3a-3cae-4034-bcc3-f0c9fa77ca2f"
HOOK_TEXT = 'Balance: <5 & "more">'

pytestmark = pytest.mark.e2e


def payload(event: str, **changes) -> dict:
    path = PAYLOADS / f"{event}.json"
    data = json.loads(path.read_text()) if path.exists() else {**json.loads((PAYLOADS / "gather.json").read_text()),
                                                                  "eventType": event}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def hook_value(name: str) -> str:
    if "call_id" in name:
        return CALL_ID
    if "url" in name:
        return "https://cdn.example.com/messages/latest.wav?a=1&b=2"
    if "endpoint" in name or "account" in name:
        return "e-1234"
    return HOOK_TEXT


def write_hooks(path: Path, names: list[str]) -> None:
    """An implementation of every stub: values from hook_value(), observers appending to events.log."""
    lines = ["import pathlib", "", "LOG = pathlib.Path(__file__).with_name('events.log')", "",
             "def _record(payload):", "    with LOG.open('a') as f:",
             "        f.write(payload.event_type + '\\n')", ""]
    for name in names:
        if name.startswith("on_"):
            lines.append(f"{name} = _record")
        else:
            lines += [f"async def {name}(payload):", f"    return {hook_value(name)!r}", ""]
    path.write_text("\n".join(lines) + "\n")


def compile_project(sources: Path | str, out: Path) -> int:
    return flowc(["compile", str(sources), "-o", str(out)])


@contextmanager
def running(app):
    """uvicorn on 127.0.0.1 with a free port chosen by the OS, in a thread; yields the base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5)


class Project:
    def __init__(self, root: Path) -> None:
        self.root, self.out = root, root / "out"
        self.manifest = json.loads((self.out / "manifest.json").read_text())
        source = (self.out / "app.py").read_text()
        runtime = __import__("flowc.runtime", fromlist=["*"])
        start = source.index("ROUTES = (")
        self.app_routes = eval(source[start:source.index("\n)\n", start) + 2].split("=", 1)[1],
                               {**{name: getattr(runtime, name) for name in runtime.__all__},
                                "SILENT": eval(re.search(r"^SILENT = (.*?)  #", source, re.M).group(1))})
        self.documents = {d["file"]: d for d in self.manifest["documents"]}

    def route(self, path: str):
        return next(r for r in self.app_routes if r.path == path)

    def expected(self, file: str, data: dict) -> bytes:
        """The OUT document with its ${...} placeholders filled in from data, env and hook_value()."""
        def fill(match: re.Match) -> str:
            name, _, filter_ = match.group(1).partition("|")
            if name.startswith("env:"):
                value = os.environ[name[4:]]
            elif name.startswith("hook:"):
                value = hook_value(name[5:])
            else:
                value = str(data[name])
            if filter_ == "digits":
                value = re.sub(r"\D", "", value)
            elif filter_ == "safe":
                value = re.sub(r"[^A-Za-z0-9_.-]", "", value)
            return escape(value, {'"': "&quot;"})
        return re.sub(r"\$\{([^}]*)\}", fill, (self.out / file).read_text()).encode()

    def document_for(self, route: dict, data: dict, event: str) -> str | None:
        if route.get("bxml") is False:  # a URL for webhooks that take no BXML
            return None
        if route.get("conference"):
            return next((d["file"] for d in self.manifest["documents"]
                         if d["flow"] == route["flow"] and d.get("event") == event), None)
        flow = [d for d in self.manifest["documents"] if d["flow"] == route["flow"]]
        for document in flow:
            branch = document.get("branch")
            if branch and str(data.get(branch["field"], "")) in branch["values"]:
                return document["file"]
        return next(d["file"] for d in flow if "branch" not in d)


def basic(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


APPLICATION = {"Authorization": "Basic " + base64.b64encode(b"bandwidth:callback-s3cret").decode()}


def credentials_for(route) -> dict:
    if not route.auth:
        return {}
    first = route.auth[0]
    return basic(os.environ[first.username.value], os.environ[first.password.value])


@pytest.fixture(scope="module", autouse=True)
def environment():
    saved = {k: os.environ.get(k) for k in ENV}
    os.environ.update(ENV)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="module")
def examples(tmp_path_factory):
    """Each example compiled, its hooks implemented, and served: {name: (Project, base URL)}."""
    served = {}
    with _servers(tmp_path_factory, served):
        yield served


@contextmanager
def _servers(tmp_path_factory, served):
    from contextlib import ExitStack

    with ExitStack() as stack:
        for name in EXAMPLES:
            root = tmp_path_factory.mktemp(name)
            assert compile_project(ROOT / "examples" / name, root / "out") == 0
            hooks = root / "hooks.py"
            names = re.findall(r"^(?:async )?def (\w+)", hooks.read_text(), re.M) if hooks.exists() else []
            if hooks.exists():
                write_hooks(hooks, names)
            app = load_app(root / "out")
            # each example's state in a file of its own (a SQLite store serves one app: the rooms examples
            # would otherwise share the default file in the working directory)
            app.state.webhooks.runtime.store_url = f"sqlite:{root}/state.sqlite"
            served[name] = (Project(root), stack.enter_context(running(app)))
        yield


@pytest.fixture(scope="module")
def client():
    """Sends the application's callback credentials (the examples declare them: every route requires them
    unless a statement declares its own) unless a request gives its own Authorization header."""
    with httpx.Client(timeout=10, headers=APPLICATION) as session:
        yield session


# -- every route, every event ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", EXAMPLES)
def test_every_route_answers_every_event_it_expects(examples, client, name):
    project, base = examples[name]
    assert project.manifest["routes"]
    for route in project.manifest["routes"]:
        app_route = project.route(route["path"])
        for event in route["events"]:
            data = payload(event)
            response = client.post(base + route["path"], json=data, headers=credentials_for(app_route))
            file = project.document_for(route, data, event)
            if route.get("room"):  # answered from the room's state: tests/test_meeting_room.py, test_rooms.py
                # (a lobby redirect for a caller the room never admitted is refused, 422)
                assert response.status_code in (200, 204, 422), (route["path"], event, response.text)
                if response.status_code == 200:
                    assert etree.fromstring(response.content).tag == "Response"
                continue
            if file is None:
                assert response.status_code == 204, (route["path"], event, response.text)
                assert response.content == b""
                continue
            assert response.status_code == 200, (route["path"], event, response.text)
            assert response.headers["content-type"] == "application/xml"
            assert response.content == project.expected(file, data), (route["path"], event)
            assert etree.fromstring(response.content).tag == "Response"


def flat(data: dict) -> dict[str, str]:
    """A payload as GET query parameters or form fields: text, objects as JSON text."""
    return {k: v if isinstance(v, str) else json.dumps(v) if isinstance(v, dict) else str(v)
            for k, v in data.items()}


@pytest.mark.parametrize("name", EXAMPLES)
def test_get_and_form_answer_as_post_json_does(examples, client, name):
    project, base = examples[name]
    for route in project.manifest["routes"]:
        headers = credentials_for(project.route(route["path"]))
        for event in route["events"]:
            data = payload(event)
            posted = client.post(base + route["path"], json=data, headers=headers)
            got = client.get(base + route["path"], params=flat(data), headers=headers)
            form = client.post(base + route["path"], data=flat(data), headers=headers)
            for response in (got, form):
                assert (response.status_code, response.content) == (posted.status_code, posted.content), \
                    (route["path"], event, response.text)


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_manifest_lists_every_served_route(examples, name):
    project, _ = examples[name]
    listed = {(r["path"], tuple(r["events"])) for r in project.manifest["routes"]}
    assert listed == {(r.path, r.events) for r in project.app_routes}
    assert {r["path"] for r in project.manifest["routes"] if r.get("bxml") is False} == \
        {r.path for r in project.app_routes if r.kind == "event"}


@pytest.mark.parametrize("name", EXAMPLES)
def test_event_routes_call_the_observer_and_answer_204(examples, client, name):
    project, base = examples[name]
    log = project.root / "events.log"
    for route in (r for r in project.app_routes if r.kind == "event"):
        for event in route.events:
            log.unlink(missing_ok=True)
            response = client.post(base + route.path, json=payload(event), headers=credentials_for(route))
            assert response.status_code == 204, (route.path, event, response.text)
            assert log.read_text() == f"{event}\n"


def test_documents_without_runtime_values_are_served_byte_for_byte(examples, client):
    project, base = examples["seed"]
    for route in project.manifest["routes"]:
        response = client.post(base + route["path"], json=payload("initiate"))
        assert response.content == (project.out / f"flows/{route['flow']}.xml").read_bytes()


# -- conference events ---------------------------------------------------------------------------------------

CONFERENCE_EVENTS = ["conferenceCreated", "conferenceMemberJoin", "conferenceMemberExit", "conferenceRedirect",
                     "conferenceCompleted", "conferenceRecordingAvailable"]


@pytest.mark.parametrize("event", CONFERENCE_EVENTS)
def test_conference_route_dispatches_on_event_type(examples, client, event):
    project, base = examples["support-line"]
    log = project.root / "events.log"
    log.unlink(missing_ok=True)
    path = "/conferences/case_room/events"
    response = client.post(base + path, json=payload(event), headers=basic("support", "s3cret"))
    # case_room is a room: a join is answered with its role's tone (tests/test_call_centre.py), and a member the
    # app never admitted has none, so like the events whose reply Bandwidth ignores (or forbids) it gets a 204.
    slug = {"conferenceCreated": "created", "conferenceMemberExit": "member-exit",
            "conferenceRedirect": "redirect"}.get(event)
    if slug is None:
        assert (response.status_code, response.content) == (204, b"")
    else:
        assert response.status_code == 200
        assert response.content == project.expected(f"conferences/case_room.{slug}.xml", payload(event))
    assert log.read_text() == f"{event}\n"  # on_<event> ran


def test_conference_event_without_handler_is_204(tmp_path, client):
    (tmp_path / "team.flow").write_text('conference team "room" {\n    on member join {\n        say "hi"\n'
                                        '    }\n}\nflow main {\n    join team\n}\n')
    assert compile_project(tmp_path, tmp_path / "out") == 0
    with running(load_app(tmp_path / "out")) as base:
        response = client.post(base + "/conferences/team/events", json=payload("conferenceCreated"))
        assert (response.status_code, response.content) == (204, b"")
        response = client.post(base + "/conferences/team/events", json=payload("conferenceMemberJoin"))
        assert response.status_code == 200 and b"<SpeakSentence>hi</SpeakSentence>" in response.content


# -- security ------------------------------------------------------------------------------------------------

def test_auth_required_rejected_and_accepted(examples, client):
    _, base = examples["support-line"]
    url = base + "/conferences/case_room/events"
    data = payload("conferenceCreated")  # answered with the room's `on created`
    missing = client.post(url, json=data)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Basic")
    assert client.post(url, json=data, headers=basic("support", "wrong")).status_code == 401
    assert client.post(url, json=data, headers=basic("someone", "s3cret")).status_code == 401
    assert client.post(url, json=data, headers={"Authorization": "Basic !!notbase64"}).status_code == 401
    assert client.post(url, json=data, headers={"Authorization": "Bearer s3cret"}).status_code == 401
    assert client.post(url, json=data, headers=basic("support", "s3cret")).status_code == 200
    # The fallback URL is this same path on another host: its credentials are accepted there, and only there.
    fallback = basic("support", "fallback-s3cret")
    assert client.post(url, json=data, headers={**fallback, "Host": "backup.example.com"}).status_code == 200
    assert client.post(url, json=data, headers=fallback).status_code == 401


def test_refused_requests_are_logged(examples, client, caplog):
    _, base = examples["support-line"]
    url = base + "/conferences/case_room/events"
    caplog.clear()
    client.post(url, json=payload("conferenceMemberJoin"), headers=basic("support", "wrong"))
    client.post(url, content=b"{", headers=basic("support", "s3cret"))
    messages = [r.getMessage() for r in caplog.records if r.name == "flowc.app"]
    assert messages == ["POST /conferences/case_room/events: 401 missing or wrong credentials",
                        "POST /conferences/case_room/events: 400 the body is not valid JSON"]


def test_auth_is_checked_before_the_body_is_read(examples, client):
    _, base = examples["support-line"]
    response = client.post(base + "/conferences/case_room/events", content=b"{not json")
    assert response.status_code == 401


def test_unset_secret_refuses_every_request(examples, client, monkeypatch):
    _, base = examples["support-line"]
    monkeypatch.delenv("SUPPORT_WEBHOOK_PASSWORD")
    response = client.post(base + "/conferences/case_room/events", json=payload("conferenceMemberJoin"),
                           headers=basic("support", ""))
    assert response.status_code == 401


def test_routes_without_declared_credentials_need_none(examples, client):
    _, base = examples["support-line"]
    assert client.post(base + "/flows/agent", json=payload("initiate")).status_code == 200


def test_secrets_are_not_written_to_out(examples):
    for project, _ in examples.values():
        for path in project.out.rglob("*"):
            if path.is_file():
                text = path.read_text()
                assert not any(ENV[name] in text for name in ENV if name.endswith("PASSWORD")), path


def test_literal_password_is_kept_only_as_a_digest(tmp_path, client):
    (tmp_path / "main.flow").write_text('flow main {\n    gather then next auth "bob" "hunter2" { say "Hi" }\n}\n'
                                        'flow next {\n    hangup\n}\n')
    assert compile_project(tmp_path, tmp_path / "out") == 0
    routes = (tmp_path / "out" / "app.py").read_text().partition("ROUTES = (")[2]
    assert "hunter2" not in routes and "Secret('sha256', " in routes  # (the BXML itself must carry it)
    with running(load_app(tmp_path / "out")) as base:
        assert client.post(base + "/flows/next", json=payload("gather")).status_code == 401
        assert client.post(base + "/flows/next", json=payload("gather"),
                           headers=basic("bob", "hunter")).status_code == 401
        assert client.post(base + "/flows/next", json=payload("gather"),
                           headers=basic("bob", "hunter2")).status_code == 200


# -- bodies and methods --------------------------------------------------------------------------------------

def test_malformed_json_is_400(examples, client):
    _, base = examples["support-line"]
    for body in (b"{not json", b"[1, 2]", b"\xff\xfe", b"[" * 100_000, b'{"a":' * 50_000):
        response = client.post(base + "/flows/agent", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 400, body
        assert "error" in response.json()


def test_oversized_body_is_413(examples, client):
    _, base = examples["support-line"]
    big = json.dumps({**payload("initiate"), "padding": "x" * 300_000}).encode()
    assert client.post(base + "/flows/agent", content=big).status_code == 413

    def chunks():  # no Content-Length: the limit is enforced while streaming
        for _ in range(40):
            yield b" " * 10_000

    assert client.post(base + "/flows/agent", content=chunks()).status_code == 413


def test_body_limit_from_the_environment(examples, client, monkeypatch):
    project, _ = examples["seed"]
    monkeypatch.setenv("FLOWC_MAX_BODY", "600")
    with running(load_app(project.out)) as base:
        assert client.post(base + "/flows/join", json=payload("initiate")).status_code == 200
        big = {**payload("initiate"), "padding": "x" * 600}
        assert client.post(base + "/flows/join", json=big).status_code == 413
    for wrong in ("256k", "-1", "0"):
        monkeypatch.setenv("FLOWC_MAX_BODY", wrong)
        with pytest.raises(ValueError, match="FLOWC_MAX_BODY must be a positive number of bytes"):
            load_app(project.out)


def test_get_with_query_parameters(examples, client):
    project, base = examples["support-line"]
    data = payload("gather", digits="42")
    query = {k: v for k, v in data.items() if isinstance(v, str)}
    response = client.get(base + "/flows/agent_case", params=query)
    assert response.status_code == 200
    assert response.content == project.expected("flows/agent_case.xml", query)
    empty = client.get(base + "/flows/customer_case", params={**query, "digits": ""})
    assert empty.content == project.expected("flows/customer_case.digits-x.xml", query)


def test_object_fields_in_query_parameters_and_forms(examples, client):
    # Flat transports cannot nest: an object field sent as JSON text is decoded, one in any other form is left
    # out of the typed payload instead of failing the call.
    project, base = examples["support-line"]
    data = {k: v for k, v in payload("initiate").items() if isinstance(v, str)}
    for diversion in ('{"reason": "unknown", "origTo": "+15551112222"}', "reason=unknown;origTo=+1555"):
        query = {**data, "diversion": diversion, "stirShaken": "{broken"}
        for response in (client.get(base + "/flows/agent", params=query),
                         client.post(base + "/flows/agent", data=query)):
            assert response.status_code == 200, response.text
            assert response.content == project.expected("flows/agent.xml", query)
    answer = {**data, "eventType": "answer", "machineDetectionResult": '{"value": "human", "duration": "PT4S"}'}
    assert client.get(base + "/flows/agent", params=answer).status_code == 200
    wrong = client.get(base + "/flows/agent", params={**answer, "machineDetectionResult": '{"value": 3}'})
    assert wrong.status_code == 422 and wrong.json()["detail"][0]["field"] == "machineDetectionResult.value"


def test_parameters_of_the_callback_url_reach_the_hooks(tmp_path, client):
    (tmp_path / "main.flow").write_text('flow main {\n    record on recording "/hooks/rec?tenant=acme&x=1"\n}\n')
    assert compile_project(tmp_path / "main.flow", tmp_path / "out") == 0
    (tmp_path / "hooks.py").write_text("import pathlib\n\n\ndef on_recording_available(payload):\n"
                                       "    pathlib.Path(__file__).with_name('seen').write_text("
                                       "payload.model_extra['tenant'] + payload.recording_id)\n")
    data = payload("recordingAvailable")
    with running(load_app(tmp_path / "out")) as base:
        for response in (client.post(base + "/hooks/rec?tenant=acme&x=1", json=data),
                         client.post(base + "/hooks/rec?tenant=acme&x=1", data=flat(data))):
            assert response.status_code == 204
            assert (tmp_path / "seen").read_text() == "acme" + data["recordingId"]


def test_form_encoded_post(examples, client):
    project, base = examples["support-line"]
    data = {k: v for k, v in payload("gather", digits="7").items() if isinstance(v, str)}
    response = client.post(base + "/flows/agent_case", data=data)
    assert response.content == project.expected("flows/agent_case.xml", data)
    upper = client.post(base + "/flows/agent_case", content=str(httpx.QueryParams(data)).encode(),
                        headers={"content-type": "Application/X-WWW-Form-URLEncoded; Charset=UTF-8"})
    assert upper.content == response.content


def test_branches_follow_the_payload(examples, client):
    project, base = examples["support-line"]
    empty = client.post(base + "/flows/customer_case", json=payload("gather", digits=""))
    assert empty.content == project.expected("flows/customer_case.digits-x.xml", payload("gather"))
    missing = client.post(base + "/flows/customer_case", json=payload("gather", digits=None))
    assert missing.content == project.expected("flows/customer_case.digits-x.xml", payload("gather"))
    # a case no agent has taken: the customer queues (the lobby variant) rather than joining
    typed = client.post(base + "/flows/customer_case", json=payload("gather", digits="12345678"))
    assert typed.content == project.expected("flows/customer_case.room-lobby.xml",
                                             payload("gather", digits="12345678"))


# -- payload validation --------------------------------------------------------------------------------------

def test_missing_required_fields_are_422(examples, client):
    _, base = examples["support-line"]
    no_call = client.post(base + "/flows/agent", json=payload("initiate", callId=None))
    assert no_call.status_code == 422
    assert [d["field"] for d in no_call.json()["detail"]] == ["callId"]
    no_type = client.post(base + "/flows/agent", json=payload("initiate", eventType=None))
    assert no_type.status_code == 422
    wrong_type = client.post(base + "/flows/agent", json=payload("initiate", startTime="yesterday"))
    assert wrong_type.status_code == 422
    # A field the document reads: agent_case says "Joining case {digits}".
    no_digits = client.post(base + "/flows/agent_case", json=payload("gather", digits=None))
    assert no_digits.status_code == 422
    assert "digits" in no_digits.json()["error"]
    no_member = client.post(base + "/conferences/case_room/events", headers=basic("support", "s3cret"),
                            json=payload("conferenceMemberJoin", callId=None, conferenceId=None))
    assert no_member.status_code == 422
    assert {d["field"] for d in no_member.json()["detail"]} == {"callId", "conferenceId"}


def test_unknown_extra_fields_are_accepted(examples, client):
    project, base = examples["support-line"]
    data = payload("gather", digits="5", brandNewField={"nested": [1, 2]}, anotherOne=3)
    response = client.post(base + "/flows/agent_case", json=data)
    assert response.status_code == 200
    assert response.content == project.expected("flows/agent_case.xml", data)


def test_values_bandwidth_may_add_to_documented_sets_are_accepted(examples, client):
    project, base = examples["support-line"]
    data = payload("gather", digits="5", direction="sideways")  # documented: inbound, outbound
    response = client.post(base + "/flows/agent_case", json=data)
    assert response.status_code == 200
    assert response.content == project.expected("flows/agent_case.xml", data)


def test_every_webhook_the_vocabulary_names_has_a_model():
    from flowc.backend.plan import CONFERENCE_ROUTE_EVENTS
    from flowc.bxml.vocabulary import vocabulary

    events = {e for spec in vocabulary().elements.values() for a in spec.attributes.values() for e in a.events}
    assert events | set(CONFERENCE_ROUTE_EVENTS) | {"conferenceRecordingAvailable"} <= set(MODELS)
    for path in PAYLOADS.glob("*.json"):
        data = json.loads(path.read_text())
        model = MODELS[data["eventType"]].model_validate(data)
        assert model.event_type == path.stem


# -- runtime values ------------------------------------------------------------------------------------------

RISKY = '''conference room "room-{from}" {
    tag "{tag}"
    on member join {
        say "Welcome"
    }
}

flow main {
    say "You said {digits}."
    join room as coach of hook(coached)
}
'''


@pytest.fixture(scope="module")
def risky(tmp_path_factory):
    root = tmp_path_factory.mktemp("risky")
    (root / "src").mkdir()
    (root / "src" / "main.flow").write_text(RISKY)
    assert compile_project(root / "src", root / "out") == 0
    (root / "hooks.py").write_text("def coached(payload):\n    return payload.model_extra.get('coach', "
                                   f"[{CALL_ID!r}])\n")
    with running(load_app(root / "out")) as base:
        yield base


def test_runtime_value_breaking_the_conference_name_is_refused(risky, client):
    response = client.post(risky + "/flows/main",
                           json=payload("initiate", **{"from": "+15551112222"}, digits="1", tag="t"))
    assert response.status_code == 422
    assert "conference name" in response.json()["error"] and "+15551112222" in response.json()["error"]
    ok = client.post(risky + "/flows/main", json=payload("initiate", **{"from": "agent-7"}, digits="1", tag="t"))
    assert ok.status_code == 200
    assert b">room-agent-7</Conference>" in ok.content


def test_runtime_call_ids_and_tag_length_are_checked(risky, client):
    good = payload("initiate", **{"from": "a"}, digits="1", tag="t")
    bad_ids = client.post(risky + "/flows/main", json={**good, "coach": ["c-1234", "not a call id"]})
    assert bad_ids.status_code == 422 and "callIdsToCoach" in bad_ids.json()["error"]
    long_tag = client.post(risky + "/flows/main", json={**good, "tag": "t" * 257})
    assert long_tag.status_code == 422 and "at most 256" in long_tag.json()["error"]
    two = client.post(risky + "/flows/main", json={**good, "coach": [CALL_ID, "c-abc-123"], "tag": "t" * 256})
    assert two.status_code == 200
    assert f'callIdsToCoach="{CALL_ID},c-abc-123"'.encode() in two.content


def test_runtime_phone_numbers_and_sip_uris_are_checked(tmp_path, client):
    # FC212 checks literal addresses at compile time; values known only per request are checked per request.
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.flow").write_text('flow main {\n    transfer {\n        number hook(agent_number)\n'
                                                '        sip "{sip}"\n    }\n}\n')
    assert compile_project(tmp_path / "src", tmp_path / "out") == 0
    (tmp_path / "hooks.py").write_text("def agent_number(payload):\n    return payload.model_extra['agent']\n")
    with running(load_app(tmp_path / "out")) as base:
        def send(agent: str, sip: str) -> httpx.Response:
            return client.post(base + "/flows/main", json=payload("initiate", agent=agent, sip=sip))

        assert send("+15553334444", "sip:desk@pbx.example.com").status_code == 200
        wrong_number = send("555-3334444", "sip:desk@pbx.example.com")
        assert wrong_number.status_code == 422 and "PhoneNumber" in wrong_number.json()["error"]
        wrong_uri = send("+15553334444", "desk@pbx.example.com")
        assert wrong_uri.status_code == 422 and "SipUri" in wrong_uri.json()["error"]


def test_runtime_values_are_escaped(risky, client):
    digits = '1<2>&"3\x00'
    response = client.post(risky + "/flows/main", json=payload("initiate", **{"from": "a"}, digits=digits,
                                                                tag='x"/><Hangup/>'))
    assert response.status_code == 200
    root = etree.fromstring(response.content)
    assert root.find("SpeakSentence").text == 'You said 1<2>&"3.'
    assert root.find("Conference").get("tag") == 'x"/><Hangup/>'
    assert root.find("Hangup") is None
    # Whitespace other than spaces survives in attribute values (a parser would make spaces of it) and text.
    multiline = client.post(risky + "/flows/main", json=payload("initiate", **{"from": "a"}, digits="1\r\n2",
                                                                 tag="line 1\nline\t2\r\n"))
    root = etree.fromstring(multiline.content)
    assert root.find("Conference").get("tag") == "line 1\nline\t2\r\n"
    assert root.find("SpeakSentence").text == "You said 1\r\n2."


def test_hook_not_implemented_is_501(tmp_path, client):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.flow").write_text("flow main {\n    say hook(greeting)\n}\n")
    assert compile_project(tmp_path / "src", tmp_path / "out") == 0
    assert "raise NotImplementedError" in (tmp_path / "hooks.py").read_text()
    with running(load_app(tmp_path / "out")) as base:
        response = client.post(base + "/flows/main", json=payload("initiate"))
        assert response.status_code == 501 and "greeting" in response.json()["error"]
        (tmp_path / "hooks.py").write_text("")  # a module without the function
    with running(load_app(tmp_path / "out")) as base:
        assert client.post(base + "/flows/main", json=payload("initiate")).status_code == 501


# -- flowc serve ---------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_flowc_serve_runs_the_app(examples, client):
    project, _ = examples["seed"]
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "flowc", "serve", str(project.out), "--host", "127.0.0.1",
                                "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                response = client.post(f"http://127.0.0.1:{port}/flows/join", json=payload("initiate"))
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline, process.stdout.read().decode()
                time.sleep(0.05)
        assert response.status_code == 200
        assert response.content == (project.out / "flows/join.xml").read_bytes()
    finally:
        process.terminate()
        process.wait(10)


def test_uvicorn_with_several_workers_imports_the_app_as_a_module(examples, client, redis_url):
    # Production: `uvicorn --app-dir OUT app:app --workers N` (README). The call centre is a room, whose state
    # the workers share in Redis (the app refuses SQLite under two workers), so each worker process answers
    # alike; the hooks module is found relative to OUT/app.py in every one.
    from flowc.runtime.store import open_store

    project, _ = examples["support-line"]
    log = project.root / "events.log"
    log.unlink(missing_ok=True)
    store = open_store(redis_url)
    store.clear()
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "uvicorn", "--app-dir", str(project.out), "app:app",
                                "--workers", "2", "--port", str(port), "--no-access-log"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd="/",
                               env={**os.environ, "FLOWC_STORE": redis_url})
    url = f"http://127.0.0.1:{port}/conferences/case_room/events"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                client.get(f"http://127.0.0.1:{port}/")
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline, process.stdout.read().decode()
                time.sleep(0.05)
        expected = project.expected("conferences/case_room.created.xml", payload("conferenceCreated"))
        for _ in range(10):
            with httpx.Client(timeout=10) as fresh:  # a new connection each time, so both workers may answer
                response = fresh.post(url, json=payload("conferenceCreated"), headers=basic("support", "s3cret"))
            assert (response.status_code, response.content) == (200, expected)
        assert log.read_text() == "conferenceCreated\n" * 10
    finally:
        process.terminate()
        process.wait(10)
        store.clear()
        store.close()


def test_flowc_serve_reports_a_broken_hooks_module_in_one_line(tmp_path, capsys, monkeypatch):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.flow").write_text("flow main {\n    say hook(greeting)\n}\n")
    assert compile_project(tmp_path / "src", tmp_path / "out") == 0
    capsys.readouterr()
    (tmp_path / "hooks.py").write_text("def greeting(payload:\n")
    assert flowc(["serve", str(tmp_path / "out")]) == 1
    error = capsys.readouterr().err
    assert error.startswith("flowc: error: the app cannot start: ") and "hooks.py:1: " in error
    assert "Traceback" not in error and error.count("\n") == 1
    (tmp_path / "hooks.py").write_text("import no_such_module_here\n")
    assert flowc(["serve", str(tmp_path / "out")]) == 1
    assert "ModuleNotFoundError: No module named 'no_such_module_here'" in capsys.readouterr().err
    (tmp_path / "hooks.py").write_text("")
    monkeypatch.setenv("FLOWC_MAX_BODY", "lots")
    assert flowc(["serve", str(tmp_path / "out")]) == 1
    assert "FLOWC_MAX_BODY must be a positive number of bytes" in capsys.readouterr().err


def test_flowc_serve_without_app_is_a_usage_error(tmp_path, capsys):
    assert flowc(["serve", str(tmp_path)]) == 2
    assert "flowc compile" in capsys.readouterr().err


# -- the specialised render functions match the generic renderer ---------------------------------------------

def _outcome(function, *args):
    from flowc.runtime import Problem

    try:
        return function(*args)
    except Problem as problem:
        return problem.status, problem.message


def _generic(document, data):
    return document.fill([get(data) for get in document.getters])


def test_specialised_renderers_match_the_generic_one(examples):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    documents = []
    for project, _ in examples.values():
        spec = importlib.util.spec_from_file_location(f"generated_{project.root.name}", project.out / "app.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        documents += [d for d in module.DOCUMENTS.values() if d.fast is not None]
    assert len(documents) >= 5
    fields = sorted({s.name for d in documents for s in d.slots if s.source == "payload"})
    values = st.one_of(st.none(), st.text(max_size=120), st.integers(), st.booleans(), st.just("a" * 300))

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.fixed_dictionaries({}, optional={name: values for name in fields}))
    def check(data):
        for document in documents:
            generic = _outcome(_generic, document, data)
            assert _outcome(document.fast, data) == generic, document.file

    check()


def test_hooks_module_may_define_dataclasses_and_models(tmp_path, client):
    # The stub starts with `from __future__ import annotations`; dataclasses and pydantic then need the module
    # in sys.modules, as any normal import has it.
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.flow").write_text("flow main {\n    say hook(agent)\n}\n")
    assert compile_project(tmp_path / "src", tmp_path / "out") == 0
    (tmp_path / "hooks.py").write_text(
        "from __future__ import annotations\n\nimport typing\nfrom dataclasses import dataclass\n\n"
        "from pydantic import BaseModel\n\n\n@dataclass\nclass _Agent:\n    name: str\n"
        "    count: typing.ClassVar[int] = 0\n\n\nclass _Row(BaseModel):\n    agent: _Agent | None = None\n\n\n"
        "def agent(payload):\n    return _Row(agent=_Agent('Ada')).agent.name\n")
    with running(load_app(tmp_path / "out")) as base:
        response = client.post(base + "/flows/main", json=payload("initiate"))
    assert b"<SpeakSentence>Ada</SpeakSentence>" in response.content


def test_hooks_with_names_python_cannot_spell(tmp_path, client):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.flow").write_text("flow main {\n    say hook(agent-id)\n    say hook(class)\n}\n")
    assert compile_project(tmp_path / "src", tmp_path / "out") == 0
    (tmp_path / "hooks.py").write_text("def agent_id(p):\n    return 'A'\n\n\ndef class_(p):\n    return 'B&'\n")
    with running(load_app(tmp_path / "out")) as base:
        response = client.post(base + "/flows/main", json=payload("initiate"))
    assert b"<SpeakSentence>A</SpeakSentence>\n<SpeakSentence>B&amp;</SpeakSentence>" in response.content


def test_flow_named_as_a_conference_event_url(tmp_path, client):
    (tmp_path / "main.flow").write_text('flow main {\n    join conference "room" events on_room\n}\n\n'
                                        'flow on_room {\n    say "Someone joined or left."\n}\n')
    assert compile_project(tmp_path / "main.flow", tmp_path / "out") == 0
    expected = (tmp_path / "out" / "flows/on_room.xml").read_bytes()
    with running(load_app(tmp_path / "out")) as base:
        for event in ("conferenceCreated", "conferenceMemberJoin", "conferenceMemberExit", "conferenceRedirect"):
            response = client.post(base + "/flows/on_room", json=payload(event))
            assert (response.status_code, response.content) == (200, expected), event
        completed = client.post(base + "/flows/on_room", json=payload("conferenceCompleted"))
        assert (completed.status_code, completed.content) == (204, b"")
        newer = client.post(base + "/flows/on_room", json=payload("conferenceRedirect", eventType="conferenceFuture"))
        assert newer.status_code == 200  # an event Bandwidth may add later: validated as a conference event


def test_blocking_sync_hooks_do_not_stall_other_requests(tmp_path, client):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.flow").write_text('flow slow {\n    say hook(lookup)\n}\n\nflow fast {\n'
                                                '    say "fast"\n}\n')
    assert compile_project(tmp_path / "src", tmp_path / "out") == 0
    (tmp_path / "hooks.py").write_text("import time\n\n\ndef lookup(payload):\n    time.sleep(1.0)\n"
                                       "    return 'slow'\n")
    with running(load_app(tmp_path / "out")) as base:
        slow = threading.Thread(target=lambda: httpx.post(base + "/flows/slow", json=payload("initiate"), timeout=5))
        slow.start()
        time.sleep(0.1)
        started = time.monotonic()
        assert client.post(base + "/flows/fast", json=payload("initiate")).status_code == 200
        assert time.monotonic() - started < 0.5  # served while the slow hook sleeps in its thread
        slow.join()


def test_a_hook_runs_once_per_request(tmp_path, client):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.flow").write_text("flow main {\n    say hook(case)\n    tag hook(case)\n"
                                                "    say hook(case)\n}\n")
    assert compile_project(tmp_path / "src", tmp_path / "out") == 0
    (tmp_path / "hooks.py").write_text("CALLS = []\n\n\ndef case(payload):\n    CALLS.append(1)\n"
                                       "    return f'Case {len(CALLS)}'\n")
    with running(load_app(tmp_path / "out")) as base:
        first = client.post(base + "/flows/main", json=payload("initiate"))
        second = client.post(base + "/flows/main", json=payload("initiate"))
    assert first.content.count(b"Case 1") == 3 and second.content.count(b"Case 2") == 3


# -- failures of the user's code and of the configuration ------------------------------------------------------

def test_a_hook_that_raises_is_a_logged_500_and_the_server_carries_on(tmp_path, client, caplog):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.flow").write_text('flow main {\n    say hook(greeting)\n}\n\nflow keys {\n'
                                                '    start gather on dtmf "/hooks/keys"\n}\n')
    assert compile_project(tmp_path / "src", tmp_path / "out") == 0
    (tmp_path / "hooks.py").write_text("def greeting(payload):\n    raise KeyError('no such customer')\n\n\n"
                                       "async def on_dtmf(payload):\n    raise RuntimeError('database down')\n\n\n"
                                       "def on_redirect(payload):\n    raise NotImplementedError\n")
    with running(load_app(tmp_path / "out")) as base:
        for path, event, function in (("/flows/main", "initiate", "greeting"), ("/hooks/keys", "dtmf", "on_dtmf")):
            caplog.clear()
            response = client.post(base + path, json=payload(event))
            assert response.status_code == 500, (path, response.text)
            assert response.json() == {"error": f"hook `{function}` failed"}
            assert any(function in r.getMessage() and r.exc_info for r in caplog.records), caplog.text
        assert client.post(base + "/flows/keys", json=payload("redirect")).status_code == 501  # on_redirect
        (tmp_path / "hooks.py").write_text("def greeting(payload):\n    return 'still here'\n")
    with running(load_app(tmp_path / "out")) as base:
        assert b"still here" in client.post(base + "/flows/main", json=payload("initiate")).content


@pytest.mark.parametrize("event", ["disconnect", "machineDetectionComplete"])
def test_call_status_events_at_a_flow_url_are_204(examples, client, event):
    # The application's disconnect or machine-detection URL may point at a flow: Bandwidth expects no BXML.
    _, base = examples["support-line"]
    response = client.post(base + "/flows/agent", json=payload(event))
    assert (response.status_code, response.content) == (204, b"")


def test_unset_secrets_are_reported_at_start_up(examples, caplog, monkeypatch):
    project, _ = examples["support-line"]
    monkeypatch.delenv("SUPPORT_FALLBACK_PASSWORD")
    caplog.clear()
    load_app(project.out)
    [record] = [r for r in caplog.records if r.levelname == "ERROR"]
    assert "SUPPORT_FALLBACK_PASSWORD is not set" in record.getMessage()
    assert "/conferences/case_room/events" in record.getMessage()  # the route whose credentials need it
