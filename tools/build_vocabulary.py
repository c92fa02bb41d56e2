"""One-off importer: turns the gathered reference (../shared/reference/verbs.json) into flowc's own vocabulary
table, compiler/data/bxml.json, adding the .flow-language layer (statement keywords, attribute aliases,
positional arguments, units, webhook events).

flowc never reads ../shared at run time; this script only documents where the table came from. Re-running it
keeps every hand-written `doc` text already in the table, but not the facts added to the table by hand since
(`required` and `pattern` on attributes): the table, not this script, is the source of truth now.

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
    for name, element in elements.items():  # keep hand-written texts across re-runs
        old = previous.get("elements", {}).get(name, {})
        element["doc"] = old.get("doc", "")
        for attr_name, attr in element["attributes"].items():
            attr["doc"] = old.get("attributes", {}).get(attr_name, {}).get("doc", "")
    transfer_answer = reference["verbs"]["Transfer"]["transfer_answer_allowed_verbs"]["allowed"]
    return {
        "max_document_bytes": 65536,
        "contexts": {
            "call": {"allowed": [n for n, e in elements.items() if e["kind"] == "verb"]},
            "conference": {"allowed": reference["conference_valid_verbs"]["verbs"]},
            "transfer-answer": {"allowed": transfer_answer},
        },
        "voices": reference["verbs"]["SpeakSentence"]["voice_table"],
        "elements": elements,
    }


def main() -> None:
    reference = json.loads(Path(sys.argv[1]).read_text())
    previous = json.loads(OUT.read_text()) if OUT.exists() else {}
    OUT.write_text(json.dumps(convert(reference, previous), indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
