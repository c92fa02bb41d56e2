"""Every diagnostic code flowc can report: its title and default severity, and the page `flowc explain` shows.

docs/diagnostics.md is generated from this table (tests keep the two in sync), so a rule's explanation lives
in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flowc.core.diagnostics import Diagnostic, Severity, Span

E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO  # noqa: E741


@dataclass(frozen=True)
class Code:
    code: str
    severity: Severity
    title: str
    explanation: str = ""
    bad: str = ""
    good: str = ""
    language: str = "flow"  # what the examples are written in: "flow", or "xml" for BXML lint codes
    context: str = "call"  # for xml examples: the webhook the document answers


def _codes(*entries: Code) -> dict[str, Code]:
    return {entry.code: entry for entry in sorted(entries, key=lambda entry: entry.code)}


# The examples of the business-hours codes: a declaration and a flow branching on it.
_HOURS = 'hours office in "America/New_York" {\n'
_HOURS_OFFICE = _HOURS + "    monday to friday 9:00 to 17:00\n}\n\n"
_OFFICE_FLOW = ('flow main on initiate {\n    when office open {\n        say "Connecting you."\n    }\n'
                '    otherwise {\n        say "We are closed."\n    }\n}\n')
# The receiving flow of the attempts examples (FC140, FC141, FC410)
_CHOICE = ('flow choice {\n    when digits "1" {\n        say "One."\n    }\n'
           '    otherwise {\n        say "Sorry."\n    }\n}\n')

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
    Code("FC008", E, "nesting too deep",
         "Blocks (or, in BXML, elements) are nested more than 64 levels deep. No real call flow needs that: a "
         "gather holding a say holding SSML is four levels. flowc stops there rather than risk running out of "
         "stack, and reports the block instead of checking or compiling what is inside it."),
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
         'conference c {\n    on member joined { say "Hi" }\n}\n',
         'conference c {\n    on member join { say "Hi" }\n}\n'),
    Code("FC106", E, "missing value",
         "An attribute was named without a value. Only on/off attributes (`mute`, `hold` ...) may be written "
         "alone, meaning true.",
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
         "A branch is written `when VALUE CHOICE[, CHOICE...] { ... }` and picks a precompiled document per "
         "request: VALUE is a webhook payload field (`digits`, `$tag`), a hook (`hook(after_hours)`) or an "
         "environment variable (`env(MODE)`), and each CHOICE a string, number, word or phone number compared "
         "with it as text. Branches may be written in a flow and in a conference handler (`on member join`).",
         'flow route {\n    when { say "1" }\n}\n', 'flow route {\n    when digits "1" { say "One" }\n}\n'),
    Code("FC140", E, "attempts out of range",
         "`gather ... then FLOW attempts N` asks at most N times in all before the call continues with the "
         "`exhausted` flow. N is a whole number from 1 to 10: the compiler writes one document per attempt, and a "
         "caller asked more often than that has long hung up. The fix takes the nearest bound.",
         'flow main on initiate {\n    gather max 1 then choice attempts 0 {\n        say "Press 1."\n    }\n}\n'
         + _CHOICE,
         'flow main on initiate {\n    gather max 1 then choice attempts 2 {\n        say "Press 1."\n    }\n}\n'
         + _CHOICE),
    Code("FC141", E, "attempts without a flow to count them",
         "The attempts of a `gather` are counted by the flow that receives its answers: an answer that selects "
         "none of that flow's `when` branches is a failed attempt. A gather with `attempts` therefore needs "
         "`then FLOW` (not a quoted URL), and `exhausted FLOW`, which says where the call goes after the last "
         "failed attempt, needs `attempts N`.",
         'flow main on initiate {\n    gather max 1 attempts 2 {\n        say "Press 1."\n    }\n}\n',
         'flow main on initiate {\n    gather max 1 then choice attempts 2 {\n        say "Press 1."\n    }\n}\n'
         + _CHOICE),
    Code("FC115", E, "unknown webhook event",
         "`flow NAME on EVENT, ...` names the webhooks whose reply is this flow's document. Each must be one of "
         "Bandwidth's call webhooks whose reply may carry BXML: initiate, answer, redirect, gather, "
         "transferAnswer, transferComplete, recordComplete ... A conference's webhooks are answered by "
         "`on member join { ... }` in its declaration, and a webhook whose reply carries no BXML (disconnect) "
         "cannot be answered by a flow. An unknown event is never routed nor written to the manifest.",
         'flow inbound on initate {\n    say "Hi"\n}\n', 'flow inbound on initiate {\n    say "Hi"\n}\n'),
    # -- values --------------------------------------------------------------------------------------------
    Code("FC201", E, "wrong type of value",
         "The value does not have the attribute's type (boolean, number, duration, text, URL, list).",
         "flow main {\n    gather max many\n}\n", "flow main {\n    gather max 4\n}\n"),
    Code("FC202", E, "value not allowed",
         "The attribute only accepts a fixed set of values. Voice names are matched without regard to case, and "
         "the names of Bandwidth's older voice table (such as Sophia, used in one of its examples) are accepted.",
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
    Code("FC210", W, "fallback credentials without a fallback URL",
         "`fallback auth` (fallbackUsername and fallbackPassword) is only sent to the fallback URL of the same "
         "statement. Without a fallback URL nothing ever uses these credentials, which usually means the "
         "fallback URL was forgotten or put on another statement.",
         'flow main {\n    redirect to "https://example.com/next" fallback auth "agent" env(FALLBACK_PASSWORD)\n}\n',
         'application auth env(BANDWIDTH_CALLBACK_USER) env(BANDWIDTH_CALLBACK_PASSWORD)\n\n'
         'flow main {\n    redirect to "https://example.com/next" fallback "https://backup.example.com/next" '
         'fallback auth "agent" env(FALLBACK_PASSWORD)\n}\n'),
    Code("FC211", E, "missing required attribute",
         "Some verbs cannot work without a particular attribute: `forward` needs the number to forward to, "
         "`redirect` the URL to fetch, `start stream` its WebSocket destination, `stop stream` the stream's "
         "name, stream and transcription parameters a name and a value, and `start gather` the URL its digits "
         "are sent to.",
         "flow main {\n    start stream\n}\n", 'flow main {\n    start stream "wss://stream.example.com"\n}\n'),
    Code("FC212", E, "malformed phone number or SIP URI",
         "Bandwidth dials exactly what the document says. A phone number must be in E.164 form: a `+`, the "
         "country code and the number, up to 15 digits and nothing else (+15551234567). A SIP address must "
         "start with `sip:` (or `sips:`). Anything else fails the transfer or forward during the call.",
         'flow main {\n    transfer "1-555-123-4567"\n}\n', 'flow main {\n    transfer +15551234567\n}\n'),
    Code("FC213", E, "not a WebSocket URL",
         "Bandwidth sends a media stream (`start stream`) or a real-time transcription (`start transcription`) "
         "over a WebSocket, so the destination must be a `wss://` URL; an `https://` address is refused when the "
         "verb runs, and the call goes on without the stream.",
         'flow main {\n    start stream "https://media.example.com/audio"\n}\n',
         'flow main {\n    start stream "wss://media.example.com/audio"\n}\n'),
    Code("FC214", W, "unencrypted WebSocket URL",
         "A `ws://` destination streams the call's audio or transcript unencrypted across the internet. Use "
         "`wss://` unless the server is on a network you trust.",
         'flow main {\n    start stream "ws://media.example.com/audio"\n}\n',
         'flow main {\n    start stream "wss://media.example.com/audio"\n}\n'),
    # -- business hours (`hours NAME in ZONE { ... }`) -------------------------------------------------------
    Code("FC250", E, "malformed business hours",
         "A line of an `hours` declaration is one of three: opening hours (`monday to friday 9:00 to 17:00`, "
         "several ranges comma-separated), `closed DATE[, DATE...]` or `override hook(name)`; the declaration "
         "itself names its time zone, `hours NAME in \"ZONE\"`. Days are `monday` ... `sunday` (or `mon` ... "
         "`sun`), `daily`, `weekdays` and `weekends`; `friday to monday` runs over the weekend.",
         _HOURS + "    mondy to friday 9:00 to 17:00\n}\n", _HOURS + "    monday to friday 9:00 to 17:00\n}\n"),
    Code("FC251", E, "unknown time zone",
         "The web app reads the time in the declared zone with Python's zoneinfo (the IANA time zone "
         "database), so the zone must be one of its names, such as `America/New_York` or `Europe/Paris` "
         "(spelt exactly, with its capitals). An abbreviation such as `EST` is not a zone: it does not follow "
         "daylight saving time.",
         'hours office in "America/NewYork" {\n    monday to friday 9:00 to 17:00\n}\n',
         _HOURS + "    monday to friday 9:00 to 17:00\n}\n"),
    Code("FC252", E, "invalid time of day",
         "Times are written HOURS:MINUTES on a 24-hour clock, from `0:00` to `24:00` (`24:00` only as the end "
         "of a range: open until midnight).",
         _HOURS + "    monday to friday 9:00 to 17:60\n}\n", _HOURS + "    monday to friday 9:00 to 18:00\n}\n"),
    Code("FC253", E, "invalid date",
         "`closed` takes dates written YYYY-MM-DD that are in the calendar: `2026-02-30` is not.",
         _HOURS + "    monday to friday 9:00 to 17:00\n    closed 2026-02-30\n}\n",
         _HOURS + "    monday to friday 9:00 to 17:00\n    closed 2026-02-28\n}\n"),
    Code("FC254", E, "empty opening range",
         "A range is open from its start up to its end on the same day, so its end must come after its start. "
         "Hours past midnight are two ranges: `friday 22:00 to 24:00` and `saturday 0:00 to 2:00`.",
         _HOURS + "    friday 22:00 to 2:00\n}\n",
         _HOURS + "    friday 22:00 to 24:00\n    saturday 0:00 to 2:00\n}\n"),
    Code("FC255", E, "overlapping opening hours",
         "Two ranges of the same declaration cover the same time on the same day: one of them is wrong (a "
         "typing slip in a time or a day), since the hours open once either way. Merge them or correct one.",
         _HOURS + "    monday to friday 9:00 to 13:00\n    monday 12:00 to 17:00\n}\n",
         _HOURS + "    monday to friday 9:00 to 13:00\n    monday 13:00 to 17:00\n}\n"),
    Code("FC256", E, "unknown business-hours state",
         "A branch on business hours is `when NAME open { ... }` or `when NAME closed { ... }`: the web app "
         "computes one of these two per request, so any other value never matches.",
         _HOURS_OFFICE + _OFFICE_FLOW.replace("open {", "opne {"),
         _HOURS_OFFICE + _OFFICE_FLOW),
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
         'flow main {\n    transfer then done {\n        number "+15551234567" answer whisper\n    }\n}\n'
         'flow whisper {\n    transfer +15557654321\n}\nflow done { hangup }\n',
         'flow main {\n    transfer then done {\n        number "+15551234567" answer whisper\n    }\n}\n'
         'flow whisper {\n    say "Incoming support call"\n}\nflow done { hangup }\n'),
    Code("FC303", E, "event takes no BXML",
         "Bandwidth ignores any body in the reply to conferenceCompleted and conferenceRecordingAvailable; "
         "a handler for them may not contain verbs.",
         'conference c {\n    on completed { say "Bye" }\n}\n',
         'conference c {\n    on member exit { say "Bye" }\n}\n'),
    Code("FC304", E, "invalid conference name",
         "Bandwidth accepts conference names of 1 to 100 characters made of letters, digits, `-`, `_` and `.`. "
         "A space, a `+` or any other character makes the join fail during the call. For names built from "
         "runtime values, the literal parts are checked here and the whole name is checked again by the "
         "generated handler when the call arrives.",
         'flow main {\n    join conference "sales team"\n}\n', 'flow main {\n    join conference "sales-team"\n}\n'),
    Code("FC305", W, "runtime value may put forbidden characters in a conference name",
         "A value inserted into a conference name when the call arrives can carry characters that conference "
         "names may not contain: a caller's number starts with `+`, digits pressed can include `*` and `#`, "
         "a tag can hold anything. Filter the value: `{from|safe}` keeps only letters, digits, `-`, `_` and "
         "`.`; `{from|digits}` keeps only digits.",
         'flow main {\n    join conference "room-{from}"\n}\n',
         'flow main {\n    join conference "room-{from|safe}"\n}\n'),
    Code("FC306", W, "conference name may be longer than 100 characters",
         "Where the shape of a runtime value is known (a phone number has at most 16 characters, a call id about "
         "50, a tag up to 256), flowc adds up the longest name the join can produce. If it can pass 100 "
         "characters, some calls will fail to join; shorten the literal part or use a shorter value.",
         'flow main {\n    join conference "support-queue-{tag|safe}"\n}\n',
         'flow main {\n    join conference "support-queue-{to|safe}"\n}\n'),
    Code("FC307", E, "coach list cannot fit in a conference",
         "A conference holds at most 20 calls. A coach counts as one of them, and every call it coaches must "
         "also be in the conference to be coached. Note that coaching does not add the listed calls: each of "
         "them still joins with its own `join`. A coach with more than 19 calls to coach can never have all "
         "of them in the room.",
         'flow main {\n    join conference "training" as coach of "c-1", "c-2", "c-3", "c-4", "c-5", "c-6", '
         '"c-7", "c-8", "c-9", "c-10", "c-11", "c-12", "c-13", "c-14", "c-15", "c-16", "c-17", "c-18", "c-19", '
         '"c-20"\n}\n',
         'flow main {\n    join conference "training" as coach of "c-1", "c-2", "c-3"\n}\n'),
    Code("FC308", W, "more than one coach for a conference",
         "A conference can have only one coach at a time (the coach may leave and come back). When several flows "
         "can join the same conference as coach, two of them may be in it at once. Make sure only one of them "
         "can run per conference, or merge them. Coaching does not add the coached calls to the conference.",
         'flow lead {\n    join conference "training" as coach of "c-1"\n}\n'
         'flow backup {\n    join conference "training" as coach of "c-2"\n}\n',
         'flow lead {\n    join conference "training" as coach of "c-1"\n}\n'
         'flow trainee {\n    join conference "training"\n}\n'),
    Code("FC309", W, "conflicting conference webhook settings",
         "The event URL, its method, fallback, credentials, tag and callback timeout of a conference are taken "
         "from the call that creates it. Any other join that sets different values is silently ignored by "
         "Bandwidth, so which settings apply depends on who calls first. Declare the settings once with "
         "`conference NAME \"name\" { ... }` and join with `join NAME`.",
         'flow agent {\n    join conference "support" tag "agent"\n}\n'
         'flow customer {\n    join conference "support" tag "customer"\n}\n',
         'conference support "support" {\n    tag "support"\n}\n'
         'flow agent {\n    join support\n}\nflow customer {\n    join support mute\n}\n'),
    Code("FC310", E, "longer than a conference can last",
         "A conference ends after at most 24 hours. In a conference reply, or in a flow that puts its call into "
         "a conference, a duration longer than that cannot fit in the conference's lifetime and is almost "
         "certainly a unit mistake (`25h` meant as `25s`). Elsewhere the attribute's own range applies.",
         'flow main {\n    pause 25h\n    join conference "night-shift"\n}\n',
         'flow main {\n    pause 2s\n    join conference "night-shift"\n}\n'),
    Code("FC311", W, "recording option ignored in a conference",
         "Conference recordings are always single-channel and are never transcribed, and the recording "
         "webhooks carry the conference's tag. `transcribe`, `detectLanguage`, the transcription URL, "
         "`multichannel` and `tag` on `start recording` in a conference reply have no effect.",
         'conference c {\n    on created { start recording transcribe }\n}\n',
         'conference c {\n    on created { start recording format mp3 }\n}\n'),
    # -- names and flow logic ------------------------------------------------------------------------------
    Code("FC401", E, "undefined flow",
         "A flow named as a callback (then, to, answer ...) must be defined in one of the files compiled "
         "together.",
         "flow main {\n    redirect to biling\n}\nflow billing { hangup }\n",
         "flow main {\n    redirect to billing\n}\nflow billing { hangup }\n"),
    Code("FC402", E, "undefined conference",
         "`join NAME` refers to a `conference NAME { ... }` declaration, which must exist in the project. To "
         "join a conference by its literal name, write `join conference \"name\"`.",
         "flow main {\n    join suport\n}\nconference support { }\n",
         "flow main {\n    join support\n}\nconference support { }\n"),
    Code("FC403", W, "unused flow",
         "Once any flow declares the events it answers (`flow main on initiate, answer { ... }`), the project's "
         "entry points are known, and a flow that has no `on` and that no other statement names (as `then`, "
         "`to`, `answer` ...) can never run. Without any `on` in the project, every flow nobody names is "
         "taken to be an entry point and this check is off.",
         'flow main on initiate, answer {\n    say "Hello"\n}\nflow old_menu {\n    say "Press 1"\n}\n',
         'flow main on initiate, answer {\n    redirect to menu\n}\nflow menu {\n    say "Press 1"\n}\n'),
    Code("FC405", W, "statement never runs",
         "Some verbs hand the call over: `hangup` and `forward` end it, `redirect` and a `gather`, `record`, "
         "`transfer`, `bridge` or `refer` with a `then` callback replace the rest of the document with the "
         "BXML their webhook returns. Statements after them in the same block never run. Likewise a `when` "
         "value that an earlier branch of the same flow already lists never selects its branch: the web app "
         "serves the first branch that matches.",
         'flow main {\n    hangup\n    say "Goodbye"\n}\n', 'flow main {\n    say "Goodbye"\n    hangup\n}\n'),
    Code("FC410", W, "attempts that are never asked again",
         "An attempt fails when its answer selects no `when` branch of the flow receiving it; the reply is then "
         "that flow's default statements (its `otherwise` block) followed by the same gather, asking the next "
         "attempt. When the flow has no `when` branch every answer fails, good or not; when its default "
         "statements hand the call over (`redirect`, `hangup` ...), the gather after them never runs. Keep the "
         "default statements to what to say after a wrong answer.",
         'flow main on initiate {\n    gather max 1 then choice attempts 2 {\n        say "Press 1."\n    }\n}\n'
         'flow choice {\n    when digits "1" {\n        say "One."\n    }\n    otherwise {\n'
         '        redirect to main\n    }\n}\n',
         'flow main on initiate {\n    gather max 1 then choice attempts 2 {\n        say "Press 1."\n    }\n}\n'
         + _CHOICE),
    # -- rooms (conferences with a policy: backend.rooms, check.rooms) ----------------------------------------
    Code("FC120", E, "malformed room policy line",
         "A conference block may hold policy lines that flowc compiles onto Bandwidth (the Rooms section of "
         "docs/language.md): `role NAME KIND [of ROLE]`, `wait for host play \"URL\"`, `max N else FLOW`, "
         "`limit 30m warn 1m \"TEXT\"`, `tone join|exit \"URL\" [for ROLE]`, `end when [any] host leaves`, "
         "`key \"*6\" ACTION [for ROLE]`. This line starts like one of them but does not have its form.",
         'conference standup {\n    max five\n}\n\nflow main {\n    join standup as host\n}\n',
         'conference standup {\n    max 5\n}\n\nflow main {\n    join standup as host\n}\n'),
    Code("FC121", E, "unknown role",
         "`join ROOM as ROLE` gives the member a role of the room: host (or moderator), member, coach, listener, "
         "or a role the room declares with `role NAME KIND`. Roles only mean something in a room, a conference "
         "declared with policy lines.",
         'conference standup {\n    end when host leaves\n}\n\nflow main {\n    join standup as hots\n}\n',
         'conference standup {\n    end when host leaves\n}\n\nflow main {\n    join standup as host\n}\n'),
    Code("FC420", E, "room cap above Bandwidth's 20",
         "A Bandwidth conference holds at most 20 calls, muted, held and the coach included; a cap above that "
         "can never be reached, and the 21st caller would be turned away by Bandwidth instead of the room's "
         "overflow flow.",
         'conference standup {\n    max 25\n}\n\nflow main {\n    join standup as host\n}\n',
         'conference standup {\n    max 20\n}\n\nflow main {\n    join standup as host\n}\n'),
    Code("FC421", E, "room cap below the roles it needs at once",
         "The cap counts every member. A room that waits for a host (or ends with one) needs the host in it, a "
         "room with a coach needs the coach, and both need someone else: a cap below that number can never "
         "hold the meeting it describes.",
         'conference standup {\n    max 1\n    end when host leaves\n}\n\nflow host {\n    join standup as host\n'
         '}\n\nflow guest {\n    join standup as member\n}\n',
         'conference standup {\n    max 2\n    end when host leaves\n}\n\nflow host {\n    join standup as host\n'
         '}\n\nflow guest {\n    join standup as member\n}\n'),
    Code("FC422", E, "a second coach role",
         "Bandwidth lets a conference have one coach at a time (`callIdsToCoach` on one member). Two coach roles "
         "would put two coaches in one room; the second would be refused.",
         'conference desk {\n    role supervisor coach of agent\n    role trainer coach of agent\n    '
         'role agent host\n}\n\nflow main {\n    join desk as agent\n}\n',
         'conference desk {\n    role supervisor coach of agent\n    role trainer listener\n    '
         'role agent host\n}\n\nflow main {\n    join desk as agent\n}\n'),
    Code("FC423", E, "no role can open or end the room",
         "The room waits for a host, or ends when its host leaves, but none of its joins gives a host role: "
         "its callers would wait for ever, or the room would never end.",
         'conference standup {\n    end when host leaves\n}\n\nflow main {\n    join standup as member\n}\n',
         'conference standup {\n    end when host leaves\n}\n\nflow main {\n    join standup as host\n}\n'),
    Code("FC424", E, "audio to one member cannot be built",
         "Everything a Bandwidth conference plays (the replies to its webhooks, its BXML endpoint) is heard by "
         "every member, and the v2 API has no audio for one member (the v1 API had it). Taking the member out to "
         "play it and putting it back would be heard as a gap and as an exit and a join. Say it in the member's "
         "own flow before it joins, or to the whole room.",
         'conference standup {\n    end when host leaves\n    on member join {\n        say "Welcome." to member\n'
         '    }\n}\n\nflow main {\n    join standup as host\n}\n',
         'conference standup {\n    end when host leaves\n    on member join {\n        say "Welcome."\n'
         '    }\n}\n\nflow main {\n    join standup as host\n}\n'),
    Code("FC425", E, "time limit beyond 24 hours",
         "Bandwidth ends every conference after 24 hours, so a longer limit never applies; and a warning must "
         "come before the limit.",
         'conference standup {\n    limit 25h\n}\n\nflow main {\n    join standup as host\n}\n',
         'conference standup {\n    limit 24h\n}\n\nflow main {\n    join standup as host\n}\n'),
    Code("FC426", E, "a room some join would create without the app's event URL",
         "A conference's webhook settings come only from the document that creates it; later joins' are ignored. "
         "A room's policy runs on its events, so every join that can create it must send the app's event URL: "
         "join it by its declared name, without an `events` of its own.",
         'conference standup "standup" {\n    end when host leaves\n}\n\nflow host {\n    join standup as host\n}\n\n'
         'flow guest {\n    join conference "standup"\n}\n',
         'conference standup "standup" {\n    end when host leaves\n}\n\nflow host {\n    join standup as host\n}\n\n'
         'flow guest {\n    join standup\n}\n'),
    Code("FC427", W, "audio that holds up the room's tones",
         "A conference plays its audio one item after another, never overlapping. Audio a handler plays into the "
         "room (above all the lobby's music) delays every join tone and the time-limit warning queued after it.",
         'conference standup {\n    tone join "https://cdn.example.com/beep.wav"\n    on created {\n        '
         'play "https://cdn.example.com/welcome.mp3"\n    }\n}\n\nflow main {\n    join standup as host\n}\n',
         'conference standup {\n    tone join "https://cdn.example.com/beep.wav"\n}\n\nflow main {\n    '
         'join standup as host\n}\n'),
    Code("FC406", I, "runs only after the call leaves the conference",
         "`join` keeps the call in the conference until it leaves (the caller hangs up, the call is redirected "
         "or the conference ends). The statements after it only run then, not while the call is in the "
         "conference. This is information, so the order is not a surprise.",
         'flow main {\n    join conference "room"\n    say "Thanks for joining"\n}\n',
         'flow main {\n    say "Thanks for joining"\n    join conference "room"\n}\n'),
    Code("FC404", W, "literal password",
         "A password written in a .flow file ends up in version control and in every compiled document. Read "
         "it from the server's environment with `env(NAME)` instead.",
         'conference c {\n    auth "agent" "hunter2"\n}\n',
         'conference c {\n    auth "agent" env(CONF_PASSWORD)\n}\n'),
    # -- BXML (.xml) lint ----------------------------------------------------------------------------------
    Code("FC501", E, "malformed XML",
         "The file is not well-formed XML, so Bandwidth cannot read it at all. Common causes: a bare `&` (write "
         "`&amp;`), a `<` in text (write `&lt;`), a tag closed in the wrong order, or a missing `/` in an empty "
         "element.",
         '<Response>\n    <SpeakSentence>Tom & Jerry</SpeakSentence>\n</Response>\n',
         '<Response>\n    <SpeakSentence>Tom &amp; Jerry</SpeakSentence>\n</Response>\n', language="xml"),
    Code("FC502", E, "unknown BXML element",
         "The element is not a BXML verb or a nested element flowc knows. Element names are case-sensitive.",
         '<Response>\n    <SpeakSentance>Hello</SpeakSentance>\n</Response>\n',
         '<Response>\n    <SpeakSentence>Hello</SpeakSentence>\n</Response>\n', language="xml"),
    Code("FC503", W, "unknown BXML attribute",
         "The attribute does not exist on this element, so it has no effect. It may be one Bandwidth added after "
         "flowc's vocabulary was written, hence a warning; a name one edit from a real attribute is a typo "
         "(FC507). One spelling from Bandwidth's published examples is read as the documented attribute: "
         "`streamEventsUrl` on <StartStream> (the reference calls it `streamEventUrl`).",
         '<Response>\n    <Conference musicOnHold="true">room</Conference>\n</Response>\n',
         '<Response>\n    <Conference hold="true">room</Conference>\n</Response>\n', language="xml"),
    Code("FC504", E, "wrong root element",
         "A BXML document is a single `<Response>` element (`<Bxml>` is accepted too) that contains the verbs.",
         '<Document>\n    <Hangup/>\n</Document>\n', '<Response>\n    <Hangup/>\n</Response>\n', language="xml"),
    Code("FC505", E, "element not allowed here",
         "The element exists but cannot be nested where it is: verbs go directly in `<Response>`, only "
         "`<SpeakSentence>` and `<PlayAudio>` may be prompts in `<Gather>`, `<PhoneNumber>` and `<SipUri>` "
         "belong in `<Transfer>`, SSML tags in `<SpeakSentence>`.",
         '<Response>\n    <Gather gatherUrl="/next">\n        <Hangup/>\n    </Gather>\n</Response>\n',
         '<Response>\n    <Gather gatherUrl="/next">\n        <SpeakSentence>Press 1</SpeakSentence>\n'
         '    </Gather>\n</Response>\n', language="xml"),
    Code("FC506", W, "text where none is expected",
         "The element takes no text content (or text was written directly in `<Response>`); it is not spoken "
         "or used. Put words to speak in a `<SpeakSentence>`.",
         '<Response>\n    <Hangup>now</Hangup>\n</Response>\n', '<Response>\n    <Hangup/>\n</Response>\n',
         language="xml"),
    Code("FC507", E, "misspelt BXML attribute",
         "The attribute is one edit (a letter missing, added, changed or in the wrong case) from a real attribute "
         "of this element. Bandwidth drops an attribute it does not know without a word, so the setting would "
         "silently not apply. Bandwidth's own Conference page spells `calbackTimeout`; the attribute is "
         "`callbackTimeout`.",
         '<Response>\n    <Conference calbackTimeout="5">room</Conference>\n</Response>\n',
         '<Response>\n    <Conference callbackTimeout="5">room</Conference>\n</Response>\n', language="xml"),
    Code("FC508", I, "undocumented BXML attribute",
         "The attribute is not in Bandwidth's main BXML reference: flowc knows it from newer documentation pages "
         "or Bandwidth's SDKs. It is checked like any other, but verify that Bandwidth honours it before relying "
         "on it.",
         '<Response>\n    <Gather input="speech" gatherUrl="/next"/>\n</Response>\n',
         '<Response>\n    <Gather gatherUrl="/next"/>\n</Response>\n', language="xml"),
    # -- flowc import (BXML -> .flow) ----------------------------------------------------------------------
    Code("FC601", E, "document part that .flow cannot express",
         "`flowc import` writes a .flow that compiles back to the same document, so it refuses what .flow has "
         "no way to write: an attribute in an XML namespace or on the root element. Such attributes have no "
         "effect on Bandwidth anyway; remove them from the document and import it again. No .flow is printed. "
         "(An attribute flowc does not know is carried over, as `unknown NAME \"VALUE\"`: `flowc check` only "
         "warns about it, FC503. What `flowc check` rejects, such "
         "as an on/off attribute that is neither `true` nor `false`, is refused with the checker's own code.)",
         '<Response xmlns:x="urn:x">\n    <Hangup x:flag="1"/>\n</Response>\n',
         '<Response>\n    <Hangup/>\n</Response>\n', language="xml"),
    Code("FC602", W, "imported flow differs from the document",
         "The document was imported, but the flow compiles to a slightly different document: an attribute "
         "spelt as in one of Bandwidth's published examples (`streamEventsUrl`) is written under its documented "
         "name (`streamEventUrl`), a namespaced root loses its namespace, a number is written in flowc's "
         "spelling (`10.0` as `10`), and text in an element that takes none (`<Hangup>now</Hangup>`, FC506), "
         "which Bandwidth ignores, is left out. Bandwidth reads both documents the same. (A `<Bxml>` root is "
         "kept: the flow is written `flow NAME as bxml`.)",
         '<Response>\n    <StartStream destination="wss://media.example.com/audio" streamEventsUrl="/events"/>\n'
         '</Response>\n',
         '<Response>\n    <StartStream destination="wss://media.example.com/audio" streamEventUrl="/events"/>\n'
         '</Response>\n', language="xml"),
    Code("FC603", E, "imported flow would not compile back",
         "`flowc import` compiles the flow it wrote and compares the result with the document before printing "
         "anything: it never prints a flow that fails to compile or compiles to another document. The "
         "document's own mistakes are reported first with their usual codes (a value Bandwidth rejects is "
         "FC202 in the document too, and the import refuses it); FC603 means the import could not write this "
         "document faithfully, and names the difference. Please report the document: it is a gap in "
         "`flowc import`."),
    # -- the generated web app and your hooks module (flowc compile) ----------------------------------------
    Code("FC701", W, "hook missing from the hooks module",
         "A flow uses `hook(name)`, a value your own code computes per request, but the hooks module the web app "
         "imports (hooks.py beside OUT, or the file named by FLOWC_HOOKS) has no function of that name. flowc "
         "writes that module once and never edits it, so after adding a hook to the flows, add the function "
         "yourself; the message shows its signature. Until then, requests that need the value are answered "
         "501."),
    Code("FC702", W, "unused function in the hooks module",
         "Every public top-level function of the hooks module is a hook: a value a flow uses with "
         "`hook(name)`, or `on_<event>` called when such a webhook arrives. This one matches neither any "
         "more, usually because a flow changed. Remove it, or start its name with `_` if it is a helper."),
    Code("FC703", I, "hooks module created",
         "The flows use hooks (or receive events your code may want to observe) and there was no hooks module "
         "yet, so flowc wrote one with a typed stub for each. It is yours from now on: later builds never "
         "change it, and report missing or unused hooks instead."),
    Code("FC704", W, "hooks module cannot be read",
         "The hooks module has a Python syntax error, so flowc cannot tell which hooks it defines, and the web "
         "app will fail to start. Fix the error; the hooks are checked again on the next build."),
    Code("FC705", W, "webhook credentials the web app cannot check",
         "A username or password for a webhook is computed per request (`hook(name)` or a payload field). "
         "Bandwidth sends it back with the webhook, but the generated app cannot know which value to expect, so "
         "it serves that URL without checking any credentials (or, when another statement reaching the same URL "
         "declares credentials it can check, accepts only those and refuses these). Use a literal username and "
         "`env(NAME)` for the password when the route must be protected."),
    Code("FC706", W, "webhook sent without the credentials its route requires",
         "Several statements name the same flow as a callback (or the same URL for webhooks that take no BXML), "
         "and some declare credentials (`auth ...`) while this one declares none. The generated app serves one "
         "route per flow or URL, and it requires the declared "
         "credentials on every request, so the webhook this statement causes arrives without them and is "
         "refused (401), which fails the call. Declare the same credentials on every statement that reaches the "
         "flow."),
    Code("FC711", W, "route served without credentials",
         "Every route of the generated web app (a flow, a conference's events, a URL for webhooks that take no "
         "BXML) answers whoever calls it unless it requires credentials. Bandwidth sends Basic credentials with "
         "a webhook when the statement declares them (`auth USER PASSWORD`), and with the application's own "
         "callbacks (initiate, answer, disconnect ...) when the Bandwidth application is given callback "
         "credentials. Declare those once for the project with `application auth USER PASSWORD`: every route "
         "then requires them, and flowc sends them with every statement's webhooks to this app that declares "
         "none of its own. An open route reveals its documents (the call flow, phone numbers, the names of "
         "hooks) and runs your hooks for anyone. Reported by `flowc compile`, which builds the web app."),
    Code("FC712", E, "secret served on a route without credentials",
         "A document holds a secret, an `env()` value (for example the credentials a conference's "
         "webhooks send), and the route that serves it requires no credentials, so anyone who finds the URL reads "
         "the secret. Declare the application's callback credentials (`application auth USER PASSWORD`) or "
         "`auth` on every statement that reaches the route.",
         'flow main on initiate {\n    redirect to "/next" auth "bw" env(REDIRECT_PASSWORD)\n}\n',
         'application auth env(BANDWIDTH_CALLBACK_USER) env(BANDWIDTH_CALLBACK_PASSWORD)\n\n'
         'flow main on initiate {\n    redirect to "/next" auth "bw" env(REDIRECT_PASSWORD)\n}\n'),
    Code("FC713", E, "application credentials declared twice",
         "`application auth USER PASSWORD` declares what the Bandwidth application sends on its callbacks, "
         "once for the whole project. Two declarations that differ leave it unclear which pair the routes "
         "require: keep one. (The same pair repeated, as when several projects are checked together, is fine.)",
         'application auth env(USER) env(PASSWORD)\napplication auth env(USER) env(OTHER)\n'
         'flow main on initiate {\n    hangup\n}\n',
         'application auth env(USER) env(PASSWORD)\nflow main on initiate {\n    hangup\n}\n'),
    Code("FC707", I, "relative webhook URL the web app does not serve",
         "A webhook that takes BXML is sent to a relative URL (a path on the same host) that is neither a flow "
         "(`/flows/NAME`) nor a conference's event route, so the generated app answers it 404. That is right "
         "when another server behind the same host answers that path; otherwise name a flow instead of the URL."),
    # -- tools flowc runs (flowc graph) ----------------------------------------------------------------------
    Code("FC801", E, "no Graphviz `dot` to draw an SVG diagram",
         "`flowc graph --format svg` draws the diagram with Graphviz's `dot` program, which is not part of "
         "flowc and was not found on PATH (or failed). Install Graphviz (`apt-get install graphviz` on Debian "
         "and Ubuntu, `brew install graphviz` on macOS, `choco install graphviz` on Windows), or use "
         "`--format dot` (the same diagram as Graphviz source) or `--format mermaid`, which need nothing. "
         "Nothing is written; the exit status is 2."),
    Code("FC802", W, "diagram too large for Mermaid's default limits",
         "Mermaid, and the forges that render it (GitHub, GitLab), refuse by default a diagram with more than "
         "500 arrows or more than 50,000 characters, so this Mermaid text would show an error instead of the "
         "picture. It is written anyway. Draw part of the project with `--flow NAME` (what one flow reaches), "
         "or use `--format svg` or `--format dot`, which Graphviz draws at any size."),
    # -- the emulator (flowc sim) --------------------------------------------------------------------------
    Code("FC811", W, "the application's callback credentials are not set",
         "`application auth env(USER) env(PASSWORD)` makes every route of the web app require the Bandwidth "
         "application's callback user and password, read from those environment variables, and an app "
         "started without them refuses every callback (401). `flowc sim` says so before it places a call: with "
         "`--call` or `--ui` the emulator, playing the application, sets made-up values for the run, so the "
         "call goes through but a served or deployed app would refuse it; with `--load` against OUT the "
         "served app refuses every request. Export the two variables (any values for a simulation: the "
         "emulator sends what the app reads) with the user and password set on the Bandwidth application."),
    # -- files and the output directory (every command) ----------------------------------------------------
    Code("FC901", E, "not a regular file",
         "flowc reads only regular files. A named pipe (FIFO), a device or a socket could make it wait forever "
         "or read without end, and a directory named where a file is expected (`flowc import DIR`) is not a "
         "document, so each is refused before it is opened, with exit code 2. Name the file itself; to check "
         "or format every .flow file below a directory, pass the directory to `check`, `fmt` or `compile`."),
    Code("FC902", E, "output directory flowc did not make",
         "`flowc compile -o OUT` replaces what it wrote before in OUT, so it must know what that is. Every build "
         "leaves a record, OUT/.flowc-build.json, listing each file it wrote with a hash of its content. A "
         "non-empty OUT without that record was not made by flowc (or by a flowc older than the record), and a "
         "`manifest.json` alone proves nothing, so the compile is refused and nothing is written. Name a new or "
         "empty directory, or move the files elsewhere."),
    Code("FC903", E, "generated file changed since flowc wrote it",
         "A file the build record lists no longer holds what flowc wrote there: it was edited, replaced or "
         "turned into something else. Replacing it would lose that change, so the compile is refused and "
         "nothing is written. Everything in OUT is regenerated on every build: move the change somewhere that "
         "is yours (your own code belongs in the hooks module beside OUT), or delete the file, then compile "
         "again."),
    Code("FC904", E, "your file is where the build must write one",
         "A file or directory in OUT that flowc did not write (it is not in the build record) stands where this "
         "build needs to write a document or the web app (a flow was renamed to match it, or you put "
         "`app.py` there yourself). flowc never replaces a file it did not write, so the compile is refused and "
         "nothing is written. Move your file elsewhere, then compile again. Your other files in OUT are kept "
         "across builds."),
    Code("FC905", E, "hooks module is not a regular file",
         "The path of the hooks module (hooks.py beside OUT, or FLOWC_HOOKS) is a directory, a named pipe, a "
         "device or cannot be read. The web app could not import it, so the build stops before OUT is written. "
         "Make it a regular Python file (or remove it to get one created with stubs), or point FLOWC_HOOKS at "
         "one."),
    Code("FC906", W, "hooks module is a dangling symbolic link",
         "The hooks module's path is a symbolic link whose target does not exist. flowc creates the module "
         "only where nothing exists, so it writes no stubs through the link; the web app cannot start until "
         "the target exists. Create the target file, or remove the link and compile again to get the stubs."),
    Code("FC907", W, "file changed while flowc was rewriting it",
         "`flowc check --fix` and `flowc fmt` rewrite a file only if it still holds exactly the text they read. "
         "This one was changed in between (by an editor or another program), so it was left as it is, with "
         "that change, and not fixed or formatted. Run the command again to apply it to the new text."),
    Code("FC909", W, "leftover of an interrupted compile kept",
         "A compile that was killed leaves a directory beside OUT (`.OUT.flowc-...`), which the next compile "
         "takes apart, removing only what it can prove flowc wrote (a file listed in its record with the same "
         "content, or a second name of a file that lives on in OUT). This one holds files it cannot prove are "
         "flowc's, so they were kept there. Look through the directory, keep what you need, then delete it."),
    Code("FC910", E, "output directory cannot be replaced as a whole",
         "flowc builds the new OUT beside the old one and swaps the two with one rename, so that OUT is always "
         "one whole build. A directory that is a mount point (a container volume, a separately mounted disk) "
         "cannot be renamed, so the compile is refused and nothing is written. Compile into a directory inside "
         "the mount point instead (`-o /srv/out/build`); that one can be swapped."),
    Code("FC908", E, "file name is not valid UTF-8",
         "File names reach diagnostics, the IR, the manifest and the web app, which are all UTF-8 text, so a "
         "name whose bytes are not valid UTF-8 cannot be shown or recorded faithfully. flowc refuses it (exit "
         "code 2) instead of writing a mangled name. Rename the file (or OUT, or the hooks module)."),
)


def code(code_id: str) -> Code:
    return CODES[code_id]


def coded(code_id: str, message: str, span: Span, **extra: Any) -> Diagnostic:
    """A diagnostic of `code_id` with the severity this table gives it (no caller states a severity)."""
    return Diagnostic(code_id, CODES[code_id].severity, message, span, **extra)
