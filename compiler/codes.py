"""Every diagnostic code flowc can report: its title and default severity, and the page `flowc explain` shows.

docs/diagnostics.md is generated from this table (tests keep the two in sync), so a rule's explanation lives
in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

from flowc.diagnostics import Severity

E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO


@dataclass(frozen=True)
class Code:
    code: str
    severity: Severity
    title: str
    explanation: str = ""
    bad: str = ""
    good: str = ""


def _codes(*entries: Code) -> dict[str, Code]:
    return {entry.code: entry for entry in entries}


CODES: dict[str, Code] = _codes(
    # -- input and syntax ----------------------------------------------------------------------------------
    Code("FC001", E, "syntax error",
         "The text does not follow the shape of a .flow file: statements are words and values on one line, "
         "optionally followed by a `{ ... }` block, and blocks must be closed.",
         'flow main {\n    say "Hello" )\n}\n', 'flow main {\n    say "Hello"\n}\n'),
    Code("FC002", E, "file too large",
         "flowc refuses files over 2 MB: a call flow that large is almost certainly not a .flow file, and a "
         "BXML document may not exceed 64 KB anyway."),
    Code("FC003", E, "binary file",
         "The file contains NUL bytes, so it is not text. Check that the right file was passed."),
    Code("FC004", E, "invalid UTF-8",
         "A .flow file must be UTF-8 encoded. Re-save the file as UTF-8 in your editor."),
    Code("FC005", E, "unexpected character",
         "A character that cannot start any word or value. Text belongs inside double quotes.",
         'flow main {\n    say @"Hello"\n}\n', 'flow main {\n    say "Hello"\n}\n'),
    Code("FC006", E, "unterminated string",
         "A string must end with `\"` on the same line. Write `\\\"` for a quote inside a string.",
         'flow main {\n    say "Hello\n}\n', 'flow main {\n    say "Hello"\n}\n'),
    Code("FC007", E, "malformed number or duration",
         "Numbers are written 3 or 2.5; durations 500ms, 2s, 1m or 1h.",
         "flow main {\n    pause 2sec\n}\n", "flow main {\n    pause 2s\n}\n"),
    # -- declarations and statements -----------------------------------------------------------------------
    Code("FC101", E, "unknown declaration",
         "At the top of a file only `flow NAME { ... }` and `conference NAME { ... }` may appear.",
         'flwo main {\n    say "Hi"\n}\n', 'flow main {\n    say "Hi"\n}\n'),
    Code("FC102", E, "unknown statement",
         "The first words of a statement must name a BXML verb that flowc knows (say, play, join, gather ...).",
         'flow main {\n    sya "Hi"\n}\n', 'flow main {\n    say "Hi"\n}\n'),
    Code("FC103", E, "unknown attribute",
         "The word is not an attribute of this statement. Attributes may be written with their BXML name "
         "(callbackTimeout) or their .flow alias (timeout).",
         'flow main {\n    join conference "room" calbackTimeout 5\n}\n',
         'flow main {\n    join conference "room" callbackTimeout 5\n}\n'),
    Code("FC104", E, "unknown function",
         "Only `env(NAME)` (a secret read from the server's environment) and `hook(name)` (a value your own "
         "handler code computes) may be called.",
         "conference c {\n    auth secret(USER) env(PASS)\n}\n", "conference c {\n    auth env(USER) env(PASS)\n}\n"),
    Code("FC105", E, "unknown conference event",
         "A conference handler answers one of Bandwidth's conference webhooks: created, member join, member "
         "exit, completed, redirect or recording available.",
         'conference c {\n    on member joined { say "Hi" }\n}\n', 'conference c {\n    on member join { say "Hi" }\n}\n'),
    Code("FC106", E, "missing value",
         "An attribute was named without a value.",
         "flow main {\n    gather max\n}\n", "flow main {\n    gather max 4\n}\n"),
    Code("FC107", E, "unexpected value",
         "The statement has more values than it takes.",
         'flow main {\n    hangup "now"\n}\n', "flow main {\n    hangup\n}\n"),
    Code("FC108", E, "statement not allowed here",
         "The statement exists but cannot be nested where it is: for example only `say` and `play` may be "
         "prompts inside `gather`.",
         'flow main {\n    gather { hangup }\n}\n', 'flow main {\n    gather { say "Press 1" }\n}\n'),
    Code("FC110", E, "missing name", "Flows and conferences need a name so they can be referred to.",
         'flow {\n    say "Hi"\n}\n', 'flow main {\n    say "Hi"\n}\n'),
    Code("FC111", E, "duplicate name",
         "Two flows (or two conferences) have the same name in the project; names are shared by all the files "
         "compiled together.",
         'flow main { hangup }\nflow main { say "Hi" }\n', 'flow main { hangup }\nflow greet { say "Hi" }\n'),
    Code("FC112", E, "invalid runtime value in a string",
         "Inside a string, `{field}` inserts a webhook payload field at request time, optionally filtered "
         "with `{field|safe}` or `{field|digits}`. Write `{{` and `}}` for literal braces.",
         'flow main {\n    say "Hi {from"\n}\n', 'flow main {\n    say "Hi {from}"\n}\n'),
    Code("FC113", E, "misplaced block",
         "A `{ ... }` block was given to a statement that takes none, or a declaration lacks its block.",
         "flow main {\n    hangup { }\n}\n", "flow main {\n    hangup\n}\n"),
    Code("FC114", E, "malformed branch",
         "A branch is written `when FIELD VALUE[, VALUE...] { ... }` and picks a precompiled document by a "
         "webhook payload field.",
         'flow route {\n    when { say "1" }\n}\n', 'flow route {\n    when digits "1" { say "One" }\n}\n'),
    # -- values --------------------------------------------------------------------------------------------
    Code("FC201", E, "wrong type of value",
         "The value does not have the attribute's type (boolean, number, duration, text, URL, list).",
         "flow main {\n    gather max many\n}\n", "flow main {\n    gather max 4\n}\n"),
    Code("FC202", E, "value not allowed",
         "The attribute only accepts a fixed set of values.",
         'flow main {\n    say "Hi" gender mal\n}\n', 'flow main {\n    say "Hi" gender male\n}\n'),
    Code("FC203", E, "value out of range",
         "The number is outside the range Bandwidth accepts for this attribute.",
         "flow main {\n    gather max 60\n}\n", "flow main {\n    gather max 50\n}\n"),
    Code("FC204", E, "value too long",
         "The text is longer than Bandwidth accepts for this attribute (a tag holds at most 256 characters).",
         ""),
    Code("FC205", E, "invalid URL",
         "Webhook and media URLs must be absolute http(s) URLs, or relative paths where Bandwidth allows them "
         "(resolved against the URL that returned the BXML).",
         'flow main {\n    play "cdn.example.com/a.wav"\n}\n', 'flow main {\n    play "https://cdn.example.com/a.wav"\n}\n'),
    Code("FC206", E, "duplicate attribute",
         "The same attribute is set twice on one statement; only one value can reach the BXML.",
         'flow main {\n    say "Hi" gender male gender female\n}\n', 'flow main {\n    say "Hi" gender male\n}\n'),
    Code("FC207", E, "missing content",
         "The verb needs text content: what to say, the audio URL to play, the conference to join ...",
         "flow main {\n    say gender male\n}\n", 'flow main {\n    say "Hi" gender male\n}\n'),
    Code("FC208", E, "too many or too few nested elements",
         "Bandwidth bounds nested elements: a transfer has 1 to 8 destinations, a stream or transcription at "
         "most 12 parameters, and a gather's prompts times its repeat count at most 20.",
         'flow main {\n    transfer\n}\n', 'flow main {\n    transfer +15551234567\n}\n'),
    Code("FC209", E, "document too large",
         "A BXML document may be at most 64 KB; Bandwidth fails the call on a larger one.", ""),
    # -- contexts ------------------------------------------------------------------------------------------
    Code("FC301", E, "verb not allowed in a conference reply",
         "Replies to conferenceCreated, conferenceMemberJoin, conferenceMemberExit and conferenceRedirect may "
         "only use PlayAudio, SpeakSentence, StartRecording, StopRecording, PauseRecording and ResumeRecording; "
         "Bandwidth rejects the whole reply otherwise.",
         'conference c {\n    on member join { hangup }\n}\n',
         'conference c {\n    on member join { say "Welcome" }\n}\n'),
    Code("FC302", E, "verb not allowed in a transfer answer",
         "BXML answering transferAnswer runs on the called party before the calls are bridged, and may not "
         "use Bridge, Conference, Forward or Transfer.",
         'flow whisper {\n    transfer +15551234567\n}\n', 'flow whisper {\n    say "Incoming support call"\n}\n'),
    Code("FC303", E, "event takes no BXML",
         "Bandwidth ignores any body in the reply to conferenceCompleted and conferenceRecordingAvailable; "
         "a handler for them may not contain verbs.",
         'conference c {\n    on completed { say "Bye" }\n}\n', ""),
    # -- names and flow logic ------------------------------------------------------------------------------
    Code("FC401", E, "undefined flow",
         "A flow named as a callback (then, to, answer ...) must be defined in one of the files compiled "
         "together.",
         "flow main {\n    redirect to bilin\n}\nflow billing { hangup }\n",
         "flow main {\n    redirect to billing\n}\nflow billing { hangup }\n"),
    Code("FC402", E, "undefined conference",
         "`join NAME` refers to a `conference NAME { ... }` declaration, which must exist in the project. To "
         "join a conference by its literal name, write `join conference \"name\"`.",
         "flow main {\n    join suport\n}\nconference support { }\n",
         "flow main {\n    join support\n}\nconference support { }\n"),
    Code("FC404", W, "literal password",
         "A password written in a .flow file ends up in version control and in every compiled document. Read "
         "it from the server's environment with `env(NAME)` instead.",
         'conference c {\n    auth "agent" "hunter2"\n}\n', 'conference c {\n    auth "agent" env(CONF_PASSWORD)\n}\n'),
)


def code(code_id: str) -> Code:
    return CODES[code_id]
