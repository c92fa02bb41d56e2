"""Attempts without hand-kept state (issue 11 item 3): `gather ... then choice attempts N exhausted FLOW`.
Lowering and diagnostics, the documents planned, the web app's choice at run time over real HTTP (uvicorn on
loopback) and a whole call in the emulator."""

from __future__ import annotations

import json

import httpx
import pytest
from flowc.cli.commands import main as flowc
from flowc.core.fixes import apply_edits
from flowc.runtime import load_app
from flowc.semantics.project import compile_sources
from test_app import payload, running

PROJECT = """\
flow main on initiate, answer {
    say "Welcome."
    gather max 1 timeout 5s then choice attempts 2 exhausted voicemail {
        say "For sales press 1."
    }
}

flow choice {
    when digits "1" {
        say "Sales."
    }
    otherwise {
        say "Sorry."
    }
}

flow voicemail {
    say "Leave a message."
    hangup
}
"""


def apply_fixes(source: str, found) -> str:
    return apply_edits(source, [edit for d in found if d.fix for edit in d.fix.edits])


def compiled(source: str):
    return compile_sources({"f.flow": source.encode()})


def codes(source: str) -> list[str]:
    return sorted(d.code for d in compiled(source).diagnostics)


def documents(source: str) -> dict[str, bytes]:
    from flowc.backend.build import render

    _, rendered, _ = render(compiled(source))
    return {item.document.file: item.xml for item in rendered}


# -- lowering, checking, planning ----------------------------------------------------------------------------------

def test_attempts_and_exhausted_are_read_on_the_gather():
    gather = compiled(PROJECT).project.files[0].flows[0].body[1]
    attempts = gather.attempts
    assert (attempts.count, attempts.whole, attempts.exhausted) == (2.0, 2, "voicemail")
    assert [a.name for a in gather.attributes] == ["maxDigits", "firstDigitTimeout", "gatherUrl"]
    assert attempts.continuation.attributes[0].value.value == "voicemail"  # the exhausted document's redirect
    assert codes(PROJECT) == []


def test_the_count_is_in_the_callback_urls_and_one_document_per_attempt():
    found = documents(PROJECT)
    assert 'gatherUrl="/flows/choice?ask=main&amp;attempt=1"' in found["flows/main.xml"].decode()
    again = found["flows/choice.main.attempt-2.xml"].decode()
    assert again.index("Sorry.") < again.index('gatherUrl="/flows/choice?ask=main&amp;attempt=2"')
    assert "For sales press 1." in again and "Welcome." not in again  # the question, not the whole flow
    last = found["flows/choice.main.exhausted.xml"].decode()
    assert "Sorry." in last and '<Redirect redirectUrl="/flows/voicemail"/>' in last
    assert "flows/choice.main.attempt-3.xml" not in found


def test_the_exhausted_flow_is_used_reached_by_a_redirect_and_checked_as_a_name():
    from flowc.semantics.analysis import analyse

    links = analyse(compiled(PROJECT).project).links
    assert [r.spec.name for r in links.references_to("voicemail")] == ["redirectUrl"]
    typo = PROJECT.replace("exhausted voicemail", "exhausted voicemial")
    assert codes(typo) == ["FC401", "FC403"]  # an unknown flow, and voicemail now unused


def test_the_diagram_draws_the_way_to_the_exhausted_flow(tmp_path, capsys):
    (tmp_path / "ivr.flow").write_text(PROJECT)
    assert flowc(["graph", str(tmp_path / "ivr.flow")]) == 0
    assert 'f_main -->|"2 failed attempts: redirect"| f_voicemail' in capsys.readouterr().out


def test_the_exhausted_redirect_carries_the_gathers_credentials():
    source = PROJECT.replace("attempts 2", "attempts 2 auth alice env(PW)")
    last = documents(source)["flows/choice.main.exhausted.xml"].decode()
    assert 'username="alice"' in last and 'password="${env:PW}"' in last


def test_fc120_the_count_is_a_whole_number_from_1_to_10_with_a_fix():
    for written, fixed in (("0", "1"), ("11", "10"), ("2.5", "2")):
        source = PROJECT.replace("attempts 2", f"attempts {written}")
        found = compiled(source).diagnostics
        assert [d.code for d in found] == ["FC140"], written
        assert apply_fixes(source, found).count(f"attempts {fixed} ") == 1
    assert codes(PROJECT.replace("attempts 2", "attempts 10")) == []
    assert codes(PROJECT.replace("attempts 2", "attempts 1")) == []


def test_fc121_attempts_need_a_receiving_flow_and_exhausted_needs_attempts():
    assert codes(PROJECT.replace("then choice attempts", 'then "https://example.com/x" attempts')) \
        == ["FC141", "FC403"]
    source = PROJECT.replace("attempts 2 exhausted", "exhausted")
    found = compiled(source).diagnostics
    assert [d.code for d in found] == ["FC141"]
    assert "attempts 2 exhausted voicemail" in apply_fixes(source, found)


def test_fc106_the_counting_words_need_their_values():
    assert codes(PROJECT.replace("attempts 2 exhausted voicemail", "attempts")) == ["FC106", "FC403"]
    assert codes(PROJECT.replace("exhausted voicemail", "exhausted")) == ["FC106", "FC403"]


def test_fc410_a_receiving_flow_that_can_never_ask_again():
    no_branches = PROJECT.replace('    when digits "1" {\n        say "Sales."\n    }\n', "")
    assert codes(no_branches) == ["FC410"]
    hands_over = PROJECT.replace('        say "Sorry."\n', "        redirect to main\n")
    found = compiled(hands_over).diagnostics
    assert [d.code for d in found] == ["FC410"] and "never asked again" in found[0].message


def test_two_counted_questions_of_one_flow_are_told_apart_in_the_urls():
    first = '    gather max 1 then choice attempts 3 {\n        say "First."\n    }\n'
    source = PROJECT.replace('    say "Welcome."\n', first)
    found = documents(source)
    main = found["flows/main.xml"].decode()
    assert "?ask=main&amp;attempt=1" in main and "?ask=main.2&amp;attempt=1" in main
    assert {"flows/choice.main.attempt-2.xml", "flows/choice.main.attempt-3.xml",
            "flows/choice.main.2.attempt-2.xml", "flows/choice.main.2.exhausted.xml"} <= set(found)


def test_attempts_only_count_on_the_gather():
    assert codes('flow main {\n    record attempts 2\n}\n') == ["FC103"]


# -- the web app's choice, over HTTP -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("attempts")
    (root / "ivr.flow").write_text(PROJECT)
    assert flowc(["compile", str(root / "ivr.flow"), "-o", str(root / "out")]) == 0
    with running(load_app(root / "out")) as base, httpx.Client(base_url=base, timeout=10) as client:
        yield root, client


def answer(client, attempt: str, digits: str, ask: str = "main") -> httpx.Response:
    return client.post(f"/flows/choice?ask={ask}&attempt={attempt}", json=payload("gather", digits=digits))


def test_the_web_app_asks_again_then_goes_to_the_exhausted_flow(served):
    root, client = served
    out = root / "out"
    first = answer(client, "1", "")  # nothing pressed
    assert first.status_code == 200 and first.content == (out / "flows/choice.main.attempt-2.xml").read_bytes()
    second = answer(client, "2", "9")  # a key no branch lists
    assert second.content == (out / "flows/choice.main.exhausted.xml").read_bytes()
    good = answer(client, "2", "1")
    assert good.content == (out / "flows/choice.digits-1.xml").read_bytes()  # a good answer ends the count


def test_without_a_count_the_receiving_flow_answers_as_before(served):
    root, client = served
    plain = client.post("/flows/choice", json=payload("gather", digits="7"))
    assert plain.content == (root / "out/flows/choice.xml").read_bytes()
    other = answer(client, "1", "7", ask="elsewhere")  # a gather this flow does not count
    assert other.content == (root / "out/flows/choice.xml").read_bytes()


@pytest.mark.parametrize("attempt", ["0", "3", "x", "", "²"])
def test_a_count_the_flow_does_not_send_is_refused(served, attempt):
    _, client = served
    refused = answer(client, attempt, "")
    assert refused.status_code == 422 and "attempt" in refused.json()["error"]


def test_the_manifest_marks_the_attempt_documents(served):
    root, _ = served
    manifest = json.loads((root / "out/manifest.json").read_text())
    marked = {d["file"]: d["attempt"] for d in manifest["documents"] if "attempt" in d}
    assert marked == {"flows/choice.main.attempt-2.xml": {"ask": "main", "attempt": 2},
                      "flows/choice.main.exhausted.xml": {"ask": "main", "exhausted": "voicemail"}}
    voicemail = next(r for r in manifest["routes"] if r["flow"] == "voicemail")
    assert "redirect" in voicemail["events"]


# -- a whole call in the emulator -------------------------------------------------------------------------------

@pytest.fixture
def ivr(tmp_path, bandwidth):
    """The project compiled and run by the emulator, through the `bandwidth` fixture (docs/testing.md)."""
    (tmp_path / "ivr.flow").write_text(PROJECT)
    assert flowc(["compile", str(tmp_path / "ivr.flow"), "-o", str(tmp_path / "out")]) == 0
    return bandwidth(tmp_path / "out")


def test_nobody_presses_ask_twice_then_voicemail(ivr):
    call = ivr.inbound("main")
    ivr.advance(60)
    assert call.heard == ["Welcome.", "For sales press 1.", "Sorry.", "For sales press 1.", "Sorry.",
                          "Leave a message."]
    assert call.state == "completed"


def test_a_wrong_key_then_the_right_one(ivr):
    call = ivr.inbound("main")
    call.press("9")
    assert call.heard[-2:] == ["Sorry.", "For sales press 1."]
    call.press("1")
    assert call.heard[-1] == "Sales."
