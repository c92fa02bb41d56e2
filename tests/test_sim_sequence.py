"""The sequence diagram of a simulated call (flowc.sim.sequence, `flowc sim ... --format mermaid`): what it
shows, that Mermaid's own parser accepts it (tools/mermaid/parse.mjs, the script tests/test_graph.py uses),
that names and texts Mermaid would read as syntax are escaped, that it is deterministic, and its SVG."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

import pytest
from console_helpers import IVR_HOOKS
from flowc.sim import Bandwidth
from flowc.sim.sequence import build as build_sequence
from flowc.sim.sequence import mermaid_text, sequence_mermaid, to_svg
from sim_helpers import ROOT, SECRETS, ScriptedApp, build, response, say
from test_graph import mermaid_parse  # noqa: F401  (the fixture: Mermaid's parser under Node)

AWKWARD = 'a;b #59; <br>x</br> %% "q" {c} `t` & end\nnext'


@pytest.fixture(autouse=True)
def callback_credentials(monkeypatch):
    """The examples' secrets, the application's callback credentials among them, as the app's environment."""
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)


@pytest.fixture(scope="module")
def seed(tmp_path_factory):
    return build(tmp_path_factory.mktemp("seed"), ROOT / "examples" / "seed")


def parses(mermaid_parse, tmp_path, text: str, name: str = "diagram") -> None:  # noqa: F811
    path = tmp_path / f"{name}.mmd"
    path.write_text(text)
    result = mermaid_parse([path])[str(path)]
    assert result == "ok sequence", f"{result}\n{text}"


def seed_diagram(seed) -> tuple[str, list, str]:
    with Bandwidth(seed) as bw:
        first = bw.inbound("join", from_="+15550000001")
        second = bw.inbound("join", from_="+15550000002")
        conference = bw.conference("my-conference-name")
        with __import__("httpx").Client() as http:
            http.put(f"{bw.api_url}/accounts/{bw.account_id}/conferences/{conference.id}/members/{first.id}",
                     json={"mute": True}, auth=("u", "p")).raise_for_status()
        first.hangup()
        return sequence_mermaid(bw.events, second.id), bw.events, second.id


def test_the_diagram_of_a_conference_call_shows_each_party_and_exchange(seed, tmp_path, mermaid_parse):  # noqa: F811
    text, _, _ = seed_diagram(seed)
    lines = text.splitlines()
    assert lines[0] == "sequenceDiagram"
    assert lines[1] == "    participant caller as Caller +15550000002 -#62; +15551112345"
    assert lines[2:4] == ["    participant bw as Bandwidth", "    participant app as App"]
    assert lines[4].startswith("    participant call1 as Other call c-")  # the first caller, another call
    assert lines[5] == "    participant conf1 as Conference my-conference-name"
    body = "\n".join(lines[6:])
    assert "bw->>app: 00:03.200 initiate: POST http://app/flows/join\n    app-->>bw: 200" in body
    assert "bw->>caller: 00:03.200 hears “You will be added to your conference now.”" in body
    assert "caller->>conf1: 00:06.400 joins" in body
    assert "call1->>conf1: 00:03.200 joins" in body and "call1-->>conf1: 00:06.400 leaves" in body
    assert "app->>bw: 00:06.400 REST PUT /conferences/conf-" in body and "bw-->>app: 204" in body
    assert "Note over call1: 00:06.400 member updated" in body
    # The first caller's own webhooks and what it heard belong to its own diagram, not this one.
    assert body.count("initiate") == 1 and body.count("hears") == 1
    parses(mermaid_parse, tmp_path, text)


def test_the_diagram_is_deterministic(seed):
    first, _, _ = seed_diagram(seed)
    second, _, _ = seed_diagram(seed)
    assert first == second


def test_awkward_names_and_texts_are_escaped_and_still_parse(tmp_path, mermaid_parse):  # noqa: F811
    routes = {"/start": response(say(escape(AWKWARD)), "<Conference>room;#1 --&gt;&gt; end</Conference>")}
    with Bandwidth(app=ScriptedApp(routes), strict=False) as bw:
        call = bw.inbound("/start", from_="sip:a;b#c@x<y>")
        text = sequence_mermaid(bw.events, call.id)
    labels = [re.split(r" as |: ", line, maxsplit=1)[1] for line in text.splitlines()[1:]]
    said = "a#59;b #35;59#59; #60;br#62;x#60;/br#62; #37;#37; #34;q#34; #123;c#125; #96;t#96; #38; end next"
    assert any(said in label for label in labels)
    for label in labels:
        assert not set(re.sub(r"#\d+;", "", label)) & set('#<>;%"{}`'), label
    assert "participant caller as Caller sip:a#59;b#35;c@x#60;y#62; -#62; +15551112345\n" in text
    assert "participant conf1 as Conference room#59;#35;1 --#62;#62; end" in text
    assert all(line.startswith(("sequenceDiagram", "    ")) for line in text.splitlines())  # no line broken
    parses(mermaid_parse, tmp_path, text)


def test_mermaid_text_is_one_line_cut_to_length():
    assert mermaid_text("a\nb\r\tc") == "a b c"
    assert mermaid_text("x" * 500).endswith("…") and len(mermaid_text("x" * 500)) == 160
    assert mermaid_text("") == " "


def test_a_refused_reply_is_drawn_as_a_failure_with_its_reason(tmp_path, mermaid_parse):  # noqa: F811
    app = ScriptedApp({"/start": response("<Dance/>"), "/down": (500, "oops")})
    with Bandwidth(app=app) as bw:
        refused = bw.inbound("/start")
        failed = bw.inbound("/down")
        refused_text = sequence_mermaid(bw.events, refused.id)
        failed_text = sequence_mermaid(bw.events, failed.id)
    assert "app--xbw: 200, refused: " in refused_text and "Dance" in refused_text
    assert "app--xbw: 500, refused: " in failed_text
    assert "completed (callback-error)" in failed_text or "completed" in failed_text
    parses(mermaid_parse, tmp_path, refused_text, "refused")
    parses(mermaid_parse, tmp_path, failed_text, "failed")


def test_key_presses_and_the_webhooks_they_cause_are_in_the_diagram(tmp_path, mermaid_parse):  # noqa: F811
    out = build(tmp_path, ROOT / "examples" / "ivr-menu", IVR_HOOKS)
    with Bandwidth(out) as bw:
        call = bw.inbound("main")
        call.press("9")
        text = sequence_mermaid(bw.events, call.id)
    assert "caller->>bw: 00:10.000 presses 9" in text
    assert "bw->>app: 00:10.000 gather: POST http://app/flows/menu" in text
    assert "hears “Sorry, that is not one of the options.”" in text
    parses(mermaid_parse, tmp_path, text)


def test_the_svg_is_well_formed_and_escapes_every_label(tmp_path):
    routes = {"/start": response(say("&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"))}
    with Bandwidth(app=ScriptedApp(routes)) as bw:
        call = bw.inbound("/start", from_="<b>evil</b>")
        svg = to_svg(build_sequence(bw.events, call.id))
    root = ET.fromstring(svg)  # well-formed XML
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "<script>" not in svg and "<b>" not in svg
    texts = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "Caller <b>evil</b>" in texts
    titles = [t.text for t in root.iter("{http://www.w3.org/2000/svg}title")]
    assert any("<script>alert(1)</script> & more" in (t or "") for t in titles)  # whole labels on hover
    assert to_svg(build_sequence(bw.events, call.id)) == svg


def test_flowc_sim_format_mermaid_prints_the_diagram(seed, tmp_path, mermaid_parse):  # noqa: F811
    done = subprocess.run([sys.executable, "-m", "flowc", "sim", str(seed), "--call", "join", "--format", "mermaid"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    caller = "participant caller as Caller +15559998765 -#62; +15551112345\n"
    assert done.stdout.startswith(f"sequenceDiagram\n    {caller}")
    assert "hears “You will be added to your conference now.”" in done.stdout
    parses(mermaid_parse, tmp_path, done.stdout, "cli")
    load = subprocess.run([sys.executable, "-m", "flowc", "sim", str(seed), "--load", "2", "--format", "mermaid"],
                          capture_output=True, text=True, timeout=120)
    assert load.returncode == 2 and "--format mermaid draws one call" in load.stderr
    documented = (ROOT / "docs" / "testing.md").read_text().split("### The sequence diagram of a call", 1)[1]
    assert documented.split("```\n", 2)[1] == done.stdout  # docs/testing.md shows this very output


def test_a_transfer_shows_the_callee_leg_as_another_call(tmp_path, mermaid_parse):  # noqa: F811
    out = build(tmp_path, ROOT / "examples" / "transfer-announce")
    with Bandwidth(out) as bw:
        call = bw.inbound("after_hours")
        text = sequence_mermaid(bw.events, call.id)
    assert "participant call1 as Other call c-" in text
    assert "call1->>bw: 00:04.000 calls outbound +15551112345 -#62; +15559876543" in text
    assert "bw->>app: 00:05.000 transferAnswer: POST http://app/flows/dial_extension" in text
    assert "call1->>caller: " in text and " bridged" in text
    parses(mermaid_parse, tmp_path, text)
