"""One-off importer: turns the gathered reference (../shared/reference/verbs.json) into flowc's own vocabulary
table, compiler/data/bxml.json, adding the .flow-language layer (statement keywords, attribute aliases,
positional arguments, units, webhook events).

flowc never reads ../shared at run time; this script documents where the table came from and writes the facts
flowc adds to the reference (below: events, payload field shapes, limits, per-element and per-attribute flags).
Re-running it keeps every hand-written `doc` text already in the table and the facts added to it by hand
(`required`, `pattern` and an SSML `max` on attributes, the legacy voice names), so the output equals the table.

    python tools/build_vocabulary.py ../shared/reference/verbs.json
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "compiler" / "data" / "bxml.json"

# element -> .flow statement keyword(s), positional arguments and attribute aliases.
# Positional "text" means the element's text content; "@children" means each positional value becomes a
# child element (Transfer "+1555..." -> <PhoneNumber>).
LANGUAGE: dict[str, dict] = {
    "SpeakSentence": {"keywords": ["say"], "positional": ["text"]},
    "PlayAudio": {"keywords": ["play"], "positional": ["text"]},
    "Conference": {
        "keywords": ["join conference", "join"],
        "positional": ["text"],
        "aliases": {
            "callIdsToCoach": ["as coach of", "coach"],
            "conferenceEventUrl": ["events"],
            "conferenceEventMethod": ["method"],
            "conferenceEventFallbackUrl": ["fallback"],
            "conferenceEventFallbackMethod": ["fallback method"],
            "callbackTimeout": ["timeout"],
        },
    },
    "Bridge": {
        "keywords": ["bridge"],
        "positional": ["text"],
        "aliases": {
            "bridgeCompleteUrl": ["then"],
            "bridgeCompleteMethod": ["method"],
            "bridgeCompleteFallbackUrl": ["fallback"],
            "bridgeCompleteFallbackMethod": ["fallback method"],
            "bridgeTargetCompleteUrl": ["target then"],
            "bridgeTargetCompleteMethod": ["target method"],
        },
    },
    "Forward": {"keywords": ["forward"], "positional": ["to"], "aliases": {"callTimeout": ["timeout"]}},
    "Gather": {
        "keywords": ["gather"],
        "positional": [],
        "aliases": {
            "gatherUrl": ["then"],
            "gatherMethod": ["method"],
            "gatherFallbackUrl": ["fallback"],
            "gatherFallbackMethod": ["fallback method"],
            "maxDigits": ["max"],
            "terminatingDigits": ["until"],
            "interDigitTimeout": ["digit timeout"],
            "firstDigitTimeout": ["timeout"],
            "repeatCount": ["repeat"],
        },
    },
    "Hangup": {"keywords": ["hangup"]},
    "Pause": {"keywords": ["pause"], "positional": ["duration"]},
    "PauseRecording": {"keywords": ["pause recording"]},
    "ResumeRecording": {"keywords": ["resume recording"]},
    "StopRecording": {"keywords": ["stop recording"]},
    "StopGather": {"keywords": ["stop gather"]},
    "Record": {
        "keywords": ["record"],
        "aliases": {
            "recordCompleteUrl": ["then"],
            "recordCompleteMethod": ["method"],
            "recordCompleteFallbackUrl": ["fallback"],
            "recordCompleteFallbackMethod": ["fallback method"],
            "recordingAvailableUrl": ["on recording"],
            "transcriptionAvailableUrl": ["on transcription"],
            "maxDuration": ["max"],
            "silenceTimeout": ["silence"],
            "terminatingDigits": ["until"],
            "fileFormat": ["format"],
        },
    },
    "Redirect": {
        "keywords": ["redirect"],
        "positional": ["redirectUrl"],
        "aliases": {
            "redirectUrl": ["to"],
            "redirectMethod": ["method"],
            "redirectFallbackUrl": ["fallback"],
            "redirectFallbackMethod": ["fallback method"],
        },
    },
    "Ring": {"keywords": ["ring"], "positional": ["duration"]},
    "SendDtmf": {"keywords": ["send dtmf"], "positional": ["text"], "aliases": {"toneDuration": ["tone"], "toneInterval": ["gap"]}},
    "StartGather": {"keywords": ["start gather"], "aliases": {"dtmfUrl": ["on dtmf"], "dtmfMethod": ["method"]}},
    "StartRecording": {
        "keywords": ["start recording"],
        "aliases": {
            "recordingAvailableUrl": ["on recording"],
            "transcriptionAvailableUrl": ["on transcription"],
            "fileFormat": ["format"],
            "multiChannel": ["multichannel"],
        },
    },
    "StartStream": {
        "keywords": ["start stream"],
        "positional": ["destination"],
        "aliases": {"streamEventUrl": ["on event"], "streamEventMethod": ["method"]},
    },
    "StreamParam": {"keywords": ["param"], "positional": ["name", "value"]},
    "StopStream": {"keywords": ["stop stream"], "positional": ["name"]},
    "StartTranscription": {
        "keywords": ["start transcription"],
        "positional": ["destination"],
        "aliases": {"transcriptionEventUrl": ["on event"], "transcriptionEventMethod": ["method"]},
    },
    "CustomParam": {"keywords": ["param"], "positional": ["name", "value"]},
    "StopTranscription": {"keywords": ["stop transcription"], "positional": ["name"]},
    "Tag": {"keywords": ["tag"], "positional": ["text"]},
    "Transfer": {
        "keywords": ["transfer"],
        "positional": ["@children"],
        "aliases": {
            "transferCallerId": ["from"],
            "transferCallerDisplayName": ["display name"],
            "callTimeout": ["timeout"],
            "transferCompleteUrl": ["then"],
            "transferCompleteMethod": ["method"],
            "transferCompleteFallbackUrl": ["fallback"],
            "transferCompleteFallbackMethod": ["fallback method"],
        },
    },
    "PhoneNumber": {
        "keywords": ["number"],
        "positional": ["text"],
        "aliases": {
            "transferAnswerUrl": ["answer"],
            "transferAnswerMethod": ["answer method"],
            "transferDisconnectUrl": ["on disconnect"],
        },
    },
    "SipUri": {
        "keywords": ["sip"],
        "positional": ["text"],
        "aliases": {
            "transferAnswerUrl": ["answer"],
            "transferAnswerMethod": ["answer method"],
            "transferDisconnectUrl": ["on disconnect"],
        },
    },
    "Connect": {"keywords": ["connect"], "aliases": {"eventCallbackUrl": ["on event"]}},
    "Endpoint": {"keywords": ["endpoint"], "positional": ["text"]},
    "Refer": {"keywords": ["refer"], "positional": ["@children"], "aliases": {"referCompleteUrl": ["then"], "referCompleteMethod": ["method"]}},
}

# Webhook a URL attribute sends, and whether the reply may carry BXML (then a flow may be named there).
URL_EVENTS: dict[str, tuple[list[str], bool]] = {
    "gatherUrl": (["gather"], True),
    "redirectUrl": (["redirect"], True),
    "recordCompleteUrl": (["recordComplete"], True),
    "transferCompleteUrl": (["transferComplete"], True),
    "transferAnswerUrl": (["transferAnswer"], True),
    "bridgeCompleteUrl": (["bridgeComplete"], True),
    "bridgeTargetCompleteUrl": (["bridgeTargetComplete"], True),
    "referCompleteUrl": (["referComplete"], True),
    "conferenceEventUrl": (
        ["conferenceCreated", "conferenceMemberJoin", "conferenceMemberExit", "conferenceCompleted",
         "conferenceRedirect"],
        True,
    ),
    "recordingAvailableUrl": (["recordingAvailable"], False),
    "transcriptionAvailableUrl": (["transcriptionAvailable"], False),
    "transferDisconnectUrl": (["transferDisconnect"], False),
    "dtmfUrl": (["dtmf"], False),
    "streamEventUrl": (["mediaStreamStarted", "mediaStreamRejected", "mediaStreamStopped"], False),
    "transcriptionEventUrl": (
        ["realTimeTranscriptionStarted", "realTimeTranscriptionRejected", "realTimeTranscriptionStopped",
         "realTimeTranscriptionAvailable"],
        False,
    ),
    "partialResultCallback": (["partialgather"], False),
    "eventCallbackUrl": (["connectEvent"], False),
}

SECONDS = {"callTimeout", "callbackTimeout", "interDigitTimeout", "firstDigitTimeout", "silenceTimeout",
           "maxDuration", "speechTimeout"}
MILLISECONDS = {"toneDuration", "toneInterval"}

# Bandwidth's webhooks by eventType, in the order the web app's payload models list them. `reply`: the
# context in which the BXML of the reply runs (null: the reply may not carry BXML); `phrase`: how a conference
# handler names it (`on member join`); `slug`: its document's file name part; `entry`: a call starts with it;
# `status`: a call status webhook no verb attribute names; `in_conference`: the event sent instead when the
# verb runs in a conference; `payload`: flowc.bxml.webhooks' model of its payload.
EVENTS: dict[str, dict] = {
    "initiate": {"reply": "call", "entry": True, "payload": "Initiate"},
    "answer": {"reply": "call", "entry": True, "payload": "Answer"},
    "disconnect": {"reply": None, "status": True, "payload": "Disconnect"},
    "gather": {"reply": "call", "payload": "Gather"},
    "partialgather": {"reply": None, "payload": "PartialGather"},
    "redirect": {"reply": "call", "payload": "Redirect"},
    "transferAnswer": {"reply": "transfer-answer", "payload": "TransferAnswer"},
    "transferComplete": {"reply": "call", "payload": "TransferComplete"},
    "transferDisconnect": {"reply": None, "payload": "TransferDisconnect"},
    "bridgeComplete": {"reply": "call", "payload": "BridgeComplete"},
    "bridgeTargetComplete": {"reply": "call", "payload": "BridgeTargetComplete"},
    "referComplete": {"reply": "call", "payload": "ReferComplete"},
    "recordComplete": {"reply": "call", "payload": "RecordComplete"},
    "recordingComplete": {"reply": "call", "payload": "RecordComplete"},  # the OpenAPI spelling
    "recordingAvailable": {"reply": None, "payload": "RecordingAvailable",
                           "in_conference": "conferenceRecordingAvailable"},
    "transcriptionAvailable": {"reply": None, "payload": "TranscriptionAvailable"},
    "dtmf": {"reply": None, "payload": "Dtmf"},
    "machineDetectionComplete": {"reply": None, "status": True, "payload": "MachineDetectionComplete"},
    "connectEvent": {"reply": None, "payload": "ConnectEvent"},
    "mediaStreamStarted": {"reply": None, "payload": "StreamEvent"},
    "mediaStreamRejected": {"reply": None, "payload": "StreamEvent"},
    "mediaStreamStopped": {"reply": None, "payload": "StreamEvent"},
    "realTimeTranscriptionStarted": {"reply": None, "payload": "RealTimeTranscriptionEvent"},
    "realTimeTranscriptionRejected": {"reply": None, "payload": "RealTimeTranscriptionEvent"},
    "realTimeTranscriptionStopped": {"reply": None, "payload": "RealTimeTranscriptionEvent"},
    "realTimeTranscriptionAvailable": {"reply": None, "payload": "RealTimeTranscriptionEvent"},
    "conferenceCreated": {"reply": "conference", "phrase": "created", "slug": "created",
                          "payload": "ConferenceCreated"},
    "conferenceMemberJoin": {"reply": "conference", "phrase": "member join", "slug": "member-join",
                             "payload": "ConferenceMemberJoin"},
    "conferenceMemberExit": {"reply": "conference", "phrase": "member exit", "slug": "member-exit",
                             "payload": "ConferenceMemberExit"},
    "conferenceCompleted": {"reply": None, "phrase": "completed", "slug": "completed",
                            "payload": "ConferenceCompleted"},
    "conferenceRedirect": {"reply": "conference", "phrase": "redirect", "slug": "redirect",
                           "payload": "ConferenceRedirect"},
    "conferenceRecordingAvailable": {"reply": None, "phrase": "recording available", "slug": "recording-available",
                                     "payload": "ConferenceRecordingAvailable"},
}

# What a phone number or SIP address written as a literal must match (regular expressions, whole value).
ADDRESS_PATTERNS = {"E.164": r"\+[1-9][0-9]{1,14}", "SIP URI": r"(?i:sips?:[^\s]+)"}

# Limits Bandwidth sets that are not an attribute's range.
LIMITS = {"conference_name_length": 100, "conference_calls": 20, "gather_prompts": 20}

# The Voice API's rate limits for one account: a rate a second and a burst (how many may go at once: a token
# bucket's size) for creating calls and for every other request, and how many calls may be active at once.
# Creating calls: 5 a second and 100 active sessions by default, each answered 429 with its reason (Bandwidth's
# rate-limits page). Every other endpoint may answer 429 with Retry-After (the OpenAPI spec) at a rate
# Bandwidth does not publish: 10 a second is flowc's assumption. The bursts (one second's worth) are flowc's
# too. The emulator enforces these; the generated app paces itself by them.
REST_LIMITS = {"create_call": {"per_second": 5, "burst": 5}, "requests": {"per_second": 10, "burst": 10},
               "active_sessions": 100}

NAME_CHARACTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."  # what `|safe` keeps
ID_CHARACTERS = "abcdefghijklmnopqrstuvwxyz0123456789-"
KEYPAD = "0123456789*#"
# What a webhook payload field can hold: a description, length bounds and characters (absent: anything).
FIELDS: dict[str, dict] = {
    "from": {"description": "a phone number", "min": 2, "max": 16, "characters": "+0123456789"},
    "to": {"description": "a phone number", "min": 2, "max": 16, "characters": "+0123456789"},
    "transferCallerId": {"description": "a phone number", "min": 2, "max": 16, "characters": "+0123456789"},
    "transferTo": {"description": "a phone number", "min": 2, "max": 16, "characters": "+0123456789"},
    "callId": {"description": "a call id", "min": 3, "max": 50, "characters": ID_CHARACTERS},
    "parentCallId": {"description": "a call id", "min": 3, "max": 50, "characters": ID_CHARACTERS},
    "conferenceId": {"description": "a conference id", "min": 5, "max": 60, "characters": ID_CHARACTERS},
    "recordingId": {"description": "a recording id", "min": 3, "max": 50, "characters": ID_CHARACTERS},
    "accountId": {"description": "an account id", "min": 1, "max": 20, "characters": "0123456789"},
    "applicationId": {"description": "an application id", "min": 36, "max": 36, "characters": ID_CHARACTERS},
    "digits": {"description": "the digits pressed", "min": 0, "max": 50, "characters": KEYPAD},
    "terminatingDigit": {"description": "a keypad digit", "min": 0, "max": 1, "characters": KEYPAD},
    "direction": {"description": "inbound or outbound", "min": 7, "max": 8, "characters": NAME_CHARACTERS},
    "eventType": {"description": "an event type", "min": 1, "max": 40, "characters": NAME_CHARACTERS},
    "name": {"description": "a conference name", "min": 1, "max": LIMITS["conference_name_length"],
             "characters": NAME_CHARACTERS},
    "tag": {"description": "a tag", "min": 0, "max": 256},
}

# `auth USER PASSWORD`: phrases that set a user name and a password at once, on any element that has both.
CREDENTIAL_PAIRS = [
    {"phrase": "auth", "attributes": ["username", "password"]},
    {"phrase": "fallback auth", "attributes": ["fallbackUsername", "fallbackPassword"], "fallback": True},
]

# Per element: `takes_over` (the rest of the document never runs after it: always, or when the named URL
# attribute is set; `takes_over_note` says what happens instead, when its webhook gives no next document),
# `child_limits` (how many children, and what they are called), `text_names` (a bare word
# as its text names a declaration of that kind: `join support`), `destinations` (the child a positional
# destination becomes: for a `sip:` address, and otherwise), `text` facts (what the content is called, an
# `address` shape to check literals against, a `pattern` and `max_length` of the whole content).
ELEMENT_FACTS: dict[str, dict] = {
    "Hangup": {"takes_over": True, "takes_over_note": "the call ends here"},
    "Forward": {"takes_over": True, "takes_over_note": "the call is forwarded here"},
    "Redirect": {"takes_over": True},
    "Gather": {"takes_over": "gatherUrl", "child_limits": {"max_prompts": LIMITS["gather_prompts"],
                                                           "repeat": "repeatCount"}},
    "Record": {"takes_over": "recordCompleteUrl"},
    "Transfer": {"takes_over": "transferCompleteUrl", "child_limits": {"min": 1, "max": 8, "noun": "destinations"},
                 "destinations": {"sip": "SipUri", "other": "PhoneNumber"}},
    "Bridge": {"takes_over": "bridgeCompleteUrl", "text": {"name": "the call id to bridge with"}},
    "Refer": {"takes_over": "referCompleteUrl", "child_limits": {"min": 1, "max": 1, "noun": "destinations"},
              "destinations": {"sip": "SipUri", "other": "SipUri"}},
    "StartStream": {"child_limits": {"min": 0, "max": 12, "noun": "parameters"}},
    "StartTranscription": {"child_limits": {"min": 0, "max": 12, "noun": "parameters"}},
    "Connect": {"child_limits": {"min": 1, "max": None, "noun": "endpoints"}},
    "Conference": {"text_names": "conference", "text": {"name": "the name of the conference to join"}},
    "PlayAudio": {"text": {"name": "the URL of the audio to play"}},
    "SpeakSentence": {"text": {"name": "the text to speak"}},
    "SendDtmf": {"text": {"name": "the digits to send", "pattern": "[0-9*#a-dA-D,wW]*", "max_length": 50}},
    "PhoneNumber": {"text": {"name": "a phone number", "address": True}},
    "SipUri": {"text": {"name": "a SIP URI", "address": True}},
    "Endpoint": {"text": {"name": "an endpoint id"}},
}

# Per attribute (element, attribute): `secret` (never written to OUT in plain text), `webhook_setting` (only
# the join that creates a conference sets it), `address` (a literal must be a phone number or SIP URI, as its
# format says), `ignored_in_conference` (why Bandwidth ignores it when the verb runs in a conference).
NEVER_TRANSCRIBED = "conference recordings are never transcribed"
ATTRIBUTE_FACTS: dict[tuple[str, str], dict] = {
    ("Forward", "to"): {"address": True},
    ("Forward", "from"): {"address": True},
    **{("Conference", name): {"webhook_setting": True} for name in (
        "conferenceEventUrl", "conferenceEventMethod", "conferenceEventFallbackUrl", "conferenceEventFallbackMethod",
        "username", "password", "fallbackUsername", "fallbackPassword", "tag", "callbackTimeout")},
    ("StartRecording", "transcribe"): {"ignored_in_conference": NEVER_TRANSCRIBED},
    ("StartRecording", "detectLanguage"): {"ignored_in_conference": NEVER_TRANSCRIBED},
    ("StartRecording", "transcriptionAvailableUrl"): {"ignored_in_conference": NEVER_TRANSCRIBED},
    ("StartRecording", "transcriptionAvailableMethod"): {"ignored_in_conference": NEVER_TRANSCRIBED},
    ("StartRecording", "multiChannel"): {"ignored_in_conference": "conference recordings are always single-channel"},
    ("StartRecording", "tag"): {"ignored_in_conference": "the recording webhooks carry the conference's tag"},
    # a WebSocket URL: Bandwidth streams media or transcripts to it (wss://; ws:// is unencrypted)
    ("StartStream", "destination"): {"websocket": True},
    ("StartTranscription", "destination"): {"websocket": True},
}
# The BXML documents of Bandwidth's update endpoints: their root, the context whose verb rules apply, the endpoint.
UPDATE_DOCUMENTS = {
    "update-call": {"root": "Bxml", "rules_of": "call", "endpoint": "PUT /accounts/{accountId}/calls/{callId}/bxml"},
    "update-conference": {"root": "Bxml", "rules_of": "conference",
                          "endpoint": "PUT /accounts/{accountId}/conferences/{conferenceId}/bxml"},
}
HAND_WRITTEN = ("required", "pattern", "max")  # attribute facts added to the table by hand since the import

SSML = {
    "break": {"positional": ["time"], "attributes": {"strength": {"type": "enum"}, "time": {"type": "ssml_time"}}},
    "emphasis": {"positional": ["text"], "attributes": {"level": {"type": "enum"}}},
    "lang": {"positional": ["xml:lang", "text"], "attributes": {"xml:lang": {"type": "enum"}}},
    "p": {"positional": ["text"], "attributes": {}},
    "s": {"positional": ["text"], "attributes": {}},
    "phoneme": {"positional": ["text"], "attributes": {"ph": {"type": "string"}, "alphabet": {"type": "enum", "enum": ["ipa", "x-sampa"]}}},
    "prosody": {"positional": ["text"], "attributes": {"pitch": {"type": "string"}, "rate": {"type": "string"}, "volume": {"type": "string"}}},
    "say-as": {"positional": ["text"], "attributes": {"interpret-as": {"type": "enum"}, "format": {"type": "enum"}}},
    "sub": {"positional": ["text"], "attributes": {"alias": {"type": "string"}}},
}
SSML_ALIASES = {"say-as": {"interpret-as": ["as"]}}


def base_type(raw: str) -> dict:
    if raw.startswith("csv_list("):
        return {"type": "csv_list", "item": raw[len("csv_list("):-1]}
    head = raw.split(" ")[0]
    note = raw[len(head):].strip(" ()")
    out = {"type": head}
    if note:
        out["format"] = note
    return out


def convert_attribute(attr: dict, aliases: list[str]) -> dict:
    out = base_type(attr["type"])
    for key in ("enum", "default", "max_length"):
        if attr.get(key) is not None:
            out[key] = attr[key]
    if "range" in attr:
        out.update({k: v for k, v in attr["range"].items()})
    if attr.get("relative_url_ok"):
        out["relative_ok"] = True
    name = attr["name"]
    if name in SECONDS or (name == "duration"):
        out["unit"] = "s"
    if name in MILLISECONDS:
        out["unit"] = "ms"
    if name in URL_EVENTS:
        events, bxml = URL_EVENTS[name]
        out["events"] = events
        out["reply_bxml"] = bxml
        method = re.sub(r"(Url|Callback)$", "", name) + "Method"
        if name == "partialResultCallback":
            method = "partialResultCallbackMethod"
        out["method_attribute"] = method
    if attr.get("doc_status", "documented") != "documented":
        out["status"] = "undocumented"
    if aliases:
        out["aliases"] = aliases
    out["doc"] = ""
    return out


def convert(reference: dict, previous: dict) -> dict:
    elements: dict[str, dict] = {}
    for name, verb in reference["verbs"].items():
        if verb["kind"] == "root":
            continue
        lang = LANGUAGE[name]
        aliases = lang.get("aliases", {})
        text = verb.get("text_content")
        element = {
            "kind": verb["kind"],
            "keywords": lang["keywords"],
            "positional": lang.get("positional", []),
            "text": base_type(text["type"]) | {"required": bool(text.get("required"))} if text else None,
            "children": [c for c in verb.get("children", []) if not c.startswith("SSML")],
            "attributes": {a["name"]: convert_attribute(a, aliases.get(a["name"], [])) for a in verb["attributes"]},
            "doc": "",
        }
        if verb.get("status"):
            element["status"] = verb["status"]
        if verb.get("parents"):
            element["parents"] = verb["parents"]
        if name == "SpeakSentence":
            element["children"] = list(SSML)
        elements[name] = element
    ssml_ref = reference["verbs"]["SpeakSentence"]["ssml"]
    for tag, spec in SSML.items():
        attrs = {}
        for attr_name, attr in spec["attributes"].items():
            ref_values = ssml_ref.get(tag, {}).get(attr_name)
            attr = dict(attr)
            if isinstance(ref_values, list) and "enum" not in attr:
                attr["enum"] = ref_values
            if tag == "say-as" and attr_name == "format":
                attr["enum"] = ssml_ref["say-as"]['format (with interpret-as="date")']
            if isinstance(ref_values, str):
                attr["format"] = ref_values
            attr["aliases"] = SSML_ALIASES.get(tag, {}).get(attr_name, [])
            attr["doc"] = ""
            attrs[attr_name] = attr
        elements[tag] = {
            "kind": "ssml",
            "keywords": [tag],
            "positional": spec["positional"],
            "text": {"type": "string", "required": False} if tag != "break" else None,
            "children": [t for t in SSML if t != "break"] if tag != "break" else [],
            "attributes": attrs,
            "doc": "",
        }
    for name, element in elements.items():  # keep hand-written texts and facts across re-runs
        old = previous.get("elements", {}).get(name, {})
        element["doc"] = old.get("doc", "")
        add_element_facts(name, element)
        for attr_name, attr in element["attributes"].items():
            old_attribute = old.get("attributes", {}).get(attr_name, {})
            attr["doc"] = old_attribute.get("doc", "")
            attr.update({key: old_attribute[key] for key in HAND_WRITTEN if key in old_attribute and key not in attr})
            if attr_name.lower().endswith("password"):
                attr["secret"] = True
            attr.update(ATTRIBUTE_FACTS.get((name, attr_name), {}))
    transfer_answer = reference["verbs"]["Transfer"]["transfer_answer_allowed_verbs"]["allowed"]
    return {
        "max_document_bytes": 65536,
        "limits": LIMITS,
        "rest_limits": REST_LIMITS,
        "events": EVENTS,
        "fields": FIELDS,
        "credential_pairs": CREDENTIAL_PAIRS,
        "address_patterns": ADDRESS_PATTERNS,
        "contexts": {
            "call": {"allowed": [n for n, e in elements.items() if e["kind"] == "verb"]},
            "conference": {"allowed": reference["conference_valid_verbs"]["verbs"]},
            "transfer-answer": {"allowed": transfer_answer},
            # Documents your own code sends to Bandwidth's API (a <Bxml> root): update-call replaces a live
            # call's document, update-conference plays to a whole conference (the conference-reply verbs).
            **{name: {"allowed": verbs, **facts} for name, (verbs, facts) in {
                "update-call": ([n for n, e in elements.items() if e["kind"] == "verb"], UPDATE_DOCUMENTS["update-call"]),
                "update-conference": (reference["conference_valid_verbs"]["verbs"],
                                      UPDATE_DOCUMENTS["update-conference"]),
            }.items()},
        },
        "voices": reference["verbs"]["SpeakSentence"]["voice_table"],
        "legacy_voices": previous.get("legacy_voices", []),
        "elements": elements,
    }


def add_element_facts(name: str, element: dict) -> None:
    facts = dict(ELEMENT_FACTS.get(name, {}))
    text_facts = facts.pop("text", {})
    if text_facts and element["text"] is not None:
        element["text"].update(text_facts)
    element.update(facts)


def main() -> None:
    reference = json.loads(Path(sys.argv[1]).read_text())
    previous = json.loads(OUT.read_text()) if OUT.exists() else {}
    OUT.write_text(json.dumps(convert(reference, previous), indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
