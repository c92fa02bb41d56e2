"""`flowc sim` end to end: real subprocesses (a pseudo-terminal for the interactive mode, a served app for
--load)."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time

import pytest
from sim_helpers import ROOT, SECRETS, build

pytestmark = pytest.mark.e2e


def flowc(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flowc", *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **SECRETS, "NO_COLOR": "1"})


@pytest.fixture(scope="module")
def seed(tmp_path_factory):
    return build(tmp_path_factory.mktemp("seed"), ROOT / "examples" / "seed")


@pytest.fixture(scope="module")
def ivr(tmp_path_factory):
    hooks = ("def balance_sentence(payload):\n    return 'Forty two.'\n\n"
             "def payment_result(payload):\n    return 'Ok.'\n")
    return build(tmp_path_factory.mktemp("ivr"), ROOT / "examples" / "ivr-menu", hooks)


def test_sim_prints_the_timeline_of_a_call(seed):
    result = flowc("sim", str(seed), "--call", "join", "--from", "+15550001111")
    assert result.returncode == 0, result.stderr
    assert "hears “You will be added to your conference now.”" in result.stdout
    assert "inbound +15550001111 -> +15551112345" in result.stdout and "joined (conf-" in result.stdout


def test_sim_presses_digits_in_turn_and_gives_json(ivr):
    result = flowc("sim", str(ivr), "--call", "main", "--press", "1", "--press", "2", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["calls"][0]["heard"][1].startswith("Billing.") and data["calls"][0]["heard"][2] == "Forty two."
    assert {e["kind"] for e in data["events"]} >= {"heard", "webhook", "state"}


def test_sim_exits_1_when_a_webhook_fails(tmp_path):
    out = build(tmp_path, ROOT / "examples" / "ivr-menu")  # the hooks are stubs: the app answers 501
    result = flowc("sim", str(out), "--call", "main", "--press", "1", "--press", "2")
    assert result.returncode == 1 and "501" in result.stdout and "failed or were refused" in result.stderr


def test_sim_usage_errors_exit_2(seed, tmp_path):
    unknown = flowc("sim", str(seed), "--call", "nope")
    assert unknown.returncode == 2 and "its flows are: coach, join" in unknown.stderr
    assert flowc("sim", str(tmp_path), "--call", "join").returncode == 2
    assert flowc("sim", str(seed)).returncode == 2


def test_sim_is_interactive_on_a_terminal(ivr):
    import pty

    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "flowc", "sim", str(ivr), "--call", "main"], stdin=follower,
                               stdout=follower, stderr=follower, env={**os.environ, **SECRETS, "NO_COLOR": "1"})
    os.close(follower)
    output = b""

    def read_until(text: bytes, seconds: float = 60) -> None:
        nonlocal output
        deadline = time.monotonic() + seconds
        while text not in output and time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.5)
            if ready:
                try:
                    output += os.read(leader, 65536)
                except OSError:
                    return

    try:
        read_until(b"waiting for the first digit> ")
        os.write(leader, b"9\n")
        read_until(b"Sorry, that is not one of the options.")
        os.write(leader, b"hangup\n")
        read_until(b"completed (hangup)")
        assert process.wait(30) == 0
    finally:
        process.kill()
        os.close(leader)
    assert b"presses 9" in output and b"completed (hangup)" in output


def test_sim_load_drives_the_app_over_http_and_reports(ivr):
    result = flowc("sim", "--load", "20", "--concurrency", "4", str(ivr), "--press", "1", "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["calls"] == 20 and report["calls_per_second"] > 0 and report["failed"] == report["refused"] == 0
    assert report["latency_ms"]["p99"] >= report["latency_ms"]["p50"] > 0
    assert report["target"].startswith("http://127.0.0.1:")
    text = flowc("sim", "--load", "5", str(ivr))
    assert "calls/s" in text.stdout and "p50" in text.stdout and "failed: 0, refused replies: 0" in text.stdout


def test_sim_load_refuses_targets_off_this_machine_and_unbounded_runs(ivr):
    remote = flowc("sim", "--load", "5", "http://example.com", "--call", "main")
    assert remote.returncode == 2 and "loopback" in remote.stderr
    assert flowc("sim", "--load", "0", str(ivr)).returncode == 2
    assert flowc("sim", "--load", "5", "--concurrency", "100000", str(ivr)).returncode == 2


def test_sim_load_reports_failures(tmp_path):
    out = build(tmp_path, ROOT / "examples" / "ivr-menu")  # stub hooks: 501
    result = flowc("sim", "--load", "4", "--concurrency", "2", str(out), "--press", "1", "--press", "2")
    assert result.returncode == 1 and "failed: 4" in result.stdout and "/flows/billing_choice: 501" in result.stdout


def test_the_pytest_plugin_gives_a_bandwidth_fixture_and_shows_the_timeline_of_a_failing_test(seed, tmp_path):
    tests = tmp_path / "test_project.py"
    tests.write_text(
        "def test_joins(bandwidth):\n"
        "    call = bandwidth.inbound('join')\n"             # the emulator of --flowc-out
        "    assert bandwidth.conference('my-conference-name').members == [call]\n\n"
        "def test_factory(bandwidth):\n"
        f"    bw = bandwidth({str(seed)!r})\n"
        "    assert bw.inbound('coach').heard[0].startswith('Welcome.')\n\n"
        "def test_fails(bandwidth):\n"
        "    call = bandwidth.inbound('join')\n"
        "    assert call.heard == ['something else']\n")
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--flowc-out",
                             str(seed), str(tests)], capture_output=True, text=True, timeout=120, cwd=tmp_path,
                            env={**os.environ, **SECRETS})
    assert "1 failed, 2 passed" in result.stdout, result.stdout
    assert "--- flowc.sim timeline ---" in result.stdout and "hears “You will be added" in result.stdout


def test_sim_reports_an_app_that_cannot_start_in_one_line(tmp_path):
    out = build(tmp_path, ROOT / "examples" / "ivr-menu", hooks="def balance_sentence(payload):\n    return (\n")
    result = flowc("sim", str(out), "--call", "main")
    assert result.returncode == 2 and "cannot start: SyntaxError" in result.stderr
    assert "Traceback" not in result.stderr


CALLBACK_ENV = {"SIM_CALLBACK_USER": "bandwidth", "SIM_CALLBACK_PASSWORD": "sim-s3cret"}
AUTH_FLOWS = {"main.flow": "application auth env(SIM_CALLBACK_USER) env(SIM_CALLBACK_PASSWORD)\n\n"
                           'flow main on initiate {\n    say "Hello"\n}\n'}


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    """An app whose every route requires the application's callback credentials (none set in the environment)."""
    return build(tmp_path_factory.mktemp("guarded"), AUTH_FLOWS)


def sim_merged(*args: str, **environment: str) -> tuple[int, list[str]]:
    """`flowc sim ARGS` with standard error and output in one stream, in the order written."""
    done = subprocess.run([sys.executable, "-m", "flowc", "sim", *args], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=120,
                          env={**os.environ, **SECRETS, "NO_COLOR": "1", **environment})
    return done.returncode, done.stdout.splitlines()


def test_sim_warns_up_front_that_the_callback_credentials_are_unset(guarded):
    assert not set(CALLBACK_ENV) & set(os.environ)
    status, lines = sim_merged(str(guarded), "--call", "main")
    assert status == 0, lines  # in-process, the emulator makes values up for the run
    [warning] = [n for n, line in enumerate(lines) if "FC811" in line]
    assert lines[warning].startswith("flowc: warning[FC811]: SIM_CALLBACK_USER and SIM_CALLBACK_PASSWORD ")
    assert "deployed app refuse" in lines[warning]
    heard = next(n for n, line in enumerate(lines) if "hears “Hello”" in line)
    assert warning < heard  # said before the call, not found out after it
    status, lines = sim_merged("--load", "3", str(guarded))
    assert status == 1 and "failed: 3" in "\n".join(lines)  # the served app refuses every webhook ...
    [warning] = [n for n, line in enumerate(lines) if "FC811" in line]
    assert warning == 0 and "served for the load refuses every webhook" in lines[0]  # ... as said first


def test_sim_says_nothing_of_callback_credentials_that_are_set(guarded):
    status, lines = sim_merged(str(guarded), "--call", "main", **CALLBACK_ENV)
    assert status == 0 and "FC811" not in "\n".join(lines) and any("hears “Hello”" in line for line in lines)
    status, lines = sim_merged("--load", "3", str(guarded), **CALLBACK_ENV)
    assert status == 0 and "FC811" not in "\n".join(lines) and "failed: 0" in "\n".join(lines)
