"""Every attribute of every BXML element in the vocabulary: a valid value checks clean, and a value of the wrong
type, outside the enum, out of range or too long is reported at the value. Driven by the vocabulary table
through the BXML linter (where any element can be written directly), plus the .flow-specific limits."""

import pytest
from flowc.bxml.lint_xml import lint_sources
from flowc.bxml.vocabulary import vocabulary
from flowc.check import REQUIRED_ATTRIBUTES
from flowc.semantics.project import compile_sources

VOCAB = vocabulary()
CONTENT = {"Conference": "room", "PlayAudio": "https://cdn.example.com/a.wav", "SpeakSentence": "Hi",
           "SendDtmf": "1", "Bridge": "c-1", "PhoneNumber": "+15551234567", "SipUri": "sip:a@example.com",
           "Endpoint": "e-1", "Transfer": "<PhoneNumber>+15551234567</PhoneNumber>",
           "Connect": "<Endpoint>e-1</Endpoint>", "Refer": "<SipUri>sip:a@example.com</SipUri>"}
PARENTS = {"PhoneNumber": '<Transfer>{}</Transfer>', "SipUri": '<Transfer>{}</Transfer>',
           "StreamParam": '<StartStream destination="wss://s.example.com">{}</StartStream>',
           "CustomParam": "<StartTranscription>{}</StartTranscription>", "Endpoint": "<Connect>{}</Connect>"}


def valid(spec) -> str:
    if spec.type == "boolean":
        return "true"
    if spec.type in ("integer", "decimal"):
        return str(int(spec.min) if spec.min is not None and spec.min == int(spec.min) else spec.min or 1)
    if spec.enum:
        return spec.enum[0]
    if spec.format and spec.format.startswith("E.164"):
        return "+15551234567"
    if spec.pattern:  # SSML prosody: a named level or a relative change
        return "medium"
    if spec.websocket:
        return "wss://example.com/audio"
    return {"url": "https://example.com/hook", "csv_list": "c-1,c-2", "ssml_time": "1s"}.get(spec.type, "text")


def invalid(spec) -> list[tuple[str, str]]:
    cases = []
    if spec.type == "boolean":
        cases.append(("maybe", "FC201"))
    if spec.type in ("integer", "decimal"):
        cases.append(("many", "FC201"))
        if spec.max is not None:
            cases.append((str(spec.max + 1), "FC203"))
        if spec.min is not None:
            cases.append((str(spec.min - 1), "FC203"))
        if spec.type == "integer" and spec.max is not None:
            cases.append(("1.5", "FC201"))
    if spec.enum:
        cases.append(("not-a-choice", "FC202"))
    if spec.type == "url":
        cases += [("not a url", "FC213"), ("https://example.com/a", "FC213")] if spec.websocket else \
            [("not a url", "FC205")]
    if spec.max_length is not None:
        cases.append(("x" * (spec.max_length + 1), "FC204"))
    if spec.pattern:
        cases.append(("louder", "FC202"))
    if spec.format and spec.format.startswith("E.164") and spec.name in {"to", "from"}:  # Forward's addresses
        cases.append(("555-1234", "FC212"))
    return cases


def document(element: str, attributes: dict[str, str]) -> str:
    spec = VOCAB.elements[element]
    for name in REQUIRED_ATTRIBUTES.get(element, ()):
        attributes.setdefault(name, valid(spec.attributes[name]))
    if any(name.startswith("fallback") for name in attributes):  # fallback credentials need their URL
        url = next((n for n in spec.attributes if n.endswith("FallbackUrl")), None)
        if url:
            attributes.setdefault(url, "https://backup.example.com/hook")
    written = " ".join(f'{name}="{value}"' for name, value in attributes.items())
    content = CONTENT.get(element, "text" if spec.text is not None else "")
    tag = f"<{element} {written}>{content}</{element}>" if content else f"<{element} {written}/>"
    if spec.kind == "ssml":
        tag = f"<SpeakSentence>Hi {tag}</SpeakSentence>"
    elif element in PARENTS:
        tag = PARENTS[element].format(tag)
    return f"<Response>{tag}</Response>"


ATTRIBUTES = [(e, a) for e, spec in VOCAB.elements.items() for a in spec.attributes]
INVALID = [(e, a, value, code) for e, a in ATTRIBUTES for value, code in invalid(VOCAB.elements[e].attributes[a])]


def lint(text: str):
    return lint_sources({"doc.xml": text.encode()})[1]


@pytest.mark.parametrize("element, attribute", ATTRIBUTES, ids=lambda x: x)
def test_valid_value_is_clean(element, attribute):
    spec = VOCAB.elements[element].attributes[attribute]
    text = document(element, {attribute: valid(spec)})
    # an attribute Bandwidth's main reference does not document gets its note (FC508), and nothing else
    assert [d.code for d in lint(text)] == (["FC508"] if spec.status == "undocumented" else []), text


@pytest.mark.parametrize("element, attribute, value, code", INVALID, ids=lambda x: str(x)[:20])
def test_invalid_value_is_reported_at_the_value(element, attribute, value, code):
    text = document(element, {attribute: value})
    found = [d for d in lint(text) if d.code == code]
    assert len(found) == 1, (text, lint(text))
    assert text[found[0].span.start : found[0].span.end] == value


def test_the_table_is_covered():
    assert len(ATTRIBUTES) > 150 and len(INVALID) > 100


@pytest.mark.parametrize("element", sorted(REQUIRED_ATTRIBUTES))
def test_required_attributes(element):
    spec = VOCAB.elements[element]
    content = CONTENT.get(element, "")
    tag = f"<{element}>{content}</{element}>"
    tag = PARENTS[element].format(tag) if element in PARENTS else tag
    assert "FC211" in [d.code for d in lint(f"<Response>{tag}</Response>")]
    assert lint(document(element, {})) == [] or spec.kind == "child"


# -- counts and content, in .flow ----------------------------------------------------------------------------


def codes(text: str) -> list[str]:
    return [d.code for d in compile_sources({"t.flow": text.encode()}).diagnostics]


def numbers(count: int) -> str:
    return ", ".join(f"+1555000{i:04d}" for i in range(count))


def test_transfer_targets():
    assert codes(f"flow main {{\n    transfer {numbers(8)}\n}}\n") == []
    assert codes(f"flow main {{\n    transfer {numbers(9)}\n}}\n") == ["FC208"]
    assert codes("flow main {\n    transfer\n}\n") == ["FC208"]


@pytest.mark.parametrize("verb", ['start stream "wss://s.example.com"', 'start transcription'])
def test_stream_and_transcription_parameters(verb):
    params = "\n        ".join(f'param "k{i}" "v{i}"' for i in range(12))
    assert codes(f"flow main {{\n    {verb} {{\n        {params}\n    }}\n}}\n") == []
    params += '\n        param "k12" "v12"'
    assert codes(f"flow main {{\n    {verb} {{\n        {params}\n    }}\n}}\n") == ["FC208"]


def test_gather_repeat_times_prompts():
    prompts = "\n        ".join(['say "Press 1"'] * 4)
    assert codes(f"flow main {{\n    gather repeat 5 {{\n        {prompts}\n    }}\n}}\n") == []
    prompts += '\n        say "Press 2"'
    assert codes(f"flow main {{\n    gather repeat 5 {{\n        {prompts}\n    }}\n}}\n") == ["FC208"]


@pytest.mark.parametrize("verb", ['play', "say", "send dtmf", "bridge", 'join conference'])
def test_required_content(verb):
    assert codes(f"flow main {{\n    {verb}\n}}\n") == ["FC207"]


def test_dtmf_digits():
    assert codes('flow main {\n    send dtmf "12w34#*A,"\n}\n') == []
    assert codes('flow main {\n    send dtmf "12x"\n}\n') == ["FC202"]
    assert codes(f'flow main {{\n    send dtmf "{"1" * 51}"\n}}\n') == ["FC204"]


@pytest.mark.parametrize(("item", "code"), [("break 2", None), ("break 500ms", None), ('break "1.5s"', None),
                                            ("break 10s", None), ("break 11s", "FC203"), ("break 11", "FC203"),
                                            ('break "2x"', "FC201"), ("break 1h", "FC201"), ("break 1m", "FC201")])
def test_ssml_pause_lengths_are_seconds_or_milliseconds_up_to_ten_seconds(item, code):
    text = f"flow main {{\n    say {{\n        {item}\n    }}\n}}\n"
    found = compile_sources({"main.flow": text.encode()}).diagnostics
    assert [d.code for d in found] == ([code] if code else [])
    if code:
        assert text[found[0].span.start : found[0].span.end] == item.split(" ", 1)[1]


@pytest.mark.parametrize(("time", "code"), [("500ms", None), ("2s", None), ("2", "FC201"), ("2x", "FC201"),
                                            ("11s", "FC203")])
def test_ssml_pause_lengths_in_bxml(time, code):
    xml = f'<Response><SpeakSentence>Hi<break time="{time}"/></SpeakSentence></Response>'
    assert [d.code for d in lint_sources({"doc.xml": xml.encode()})[1]] == ([code] if code else [])


@pytest.mark.parametrize(("setting", "valid"), [
    ("rate fast", True), ('rate "150%"', True), ('pitch "+20%"', True), ('pitch "-15%"', True),
    ("pitch x-high", True), ('volume "-6dB"', True), ("volume loud", True), ("rate faster", False),
    ('volume "6"', False), ("pitch 10", False), ('rate "-50%"', False)])
def test_prosody_values_follow_their_format(setting, valid):
    text = f'flow main {{\n    say {{\n        prosody {setting} "Hello"\n    }}\n}}\n'
    found = compile_sources({"main.flow": text.encode()}).diagnostics
    assert [d.code for d in found] == ([] if valid else ["FC202"])
    if not valid:
        assert text[found[0].span.start : found[0].span.end] == setting.split(" ", 1)[1]
        name, value = setting.split(" ", 1)
        prosody = f'<prosody {name}="{value.strip(chr(34))}">Hi</prosody>'
        xml = f"<Response><SpeakSentence>{prosody}</SpeakSentence></Response>"
        assert [d.code for d in lint_sources({"doc.xml": xml.encode()})[1]] == ["FC202"]
