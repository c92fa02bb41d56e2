"""`flowc sim OUT --ui` over real HTTP (the page's API, its pushed updates, its guard against other machines and
other sites) and as a command (usage errors). The page itself is tested in Chromium by test_console_browser.py.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
import tomllib

import httpx
import pytest
from console_helpers import console, served
from sim_helpers import ROOT, ScriptedApp, build, response, say

pytestmark = pytest.mark.e2e

STATIC = ROOT / "compiler" / "sim" / "console" / "static"


@pytest.fixture(scope="module")
def seed(tmp_path_factory):
    return build(tmp_path_factory.mktemp("seed"), ROOT / "examples" / "seed")


@pytest.fixture(scope="module")
def seed_console(seed):
    with console(seed) as url:
        yield url


def post(url: str, path: str, body: dict, **headers: str) -> httpx.Response:
    return httpx.post(url + path, json=body, headers=headers, timeout=30)


def state(url: str) -> dict:
    return httpx.get(url + "api/state", timeout=30).json()


def conference_of(url: str, name: str) -> dict:
    return next(c for c in state(url)["conferences"] if c["name"] == name and c["state"] == "active")


# -- the guard ---------------------------------------------------------------------------------------------

def test_requests_for_another_host_are_refused(seed_console):
    """DNS rebinding: a page on evil.example resolving its name to 127.0.0.1 sends Host: evil.example."""
    port = seed_console.rsplit(":", 1)[1].strip("/")
    for host in (f"evil.example:{port}", "127.0.0.1:1", f"127.0.0.1.nip.io:{port}"):
        answer = httpx.get(seed_console + "api/state", headers={"Host": host}, timeout=30)
        assert answer.status_code == 403, host
        assert "calls" not in answer.text
    assert httpx.get(seed_console.replace("127.0.0.1", "localhost") + "api/state", timeout=30).status_code == 200


def test_changes_must_be_json_from_the_console_s_own_origin(seed_console):
    before = len(state(seed_console)["calls"])
    form = httpx.post(seed_console + "api/calls", data={"flow": "join"}, timeout=30)  # what a cross-site form sends
    assert form.status_code == 403 and "application/json" in form.json()["error"]
    foreign = post(seed_console, "api/calls", {"flow": "join"}, Origin="http://evil.example")
    assert foreign.status_code == 403
    assert len(state(seed_console)["calls"]) == before  # neither placed a call
    own = post(seed_console, "api/calls", {"flow": "join"}, Origin=seed_console.rstrip("/"))
    assert own.status_code == 200 and own.json()["id"].startswith("c-")


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.1", "example.com", "::"])
def test_the_console_listens_only_on_loopback(seed, host):
    done = subprocess.run([sys.executable, "-m", "flowc", "sim", str(seed), "--ui", "--host", host, "--port", "0"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "listens only on loopback" in done.stderr and "Traceback" not in done.stderr


def test_a_port_in_use_is_a_usage_error(seed):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "flowc", "sim", str(seed), "--ui", "--port", str(port)],
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in done.stderr


def test_ui_with_call_or_load_is_a_usage_error(seed):
    done = subprocess.run([sys.executable, "-m", "flowc", "sim", str(seed), "--ui", "--call", "join"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--ui serves the console" in done.stderr


# -- calls -------------------------------------------------------------------------------------------------

def test_bad_requests_get_clear_errors(seed_console):
    unknown = post(seed_console, "api/calls", {"flow": "nope"})
    assert unknown.status_code == 400 and "its flows are: coach, join" in unknown.json()["error"]
    assert post(seed_console, "api/calls", {}).status_code == 400
    call_id = post(seed_console, "api/calls", {"flow": "join"}).json()["id"]
    assert post(seed_console, f"api/calls/{call_id}/press", {"digits": "1<"}).status_code == 400
    assert post(seed_console, "api/calls/c-none/press", {"digits": "1"}).status_code == 404
    assert post(seed_console, f"api/calls/{call_id}/hangup", {}).status_code == 200
    assert post(seed_console, f"api/calls/{call_id}/press", {"digits": "1"}).status_code == 409
    assert post(seed_console, "api/clock", {"advance": "soon"}).status_code == 400
    assert post(seed_console, "api/clock", {"advance": -1}).status_code == 400


def test_the_page_is_told_of_every_change_over_server_sent_events(seed_console):
    seen: list[dict] = []
    ready = threading.Event()

    def listen() -> None:
        with httpx.stream("GET", seed_console + "api/stream", timeout=30) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            for line in stream.iter_lines():
                if line.startswith("data: "):
                    seen.append(json.loads(line[6:]))
                    ready.set()
                    if any(c["from"] == "+15557770000" for c in seen[-1].get("calls", [])):
                        return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert ready.wait(30)  # the current state comes first
    assert not any(c["from"] == "+15557770000" for c in seen[0]["calls"])
    post(seed_console, "api/calls", {"flow": "join", "from": "+15557770000"})
    listener.join(30)
    assert not listener.is_alive(), "the new call was never pushed"
    pushed = next(c for c in seen[-1]["calls"] if c["from"] == "+15557770000")
    assert pushed["heard"][0] == {"time": pushed["heard"][0]["time"], "media": "speech", "conference": None,
                                  "text": "You will be added to your conference now."}


def test_the_clock_advances_by_a_chosen_amount_and_runs_in_real_time(seed_console):
    before = state(seed_console)["now"]
    post(seed_console, "api/clock", {"advance": 90})
    assert state(seed_console)["now"] == pytest.approx(before + 90, abs=0.01)
    post(seed_console, "api/clock", {"realtime": True})
    try:
        time.sleep(1.0)
        moved = state(seed_console)
        assert moved["realtime"] is True and moved["now"] >= before + 90.5
    finally:
        post(seed_console, "api/clock", {"realtime": False})
    stopped = state(seed_console)["now"]
    time.sleep(0.5)
    assert state(seed_console)["now"] == pytest.approx(stopped, abs=0.25)


# -- conferences -------------------------------------------------------------------------------------------

def test_conference_controls_go_through_the_rest_api_and_the_matrix_follows(seed):
    with console(seed) as url:
        a, b, c = (post(url, "api/calls", {"flow": "join", "from": f"+1555000000{n}"}).json()["id"]
                   for n in (1, 2, 3))
        room = conference_of(url, "my-conference-name")
        assert room["matrix"]["calls"] == [a, b, c]
        assert room["matrix"]["hears"] == [[None, True, True], [True, None, True], [True, True, None]]
        members = f"api/conferences/{room['id']}/members/"
        coached = httpx.put(url + members + a, json={"callIdsToCoach": [b]}, timeout=30).json()
        assert coached["status"] == 204
        room = conference_of(url, "my-conference-name")
        assert room["coach"] == a and room["members"][0]["role"] == "coach"
        assert room["matrix"]["hears"][1][0] is True and room["matrix"]["hears"][2][0] is False  # only b hears a
        refused = httpx.put(url + members + c, json={"callIdsToCoach": [b]}, timeout=30).json()
        assert refused["status"] == 400 and "already has a coach" in refused["body"]["description"]
        httpx.put(url + members + b, json={"hold": True}, timeout=30)
        room = conference_of(url, "my-conference-name")
        assert room["lobby"] == [b] and room["matrix"]["hears"][1] == [False, None, False]
        rest = [e for e in state(url)["timeline"] if e["kind"] == "rest"]
        assert [e["status"] for e in rest] == [204, 400, 204]
        assert rest[0]["calls"] == [a] and rest[0]["payload"] == {"callIdsToCoach": [b]}
        ended = post(url, f"api/conferences/{room['id']}/end", {}).json()
        assert ended["status"] == 204
        after = state(url)
        assert [c["state"] for c in after["calls"]] == ["completed"] * 3  # nothing after <Conference>: hang up
        assert after["timeline"][-1]["calls"] == sorted([a, b, c])  # the end request concerns every member


def test_a_running_server_given_by_url_is_called_at_a_path(tmp_path):
    app = ScriptedApp({"/start": response(say("over the network"))})
    with served(app) as base, console(base) as url:
        port = base.rsplit(":", 1)[1]
        assert httpx.get(url + "api/info", timeout=30).json()["flows"] == []
        call_id = post(url, "api/calls", {"path": "/start"}).json()["id"]
        call = next(c for c in state(url)["calls"] if c["id"] == call_id)
        assert [h["text"] for h in call["heard"]] == ["over the network"]
        webhook = state(url)["timeline"][0]
        assert webhook["url"] == f"http://127.0.0.1:{port}/start" and webhook["status"] == 200
        sequence = httpx.get(url + f"api/calls/{call_id}/sequence", timeout=30).json()
        assert sequence["mermaid"].startswith("sequenceDiagram") and sequence["svg"].startswith("<svg")


# -- what the page is made of ------------------------------------------------------------------------------

def test_the_page_ships_everything_it_needs(seed_console):
    page = httpx.get(seed_console, timeout=30)
    assert page.status_code == 200
    for asset in re.findall(r'(?:src|href)="([^"]+)"', page.text):
        assert asset.startswith("/static/"), asset  # nothing from another origin
        assert httpx.get(seed_console.rstrip("/") + asset, timeout=30).status_code == 200
    for path in STATIC.iterdir():
        text = path.read_text()
        assert not re.search(r"(?:src|href|url)\s*[=(]\s*[\"']?(?:https?:)?//", text), path.name
        assert not re.search(r"(?:import|fetch)\s*\(?\s*[\"']https?:", text), path.name


def test_the_page_is_package_data():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    setuptools = project["tool"]["setuptools"]
    assert "flowc.sim.console" in setuptools["packages"]
    patterns = setuptools["package-data"]["flowc.sim.console"]
    shipped = {p for pattern in patterns for p in (ROOT / "compiler" / "sim" / "console").glob(pattern)}
    assert set(STATIC.iterdir()) <= shipped
    assert any(requirement.startswith("playwright") for requirement in project["project"]["optional-dependencies"]
               ["test"])


def test_install_script_installs_chromium():
    script = (ROOT / "tools" / "install-test-deps.sh").read_text()
    assert '"chromium:chromium"' in script
