"""The web app's promises under attack (issue 9), over real HTTP: a real uvicorn on loopback, driven with httpx
and raw sockets. Credentials (who may read a document that holds a secret), the callback credentials of the
application, fallback credentials, hooks that hang or raise anything, clients that vanish mid-body, the body
limit, escaping of hostile runtime values, and a bounded load with every answer checked."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import socket
import time
from pathlib import Path

import httpx
import pytest
from flowc.cli.commands import main as flowc
from flowc.runtime import load_app
from lxml import etree
from sim_helpers import build_main
from test_app import ENV, basic, payload, running

ROOT = Path(__file__).resolve().parent.parent
DECLARATION = "application auth env(BANDWIDTH_CALLBACK_USER) env(BANDWIDTH_CALLBACK_PASSWORD)\n"
APPLICATION = basic(ENV["BANDWIDTH_CALLBACK_USER"], ENV["BANDWIDTH_CALLBACK_PASSWORD"])
SECRETS = [ENV[name] for name in ("SUPPORT_WEBHOOK_USER", "SUPPORT_WEBHOOK_PASSWORD", "SUPPORT_FALLBACK_PASSWORD")]

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("app_secrets")]


def compile_json(sources: Path, out: Path, capsys) -> tuple[int, list[dict]]:
    capsys.readouterr()
    status = flowc(["compile", str(sources), "-o", str(out), "--format", "json"])
    return status, json.loads(capsys.readouterr().out)


# -- item 1: credentials served to anyone ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def support(tmp_path_factory):
    root = tmp_path_factory.mktemp("support")
    for name, value in ENV.items():
        os.environ.setdefault(name, value)
    assert flowc(["compile", str(ROOT / "examples" / "support-line"), "-o", str(root / "out")]) == 0
    app = load_app(root / "out")
    app.state.webhooks.runtime.store_url = f"sqlite:{root}/state.sqlite"  # the call centre's room, not the cwd's
    with running(app) as base:
        yield root, base


@pytest.mark.parametrize("path", ["/flows/customer_case", "/flows/agent_case", "/flows/supervise"])
def test_documents_holding_secrets_are_not_served_without_credentials(support, path):
    """The issue's reproduction: GET with a gather's query parameters and no credentials."""
    _, base = support
    query = {"eventType": "gather", "callId": "c-1", "digits": "12"}
    response = httpx.get(base + path, params=query)
    assert response.status_code == 401
    assert not any(secret in response.text for secret in SECRETS)
    for wrong in (basic("support", "s3cret"), basic("bandwidth", "wrong"), {"Authorization": "Basic Og=="}):
        assert httpx.get(base + path, params=query, headers=wrong).status_code == 401
    served = httpx.get(base + path, params={**query, "from": "+15551234567"}, headers=APPLICATION)
    assert served.status_code == 200 and SECRETS[1] in served.text  # whoever proves itself gets the document


def test_voicemail_entry_route_requires_the_application_credentials(tmp_path):
    out = tmp_path / "out"
    assert flowc(["compile", str(ROOT / "examples" / "voicemail"), "-o", str(out)]) == 0
    with running(load_app(out)) as base:
        query = {"eventType": "initiate", "callId": "c-1", "from": "+15551234567", "to": "+15557654321"}
        refused = httpx.get(base + "/flows/voicemail", params=query)
        assert refused.status_code == 401 and "vm-pw" not in refused.text
        assert httpx.get(base + "/flows/voicemail", params=query, headers=APPLICATION).status_code == 200


def test_every_route_of_every_example_requires_credentials(tmp_path):
    for example in sorted(p for p in (ROOT / "examples").iterdir() if p.is_dir()):
        out = tmp_path / example.name / "out"
        assert flowc(["compile", str(example), "-o", str(out)]) == 0
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["application"] == {"auth": {"username_env": "BANDWIDTH_CALLBACK_USER",
                                                    "password_env": "BANDWIDTH_CALLBACK_PASSWORD"}}
        assert all("auth" in route for route in manifest["routes"]), example.name


def test_the_manifest_lists_the_credentials_each_route_requires(tmp_path, capsys):
    source = (DECLARATION + 'flow inbound on initiate auth "bw" env(INBOUND_PASSWORD) {\n'
              '    gather then menu { say "Hi" }\n}\n'
              'flow menu {\n    redirect to after auth env(R_USER) env(R_PASSWORD)\n}\n'
              'flow after {\n    record on recording "/hooks/rec"\n}\n')
    (tmp_path / "main.flow").write_text(source)
    status, diagnostics = compile_json(tmp_path / "main.flow", tmp_path / "out", capsys)
    assert status == 0 and [d["code"] for d in diagnostics if d["code"] != "FC703"] == []
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    application = {"username_env": "BANDWIDTH_CALLBACK_USER", "password_env": "BANDWIDTH_CALLBACK_PASSWORD"}
    assert manifest["application"] == {"auth": application}
    routes = {route["path"]: route.get("auth") for route in manifest["routes"]}
    assert routes == {"/flows/inbound": {"username": "bw", "password_env": "INBOUND_PASSWORD"},
                      "/flows/menu": application,  # the gather carries the application's credentials
                      "/flows/after": {"username_env": "R_USER", "password_env": "R_PASSWORD"},
                      "/hooks/rec": application}
    gather = etree.fromstring((tmp_path / "out" / "flows/inbound.xml").read_bytes()).find("Gather")
    assert (gather.get("username"), gather.get("password")) == ("${env:BANDWIDTH_CALLBACK_USER}",
                                                                "${env:BANDWIDTH_CALLBACK_PASSWORD}")


def test_without_a_declaration_the_manifest_has_no_auth(tmp_path):
    assert flowc(["compile", str(ROOT / "examples" / "seed" / "join.flow"), "-o", str(tmp_path / "out")]) == 0
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert "application" not in manifest and not any("auth" in route for route in manifest["routes"])


def test_the_application_credentials_are_never_sent_to_another_host(tmp_path):
    out = build_main(tmp_path, DECLARATION + 'flow main on initiate {\n    gather then "https://other.example.com/x" '
                     '{ say "Hi" }\n    record on recording "/hooks/rec" then "https://other.example.com/done"\n}\n')
    document = (out / "flows/main.xml").read_text()
    assert "BANDWIDTH_CALLBACK" not in document


def test_the_entry_flow_declares_its_own_callback_credentials(tmp_path, monkeypatch):
    monkeypatch.setenv("U", "inbound")
    monkeypatch.setenv("P", "inbound-pw")
    out = build_main(tmp_path, 'flow inbound on initiate auth env(U) env(P) {\n    say "Hello"\n}\n')
    with running(load_app(out)) as base:
        assert httpx.post(base + "/flows/inbound", json=payload("initiate")).status_code == 401
        assert httpx.post(base + "/flows/inbound", json=payload("initiate"), headers=APPLICATION).status_code == 401
        own = basic("inbound", "inbound-pw")
        response = httpx.post(base + "/flows/inbound", json=payload("initiate"), headers=own)
        assert response.status_code == 200 and b"Hello" in response.content


def test_auth_after_the_events_is_not_an_event(tmp_path, capsys):
    (tmp_path / "main.flow").write_text('flow inbound on initiate auth env(U) env(P) {\n    hangup\n}\n')
    assert flowc(["ir", str(tmp_path / "main.flow")]) == 0
    [flow] = json.loads(capsys.readouterr().out)["files"][0]["flows"]
    assert flow["entry_events"] == ["initiate"]
    assert [(a["name"], a["value"]["name"]) for a in flow["auth"]] == [("username", "U"), ("password", "P")]


@pytest.mark.parametrize(("source", "code"), [
    ("application\n", "FC106"),
    ("application auth env(U)\n", "FC106"),
    ("application auth env(U) env(P) extra\n", "FC107"),
    ("flow main on initiate auth env(U) {\n    hangup\n}\n", "FC106"),
    ("applicaton auth env(U) env(P)\n", "FC101"),
    (DECLARATION + DECLARATION.replace("PASSWORD)", "OTHER)"), "FC713"),
])
def test_malformed_declarations_are_diagnosed(tmp_path, capsys, source, code):
    (tmp_path / "main.flow").write_text(source + "flow x on initiate {\n    hangup\n}\n")
    status = flowc(["check", str(tmp_path / "main.flow"), "--format", "json"])
    found = [d["code"] for d in json.loads(capsys.readouterr().out)]
    assert status == 1 and code in found


def test_the_same_declaration_repeated_is_not_an_error(tmp_path):
    (tmp_path / "a.flow").write_text(DECLARATION + "flow a on initiate {\n    hangup\n}\n")
    (tmp_path / "b.flow").write_text(DECLARATION + "flow b on initiate {\n    hangup\n}\n")
    assert flowc(["check", str(tmp_path)]) == 0


def test_an_open_route_is_a_warning_whose_fix_declares_the_credentials(tmp_path, capsys):
    (tmp_path / "src").mkdir()
    source = 'flow main on initiate {\n    gather then menu { say "Hi" }\n}\nflow menu {\n    hangup\n}\n'
    (tmp_path / "src" / "main.flow").write_text(source)
    status, diagnostics = compile_json(tmp_path / "src", tmp_path / "out", capsys)
    open_routes = [d for d in diagnostics if d["code"] == "FC711"]
    assert status == 0 and sorted(d["message"].split("`")[1] for d in open_routes) == ["/flows/main", "/flows/menu"]
    assert all(d["severity"] == "warning" for d in open_routes)
    [edit] = open_routes[0]["fix"]["edits"]
    assert edit["content"] == DECLARATION + "\n"
    (tmp_path / "src" / "main.flow").write_text(edit["content"] + source)
    status, diagnostics = compile_json(tmp_path / "src", tmp_path / "out", capsys)
    assert status == 0 and "FC711" not in [d["code"] for d in diagnostics]


def test_serving_a_secret_on_an_open_route_is_an_error_and_check_fix_closes_it(tmp_path, capsys):
    shutil.copytree(ROOT / "examples" / "support-line", tmp_path / "src")
    customer = tmp_path / "src" / "customer.flow"
    customer.write_text(customer.read_text().replace(DECLARATION, ""))
    status, diagnostics = compile_json(tmp_path / "src", tmp_path / "out", capsys)
    assert status == 1 and not (tmp_path / "out").exists()  # nothing written
    secrets = [d for d in diagnostics if d["code"] == "FC712"]
    assert {d["message"].split("`")[1] for d in secrets} == {"/flows/agent_case", "/flows/supervise",
                                                            "/flows/customer_case"}
    assert all(d["severity"] == "error" and "env(SUPPORT_WEBHOOK_PASSWORD)" in d["message"] for d in secrets)
    assert flowc(["check", "--fix", str(tmp_path / "src")]) == 0
    assert flowc(["compile", str(tmp_path / "src"), "-o", str(tmp_path / "out")]) == 0
    assert sum(path.read_text().count("application auth") for path in (tmp_path / "src").glob("*.flow")) == 1


def test_fmt_keeps_the_declarations(tmp_path):
    path = tmp_path / "main.flow"
    path.write_text("application   auth env(U)  env(P)\nflow main  on initiate,answer  auth \"u\" env(P) {\n"
                    "hangup\n}\n")
    assert flowc(["fmt", str(path)]) == 0
    assert path.read_text() == ('application auth env(U) env(P)\n\nflow main on initiate, answer auth "u" env(P) {\n'
                                "    hangup\n}\n")


# -- fallback credentials ----------------------------------------------------------------------------------------

def test_the_fallback_credential_only_opens_fallback_requests(support, monkeypatch):
    _, base = support
    url = base + "/conferences/case_room/events"
    data = payload("conferenceCreated")  # answered (200) with the room's `on created`
    fallback = basic("support", "fallback-s3cret")
    assert httpx.post(url, json=data, headers=fallback).status_code == 401  # the primary host
    to_backup = {**fallback, "Host": "backup.example.com"}
    assert httpx.post(url, json=data, headers=to_backup).status_code == 200
    assert httpx.post(url, json=data, headers={**to_backup, "Host": "BACKUP.example.com:443"}).status_code == 200
    monkeypatch.delenv("SUPPORT_WEBHOOK_PASSWORD")  # the primary secret unset: nothing gets in, not even there
    assert httpx.post(url, json=data, headers=to_backup).status_code == 401
    assert httpx.post(url, json=data, headers=basic("support", "")).status_code == 401


# -- item 6: hooks that hang -------------------------------------------------------------------------------------

SLOW = ('flow slow {\n    say hook(lookup)\n}\n\nflow fast {\n    say "fast"\n}\n\n'
        'flow quick {\n    say hook(quick)\n}\n\nflow balance {\n    say hook(balance)\n}\n')
SLEEPING = ("import time\n\n\ndef lookup(payload):\n    time.sleep(4)\n    return 'slow'\n\n\n"
            "async def quick(payload):\n    return 'quick'\n\n\ndef balance(payload):\n    return 'plain'\n")


def test_hanging_sync_hooks_do_not_starve_other_routes(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("FLOWC_HOOK_TIMEOUT", "1.5")
    out = build_main(tmp_path, SLOW, SLEEPING)
    app = load_app(out)
    with running(app) as base:
        async def attack():
            async with httpx.AsyncClient(timeout=20, limits=httpx.Limits(max_connections=100)) as session:
                hanging = [asyncio.create_task(session.post(base + "/flows/slow", json=payload("initiate")))
                           for _ in range(45)]
                await asyncio.sleep(0.3)
                started = time.monotonic()
                fast = await session.post(base + "/flows/fast", json=payload("initiate"))
                quick = await session.post(base + "/flows/quick", json=payload("initiate"))
                plain = await session.post(base + "/flows/balance", json=payload("initiate"))  # a `def` hook too
                served_in = time.monotonic() - started
                return fast, quick, plain, served_in, await asyncio.gather(*hanging)

        caplog.set_level(logging.ERROR, "flowc.app")
        started = time.monotonic()
        fast, quick, plain, served_in, hanging = asyncio.run(attack())
        assert fast.status_code == 200 and quick.status_code == 200 and b"quick" in quick.content
        assert plain.status_code == 200 and b"plain" in plain.content
        assert served_in < 1.0  # while 45 hooks hang
        assert time.monotonic() - started < 10  # every hanging request was answered within the budget, not 30 s
        assert {r.status_code for r in hanging} == {504}
        assert all("did not answer in time" in r.json()["error"] for r in hanging)
        assert any("lookup" in r.getMessage() and "did not answer in time" in r.getMessage() for r in caplog.records)


def test_the_hook_budget_stays_below_the_callback_timeout(tmp_path, monkeypatch):
    # A conference whose webhooks time out after 2 s: its hooks get 80% of that, whatever FLOWC_HOOK_TIMEOUT says.
    source = (DECLARATION + 'conference room "r" {\n    timeout 2s\n    on member join {\n        say hook(slow)\n'
              '    }\n}\nflow main on initiate {\n    join room\n}\n')
    monkeypatch.setenv("FLOWC_HOOK_TIMEOUT", "20")
    out = build_main(tmp_path, source, "import time\n\n\ndef slow(payload):\n    time.sleep(5)\n    return 'x'\n")
    with running(load_app(out)) as base:
        started = time.monotonic()
        response = httpx.post(base + "/conferences/room/events", json=payload("conferenceMemberJoin"),
                              headers=APPLICATION, timeout=10)
        assert response.status_code == 504 and 1.4 < time.monotonic() - started < 2.0


def test_hook_timeout_must_be_a_positive_number(tmp_path, monkeypatch):
    out = build_main(tmp_path, SLOW, SLEEPING)
    for wrong in ("soon", "0", "-1", "inf", "nan"):
        monkeypatch.setenv("FLOWC_HOOK_TIMEOUT", wrong)
        with pytest.raises(ValueError, match="FLOWC_HOOK_TIMEOUT must be a positive number of seconds"):
            load_app(out)


# -- item 7: what hooks raise, clients that vanish ---------------------------------------------------------------

RAISING = '''import asyncio


def sync_exit(payload):
    raise SystemExit(3)


def sync_interrupt(payload):
    raise KeyboardInterrupt


async def async_exit(payload):
    raise SystemExit(3)


async def async_interrupt(payload):
    raise KeyboardInterrupt


async def async_cancelled(payload):
    raise asyncio.CancelledError


def sync_cancelled(payload):
    raise asyncio.CancelledError


def sync_timeout(payload):
    raise TimeoutError("the database timed out")
'''
RAISERS = ["sync_exit", "sync_interrupt", "async_exit", "async_interrupt", "async_cancelled", "sync_cancelled",
           "sync_timeout"]


def test_hooks_raising_base_exceptions_are_a_logged_500_and_the_server_carries_on(tmp_path, caplog):
    source = "".join(f"flow {name} {{\n    say hook({name})\n}}\n" for name in RAISERS)
    source += 'flow ok {\n    say "ok"\n}\n'
    out = build_main(tmp_path, source, RAISING)
    caplog.set_level(logging.ERROR, "flowc.app")
    with running(load_app(out)) as base:
        for name in RAISERS:
            caplog.clear()
            response = httpx.post(base + f"/flows/{name}", json=payload("initiate"), timeout=5)
            assert response.status_code == 500, (name, response.text)
            assert response.json() == {"error": f"hook `{name}` failed"}
            assert any(name in r.getMessage() and r.exc_info for r in caplog.records), (name, caplog.text)
            assert httpx.post(base + "/flows/ok", json=payload("initiate")).status_code == 200  # still serving


def test_a_client_that_disconnects_mid_body_is_not_a_500(tmp_path, caplog):
    out = build_main(tmp_path, 'flow main {\n    say "Hi"\n}\n')
    caplog.set_level(logging.INFO)
    with running(load_app(out)) as base:
        host, port = base.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as connection:
            connection.sendall(b"POST /flows/main HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                               b"Content-Length: 1000\r\n\r\n{\"eventType\": \"initi")
            time.sleep(0.2)
        time.sleep(0.5)
        assert httpx.post(base + "/flows/main", json=payload("initiate")).status_code == 200
    assert not [r for r in caplog.records if r.exc_info], caplog.text
    assert not any(" 500 " in r.getMessage() or "failed" in r.getMessage() for r in caplog.records), caplog.text


# -- the README's promises -----------------------------------------------------------------------------------------

def raw_request(base: str, request: bytes) -> bytes:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(request)
        answer = b""
        while b"\r\n\r\n" not in answer:
            piece = connection.recv(65536)
            if not piece:
                break
            answer += piece
        return answer


def test_the_body_limit_holds_for_declared_and_chunked_bodies(tmp_path, monkeypatch):
    monkeypatch.setenv("FLOWC_MAX_BODY", "2048")
    out = build_main(tmp_path, 'flow main {\n    say "Hi"\n}\n')
    big = json.dumps({**payload("initiate"), "padding": "x" * 4096}).encode()
    with running(load_app(out)) as base:
        assert httpx.post(base + "/flows/main", content=big, headers={"content-type": "application/json"}) \
            .status_code == 413

        def chunks():
            for start in range(0, len(big), 500):
                yield big[start:start + 500]
        chunked = httpx.post(base + "/flows/main", content=chunks(), headers={"content-type": "application/json"})
        assert chunked.status_code == 413
        lying = raw_request(base, b"POST /flows/main HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n{")
        assert lying.startswith(b"HTTP/1.1 413")
        small = json.dumps(payload("initiate")).encode()
        assert httpx.post(base + "/flows/main", content=iter([small[:10], small[10:]]),
                          headers={"content-type": "application/json"}).status_code == 200


HOSTILE = ["<b>&amp; ]]> \"quoted\" 'single'", "line 1\nline 2\r\nline\t3", "nul\x00here", "lone \ud800 surrogate",
           "\ufffe\uffff and \x1b escape", "]]>", "&#x26; &lt;"]


def expected_text(value: str) -> str:
    return "".join(c for c in value if c in "\t\n\r" or (" " <= c <= "\ud7ff") or ("\ue000" <= c <= "\ufffd"))


def test_hostile_runtime_values_are_escaped_everywhere(tmp_path, monkeypatch):
    # Payload fields and hook values, in element text and in an attribute value.
    source = (DECLARATION + 'flow main on initiate {\n    say "From {from}: {digits}"\n    say hook(note)\n'
              '    gather tag hook(note) {\n        say "{digits}"\n    }\n}\n')
    out = build_main(tmp_path, source, "import os\n\n\ndef note(payload):\n    return os.environ['HOSTILE']\n")
    with running(load_app(out)) as base:
        for value in HOSTILE:
            monkeypatch.setenv("HOSTILE", value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
                               if "\ud800" in value else value.replace("\x00", ""))
            hooked = expected_text(os.environ["HOSTILE"])
            body = json.dumps({**payload("initiate"), "from": "+15551234567", "digits": value}).encode()
            response = httpx.post(base + "/flows/main", content=body,
                                  headers={**APPLICATION, "content-type": "application/json"})
            assert response.status_code == 200, (value, response.text)
            root = etree.fromstring(response.content)  # well-formed whatever the value
            texts = [e.text for e in root.iter("SpeakSentence")]
            assert texts == [f"From +15551234567: {expected_text(value)}", hooked, expected_text(value)], repr(value)
            assert root.find("Gather").get("tag") == hooked


def test_two_thousand_requests_at_fifty_at_once_are_all_answered_right(tmp_path):
    out = build_main(tmp_path, DECLARATION + 'flow main on initiate {\n    gather then menu { say "Hi" }\n}\n'
                     'flow menu {\n    when digits "0" {\n        hangup\n    }\n    say "You chose {digits}."\n}\n')

    async def load(base: str) -> list[tuple[str, int, bytes]]:
        limits = httpx.Limits(max_connections=50, max_keepalive_connections=50)
        async with httpx.AsyncClient(timeout=30, limits=limits, headers=APPLICATION) as session:
            gate = asyncio.Semaphore(50)

            async def one(number: int) -> tuple[str, int, bytes]:
                digits = "0" if number % 10 == 0 else str(number)
                async with gate:
                    response = await session.post(base + "/flows/menu", json=payload("gather", digits=digits))
                return digits, response.status_code, response.content
            return await asyncio.wait_for(asyncio.gather(*(one(n) for n in range(2000))), 120)

    with running(load_app(out)) as base:
        answers = asyncio.run(load(base))
    assert len(answers) == 2000
    for digits, status, content in answers:
        assert status == 200
        if digits == "0":
            assert b"<Hangup/>" in content
        else:
            assert f"<SpeakSentence>You chose {digits}.</SpeakSentence>".encode() in content


def test_hover_explains_the_callback_credentials():
    from flowc.lsp.hover import site_text
    from flowc.lsp.index import build_index
    from flowc.semantics.lower import lower
    from flowc.syntax.parser import parse

    text = DECLARATION + 'flow inbound on initiate auth env(U) env(P) {\n    hangup\n}\n'
    flow_file, _ = lower(parse(text, "main.flow")[0])
    index = build_index(flow_file, text)
    on_keyword = site_text(index.at(text.index("application") + 3), None)
    on_flow_auth = site_text(index.at(text.index("auth env(U)") + 1), None)
    assert "Bandwidth application sends" in on_keyword and "every route" in on_keyword.lower()
    assert "flow `inbound`" in on_flow_auth


def test_an_entry_flow_whose_route_requires_other_credentials_is_fc706(tmp_path, capsys):
    # `next` is protected by the gather's credentials, but Bandwidth's `answer` callbacks carry none of them.
    source = ('flow main on initiate auth "bw" env(BW) {\n    gather then next auth "bob" env(PW) { say "Hi" }\n}\n'
              'flow next on answer {\n    hangup\n}\n')
    (tmp_path / "main.flow").write_text(source)
    status, diagnostics = compile_json(tmp_path / "main.flow", tmp_path / "out", capsys)
    [found] = [d for d in diagnostics if d["code"] == "FC706"]
    assert status == 0 and "application's callbacks" in found["message"] and found["location"]["row"] == 4
    declared = source.replace("flow next on answer", 'flow next on answer auth "bw" env(BW)')
    (tmp_path / "main.flow").write_text(declared)
    _, diagnostics = compile_json(tmp_path / "main.flow", tmp_path / "out", capsys)
    assert "FC706" not in [d["code"] for d in diagnostics]
