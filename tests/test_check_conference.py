"""Conference rules (FC3xx): names, the 20-call limit, one coach, webhook settings fixed by the creating call,
setting values, reply verbs, the 24-hour limit and recording options conferences ignore."""

import pytest
from flowc.core.diagnostics import Diagnostic, Severity
from flowc.semantics.project import compile_sources

# Documents holding an env() secret are only served with credentials (FC712): the application declares them.
APPLICATION = "application auth env(BANDWIDTH_CALLBACK_USER) env(BANDWIDTH_CALLBACK_PASSWORD)\n"


def check(*texts: str) -> list[Diagnostic]:
    files = {f"f{i}.flow": text.encode() for i, text in enumerate(texts)}
    return compile_sources(files).sorted_diagnostics()


def codes(*texts: str) -> list[str]:
    return [d.code for d in check(*texts)]


def only(code: str, *texts: str) -> Diagnostic:
    found = [d for d in check(*texts) if d.code == code]
    assert len(found) == 1, found
    return found[0]


def apply(text: str, diagnostic: Diagnostic) -> str:
    for edit in sorted(diagnostic.fix.edits, key=lambda e: e.span.start, reverse=True):
        text = text[: edit.span.start] + edit.new_text + text[edit.span.end :]
    return text


def join(name: str, extra: str = "") -> str:
    return f"flow main {{\n    join conference {name}{extra}\n}}\n"


# -- names -------------------------------------------------------------------------------------------------


def test_forbidden_character_is_pointed_at_with_a_fix():
    text = join('"sales team"')
    problem = only("FC304", text)
    assert problem.severity is Severity.ERROR
    assert text[problem.span.start : problem.span.end] == " "
    assert "a space" in problem.message
    assert apply(text, problem) == join('"sales-team"')
    assert codes(apply(text, problem)) == []


@pytest.mark.parametrize("name", ['"a"', '"my-conference.name_2"', '"' + "x" * 100 + '"'])
def test_valid_names(name):
    assert codes(join(name)) == []


@pytest.mark.parametrize("name, message", [
    ('""', "empty"),
    ('"' + "x" * 101 + '"', "101 characters"),
    ('"room+1"', "`+`"),
    ('"room/1"', "`/`"),
])
def test_invalid_literal_names(name, message):
    assert message in only("FC304", join(name)).message


def test_forbidden_literal_part_next_to_a_runtime_value():
    text = join('"room #{to|safe}"')
    problem = only("FC304", text)
    assert text[problem.span.start : problem.span.end] == " "
    assert problem.fix is None  # the name is only known per call


def test_caller_number_may_carry_a_plus():
    text = join('"room-{from}"')
    problem = only("FC305", text)
    assert problem.severity is Severity.WARNING
    assert text[problem.span.start : problem.span.end] == "{from}"
    assert "`+`" in problem.message and "checks the name again" in problem.notes[0]
    assert apply(text, problem) == join('"room-{from|safe}"')
    assert codes(apply(text, problem)) == []


def test_a_whole_value_slot_gets_a_quoted_fix():
    text = join("$from")
    assert apply(text, only("FC305", text)) == join('"{from|safe}"')


@pytest.mark.parametrize("name", ['"room-{from|digits}"', '"room-{callId}"', '"{to|safe}"', "hook(room)",
                                  '"room-{unknownField}"'])
def test_runtime_values_that_fit(name):
    assert [c for c in codes(join(name)) if c in ("FC304", "FC305", "FC306")] == []


def test_digits_pressed_can_contain_star_and_hash():
    assert "`#` `*`" in only("FC305", join('"menu-{digits}"')).message


def test_expanded_length_is_bounded_by_the_value_shape():
    problem = only("FC306", join('"support-queue-{tag|safe}"'))
    assert "270" in problem.message  # 14 literal characters + a tag of up to 256
    assert codes(join('"' + "x" * 84 + '{to|safe}"')) == []  # 84 + 16 = 100
    assert "FC306" in codes(join('"' + "x" * 85 + '{to|safe}"'))


def test_literal_part_alone_too_long_is_an_error_even_with_runtime_parts():
    assert "FC304" in codes(join('"' + "x" * 101 + '{to|safe}"'))


def test_declared_conference_name_is_checked_once():
    text = 'conference sales "sales team" { }\nflow a {\n    join sales\n}\nflow b {\n    join sales\n}\n'
    assert codes(text) == ["FC304"]


# -- the 20-call limit and coaching --------------------------------------------------------------------------


def coach(count: int, room: str = '"training"', flow: str = "main") -> str:
    ids = ", ".join(f'"c-{i}"' for i in range(count))
    return f"flow {flow} {{\n    join conference {room} as coach of {ids}\n}}\n"


def test_coach_with_nineteen_calls_fits():
    assert codes(coach(19)) == []


def test_coach_with_twenty_calls_cannot_fit():
    problem = only("FC307", coach(20))
    assert "21 calls" in problem.message and problem.severity is Severity.ERROR
    assert any("does not add" in note for note in problem.notes)


def test_two_flows_coaching_the_same_conference():
    problem = only("FC308", coach(1, flow="lead"), coach(1, flow="backup"))
    assert problem.severity is Severity.WARNING
    assert problem.span.file == "f1.flow" and problem.labels[0].span.file == "f0.flow"
    assert "flow `lead`" in problem.labels[0].message


def test_coaches_of_different_conferences_are_fine():
    assert codes(coach(1, '"room-a"', "a"), coach(1, '"room-b"', "b")) == []


def test_one_flow_may_coach_from_several_branches():
    text = ('flow main {\n    when digits "1" { join conference "t" as coach of "c-1" }\n'
            '    join conference "t" as coach of "c-2"\n}\n')
    assert codes(text) == []


def test_declared_conference_coached_from_two_flows():
    text = ('conference training { }\nflow a {\n    join training as coach of "c-1"\n}\n'
            'flow b {\n    join training as coach of "c-2"\n}\n')
    assert codes(text) == ["FC308"]


# -- webhook settings fixed by the creating call -------------------------------------------------------------


def test_joins_with_different_tags_point_at_each_other():
    first = 'flow agent {\n    join conference "support" tag "agent"\n}\n'
    second = 'flow customer {\n    join conference "support" tag "customer"\n}\n'
    problem = only("FC309", first, second)
    assert problem.span.file == "f1.flow" and problem.labels[0].span.file == "f0.flow"
    assert "tag" in problem.message and "declare" in problem.help.lower()


@pytest.mark.parametrize("setting, other", [
    ('events "/a"', 'events "/b"'),
    ('events "/a" method GET', 'events "/a"'),
    ('auth "u" env(P)', 'auth "v" env(P)'),
    ("timeout 5", "timeout 6"),
    ('tag "x"', ""),
])
def test_any_differing_webhook_setting_is_reported(setting, other):
    texts = [APPLICATION + f'flow a {{\n    join conference "room" {setting}\n}}\n',
             f'flow b {{\n    join conference "room" {other}\n}}\n']
    assert codes(*texts) == ["FC309"]


@pytest.mark.parametrize("setting, other", [
    ("timeout 10s", "timeout 10"),
    ('events "/a" method POST', 'events "/a"'),
    ('tag "x" mute', 'tag "x" hold'),
])
def test_equal_settings_written_differently_are_fine(setting, other):
    texts = [f'flow a {{\n    join conference "room" {setting}\n}}\n',
             f'flow b {{\n    join conference "room" {other}\n}}\n']
    assert codes(*texts) == []


def test_declared_conference_joined_everywhere_is_consistent():
    text = ('conference support "support" {\n    tag "support"\n    timeout 5\n}\n'
            'flow a {\n    join support\n}\nflow b {\n    join support mute\n}\n')
    assert codes(text) == []


def test_a_join_overriding_the_declaration_conflicts_with_the_other_joins():
    text = ('conference support "support" {\n    tag "support"\n}\n'
            'flow a {\n    join support\n}\nflow b {\n    join support tag "vip"\n}\n')
    assert codes(text) == ["FC309"]


def test_literal_join_of_a_declared_conference_name_is_compared_with_it():
    text = ('conference support "support" {\n    events "/conf"\n}\n'
            'flow a {\n    join support\n}\nflow b {\n    join conference "support"\n}\n')
    assert codes(text) == ["FC309"]


# -- setting values ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("setting, code", [
    ("method GET", None), ("method POST", None), ("method PUT", "FC202"), ("method get", "FC202"),
    ("timeout 1", None), ("timeout 25", None), ("timeout 2.5", None), ("timeout 25s", None),
    ("timeout 0.5", "FC203"), ("timeout 26", "FC203"), ("timeout 1m", "FC203"), ("timeout soon", "FC201"),
    ('tag ""', None), ('tag "' + "t" * 256 + '"', None), ('tag "' + "t" * 257 + '"', "FC204"),
    ("mute", None), ("mute false", None), ("hold true", None),
    ('events "https://example.com/conf"', None), ('events "/conf/events"', None), ('events "conf"', None),
    ('events "ftp://example.com"', "FC205"), ('events "example.com/conf"', "FC205"),
])
def test_conference_attribute_values(setting, code):
    assert codes(join('"room"', " " + setting)) == ([code] if code else [])
    declared = f'conference room {{\n    {setting}\n}}\nflow main {{\n    join room\n}}\n'
    if not setting.startswith(("mute", "hold")):
        assert codes(declared) == ([code] if code else [])


def test_fallback_credentials_without_a_fallback_url_are_unused():
    text = APPLICATION + ('conference room {\n    fallback auth "u" env(FALLBACK_PASSWORD)\n}\n'
                          'flow main {\n    join room\n}\n')
    problem = only("FC210", text)  # one phrase sets two attributes: reported once
    assert problem.severity is Severity.WARNING
    assert text[problem.span.start : problem.span.end] == 'fallback auth "u" env(FALLBACK_PASSWORD)'
    assert "fallback auth" not in apply(text, problem) and "env(FALLBACK" not in apply(text, problem)
    assert codes(apply(text, problem)) == []
    fixed = text.replace("fallback auth", 'fallback "https://backup.example.com" fallback auth')
    assert codes(fixed) == []


def test_fallback_credentials_on_a_join_with_the_url_declared_are_used():
    text = (APPLICATION + 'conference room {\n    fallback "https://backup.example.com"\n}\n'
            'flow main {\n    join room fallback auth "u" env(P)\n}\n')
    assert codes(text) == []


# -- replies to conference events ----------------------------------------------------------------------------

ALLOWED = ['play "https://cdn.example.com/a.wav"', 'say "Hello"', "start recording", "stop recording",
           "pause recording", "resume recording"]


@pytest.mark.parametrize("event", ["created", "member join", "member exit", "redirect"])
def test_conference_replies_allow_only_six_verbs(event):
    body = "\n        ".join(ALLOWED)
    assert codes(f"conference c {{\n    on {event} {{\n        {body}\n    }}\n}}\n") == []
    for verb in ["hangup", "pause 1s", 'redirect to "/x"', 'transfer +15551234567', 'join conference "x"']:
        assert codes(f"conference c {{\n    on {event} {{ {verb} }}\n}}\n") == ["FC301"], verb


@pytest.mark.parametrize("event", ["completed", "recording available"])
def test_events_that_take_no_bxml(event):
    assert codes(f'conference c {{\n    on {event} {{ say "Bye" }}\n}}\n') == ["FC303"]


def test_a_flow_named_as_conference_event_url_answers_in_conference_context():
    text = ('flow main {\n    join conference "room" events on_events\n}\n'
            'flow on_events {\n    hangup\n}\n')
    assert codes(text) == ["FC301"]


# -- 24 hours and recording options --------------------------------------------------------------------------


def test_durations_longer_than_a_conference_in_a_flow_that_joins_one():
    problem = only("FC310", 'flow main {\n    pause 25h\n    join conference "night"\n}\n')
    assert problem.severity is Severity.ERROR and "25 hours" in problem.message
    assert codes('flow main {\n    pause 24h\n    join conference "night"\n}\n') == []


def test_without_a_conference_the_attribute_range_applies():
    assert codes("flow main {\n    pause 25h\n}\n") == ["FC203"]
    assert codes("flow main {\n    pause 24h\n}\n") == []


@pytest.mark.parametrize("option", ["transcribe", "transcribe true", "multichannel", 'tag "x"',
                                    'on transcription "/t"', "detectLanguage"])
def test_recording_options_conferences_ignore(option):
    text = f"conference c {{\n    on created {{ start recording {option} }}\n}}\n"
    problem = only("FC311", text)
    assert problem.severity is Severity.WARNING and problem.fix is not None


def test_recording_options_that_apply_are_fine():
    assert codes("conference c {\n    on created { start recording format mp3 transcribe false }\n}\n") == []
    assert codes("flow main {\n    start recording transcribe multichannel\n}\n") == []


def test_one_report_per_join_lists_every_difference():
    first = 'flow a {\n    join conference "room" tag "a" timeout 5\n}\n'
    second = 'flow b {\n    join conference "room" tag "b"\n}\n'
    problem = only("FC309", first, second)
    assert "`tag`, `timeout`" in problem.message and '"a" in flow `a`' in problem.message


@pytest.mark.parametrize("where", ['conference room "r1" calbackTimeout 5 {\n}\n',
                                   'conference room "r1" {\n    calbackTimeout 5\n}\n'])
def test_misspelt_setting_of_a_declaration_gets_did_you_mean(where):
    text = where + "flow main {\n    join room\n}\n"
    problem = only("FC103", text)
    assert problem.message == "a conference declaration has no setting `calbackTimeout`"
    assert text[problem.span.start : problem.span.end] == "calbackTimeout"
    assert codes(apply(text, problem)) == []


def test_a_declaration_has_no_second_room_name():
    text = 'conference room "r1" tag "x" "r2" {\n}\nflow main {\n    join room\n}\n'
    problem = only("FC107", text)
    assert "join conference" not in problem.message and text[problem.span.start : problem.span.end] == '"r2"'


def test_a_join_overriding_a_declared_setting_is_told_to_leave_it_to_the_declaration():
    text = ('conference room "r1" {\n    tag "t"\n}\nflow a {\n    join room\n}\n'
            'flow b {\n    join room tag "other"\n}\n')
    problem = only("FC309", text)
    assert text[problem.span.start : problem.span.end] == 'tag "other"'
    assert "`room` is declared: set them on its declaration only" in problem.help
    undeclared = only("FC309", join('"r1"', ' tag "t"') + join('"r1"', ' tag "other"').replace("main", "other"))
    assert "Declare them once" in undeclared.help


def test_an_unknown_conference_event_is_underlined_whole():
    text = 'conference room {\n    on member joined {\n        say "Hi"\n    }\n}\nflow main {\n    join room\n}\n'
    problem = only("FC105", text)
    assert text[problem.span.start : problem.span.end] == "member joined"
    assert problem.help == "did you mean `on member join`?"


DECLARED_EVENTS = """flow main on answer {
    join room
}
conference room "r1" {
    events on_events
}
flow on_events {
    %s
}
"""


def test_a_flow_named_by_a_declared_conference_answers_conference_webhooks():
    # The declaration's `events` names the flow exactly as `join "r1" events on_events` would.
    assert codes(DECLARED_EVENTS % 'gather then main {\n        say "hi"\n    }') == ["FC301"]
    assert codes(DECLARED_EVENTS % 'say "hi"') == []
    assert codes(DECLARED_EVENTS.replace("events on_events", "events on_event") % 'say "hi"') == ["FC401", "FC403"]


def test_the_plan_serves_a_declared_conference_flow_with_conference_events():
    from flowc.backend.plan import plan

    compilation = compile_sources({"t.flow": (DECLARED_EVENTS % 'say "hi"').encode()})
    planned = plan(compilation.project)
    [document] = [d for d in planned.documents if d.flow == "on_events"]
    [route] = [r for r in planned.routes if r.flow == "on_events"]
    assert document.context == "conference" and "conferenceMemberJoin" in route.events
