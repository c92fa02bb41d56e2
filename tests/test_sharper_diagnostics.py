"""Issue 11, item 7: WebSocket destinations (FC213, FC214), one precise error instead of a cascade (a misspelt
statement and FC403, a malformed phone number, FC105's fix). The .xml attribute codes (FC507, FC508) are in
tests/test_lint_xml.py, the one-line summary of a clean `flowc check` in tests/test_cli.py."""

import pytest
from flowc.bxml.lint_xml import lint_sources
from flowc.core.fixes import apply_edits
from flowc.semantics.project import compile_sources


def found(text: str):
    return compile_sources({"t.flow": text.encode()}).diagnostics


def codes(text: str) -> list[str]:
    return [d.code for d in found(text)]


def fixed(text: str, code: str) -> str:
    [diagnostic] = [d for d in found(text) if d.code == code]
    return apply_edits(text, list(diagnostic.fix.edits))


@pytest.mark.parametrize("statement", ["start stream {}", "start transcription destination {}"])
def test_a_stream_destination_is_a_websocket_url(statement):
    def flow(url: str) -> str:
        return f"flow main {{\n    {statement.format(url)}\n}}\n"

    assert codes(flow('"wss://media.example.com/audio"')) == []
    assert codes(flow('"wss://media.example.com/{callId}"')) == []
    assert codes(flow('"{to}"')) == []  # the whole URL comes at run time: Bandwidth judges it
    assert codes(flow('"https://media.example.com/audio"')) == ["FC213"]
    assert codes(flow('"media.example.com/audio"')) == ["FC213"]
    assert codes(flow('"http://media.example.com/{callId}"')) == ["FC213"]
    assert codes(flow('"ws://media.example.com/audio"')) == ["FC214"]
    assert fixed(flow('"ws://media.example.com/audio"'), "FC214") == flow('"wss://media.example.com/audio"')
    assert fixed(flow('"https://media.example.com/a"'), "FC213") == flow('"wss://media.example.com/a"')


def test_websocket_destinations_in_bxml():
    def lint(destination: str) -> list[str]:
        xml = f'<Response><StartStream destination="{destination}"/></Response>'
        return [d.code for d in lint_sources({"a.xml": xml.encode()})[1]]

    assert lint("wss://m.example.com/a") == [] and lint("ws://m.example.com/a") == ["FC214"]
    assert lint("https://m.example.com/a") == ["FC213"]


def test_a_flow_named_in_a_misspelt_statement_is_not_also_never_used():
    text = ("flow main on initiate {\n    gathr max 1 then menu\n}\nflow menu {\n    hangup\n}\n"
            "flow spare {\n    hangup\n}\n")
    assert codes(text) == ["FC102", "FC403"]  # `spare` really is unused; `menu` may not be
    [unused] = [d for d in found(text) if d.code == "FC403"]
    assert "`spare`" in unused.message
    assert codes(text.replace("then menu", "thn menu").replace("gathr", "gather")) == ["FC103", "FC403"]
    declaration = text.replace("flow main", "flow entry on answer {\n    hangup\n}\nflwo main")
    assert codes(declaration) == ["FC101", "FC403"]
    assert codes(text.replace("gathr", "gather")) == ["FC403"]  # fixed: `menu` is named, `spare` still unused


@pytest.mark.parametrize("number, fix", [("+1-555-123-4567", "+15551234567"), ("1-555-123-4567", "+15551234567"),
                                         ("+1.555.123.4567", "+15551234567"), ("555-1234", None),
                                         ("+1555ABC4567", None), ("1-800-FLOWERS", None), ("+1", None)])
def test_an_unquoted_malformed_phone_number_is_one_precise_error(number, fix):
    text = f"flow main {{\n    transfer {number}\n}}\n"
    [diagnostic] = found(text)
    assert diagnostic.code == "FC212" and text[diagnostic.span.start:diagnostic.span.end] == number
    if fix is None:
        assert diagnostic.fix is None
    else:
        assert apply_edits(text, list(diagnostic.fix.edits)) == text.replace(number, fix)
        assert codes(text.replace(number, fix)) == []


def test_numbers_durations_and_words_are_read_as_before():
    assert codes("flow main {\n    pause 1.5\n    gather max 4 timeout 2s then main\n}\n") == []
    assert codes("flow main {\n    say -5\n}\n") == []


def test_an_unknown_conference_event_carries_its_fix():
    text = 'conference c {\n    on member joined { say "Hi" }\n}\n'
    assert fixed(text, "FC105") == 'conference c {\n    on member join { say "Hi" }\n}\n'
    assert codes(fixed(text, "FC105")) == []
    [diagnostic] = found('conference c {\n    on bogus { say "Hi" }\n}\n')
    assert diagnostic.code == "FC105" and diagnostic.fix is None and "member join" in diagnostic.help
