"""The runtime's boundary (issue 15): flowc.runtime as a package that never imports the compiler, routes as
types, OUT/app.py written from an explicit serialisation that loads back to the same objects, hooks that ask
for the request's context, observers after the reply, and a lifespan that closes what the app opened."""

from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn
from flowc.backend.build import render
from flowc.backend.emit_app import build_model, literal
from flowc.cli.commands import main as flowc
from flowc.runtime import Choice, ConferenceRoute, EventRoute, FlowRoute, SlotRef, load_app
from flowc.semantics.project import compile_sources, find_flow_files, read_files
from sim_helpers import build_main
from test_app import ENV, payload, running

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("app_secrets")]


def test_the_runtime_imports_nothing_of_the_compiler(tmp_path):
    out = tmp_path / "out"
    assert flowc(["compile", str(ROOT / "examples" / "support-line"), "-o", str(out)]) == 0
    script = ("import sys\nfrom flowc.runtime import load_app\nload_app(sys.argv[1])\n"
              "print(sorted(m for m in sys.modules if m.startswith('flowc')))\n")
    loaded = subprocess.run([sys.executable, "-c", script, str(out)], capture_output=True, text=True, check=True,
                            env={"PATH": "/usr/bin:/bin", **ENV})
    modules = {m for m in ast.literal_eval(loaded.stdout.strip()) if m == "flowc" or m.startswith("flowc.")}
    # bxml.webhooks reads each event's payload model from the vocabulary, a data table importing nothing of flowc
    # flowc.runtime.schedule: business hours' meaning, shared by the checker and the app, importing nothing of flowc
    shared = {"flowc", "flowc.runtime", "flowc.bxml", "flowc.bxml.webhooks", "flowc.bxml.vocabulary"}
    assert modules <= shared | {m for m in modules if m.startswith("flowc.runtime.")}
    assert "flowc.runtime.app" in modules


def test_the_light_parts_of_the_runtime_import_no_web_framework():
    script = ("import sys\nimport flowc.semantics.ir, flowc.runtime.documents\n"
              "print([m for m in ('pydantic', 'starlette', 'uvicorn', 'jinja2', 'lxml') if m in sys.modules])\n")
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"


def _generated(out: Path):
    spec = importlib.util.spec_from_file_location(f"generated_{abs(hash(out))}", out / "app.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "examples").iterdir() if p.is_dir()))
def test_app_py_loads_back_to_the_objects_it_was_written_from(tmp_path, name):
    out = tmp_path / "out"
    assert flowc(["compile", str(ROOT / "examples" / name), "-o", str(out)]) == 0
    compilation = compile_sources(read_files(find_flow_files([str(ROOT / "examples" / name)])))
    plan, rendered, _ = render(compilation)
    model = build_model(plan, rendered)
    generated = _generated(out)
    assert tuple(model.routes) == generated.ROUTES  # routes are frozen dataclasses: compared field by field
    assert list(generated.DOCUMENTS) == [d.file for d in model.documents]
    for document in model.documents:
        loaded = generated.DOCUMENTS[document.file]
        assert (loaded.file, loaded.parts, loaded.slots) == (document.file, document.parts, document.slots)
        assert [(c.what, c.items, c.pattern, c.each, c.max_length, c.rule) for c in loaded.checks] == \
            [(c.what, c.items, c.pattern, c.each, c.max_length, c.rule) for c in document.checks]
    source = (out / "app.py").read_text()
    assert "replace(" not in source and "kind=" not in source
    from flowc.backend.emit_app import room_specs
    from flowc.runtime.rooms import KeysRoute, LobbyRoute

    assert {type(r) for r in generated.ROUTES} <= {FlowRoute, ConferenceRoute, EventRoute, LobbyRoute, KeysRoute}
    rooms, sites = room_specs(plan)  # rooms: their specs are data too, and load back equal
    assert sites == generated.SITES
    assert [(r.name, r.room_name.parts, r.room_name.slots, r.lobby, r.cap, r.limit, r.warn_before, r.warning, r.end,
             r.roles, r.tones, r.keys) for r in generated.ROOMS] == \
        [(r.name, r.room_name.parts, r.room_name.slots, r.lobby, r.cap, r.limit, r.warn_before, r.warning, r.end,
          r.roles, r.tones, r.keys) for r in rooms]


def test_literal_refuses_what_is_not_plain_data():
    assert literal(("a", 1, None, (True, 2.5))) == "('a', 1, None, (True, 2.5))"
    assert literal(("one",)) == "('one',)"
    with pytest.raises(TypeError):
        literal({"a": 1})


def test_routes_are_types_that_choose_their_document():
    flow = FlowRoute("/flows/menu", ("gather",), silent=("disconnect",), default="menu.xml",
                     branches=(Choice(SlotRef("payload", "digits"), ("1",), "menu.digits-1.xml"),))
    assert flow.select({"digits": "1"}, "gather") == "menu.digits-1.xml"
    assert flow.select({"digits": "9"}, "gather") == "menu.xml"
    assert flow.select({}, "disconnect") is None and flow.tested_values("gather") == ()
    coach = Choice(SlotRef("payload", "tag"), ("coach",), "join.tag-coach.xml", "conferenceMemberJoin")
    conference = ConferenceRoute("/c", by_event=(("conferenceMemberJoin", "join.xml"),),
                                 silent=("conferenceCompleted",), branches=(coach,))
    assert conference.select({}, "conferenceMemberJoin") == "join.xml"
    assert conference.select({"tag": "coach"}, "conferenceMemberJoin") == "join.tag-coach.xml"
    assert conference.select({"tag": "coach"}, "conferenceCreated") is None and conference.conference
    assert EventRoute("/hooks/rec").select({}, "recordingAvailable") is None


def test_a_route_whose_branches_test_a_hook_chooses_with_the_values_the_app_computed():
    """The app computes the hook and environment values a route's branches test (tested_values) and hands them
    in beside the payload's fields, under their placeholders: a payload field of the same name is not them."""
    closed = Choice(SlotRef("hook", "after_hours"), ("yes",), "main.hook-after_hours-yes.xml")
    test = Choice(SlotRef("env", "LINE_MODE"), ("test",), "main.env-LINE_MODE-test.xml")
    flow = FlowRoute("/flows/main", ("initiate",), default="main.xml", branches=(closed, test))
    assert flow.tested_values("initiate") == (SlotRef("hook", "after_hours"), SlotRef("env", "LINE_MODE"))
    assert flow.select({"${hook:after_hours}": "yes"}, "initiate") == closed.file
    assert flow.select({"${hook:after_hours}": "no", "${env:LINE_MODE}": "test"}, "initiate") == test.file
    assert flow.select({"after_hours": "yes", "LINE_MODE": "test"}, "initiate") == "main.xml"
    agent = Choice(SlotRef("hook", "is_agent"), ("yes",), "join.hook-is_agent-yes.xml", "conferenceMemberJoin")
    room = ConferenceRoute("/c", by_event=(("conferenceMemberJoin", "join.xml"), ("conferenceMemberExit", "x.xml")),
                           branches=(agent,))
    assert room.tested_values("conferenceMemberJoin") == (SlotRef("hook", "is_agent"),)
    assert room.tested_values("conferenceMemberExit") == ()


CONTEXT_HOOKS = '''import json
import pathlib

SEEN = pathlib.Path(__file__).with_name("seen.json")


def greeting(payload, context):
    assert context.state is context.state  # the app's state, shared by every request
    SEEN.write_text(json.dumps({"path": context.path, "tenant": context.data.get("tenant"),
                                "remaining": context.remaining, "call": payload.call_id}))
    return "Hello"


def plain(payload):
    return "plain"


def optional(payload, extra="unused"):
    return extra
'''


def test_hooks_that_ask_for_the_context_get_it_and_others_get_the_payload(tmp_path):
    source = 'flow main {\n    say hook(greeting)\n    say hook(plain)\n    say hook(optional)\n}\n'
    out = build_main(tmp_path, source, CONTEXT_HOOKS)
    with running(load_app(out)) as base:
        response = httpx.post(base + "/flows/main?tenant=acme", json=payload("initiate", callId="c-42"))
    assert response.status_code == 200
    assert b"Hello" in response.content and b"plain" in response.content and b"unused" in response.content
    seen = json.loads((tmp_path / "seen.json").read_text())
    assert seen["path"] == "/flows/main" and seen["tenant"] == "acme" and seen["call"] == "c-42"
    assert 0 < seen["remaining"] <= 10


def test_an_observer_marked_after_reply_runs_once_the_reply_is_sent(tmp_path):
    hooks = ("import asyncio\nimport pathlib\nfrom flowc.runtime import after_reply\n\n\n@after_reply\n"
             "async def on_dtmf(payload):\n    await asyncio.sleep(1.0)\n"
             "    pathlib.Path(__file__).with_name('observed').write_text(payload.digit)\n\n\n"
             "@after_reply\nasync def on_recording_available(payload):\n    raise RuntimeError('store down')\n")
    out = build_main(tmp_path, 'flow main {\n    start gather on dtmf "/hooks/keys"\n'
                     '    record on recording "/hooks/rec"\n}\n', hooks)
    with running(load_app(out)) as base:
        started = time.monotonic()
        response = httpx.post(base + "/hooks/keys", json=payload("dtmf", digit="5"), timeout=5)
        assert response.status_code == 204 and time.monotonic() - started < 0.8  # not waiting for the observer
        assert not (tmp_path / "observed").exists()
        deadline = time.monotonic() + 5
        while not (tmp_path / "observed").exists():
            assert time.monotonic() < deadline, "the observer never ran"
            time.sleep(0.05)
        assert (tmp_path / "observed").read_text() == "5"
        failing = httpx.post(base + "/hooks/rec", json=payload("recordingAvailable"))
        assert failing.status_code == 204  # the reply was sent before it failed; the failure is logged


def test_the_lifespan_closes_the_hook_threads(tmp_path):
    out = build_main(tmp_path, 'flow main {\n    say hook(lookup)\n}\n', "def lookup(payload):\n    return 'x'\n")
    app = load_app(out)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive()
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    assert httpx.post(f"http://127.0.0.1:{port}/flows/main", json=payload("initiate")).status_code == 200
    state = app.state.webhooks.hooks.state
    assert state._pool is not None  # opened by the first plain `def` hook
    server.should_exit = True
    thread.join(10)
    assert state._pool is None


def test_unknown_paths_and_methods_are_still_answered_by_the_router(tmp_path):
    out = build_main(tmp_path, 'flow main {\n    say "Hi"\n}\n')
    with running(load_app(out)) as base:
        assert httpx.post(base + "/flows/nothing", json=payload("initiate")).status_code == 404
        assert httpx.put(base + "/flows/main", json=payload("initiate")).status_code == 405
        query = {"eventType": "initiate", "callId": "c-1", "from": "+15551234567", "to": "+15557654321"}
        assert httpx.get(base + "/flows/main", params=query).status_code == 200
