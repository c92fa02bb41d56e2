"""The checker's rule registry: every rule declares the codes it emits, `--select`/`--ignore` choose among them
(the CLI and the language server), hover reads which codes apply where from the declarations.

The fixtures per rule are the code table's own examples (flowc.core.codes, the `bad` and `good` text of each code):
each rule, run alone over every example, emits only codes it declares, and the rules declaring a code find it
in that code's bad example.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from flowc.bxml.vocabulary import vocabulary
from flowc.check import RULES, Selection, UnknownCode, check_project, codes_for_attribute, codes_for_element
from flowc.core.codes import CODES
from flowc.semantics.analysis import analyse
from flowc.semantics.project import compile_sources

EXAMPLES = [code for code in CODES.values() if code.bad]


def flow_projects():
    for code in EXAMPLES:
        if code.language != "xml":
            yield code, compile_sources({"example.flow": code.bad.encode()}, check=False).project


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_each_rule_emits_only_the_codes_it_declares(rule):
    for _, project in flow_projects():
        found = {d.code for d in rule.function(analyse(project, fresh=True))}
        assert found <= set(rule.codes), (rule.name, found - set(rule.codes))


def test_each_checker_code_in_the_examples_is_found_by_a_rule_declaring_it():
    for code, project in flow_projects():
        declaring = [rule for rule in RULES if code.code in rule.codes]
        if not declaring:
            continue  # a code of the front end or the web app
        found = {d.code for rule in declaring for d in rule.function(analyse(project, fresh=True))}
        assert code.code in found, code.code


def test_rules_declare_only_known_codes_and_severities_come_from_the_table():
    from flowc.check.registry import rule

    with pytest.raises(ValueError):
        rule("FC999")
    for _, project in flow_projects():
        for found in check_project(project):
            assert found.severity == CODES[found.code].severity


# -- selection -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("select", "ignore", "kept", "dropped"), [
    ((), (), ["FC202", "FC403"], []),
    (("FC2",), (), ["FC202"], ["FC403"]),
    ((), ("FC4",), ["FC202"], ["FC403"]),
    (("FC4",), ("FC403",), ["FC405"], ["FC403", "FC202"]),
    (("FC403",), ("FC4",), ["FC403"], ["FC405"]),  # the longer prefix decides, as in ruff
    (("FC4",), ("FC4",), [], ["FC403"]),  # a tie: ignored
    (("fc2,FC403",), (), ["FC202", "FC403"], ["FC405"]),  # commas and any case
    (("FC3",), (), ["FC001", "FC002"], ["FC102"]),  # input and syntax errors are always reported
])
def test_selection_reads_prefixes_as_ruff_does(select, ignore, kept, dropped):
    selection = Selection.parse(select, ignore)
    assert all(selection.keeps(code) for code in kept)
    assert not any(selection.keeps(code) for code in dropped)


def test_an_unknown_prefix_is_refused():
    with pytest.raises(UnknownCode):
        Selection.parse(["FC99"])  # no code starts so


UNCLEAN = """\
flow main on initiate {
    say "hi" voice bogus
    hangup
    say "never"
}
flow unused { hangup }
"""


def test_a_selection_runs_only_the_rules_that_can_report_it():
    project = compile_sources({"a.flow": UNCLEAN.encode()}, check=False).project
    assert sorted(d.code for d in check_project(project)) == ["FC202", "FC403", "FC405"]
    assert [d.code for d in check_project(project, selection=Selection.parse(["FC403"]))] == ["FC403"]
    selection = Selection.parse(["FC2"])
    assert [r.name for r in RULES if selection.runs(r)] == [r.name for r in RULES
                                                             if any(c.startswith("FC2") for c in r.codes)]


def flowc(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "flowc", *args], capture_output=True, text=True, env=env,
                          timeout=60)


def test_cli_select_and_ignore(tmp_path: Path):
    path = tmp_path / "a.flow"
    path.write_text(UNCLEAN)
    everything = flowc("check", str(path), "--format", "json")
    assert everything.returncode == 1
    only_warnings = flowc("check", str(path), "--select", "FC4", "--ignore", "FC403")
    assert only_warnings.returncode == 0, only_warnings.stdout
    assert "FC405" in only_warnings.stdout and "FC403" not in only_warnings.stdout
    assert "FC202" not in only_warnings.stdout
    errors = flowc("check", str(path), "--select", "FC2")
    assert errors.returncode == 1 and "FC202" in errors.stdout and "FC405" not in errors.stdout
    unknown = flowc("check", str(path), "--select", "FC99")
    assert unknown.returncode == 2 and "FC99" in unknown.stderr


def test_cli_selection_applies_to_bxml_files_and_fixes(tmp_path: Path):
    document = tmp_path / "doc.xml"
    document.write_text('<Response><SpeakSentence voice="bogus">Hi</SpeakSentence></Response>')
    assert flowc("check", str(document)).returncode == 1
    assert flowc("check", str(document), "--ignore", "FC202").returncode == 0
    flow = tmp_path / "b.flow"
    flow.write_text(UNCLEAN)
    flowc("check", str(flow), "--fix", "--unsafe-fixes", "--select", "FC405")
    fixed = flow.read_text()
    assert 'say "never"' not in fixed and "flow unused" in fixed  # FC403's fix was not selected


# -- hover reads the registry ------------------------------------------------------------------------------------

def test_codes_for_statements_and_attributes_come_from_the_rules():
    vocab = vocabulary()
    join = vocab.join
    assert codes_for_element(join) == ["FC121", "FC301", "FC302", "FC304", "FC305", "FC306", "FC309", "FC406"]
    assert "FC311" in codes_for_element(vocab.elements["StartRecording"])
    assert codes_for_element(vocab.elements["SpeakSentence"]) == []  # allowed everywhere, no rule about it
    codes, reasons = codes_for_attribute(vocab.elements["StartRecording"],
                                         vocab.elements["StartRecording"].attributes["transcribe"])
    assert "FC311" in codes and reasons["FC311"] == "conference recordings are never transcribed"
    codes, _ = codes_for_attribute(join, join.attributes["callIdsToCoach"])
    assert codes == ["FC307", "FC308"]
    codes, _ = codes_for_attribute(join, join.attributes["password"])
    assert codes == ["FC309", "FC404"]


def test_codes_for_replies_and_declarations_come_from_the_rules():
    from flowc.bxml.vocabulary import Context
    from flowc.check import codes_for_context, codes_for_declaration

    assert codes_for_context(Context.NO_BXML) == ["FC303"]
    assert codes_for_context(Context.CONFERENCE) == ["FC301", "FC311"]
    assert codes_for_declaration() == ["FC309", "FC420", "FC421", "FC422", "FC423", "FC425", "FC426"]  # rooms
