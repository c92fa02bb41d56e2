"""Generate the statement reference of docs/language.md from the vocabulary table (compiler/data/bxml.json).

Everything between the BEGIN and END markers of docs/language.md is written by this script: for every element
of the table, its .flow keyword(s), positional arguments, block contents and attributes (every .flow spelling
-> BXML attribute, value type, unit, range, enum values, default), then a short example compiled by flowc
itself, so the BXML shown is the compiler's actual output. The text outside the markers is hand-written.

    python tools/gen_language_reference.py           # rewrite the region
    python tools/gen_language_reference.py --check   # exit 1 if the committed region is out of date

tests/test_language_docs.py runs the check, so the table, the compiler and the page cannot drift apart.
"""

from __future__ import annotations

import sys
from pathlib import Path

from flowc.bxml.vocabulary import AttributeSpec, ElementSpec, Vocabulary, describe_default, describe_value, vocabulary

DOC = Path(__file__).resolve().parent.parent / "docs" / "language.md"
BEGIN = "<!-- BEGIN GENERATED REFERENCE: tools/gen_language_reference.py writes this region; do not edit -->"
END = "<!-- END GENERATED REFERENCE -->"
CONTEXTS = ("call", "conference", "transfer-answer")
CREDENTIALS = {"username": ("auth", 0), "password": ("auth", 1),
               "fallbackUsername": ("fallback auth", 0), "fallbackPassword": ("fallback auth", 1)}

# A one-line summary of each element, and an example: the flow source shown, plus declarations compiled with it
# but not shown (flows the example names), and which emitted document to show.
SUMMARY: dict[str, str] = {
    "Bridge": "Connects the current call to another call that is already in progress, identified by its call id.",
    "Conference": "Puts the call into a conference room, by literal name or through a `conference` declaration.",
    "Forward": "Hands the call on to another phone number or SIP address at the network level.",
    "Gather": "Plays prompts and collects keypad digits, then sends them to the `then` flow.",
    "Hangup": "Ends the call.",
    "Pause": "Waits in silence.",
    "PauseRecording": "Pauses a recording started with `start recording`.",
    "ResumeRecording": "Resumes a paused recording.",
    "StopRecording": "Ends a recording started with `start recording`.",
    "StopGather": "Stops listening for digits started with `start gather`.",
    "PlayAudio": "Plays an audio file from a URL.",
    "Record": "Records the caller (optionally transcribed), then continues with the `then` flow.",
    "Redirect": "Continues the call with another flow (or the BXML at another URL).",
    "Ring": "Plays ringing to the caller, optionally without answering the call.",
    "SendDtmf": "Sends keypad tones on the call.",
    "SpeakSentence": "Speaks text with a synthetic voice; a block holds SSML items.",
    "StartGather": "Listens for digits in the background while the document goes on; digits go to a URL.",
    "StartRecording": "Starts recording the call in the background.",
    "StartStream": "Streams the call's audio to a WebSocket server.",
    "StreamParam": "A name/value pair sent to the WebSocket server when a stream starts.",
    "StopStream": "Stops a stream by its name.",
    "StartTranscription": "Starts a real-time transcription of the call.",
    "CustomParam": "A name/value pair sent with the transcription events.",
    "StopTranscription": "Stops a real-time transcription by its name.",
    "Tag": "Sets (or clears) the tag sent with every later webhook of the call.",
    "Transfer": "Calls one or more destinations and connects the first that answers to the caller.",
    "PhoneNumber": "A phone-number destination of a transfer, with its own webhooks.",
    "SipUri": "A SIP destination of a transfer or a refer.",
    "Connect": "Connects the call to a WebRTC endpoint.",
    "Endpoint": "The WebRTC endpoint that `connect` connects to.",
    "Refer": "Asks the SIP peer to take the call elsewhere (SIP REFER).",
    "break": "A pause inside spoken text.",
    "emphasis": "Speaks its text with more or less stress.",
    "lang": "Speaks its text in another language.",
    "p": "A paragraph.",
    "s": "A sentence.",
    "phoneme": "Gives the exact pronunciation of a word.",
    "prosody": "Changes pitch, speaking rate or volume.",
    "say-as": "Says how to read its text: as a date, a phone number, letter by letter ...",
    "sub": "Speaks a replacement text instead of the written one.",
}

HELPERS = {
    "after": "flow after {\n    hangup\n}\n",
    "target_after": "flow target_after {\n    hangup\n}\n",
    "menu": 'flow menu {\n    say "Menu."\n}\n',
    "saved": "flow saved {\n    hangup\n}\n",
    "whisper": 'flow whisper {\n    say "Incoming call."\n}\n',
}


def main_flow(*lines: str) -> str:
    return "flow main {\n" + "".join(f"    {line}\n" for line in lines) + "}\n"


EXAMPLES: dict[str, str] = {
    "Bridge": main_flow("bridge hook(waiting_call) then after target then target_after"),
    "Conference": main_flow('join conference "room-{to|safe}" mute callbackTimeout 10'),
    "Forward": main_flow('forward "+15557654321" from "+15551230000" timeout 20s'),
    "Gather": main_flow('gather max 1 timeout 5s repeat 2 then menu {', '    say "Press 1 for sales."', "}"),
    "Hangup": main_flow("hangup"),
    "Pause": main_flow("pause 1500ms"),
    "PauseRecording": main_flow("pause recording"),
    "ResumeRecording": main_flow("resume recording"),
    "StopRecording": main_flow("stop recording"),
    "StopGather": main_flow("stop gather"),
    # A document holding a secret is only served to requests carrying the application's credentials (FC712)
    "PlayAudio": "application auth env(BANDWIDTH_CALLBACK_USER) env(BANDWIDTH_CALLBACK_PASSWORD)\n\n"
    + main_flow('play "https://cdn.example.com/hold.mp3" username "media" password env(MEDIA_PASSWORD)'),
    "Record": main_flow('record then saved max 2m until "#" transcribe on transcription "/hooks/transcript"'),
    "Redirect": main_flow("redirect to menu method GET"),
    "Ring": main_flow("ring 3s answerCall false"),
    "SendDtmf": main_flow('send dtmf "1234#" tone 150ms'),
    "SpeakSentence": main_flow('say "Hello {from}." voice julie'),
    "StartGather": main_flow('start gather on dtmf "/hooks/dtmf"'),
    "StartRecording": main_flow('start recording multichannel format mp3 on recording "/hooks/recording"'),
    "StartStream": main_flow('start stream "wss://media.example.com/audio" name "bot" tracks both {',
                             '    param "callId" "{callId}"', "}"),
    "StreamParam": main_flow('start stream "wss://media.example.com/audio" {', '    param "account" hook(account)',
                             "}"),
    "StopStream": main_flow('stop stream "bot"'),
    "StartTranscription": main_flow('start transcription name "notes" on event "/hooks/transcription" {',
                                    '    param "caller" "{from}"', "}"),
    "CustomParam": main_flow('start transcription name "notes" {', '    param "ticket" "T-42"', "}"),
    "StopTranscription": main_flow('stop transcription "notes"'),
    "Tag": main_flow('tag "vip-{from|digits}"'),
    "Transfer": main_flow('transfer +15551234567, "sip:agent@example.com" timeout 20s then after'),
    "PhoneNumber": main_flow("transfer then after {", '    number "+15553334444" answer whisper', "}"),
    "SipUri": main_flow("transfer {", '    sip "sip:desk@pbx.example.com" uui "case=42"', "}"),
    "Connect": main_flow('connect on event "/hooks/connect" {', '    endpoint "e-1234"', "}"),
    "Endpoint": main_flow("connect {", "    endpoint hook(agent_endpoint)", "}"),
    "Refer": main_flow('refer "sip:frontdesk@pbx.example.com" then after'),
}
SSML_EXAMPLES: dict[str, str] = {
    "break": ['"Hello"', "break 500ms", '"again"'],
    "emphasis": ['emphasis level strong "really"'],
    "lang": ['lang fr-FR "bonjour"'],
    "p": ['p "A paragraph."'],
    "s": ["s {", '    "A sentence."', "}"],
    "phoneme": ['phoneme alphabet ipa ph "pɪˈkɑːn" "pecan"'],
    "prosody": ['prosody rate slow volume loud "Slowly and loudly."'],
    "say-as": ['say-as as telephone "{from}"'],
    "sub": ['sub alias "World Wide Web Consortium" "W3C"'],
}
for _tag, _items in SSML_EXAMPLES.items():
    EXAMPLES[_tag] = main_flow("say {", *("    " + item for item in _items), "}")


# -- describing the table --------------------------------------------------------------------------------------



def spellings(spec: AttributeSpec, element: ElementSpec) -> str:
    words = [f"`{alias}`" for alias in spec.aliases]
    if spec.name in CREDENTIALS and (CREDENTIALS[spec.name][0] != "fallback auth" or "fallbackUsername"
                                     in element.attributes) and "username" in element.attributes:
        phrase, index = CREDENTIALS[spec.name]
        words.append(f"`{phrase}` ({'first' if index == 0 else 'second'} value)")
    if spec.name in element.positional:
        words.insert(0, "positional")
    return ", ".join(words) or "—"


def notes(spec: AttributeSpec) -> str:
    parts = []
    if spec.events:
        parts.append("receives " + ", ".join(f"`{event}`" for event in spec.events)
                     + ("" if spec.reply_bxml else " (your code answers; no BXML)"))
    if spec.is_secret:
        parts.append("use `env(NAME)`")
    if ":" in spec.name:
        parts.append("written only as the positional value")
    if spec.status != "documented":
        parts.append(spec.status)
    return "; ".join(parts)


TEXT_WORDS = {"Conference": '"NAME"', "SendDtmf": "DIGITS", "Endpoint": "ENDPOINT-ID", "url": "URL",
              "callId": "CALL-ID", "E.164": "PHONE", "SIP URI": "SIP-URI"}


def positional_word(element: ElementSpec, target: str) -> str:
    if target == "text":
        text = element.text or {}
        word = TEXT_WORDS.get(element.name) or TEXT_WORDS.get(text.get("format") or text.get("type", ""), "TEXT")
        return word if text.get("required") else f"[{word}]"
    if target == "@children":
        return "DESTINATION, ..."
    return {"xml:lang": "LANGUAGE", "redirectUrl": "FLOW-OR-URL"}.get(target, target.upper())


def syntax(element: ElementSpec, vocab: Vocabulary) -> list[str]:
    lines = []
    for keyword in element.keywords:
        words = [keyword]
        if element.name == "Conference" and keyword == "join":
            words.append("DECLARED-NAME")
        else:
            words += [positional_word(element, target) for target in element.positional]
        if element.attributes:
            words.append("[ATTRIBUTE VALUE]...")
        block = block_description(element, vocab)
        if block:
            words.append("[{ ... }]")
        lines.append(" ".join(words))
    return lines


def block_description(element: ElementSpec, vocab: Vocabulary) -> str | None:
    if not element.children:
        return None
    keywords = ", ".join(f"`{vocab.elements[child].keyword}`" for child in element.children)
    if element.kind == "ssml" or element.name == "SpeakSentence":
        return f"text lines (`\"...\"`) and SSML items: {keywords}"
    return f"one statement per line: {keywords}"


def positional_lines(element: ElementSpec) -> list[str]:
    lines = []
    for index, target in enumerate(element.positional, 1):
        if target == "text":
            if element.name == "Conference":
                lines.append(f"{index}. the conference name, a string: the text of `<Conference>`; with the "
                             "`join NAME` form, the name of a `conference` declaration instead")
            else:
                lines.append(f"{index}. the text content of `<{element.name}>`")
        elif target == "@children":
            children = " or ".join(f"`<{child}>`" for child in element.children)
            lines.append(f"{index}. a comma list of destinations, each becoming a {children} child "
                         "(a string starting with `sip:` is a SIP URI)")
        else:
            lines.append(f"{index}. attribute `{target}`")
    return lines


def compile_example(source: str) -> dict[str, bytes]:
    from flowc.backend.build import render
    from flowc.semantics.project import compile_sources

    names = {name for name in HELPERS if f" {name}" in source}
    full = source + "".join(HELPERS[name] for name in sorted(names))
    compilation = compile_sources({"example.flow": full.encode()})
    problems = [f"{d.code} {d.message}" for d in compilation.diagnostics]
    if problems:
        raise SystemExit(f"example does not compile cleanly:\n{full}\n" + "\n".join(problems))
    _, rendered, _ = render(compilation)
    return {item.document.file: item.xml for item in rendered}


def example_lines(element: ElementSpec) -> list[str]:
    source = EXAMPLES[element.name]
    xml = compile_example(source)["flows/main.xml"].decode()
    named = sorted(name for name in HELPERS if f" {name}" in source)
    lines = ["```flow", source.rstrip("\n"), "```", ""]
    if named:
        others = "another flow" if len(named) == 1 else "other flows"
        lines[-1:] = ["", "(" + " and ".join(f"`{n}`" for n in named) + f" being {others} of the project) "
                      "compiles to `flows/main.xml`:", ""]
    else:
        lines[-1:] = ["", "compiles to `flows/main.xml`:", ""]
    return lines + ["```xml", xml, "```"]


def element_section(element: ElementSpec, vocab: Vocabulary) -> list[str]:
    keywords = " / ".join(f"`{k}`" for k in element.keywords)
    lines = [f"### {keywords} → `<{element.name}>`", "", SUMMARY[element.name]]
    if element.status != "documented":
        lines[-1] += f" Status: {element.status.split(' (')[0]}."
    if element.parents:
        lines.append("Written inside: " + ", ".join(f"`{vocab.elements[p].keyword}`" for p in element.parents)
                     + ".")
    lines += ["", "```text", *syntax(element, vocab), "```", ""]
    positional = positional_lines(element)
    if positional:
        lines += ["Positional values:", "", *positional, ""]
    block = block_description(element, vocab)
    if block:
        lines += [f"Block: {block}.", ""]
    if element.attributes:
        lines += ["| .flow | BXML attribute | value | default | notes |", "|---|---|---|---|---|"]
        for spec in element.attributes.values():
            default = f"`{describe_default(spec)}`" if spec.default is not None else ""
            lines.append(f"| {spellings(spec, element)} | `{spec.name}` | {describe_value(spec)} | {default} | "
                         f"{notes(spec)} |")
        lines.append("")
    else:
        lines += ["No attributes.", ""]
    return lines + example_lines(element) + [""]


def contexts_table(vocab: Vocabulary) -> list[str]:
    lines = ["| statement | BXML | " + " | ".join(CONTEXTS) + " |", "|---|---|" + "---|" * len(CONTEXTS)]
    for element in vocab.elements.values():
        if element.kind != "verb":
            continue
        marks = ["yes" if element.name in vocab.contexts[c] else "—" for c in CONTEXTS]
        lines.append(f"| `{element.keyword}` | `<{element.name}>` | " + " | ".join(marks) + " |")
    return lines


def generate(vocab: Vocabulary | None = None) -> str:
    vocab = vocab or vocabulary()
    lines = [BEGIN, "", "## Reference", "",
             "This section is generated from the vocabulary table (`compiler/data/bxml.json`) by "
             "`tools/gen_language_reference.py`; every example below is compiled by flowc when the page is "
             "generated. In the attribute tables, the first column lists the .flow spellings of each attribute "
             "(a dash when there is none); the BXML name in the second column always works as well. Numbers "
             "and durations are converted to the unit the attribute counts in.", "",
             "### Where each statement may be used", "",
             "A flow's documents answer ordinary call webhooks (`call`), a conference handler answers conference "
             "webhooks (`conference`), and a flow named by `answer` runs on the called party of a transfer "
             "(`transfer-answer`). The checker rejects a statement used where Bandwidth does not accept it.", "",
             *contexts_table(vocab), ""]
    groups = [("Statements", "verb"), ("Nested statements", "child"), ("SSML items (inside a `say` block)", "ssml")]
    for title, kind in groups:
        lines += [f"## {title}", ""]
        for element in vocab.elements.values():
            if element.kind == kind:
                lines += element_section(element, vocab)
    lines.append(END)
    return "\n".join(lines) + "\n"


def replace_region(text: str, region: str) -> str:
    start, end = text.find(BEGIN), text.find(END)
    if start == -1 or end == -1 or end < start:
        raise SystemExit(f"{DOC} lacks the generated-region markers")
    return text[:start] + region + text[end + len(END) + 1:]


def main(argv: list[str]) -> int:
    text = DOC.read_text()
    updated = replace_region(text, generate())
    if "--check" in argv:
        if updated != text:
            print(f"{DOC} is out of date: run python tools/gen_language_reference.py", file=sys.stderr)
            return 1
        return 0
    if updated != text:
        DOC.write_text(updated)
        print(f"updated {DOC}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
