"""Flow logic (FC4xx) and the "did you mean" fixes: undefined names, unused flows, statements that never run,
statements that run only after the conference, literal passwords, misspelt statements and attributes."""

import pytest
from flowc.core.diagnostics import Diagnostic, Severity
from flowc.semantics.project import compile_sources

DECLARATION = "application auth env(BANDWIDTH_CALLBACK_USER) env(BANDWIDTH_CALLBACK_PASSWORD)\n"


def check(*texts: str) -> list[Diagnostic]:
    return compile_sources({f"f{i}.flow": t.encode() for i, t in enumerate(texts)}).sorted_diagnostics()


def codes(*texts: str) -> list[str]:
    return [d.code for d in check(*texts)]


def only(code: str, text: str) -> Diagnostic:
    found = [d for d in check(text) if d.code == code]
    assert len(found) == 1, check(text)
    return found[0]


def apply(text: str, diagnostic: Diagnostic) -> str:
    for edit in sorted(diagnostic.fix.edits, key=lambda e: e.span.start, reverse=True):
        text = text[: edit.span.start] + edit.new_text + text[edit.span.end :]
    return text


# -- unused flows --------------------------------------------------------------------------------------------


def test_without_entry_events_every_unnamed_flow_is_an_entry_point():
    assert codes('flow a {\n    say "A"\n}\nflow b {\n    say "B"\n}\n') == []


def test_with_entry_events_an_unnamed_flow_is_unused():
    text = 'flow main on initiate, answer {\n    say "Hello"\n}\nflow old_menu {\n    say "Press 1"\n}\n'
    problem = only("FC403", text)
    assert problem.severity is Severity.WARNING
    assert text[problem.span.start : problem.span.end] == "old_menu"
    assert "on initiate, answer" in problem.help
    assert codes(apply(text, problem)) == []


def test_flows_named_anywhere_are_used():
    text = ('flow main on answer {\n    gather max 1 then route { say "Press 1" }\n}\n'
            'flow route {\n    when digits "1" { redirect to one }\n    transfer +15551234567 then done\n}\n'
            'flow one {\n    hangup\n}\nflow done {\n    hangup\n}\n')
    assert codes(text) == []


def test_entry_flows_in_other_files_count():
    assert codes("flow main on initiate {\n    redirect to next\n}\n", "flow next {\n    hangup\n}\n") == []
    assert codes("flow main on initiate {\n    hangup\n}\n", "flow next {\n    hangup\n}\n") == ["FC403"]


def test_a_flow_that_only_names_itself_is_unused():
    text = 'flow main on initiate {\n    hangup\n}\nflow loop {\n    redirect to loop\n}\n'
    assert codes(text) == ["FC403"]


def test_flows_named_by_conference_handlers_are_used():
    text = ('flow main on initiate {\n    join conference "room" events conf_events\n}\n'
            'flow conf_events {\n    say "Welcome"\n}\n')
    assert codes(text) == []


# -- statements that never run -------------------------------------------------------------------------------


@pytest.mark.parametrize("verb", [
    "hangup", "forward to +15551234567", "redirect to next", 'gather max 1 then next { say "Press 1" }',
    "record then next", "transfer +15551234567 then next", 'bridge "c-1" then next',
])
def test_statements_after_a_verb_that_hands_the_call_over(verb):
    text = f'flow main {{\n    {verb}\n    say "One"\n    say "Two"\n}}\nflow next {{\n    hangup\n}}\n'
    problem = only("FC405", text)
    assert text[problem.span.start : problem.span.end] == 'say "One"\n    say "Two"'
    assert "2 statements" in problem.message
    assert problem.labels and not problem.fix.safe
    fixed = apply(text, problem)
    assert fixed == f"flow main {{\n    {verb}\n}}\nflow next {{\n    hangup\n}}\n"
    assert codes(fixed) == []


@pytest.mark.parametrize("verb", ['gather max 1 { say "Press 1" }', "record", "transfer +15551234567",
                                  'bridge "c-1"', 'play "https://cdn.example.com/a.wav"'])
def test_verbs_without_a_callback_continue_with_the_next_statement(verb):
    assert codes(f'flow main {{\n    {verb}\n    say "Next"\n}}\n') == []


def test_each_branch_is_its_own_document():
    text = 'flow main {\n    when digits "1" {\n        hangup\n        say "Dead"\n    }\n    say "Default"\n}\n'
    assert codes(text) == ["FC405"]


def test_statements_after_a_join_run_after_leaving_the_conference():
    text = 'flow main {\n    join conference "room"\n    say "Thanks"\n    hangup\n}\n'
    problem = only("FC406", text)
    assert problem.severity is Severity.INFO
    assert text[problem.span.start : problem.span.end] == 'say "Thanks"\n    hangup'
    assert "leaves" in problem.labels[0].message
    assert compile_sources({"t.flow": text.encode()}).has_errors is False


def test_a_join_followed_by_a_takeover_reports_both_parts():
    text = 'flow main {\n    join conference "room"\n    hangup\n    say "Dead"\n}\n'
    assert sorted(codes(text)) == ["FC405", "FC406"]


def test_a_join_at_the_end_is_silent():
    assert codes('flow main {\n    say "Joining"\n    join conference "room"\n}\n') == []


# -- names and fixes -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, code, fixed", [
    ("flow main {\n    redirect to biling\n}\nflow billing { hangup }\n", "FC401",
     "flow main {\n    redirect to billing\n}\nflow billing { hangup }\n"),
    ("flow main {\n    join suport\n}\nconference support { }\n", "FC402",
     "flow main {\n    join support\n}\nconference support { }\n"),
    ('flow main {\n    sya "Hi"\n}\n', "FC102", 'flow main {\n    say "Hi"\n}\n'),
    ('flow main {\n    join conference "room" calbackTimeout 5\n}\n', "FC103",
     'flow main {\n    join conference "room" callbackTimeout 5\n}\n'),
    ('flow main {\n    say "Hi" gender mal\n}\n', "FC202", 'flow main {\n    say "Hi" gender male\n}\n'),
])
def test_misspellings_have_a_machine_applicable_fix(text, code, fixed):
    problem = only(code, text)
    assert problem.fix is not None and problem.fix.safe
    assert apply(text, problem) == fixed
    assert codes(fixed) == []


def test_literal_password_suggests_env():
    text = 'flow main {\n    redirect to "https://example.com/next" auth "agent" "hunter2"\n}\n'
    problem = only("FC404", text)
    assert problem.severity is Severity.WARNING and not problem.fix.safe
    assert problem.message == "the password of `auth` is written in the file as plain text"
    assert text[problem.span.start : problem.span.end] == '"hunter2"'
    assert apply(text, problem).endswith('auth "agent" env(PASSWORD)\n}\n')
    # the password is now a secret in the document: served only with the application's credentials (FC712)
    assert codes(apply(text, problem)) == ["FC712"]
    assert codes(DECLARATION + apply(text, problem)) == []


def test_play_url_without_a_scheme():
    text = 'flow main {\n    play "cdn.example.com/a.wav"\n}\n'
    problem = only("FC205", text)
    assert apply(text, problem) == 'flow main {\n    play "https://cdn.example.com/a.wav"\n}\n'
    assert codes('flow main {\n    play "/audio/a.wav"\n}\n') == []


def test_a_branch_value_matched_by_an_earlier_branch_never_selects_it():
    text = ('flow main {\n    when digits "1" { say "a" }\n    when digits "1", "2" { say "b" }\n'
            '    when digits 2 { say "c" }\n    when from "1" { say "d" }\n}\n')
    found = [d for d in check(text) if d.code == "FC405"]
    assert [text[d.span.start : d.span.end] for d in found] == ['"1"', "2"]
    assert found[0].message.startswith("this value never selects this branch")
    assert found[1].message.startswith("this branch never runs")
    assert text[found[0].labels[0].span.start : found[0].labels[0].span.end] == '"1"'
    assert all(d.severity is Severity.WARNING for d in found)
    assert codes('flow main {\n    when digits "1", "1" { say "a" }\n    when digits "2" { say "b" }\n}\n') == []


@pytest.mark.parametrize("credentials", ['auth "agent"', "auth", 'fallback auth "agent"'])
def test_a_credential_pair_missing_its_password_says_what_it_needs(credentials):
    text = f'flow main {{\n    redirect to "https://example.com/next" {credentials}\n}}\n'
    problem = only("FC106", text)
    assert "needs two values, a user name and a password" in problem.message
    assert text[problem.span.start : problem.span.end] == credentials.removesuffix(' "agent"')


def test_flow_names_that_differ_only_in_case_are_reported():
    text = 'flow main {\n    hangup\n}\nflow Main {\n    hangup\n}\n'
    problem = only("FC111", text)
    assert "differ only in case" in problem.message and text[problem.span.start : problem.span.end] == "Main"


def test_a_bare_word_where_text_goes_is_told_to_use_quotes():
    problem = only("FC103", 'flow main {\n    say hello\n}\n')
    assert problem.help == 'text and URLs are written in double quotes: `say "hello"`'
    assert only("FC103", "flow main {\n    hangup now\n}\n").help == "`hangup` takes no attributes"
