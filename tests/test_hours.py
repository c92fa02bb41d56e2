"""Business hours (issue 11 item 4): `hours NAME in "ZONE" { ... }` read into the IR, checked (FC250-FC256 with
their spans and fixes), compiled to one document per branch, and chosen per request by the generated web app
in the declared zone: through the emulator and over real HTTP, with the clock pinned by FLOWC_NOW."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import httpx
import pytest
from flowc.runtime.schedule import WeeklyHours
from flowc.semantics.project import compile_sources
from flowc.sim import Bandwidth
from flowc.syntax.formatter import format_source
from sim_helpers import build
from test_app import payload, running

OFFICE = '''hours office in "America/New_York" {
    monday to friday 9:00 to 12:30, 13:30 to 17:00
    sat 10:00 to 14:00
    closed 2026-12-25, 2027-01-01
    override hook(office_override)
}

flow main on initiate {
    when office open {
        say "Connecting you to the front desk."
        transfer +15553334444
    }
    otherwise {
        say "We are closed."
        hangup
    }
}
'''
OPEN, CLOSED = "Connecting you to the front desk.", "We are closed."
HOOKS = "import os\n\ndef office_override(payload):\n    return os.environ.get('OFFICE_OVERRIDE', '')\n"


def diagnostics(text: str):
    return compile_sources({"t.flow": text.encode()}).sorted_diagnostics()


def hours_of(text: str):
    compilation = compile_sources({"t.flow": text.encode()})
    return compilation.project.hours


def one(text: str, code: str):
    found = [d for d in diagnostics(text) if d.code == code]
    assert len(found) == 1, [(d.code, d.message) for d in diagnostics(text)]
    return found[0]


def spanned(text: str, diagnostic) -> str:
    return text[diagnostic.span.start : diagnostic.span.end]


def hours_text(*lines: str, zone: str = "America/New_York") -> str:
    return f'hours office in "{zone}" {{\n' + "".join(f"    {line}\n" for line in lines) + "}\n"


# -- reading ---------------------------------------------------------------------------------------------------

def test_days_ranges_groups_and_several_ranges_a_line():
    text = hours_text("friday to monday 9:00 to 12:00, 13:00 to 17:00", "weekdays 18:00 to 19:00",
                      "wed, sun 20:00 to 21:00")
    assert diagnostics(text) == []
    opening = hours_of(text)["office"].opening
    assert [o.days for o in opening] == [[0, 4, 5, 6], [0, 4, 5, 6], [0, 1, 2, 3, 4], [2, 6]]
    assert [(o.start, o.end) for o in opening] == [("9:00", "12:00"), ("13:00", "17:00"), ("18:00", "19:00"),
                                                   ("20:00", "21:00")]
    assert spanned(text, type("D", (), {"span": opening[1].span})) == "13:00 to 17:00"


def test_dates_override_and_zone_are_read():
    hours = hours_of(OFFICE)["office"]
    assert hours.zone == "America/New_York" and [c.date for c in hours.closed] == ["2026-12-25", "2027-01-01"]
    assert hours.override is not None and hours.override.name == "office_override"


def test_times_and_dates_are_their_own_tokens():
    from flowc.syntax.parser import parse

    module, errors = parse("x 9:00 24:00 2026-12-25 555-1234 +15551234567 12\n")
    assert errors == []
    assert [a.kind for a in module.statements[0].atoms] == ["WORD", "TIME", "TIME", "DATE", "PHONE", "PHONE",
                                                            "NUMBER"]


def test_formatting_keeps_hours_and_is_stable():
    messy = OFFICE.replace("    monday to friday", "  monday  to friday").replace("12:30, 13:30", "12:30 ,13:30")
    formatted = format_source(messy, "t.flow")
    assert formatted == OFFICE
    assert format_source(formatted, "t.flow") == formatted


# -- the checker: each code with its span and fix ---------------------------------------------------------------

def test_fc250_unknown_day_with_did_you_mean():
    text = hours_text("mondy to friday 9:00 to 17:00")
    found = one(text, "FC250")
    assert spanned(text, found) == "mondy" and found.fix is not None and found.fix.edits[0].new_text == "monday"
    assert diagnostics(hours_text("monday to friday 9:00 to 17:00")) == []


@pytest.mark.parametrize(("line", "where"), [("monday 9 to 17", "9"), ("monday 9:00", "9:00"),
                                             ("monday", "monday"), ("closed", "closed"),
                                             ("closed soon", "soon"), ("override office", "override"),
                                             ("monday to fri 9:00 until 10:00", "9:00")])
def test_fc250_malformed_lines(line, where):
    text = hours_text(line)
    found = one(text, "FC250")
    assert spanned(text, found) == where


def test_fc250_missing_zone():
    text = "hours office {\n    monday 9:00 to 17:00\n}\n"
    assert spanned(text, one(text, "FC250")) == "office"


def test_fc251_unknown_zone_suggests_the_real_name():
    text = hours_text("monday 9:00 to 17:00", zone="America/NewYork")
    found = one(text, "FC251")
    assert spanned(text, found) == '"America/NewYork"' and "America/New_York" in (found.help or "")
    assert found.fix is not None and found.fix.edits[0].new_text == '"America/New_York"'
    lowercase = one(hours_text("monday 9:00 to 17:00", zone="europe/paris"), "FC251")
    assert lowercase.fix is not None and lowercase.fix.edits[0].new_text == '"Europe/Paris"'
    for zone in ("Europe/Paris", "UTC", "Asia/Kolkata"):
        assert diagnostics(hours_text("monday 9:00 to 17:00", zone=zone)) == []
    for zone in ("../../etc/passwd", "", "Nowhere/Atlantis"):
        assert one(hours_text("monday 9:00 to 17:00", zone=zone), "FC251")


@pytest.mark.parametrize("time", ["25:00", "9:60", "24:01", "99:99"])
def test_fc252_invalid_times(time):
    text = hours_text(f"monday 9:00 to {time}")
    assert spanned(text, one(text, "FC252")) == time


def test_fc252_midnight_ends_a_day_but_does_not_start_one():
    assert diagnostics(hours_text("monday 0:00 to 24:00")) == []
    text = hours_text("monday 24:00 to 24:00")
    assert [d.code for d in diagnostics(text)] == ["FC252"]


def test_fc253_dates_outside_the_calendar():
    text = hours_text("monday 9:00 to 17:00", "closed 2026-12-25, 2026-02-30, 2026-13-01")
    found = [d for d in diagnostics(text) if d.code == "FC253"]
    assert [spanned(text, d) for d in found] == ["2026-02-30", "2026-13-01"]
    assert diagnostics(hours_text("monday 9:00 to 17:00", "closed 2028-02-29")) == []


@pytest.mark.parametrize("times", ["17:00 to 9:00", "9:00 to 9:00"])
def test_fc254_empty_ranges(times):
    text = hours_text(f"friday {times}")
    found = one(text, "FC254")
    assert spanned(text, found) == times


def test_fc254_explains_hours_past_midnight():
    assert "24:00" in (one(hours_text("friday 22:00 to 2:00"), "FC254").help or "")


def test_fc255_overlaps_across_lines_and_within_a_line():
    text = hours_text("monday to friday 9:00 to 13:00", "monday 12:00 to 17:00")
    found = one(text, "FC255")
    assert spanned(text, found) == "12:00 to 17:00" and "monday" in found.message
    assert [text[label.span.start:label.span.end] for label in found.labels] == ["9:00 to 13:00"]
    text = hours_text("weekends 9:00 to 12:00, 11:00 to 13:00")
    assert spanned(text, one(text, "FC255")) == "11:00 to 13:00"
    # touching ranges and the same hours on other days do not overlap
    assert diagnostics(hours_text("monday to friday 9:00 to 13:00", "monday 13:00 to 17:00",
                                  "saturday 9:00 to 13:00")) == []


def test_fc256_branch_states_with_a_fix():
    text = OFFICE.replace("when office open", "when office opne")
    found = one(text, "FC256")
    assert spanned(text, found) == "opne" and found.fix is not None and found.fix.edits[0].new_text == "open"
    assert [d.code for d in diagnostics(OFFICE) if d.severity.name == "ERROR"] == []


def test_fc111_hours_declared_twice():
    text = hours_text("monday 9:00 to 17:00") * 2
    assert [d.code for d in diagnostics(text)] == ["FC111"]


def test_bad_input_never_raises_and_exits_1(tmp_path):
    path = tmp_path / "bad.flow"
    path.write_text('hours office in "Mars/Olympus" {\n    mondey 9:00 to 25:00\n    closed 2026-99-99\n'
                    '    friday 9:00 to 8:00 { say "x" }\n}\nhours\nhours x in\n')
    result = subprocess.run([sys.executable, "-m", "flowc", "check", str(path)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1 and "Traceback" not in result.stderr + result.stdout
    assert "FC251" in result.stdout and "FC250" in result.stdout


def test_check_without_hours_does_not_import_zoneinfo(tmp_path):
    """The zone check is lazy: `flowc check` of a project without hours never loads zoneinfo; with a valid zone
    it never lists all the zones (the slow part, docs/performance.md)."""
    plain = tmp_path / "plain.flow"
    plain.write_text('flow main {\n    say "Hi"\n}\n')
    office = tmp_path / "office" / "office.flow"
    office.parent.mkdir()
    office.write_text(OFFICE)
    probe = ("import sys, runpy\nsys.argv = ['flowc', 'check', sys.argv[1]]\n"
             "try:\n    runpy.run_module('flowc', run_name='__main__')\nexcept SystemExit:\n    pass\n"
             "from flowc.check import schedules\n"
             "print('zoneinfo' in sys.modules, schedules._zones_by_folded.cache_info().currsize, file=sys.stderr)\n")
    for path, expected in ((plain, "False 0"), (office, "True 0")):
        result = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True, text=True, timeout=60)
        assert result.stderr.strip().splitlines()[-1] == expected, result.stderr


# -- compiled output --------------------------------------------------------------------------------------------

def test_manifest_lists_the_hours_and_marks_the_branch(tmp_path):
    out = build(tmp_path, {"office.flow": OFFICE}, HOOKS)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["hours"]["office"]["zone"] == "America/New_York"
    assert manifest["hours"]["office"]["closed"] == ["2026-12-25", "2027-01-01"]
    assert manifest["hours"]["office"]["override"] == "office_override"
    [branch] = [d for d in manifest["documents"] if "branch" in d]
    assert branch["branch"] == {"source": "hours", "field": "office", "values": ["open"]}
    assert branch["file"] == "flows/main.office-open.xml"
    assert "Connecting you" in (out / branch["file"]).read_text()


def test_the_override_hook_gets_a_stub(tmp_path):
    out = build(tmp_path, {"office.flow": OFFICE})
    stub = (tmp_path / "hooks.py").read_text()
    assert "def office_override(payload: Initiate) -> str:" in stub and "the override of hours `office`" in stub
    assert out.is_dir()


# -- the web app's choice at run time ---------------------------------------------------------------------------

def test_state_follows_the_zone_the_week_and_daylight_saving():
    hours = WeeklyHours("office", "America/New_York", ((0, 540, 1020),), ("2026-12-21",))
    utc = dt.UTC
    assert hours.state(dt.datetime(2026, 12, 14, 14, 0, tzinfo=utc)) == "open"  # Monday 9:00 EST
    assert hours.state(dt.datetime(2026, 12, 14, 13, 59, tzinfo=utc)) == "closed"  # 8:59 EST
    assert hours.state(dt.datetime(2026, 7, 13, 13, 0, tzinfo=utc)) == "open"  # Monday 9:00 EDT
    assert hours.state(dt.datetime(2026, 12, 14, 22, 0, tzinfo=utc)) == "closed"  # 17:00: the end is not open
    assert hours.state(dt.datetime(2026, 12, 15, 14, 0, tzinfo=utc)) == "closed"  # Tuesday
    assert hours.state(dt.datetime(2026, 12, 21, 15, 0, tzinfo=utc)) == "closed"  # a closed Monday
    # 2026-12-22 03:00 UTC is still Monday the 21st in New York: closed; the 22nd 03:00 in Paris is Tuesday
    assert hours.state(dt.datetime(2026, 12, 15, 3, 0, tzinfo=utc)) == "closed"


@pytest.mark.parametrize(("now", "override", "heard"), [
    ("2026-12-07T14:00:00+00:00", "", OPEN),  # Monday 9:00 in New York
    ("2026-12-07T13:59:00+00:00", "", CLOSED),  # 8:59
    ("2026-12-07T17:45:00+00:00", "", CLOSED),  # 12:45, the lunch break
    ("2026-12-12T15:00:00+00:00", "", OPEN),  # Saturday 10:00
    ("2026-12-13T15:00:00+00:00", "", CLOSED),  # Sunday
    ("2026-12-25T15:00:00+00:00", "", CLOSED),  # a Friday, but Christmas
    ("2026-07-06T13:30:00+00:00", "", OPEN),  # 9:30 EDT: the zone's summer time
    ("2026-12-07T14:00:00+00:00", "closed", CLOSED),  # the override decides
    ("2026-12-13T15:00:00+00:00", "open", OPEN),
    ("2026-12-13T15:00:00+00:00", "OPEN ", OPEN),
    ("2026-12-07T14:00:00+00:00", "maybe", OPEN),  # not a state: the hours decide
])
def test_the_emulated_call_hears_the_branch_of_the_moment(tmp_path, monkeypatch, now, override, heard):
    out = build(tmp_path, {"office.flow": OFFICE}, HOOKS)
    monkeypatch.setenv("FLOWC_NOW", now)
    monkeypatch.setenv("OFFICE_OVERRIDE", override)
    with Bandwidth(out) as bw:
        call = bw.inbound("main")
        assert call.heard[0] == heard
        if heard == OPEN:
            assert any(c.direction == "outbound" for c in bw.calls)  # the transfer was dialled


def test_the_clock_is_read_per_request_over_real_http(tmp_path, monkeypatch):
    from flowc.runtime import load_app

    out = build(tmp_path, {"office.flow": OFFICE}, HOOKS)
    monkeypatch.setenv("FLOWC_NOW", "2026-12-07T14:00:00+00:00")
    with running(load_app(out)) as base, httpx.Client(base_url=base, timeout=10) as client:
        opened = client.post("/flows/main", json=payload("initiate"))
        monkeypatch.setenv("FLOWC_NOW", "2026-12-07T23:00:00+00:00")
        closed = client.post("/flows/main", json=payload("initiate"))
    assert opened.status_code == closed.status_code == 200
    assert OPEN in opened.text and "<Transfer" in opened.text
    assert CLOSED in closed.text and "<Hangup/>" in closed.text


def test_an_override_hook_not_written_yet_answers_501(tmp_path, monkeypatch):
    out = build(tmp_path, {"office.flow": OFFICE})  # the stub raises NotImplementedError
    from flowc.runtime import load_app

    monkeypatch.setenv("FLOWC_NOW", "2026-12-07T14:00:00+00:00")
    with running(load_app(out)) as base, httpx.Client(base_url=base, timeout=10) as client:
        assert client.post("/flows/main", json=payload("initiate")).status_code == 501


def test_a_clock_without_an_offset_stops_the_app_at_start_up(tmp_path, monkeypatch):
    from flowc.runtime import load_app

    out = build(tmp_path, {"office.flow": OFFICE}, HOOKS)
    monkeypatch.setenv("FLOWC_NOW", "2026-12-07T14:00:00")
    with pytest.raises(ValueError, match="offset"):
        load_app(out)


def test_hours_without_override_need_no_hooks(tmp_path, monkeypatch):
    source = OFFICE.replace("    override hook(office_override)\n", "")
    out = build(tmp_path, {"office.flow": source})
    assert not (tmp_path / "hooks.py").exists()
    monkeypatch.setenv("FLOWC_NOW", "2026-12-07T14:00:00+00:00")
    with Bandwidth(out) as bw:
        assert bw.inbound("main").heard[0] == OPEN
