"""Hand-written hover/doc texts for every BXML element and attribute in compiler/data/bxml.json.

The texts live here (DOCS below) so they can be reviewed and re-applied. Running the script loads the
vocabulary table fresh, sets only the `doc` values of elements and attributes, and writes the table back in
its usual layout (json.dumps(indent=1, ensure_ascii=False) + newline). Every other key is left untouched.

    python tools/vocabulary_docs.py

It prints how many elements/attributes still have an empty doc (should be 0) and any texts that have no
matching element/attribute in the table.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

TABLE = Path(__file__).resolve().parent.parent / "compiler" / "data" / "bxml.json"

NOT_IN_REFERENCE = ("Not in Bandwidth's main BXML reference (seen only in newer docs pages and/or the SDKs), so verify "
                    "it before relying on it.")


# --- building blocks for the attributes that recur on many verbs -------------------------------------------

def method(url: str, event: str) -> str:
    return f"HTTP method for the {event} request sent to `{url}`: GET or POST. Default POST."


def fallback_url(url: str, event: str) -> str:
    return (f"Backup address: if `{url}` cannot be reached or does not answer properly, the {event} webhook is "
            f"retried here. The fallback credentials (`fallbackUsername`/`fallbackPassword`) apply to it.")


def fallback_method(fb_url: str, event: str) -> str:
    return f"HTTP method for delivering the {event} webhook to `{fb_url}`: GET or POST. Default POST."


def _https_note(targets: str) -> str:
    return (" When credentials are given, these URLs must use https." if " and " in targets
            else " When credentials are given, this URL must use https.")


def user(targets: str, https: bool = False) -> str:
    text = f"User name for HTTP Basic authentication on requests to {targets}."
    return text + _https_note(targets) if https else text


def password(targets: str, https: bool = False) -> str:
    text = f"Password for HTTP Basic authentication on requests to {targets}."
    return text + _https_note(targets) if https else text


def tag(first: str) -> str:
    return (f"Custom text, at most 256 characters, included in {first} and in every later webhook of this call "
            f"until another `tag` attribute or a <Tag> verb changes it. `tag=\"\"` clears the current tag.")


def bxml_url(event: str, verb: str, extra: str = "") -> str:
    text = (f"Webhook that receives the {event} event and replies with the BXML to run next (may be relative to "
            f"the URL that served this document). Setting it hands the call to that reply, so verbs after this "
            f"<{verb}> never run.")
    if extra:
        text += " " + extra
    return text


def notify_url(events: str) -> str:
    return f"Receives {events} (may be a relative URL). Notification only: any BXML in the reply is ignored."


TIMEOUT_RING = ("Seconds the destination may ring before the attempt is given up; decimals allowed, 1-300, "
                "default 30. The clock starts when ringing starts, but a destination that has not begun ringing "
                "after 30 s is cancelled whatever this value is.")

DIVERSION_TREATMENT = ("What to do with SIP Diversion headers on the outgoing leg: `none` (default) sends none; "
                       "`propagate` copies the inbound leg's Diversion header, if it has one; `stack` copies it and "
                       "then adds one more, built from the inbound call's Request-URI.")

DIVERSION_REASON = ("Reason code written into the Diversion header that `stack` adds (e.g. user-busy, no-answer, "
                    "unconditional). Only read when diversionTreatment is `stack`; default `unknown`.")

UUI_RFC7433 = ("User-to-User (UUI) SIP header value for the outgoing INVITE. It must end with an RFC 7433 "
               "`encoding` parameter (only base64 and jwt are accepted), and the whole value including that "
               "parameter may not exceed 256 characters.")


# --- transfer destinations (PhoneNumber and SipUri share most attributes) ----------------------------------

DESTINATION_ATTRS = {
    "transferAnswerUrl": ("Webhook (may be relative) called with transferAnswer when this destination picks up. "
                          "The BXML it returns runs for the called party only, before the two calls are connected "
                          "(a whisper or an accept-the-call prompt, say); Bridge, Conference, Forward and Transfer "
                          "are not allowed in that reply."),
    "transferAnswerMethod": method("transferAnswerUrl", "transferAnswer"),
    "transferAnswerFallbackUrl": fallback_url("transferAnswerUrl", "transferAnswer"),
    "transferAnswerFallbackMethod": fallback_method("transferAnswerFallbackUrl", "transferAnswer"),
    "transferDisconnectUrl": notify_url("the transferDisconnect event when this leg ends, whatever the reason "
                                        "the transfer finished"),
    "transferDisconnectMethod": method("transferDisconnectUrl", "transferDisconnect"),
    "username": user("`transferAnswerUrl` and `transferDisconnectUrl`"),
    "password": password("`transferAnswerUrl` and `transferDisconnectUrl`"),
    "fallbackUsername": user("`transferAnswerFallbackUrl`"),
    "fallbackPassword": password("`transferAnswerFallbackUrl`"),
    "tag": ("Custom text, at most 256 characters, sent with this destination's webhooks (transferAnswer, "
            "transferDisconnect) and later ones until replaced by another `tag` or <Tag>. `tag=\"\"` clears it."),
}


# --- recording attributes shared by Record and StartRecording -----------------------------------------------

DETECT_LANGUAGE_REC = ("Only with transcribe=\"true\": let the transcriber find the dominant language of the "
                       "recording (English, French or Spanish) instead of assuming English. Ignored when transcribe "
                       "is off. Default false.")
FILE_FORMAT = "Audio format the recording is stored in: `wav` (default) or `mp3`."
RECORDING_NAME = ("A name for this recording, handed back in the recordingAvailable event so you can tell "
                  "recordings apart. " + NOT_IN_REFERENCE)


DOCS: dict[str, dict] = {
    # ------------------------------------------------------------------------------------------------ Bridge
    "Bridge": {
        "doc": ("Connects the current call with another call that already exists, given by its call ID as the text "
                "content. Whatever BXML the target call was running is cancelled when it is bridged, and the bridge "
                "lasts until one of the two calls leaves. Exactly one completion webhook follows: bridgeComplete "
                "for this call or bridgeTargetComplete for the target, depending on who leaves first. The bridge is "
                "refused (bridgeComplete with an error) if the target is an unanswered outbound call, is running "
                "<Forward>, or has already hung up."),
        "attributes": {
            "bridgeCompleteUrl": bxml_url("bridgeComplete", "Bridge",
                                          "Without it no webhook is sent and this call simply carries on with the "
                                          "next verb once the bridge ends."),
            "bridgeCompleteMethod": method("bridgeCompleteUrl", "bridgeComplete"),
            "bridgeCompleteFallbackUrl": fallback_url("bridgeCompleteUrl", "bridgeComplete"),
            "bridgeCompleteFallbackMethod": fallback_method("bridgeCompleteFallbackUrl", "bridgeComplete"),
            "bridgeTargetCompleteUrl": ("Webhook that receives bridgeTargetComplete when the bridge ends; the BXML "
                                        "it returns runs on the target call (the one named in the text content). "
                                        "Without it no webhook is sent and the target call is hung up. May be a "
                                        "relative URL."),
            "bridgeTargetCompleteMethod": method("bridgeTargetCompleteUrl", "bridgeTargetComplete"),
            "bridgeTargetCompleteFallbackUrl": fallback_url("bridgeTargetCompleteUrl", "bridgeTargetComplete"),
            "bridgeTargetCompleteFallbackMethod": fallback_method("bridgeTargetCompleteFallbackUrl",
                                                                  "bridgeTargetComplete"),
            "username": user("`bridgeCompleteUrl` and `bridgeTargetCompleteUrl`"),
            "password": password("`bridgeCompleteUrl` and `bridgeTargetCompleteUrl`"),
            "fallbackUsername": user("`bridgeCompleteFallbackUrl` and `bridgeTargetCompleteFallbackUrl`"),
            "fallbackPassword": password("`bridgeCompleteFallbackUrl` and `bridgeTargetCompleteFallbackUrl`"),
            "tag": tag("the bridgeComplete webhook"),
        },
    },
    # -------------------------------------------------------------------------------------------- Conference
    "Conference": {
        "doc": ("Puts the current call into the conference named by the text content (1-100 characters: letters, "
                "digits, '-', '_' and '.'). The first call to use a name creates the conference and it is deleted "
                "when its last member leaves; using the name again later creates a new conference with a new ID. "
                "A conference holds at most 20 calls and lasts at most 24 hours. BXML sent to a conference (replies "
                "to its webhooks, or the conference BXML endpoint) may contain only PlayAudio, SpeakSentence and "
                "the Start/Stop/Pause/ResumeRecording verbs; any other verb gets the whole document rejected. If "
                "the conference is ended through the REST API, each member resumes its own BXML at the verb after "
                "<Conference>."),
        "attributes": {
            "mute": ("When true, this member can hear the conference but nobody hears them. Default false; it can "
                     "be changed later through the conference member REST endpoint."),
            "hold": ("When true, this member neither hears the conference nor is heard by it. Default false; it can "
                     "be changed later through the conference member REST endpoint."),
            "callIdsToCoach": ("Comma-separated call IDs that this call will coach: the coach and those calls hear "
                               "each other, while everyone else in the conference cannot hear the coach. It does "
                               "not bring the listed calls into the conference - each must run its own "
                               "<Conference>, before or after the coach joins. A conference can have only one "
                               "coach at a time, though the coach may leave and come back."),
            "conferenceEventUrl": ("Webhook for the conference's events: conferenceCreated, conferenceMemberJoin, "
                                   "conferenceMemberExit and conferenceRedirect (which may be answered with "
                                   "conference-valid BXML) and conferenceCompleted (which may not). Only the call "
                                   "that creates the conference sets it: on later joins this URL and the other "
                                   "webhook settings (method, fallback, credentials, tag, callbackTimeout) are "
                                   "ignored. May be a relative URL."),
            "conferenceEventMethod": ("HTTP method for conference webhooks sent to `conferenceEventUrl`: GET or "
                                      "POST, default POST. Fixed by the call that creates the conference; ignored "
                                      "on later joins."),
            "conferenceEventFallbackUrl": ("Backup address where conference webhooks are retried when "
                                           "`conferenceEventUrl` fails to respond. Like the other webhook settings, "
                                           "only the creating call's value counts."),
            "conferenceEventFallbackMethod": ("HTTP method for conference webhooks sent to "
                                              "`conferenceEventFallbackUrl`: GET or POST, default POST. Only the "
                                              "creating call's value counts."),
            "username": ("User name for HTTP Basic authentication on conference webhooks to `conferenceEventUrl`. "
                         "Taken from the call that creates the conference; ignored on later joins."),
            "password": ("Password for HTTP Basic authentication on conference webhooks to `conferenceEventUrl`. "
                         "Taken from the call that creates the conference; ignored on later joins."),
            "fallbackUsername": ("User name for HTTP Basic authentication on requests to "
                                 "`conferenceEventFallbackUrl`. Only the creating call's value counts."),
            "fallbackPassword": ("Password for HTTP Basic authentication on requests to "
                                 "`conferenceEventFallbackUrl`. Only the creating call's value counts."),
            "tag": ("Custom text, at most 256 characters (`tag=\"\"` clears it). Every conference webhook carries "
                    "the tag of the call that created the conference: if a later member joins with a different "
                    "tag, its conferenceMemberJoin event still shows the creator's tag."),
            "callbackTimeout": ("Seconds Bandwidth waits for your server to answer each conference webhook; "
                                "decimals allowed, 1-25. When omitted, the webhook timeout of the call that creates "
                                "the conference is used (15 s unless that call set another), and only the creating "
                                "call's value applies. Bandwidth's Conference reference page misspells this "
                                "attribute as `calbackTimeout`; the real name is `callbackTimeout`."),
        },
    },
    # ----------------------------------------------------------------------------------------------- Forward
    "Forward": {
        "doc": ("Sends an unanswered incoming call on to another phone number or SIP URI without answering it. "
                "Unlike <Transfer>, your application has no further control over either leg once the call is "
                "forwarded; when either side hangs up, a disconnect event goes to the call's status webhook. "
                "<StartGather> cannot be combined with it, and a call that is forwarding cannot be the target of "
                "<Bridge>."),
        "attributes": {
            "to": ("Where to send the call: an E.164 number (+15555551212) or a SIP URI (sip:user@example.com). "
                   "Required in practice."),
            "from": ("Caller ID for the outgoing leg, in E.164 format; the current docs require E.164 even when "
                     "privacy is on. Older docs also accepted Restricted, Anonymous, Private or Unavailable here and, "
                     "when it is left out, used the original leg's 'to' number."),
            "privacy": ("When true, the caller's number is hidden from the destination; use callerDisplayName to "
                        "choose what is shown. Default false. " + NOT_IN_REFERENCE),
            "callerDisplayName": ("Caller name presented on the forwarded call: at most 256 characters, no control "
                                  "characters such as newlines. With privacy=\"true\" only Restricted, Anonymous, "
                                  "Private or Unavailable are accepted. " + NOT_IN_REFERENCE),
            "callTimeout": TIMEOUT_RING,
            "diversionTreatment": DIVERSION_TREATMENT,
            "diversionReason": DIVERSION_REASON,
            "uui": UUI_RFC7433 + " Used when forwarding to a SIP URI.",
        },
    },
    # ------------------------------------------------------------------------------------------------ Gather
    "Gather": {
        "doc": ("Collects keypad (DTMF) digits from the caller, optionally while prompting with nested "
                "<SpeakSentence>/<PlayAudio> verbs (any order, at most 20 plays in total). It finishes when a "
                "terminating digit is pressed, maxDigits digits have been entered, interDigitTimeout passes after "
                "at least one digit, or firstDigitTimeout passes after the prompt with no input. With gatherUrl "
                "set, the result is posted there and the webhook's BXML reply takes over the call; without it the "
                "digits are discarded and execution continues with the next verb. A running <StartGather> is "
                "paused for the duration."),
        "attributes": {
            "gatherUrl": bxml_url("gather", "Gather",
                                  "The event carries the digits and why collection stopped; without this URL the "
                                  "digits are thrown away."),
            "gatherMethod": method("gatherUrl", "gather"),
            "gatherFallbackUrl": fallback_url("gatherUrl", "gather"),
            "gatherFallbackMethod": fallback_method("gatherFallbackUrl", "gather"),
            "username": user("`gatherUrl`"),
            "password": password("`gatherUrl`"),
            "fallbackUsername": user("`gatherFallbackUrl`"),
            "fallbackPassword": password("`gatherFallbackUrl`"),
            "tag": tag("the gather webhook"),
            "terminatingDigits": ("Digits that end collection at once when pressed, e.g. \"#\" or \"#*\". Default "
                                  "\"\" (empty): no digit ends the Gather early."),
            "maxDigits": "Collection stops as soon as this many digits have been entered. Whole number 1-50, default 50.",
            "interDigitTimeout": ("Seconds allowed between keypresses once the caller has started entering digits; "
                                  "when it runs out the Gather ends with what it has. Decimals allowed, 1-60, "
                                  "default 5."),
            "firstDigitTimeout": ("Seconds to wait for the first keypress after the nested prompt has finished "
                                  "playing; decimals allowed, 0-60, default 5. If nothing is pressed, the prompt is "
                                  "repeated (see repeatCount) or the Gather ends; it is also the pause between "
                                  "repetitions."),
            "repeatCount": ("How many times the nested prompt is played while no digit has been pressed, with "
                            "firstDigitTimeout between plays. Default 1; repeatCount times the number of nested "
                            "verbs may not exceed 20."),
            "input": ("What to listen for: `dtmf` (keypad only, default), `speech`, or `dtmf_speech` (either). The "
                      "speech-related attributes only matter when speech is included. " + NOT_IN_REFERENCE),
            "hints": ("Words or phrases you expect the caller to say, given to the speech recognizer to improve "
                      "accuracy; the list format is not documented. Applies only when input includes speech. "
                      + NOT_IN_REFERENCE),
            "language": ("Language the caller is expected to speak, as a hyphenated locale (en-US, es-MX, ...); "
                         "applies only when input includes speech. " + NOT_IN_REFERENCE),
            "partialResultCallback": ("URL (may be relative) that receives partialgather events with interim "
                                      "recognition results while the caller is still speaking, when input includes "
                                      "speech; it is not used to fetch BXML. " + NOT_IN_REFERENCE),
            "partialResultCallbackMethod": ("HTTP method for partialgather requests to `partialResultCallback`: GET "
                                            "or POST, default POST. " + NOT_IN_REFERENCE),
            "profanityFilter": ("When true (default), profanity is removed from the recognized speech. "
                                "Applies only when input includes speech. " + NOT_IN_REFERENCE),
            "speechModel": ("Speech recognition model used to transcribe the caller; the accepted names are not "
                            "documented. Applies only when input includes speech. " + NOT_IN_REFERENCE),
            "speechTimeout": ("Whole seconds to wait for speech before the Gather gives up; default 5, range not "
                              "documented. Applies only when input includes speech. " + NOT_IN_REFERENCE),
        },
    },
    # ------------------------------------------------------------------------------- simple verbs, no attrs
    "Hangup": {
        "doc": ("Ends the call. On an unanswered incoming call it rejects the call instead, and rejected calls are "
                "not charged. A disconnect event follows. A document that runs out of verbs without handing off to "
                "a webhook hangs up by itself, so an empty <Response/> does the same as a lone <Hangup/>."),
        "attributes": {},
    },
    "Pause": {
        "doc": ("Waits for a given number of seconds before moving on to the next verb. The caller hears silence "
                "meanwhile; use <Ring> if ringing should be heard instead."),
        "attributes": {
            "duration": "Length of the wait in seconds; decimals allowed, 0.1-86400 (24 hours). Default 1.",
        },
    },
    "PauseRecording": {
        "doc": ("Suspends the recording started by <StartRecording>: audio until <ResumeRecording> is neither "
                "recorded nor billed. Has no effect when no recording is in progress. Also allowed in conference "
                "BXML."),
        "attributes": {},
    },
    "ResumeRecording": {
        "doc": ("Continues a recording that <PauseRecording> suspended. Has no effect when no recording is in "
                "progress. Also allowed in conference BXML."),
        "attributes": {},
    },
    "StopRecording": {
        "doc": ("Ends the recording started by <StartRecording>, including one that is currently paused. Once the "
                "file is processed, recordingAvailable (conferenceRecordingAvailable for a conference) goes to the "
                "recordingAvailableUrl given when recording started. Has no effect when nothing is being recorded."),
        "attributes": {},
    },
    "StopGather": {
        "doc": ("Turns off the background DTMF detection begun by <StartGather>. After it, no further dtmf events "
                "are sent to that verb's dtmfUrl."),
        "attributes": {},
    },
    # --------------------------------------------------------------------------------------------- PlayAudio
    "PlayAudio": {
        "doc": ("Plays an audio file into the call; the text content is the file's URL (relative URLs allowed). "
                "In conference BXML every member hears it, and inside <Gather> it serves as the prompt. Only WAV "
                "and MP3 are supported: the format is taken from the Content-Type header, then from the file "
                "extension, and WAV is assumed if neither tells. Keep files below roughly one hour / 250 MB."),
        "attributes": {
            "username": user("the audio file URL"),
            "password": password("the audio file URL"),
        },
    },
    # ------------------------------------------------------------------------------------------------ Record
    "Record": {
        "doc": ("Records what the caller says, voicemail style; the document waits here until the recording ends "
                "(terminating digit, maxDuration, silenceTimeout or hang-up). A recordComplete webhook then goes to "
                "recordCompleteUrl, and its BXML reply continues the call, so verbs after <Record> are skipped when "
                "that URL is set. The file is announced separately via recordingAvailable when processed and can "
                "also be transcribed. Recordings are kept for up to 30 days."),
        "attributes": {
            "recordCompleteUrl": bxml_url("recordComplete", "Record",
                                          "Not sent when the recording ended because the call hung up."),
            "recordCompleteMethod": method("recordCompleteUrl", "recordComplete"),
            "recordCompleteFallbackUrl": fallback_url("recordCompleteUrl", "recordComplete"),
            "recordCompleteFallbackMethod": fallback_method("recordCompleteFallbackUrl", "recordComplete"),
            "recordingAvailableUrl": notify_url("the recordingAvailable event once the audio file has been "
                                                "processed and can be downloaded"),
            "recordingAvailableMethod": method("recordingAvailableUrl", "recordingAvailable"),
            "transcribe": ("When true, the recording is also transcribed and the result announced at "
                           "transcriptionAvailableUrl. Only recordings longer than 0.5 s and shorter than 4 hours "
                           "can be transcribed. Default false."),
            "detectLanguage": DETECT_LANGUAGE_REC,
            "transcriptionAvailableUrl": notify_url("the transcriptionAvailable event once the transcription is "
                                                    "ready"),
            "transcriptionAvailableMethod": method("transcriptionAvailableUrl", "transcriptionAvailable"),
            "username": user("`recordCompleteUrl`, `recordingAvailableUrl` and `transcriptionAvailableUrl`", True),
            "password": password("`recordCompleteUrl`, `recordingAvailableUrl` and `transcriptionAvailableUrl`",
                                 True),
            "fallbackUsername": user("`recordCompleteFallbackUrl`", True),
            "fallbackPassword": password("`recordCompleteFallbackUrl`", True),
            "tag": tag("the recording webhooks"),
            "terminatingDigits": ("The one DTMF digit that stops the recording when pressed. Default \"#\"; set it "
                                  "to \"\" so that no key ends the recording."),
            "maxDuration": "Longest allowed recording, in seconds: default 60, maximum 10800 (3 hours).",
            "silenceTimeout": ("Seconds of continuous silence after which the recording stops by itself; decimals "
                               "allowed, up to 10800. Default 0 turns silence detection off."),
            "fileFormat": FILE_FORMAT,
            "recordingName": RECORDING_NAME,
        },
    },
    # ---------------------------------------------------------------------------------------------- Redirect
    "Redirect": {
        "doc": ("Leaves the current document and fetches a new one: a redirect event is sent to redirectUrl and "
                "the BXML in the reply runs next. Nothing after <Redirect> is ever executed, so make it the last "
                "verb. Handy for splitting a flow across documents or looping back to a menu."),
        "attributes": {
            "redirectUrl": ("Required. Endpoint that receives the redirect event and must answer with the BXML to "
                            "run next. May be relative to the URL that served this document."),
            "redirectMethod": method("redirectUrl", "redirect"),
            "redirectFallbackUrl": fallback_url("redirectUrl", "redirect"),
            "redirectFallbackMethod": fallback_method("redirectFallbackUrl", "redirect"),
            "username": user("`redirectUrl`"),
            "password": password("`redirectUrl`"),
            "fallbackUsername": user("`redirectFallbackUrl`"),
            "fallbackPassword": password("`redirectFallbackUrl`"),
            "tag": tag("the redirect webhook"),
        },
    },
    # -------------------------------------------------------------------------------------------------- Ring
    "Ring": {
        "doc": ("Plays a ringing tone on the call for the given duration, then continues with the next verb. On "
                "an unanswered incoming call it answers the call first unless answerCall is false."),
        "attributes": {
            "duration": "How long to ring, in seconds; decimals allowed, 0.1-86400. Default 5.",
            "answerCall": ("Whether an unanswered incoming call gets answered when <Ring> runs. Default true; set "
                           "false to keep the call unanswered, e.g. before a <Forward>, which only works on "
                           "unanswered calls."),
        },
    },
    # ---------------------------------------------------------------------------------------------- SendDtmf
    "SendDtmf": {
        "doc": ("Plays DTMF tones into the call, e.g. to drive a remote phone menu. The text content holds up to 50 "
                "characters: 0-9, *, #, A-D/a-d, plus pause marks - ',' or 'w' wait half a second and 'W' waits a "
                "full second (these take the place of the usual toneInterval gap)."),
        "attributes": {
            "toneDuration": "How long each tone sounds, in milliseconds; 50-5000, default 200.",
            "toneInterval": "Silence after each tone, in milliseconds; 50-5000, default 400.",
        },
    },
    # ----------------------------------------------------------------------------------------- SpeakSentence
    "SpeakSentence": {
        "doc": ("Reads text aloud with text-to-speech (Amazon Polly voices). The text content must not be blank and "
                "may mix plain text with the supported SSML tags: break, emphasis, lang, p, s, phoneme, prosody, "
                "say-as and sub. Pick the speaker with voice, or with gender plus locale; by default a female "
                "en_US voice is used. Inside <Gather> it acts as the prompt; in conference BXML all members hear it."),
        "attributes": {
            "voice": ("Named voice such as julie or dave (en_US), bridget (en_UK) or esperanza (es); when set, "
                      "gender and locale are ignored. The voices ruth, stephen, lupe, pedro, gabrielle and liam are "
                      "enhanced (neural) voices that cost extra."),
            "gender": ("Speaker gender used together with locale when no voice is given: `male` or `female` "
                       "(default). If the locale has no voice of that gender, the other one is used."),
            "locale": ("Language and region of the speaker when no voice is given, e.g. en_US (default), en_UK, "
                       "es_MX, fr_CA. Written with an underscore (except cmn-CN), unlike the SSML xml:lang codes "
                       "such as en-US."),
        },
    },
    # ------------------------------------------------------------------------------------------- StartGather
    "StartGather": {
        "doc": ("Listens for keypresses in the background while the following verbs run - for example during "
                "<Conference>, <Transfer> or <Bridge> - and reports each digit as a dtmf event to dtmfUrl. It is "
                "paused while a <Gather> runs and stopped by <StopGather>. It cannot be used together with "
                "<Forward>."),
        "attributes": {
            "dtmfUrl": ("Required in practice: receives a dtmf event for every digit pressed (may be a relative "
                        "URL). You cannot reply with BXML; the call keeps running its document."),
            "dtmfMethod": method("dtmfUrl", "dtmf"),
            "username": user("`dtmfUrl`"),
            "password": password("`dtmfUrl`"),
            "tag": tag("the dtmf webhooks"),
        },
    },
    # ---------------------------------------------------------------------------------------- StartRecording
    "StartRecording": {
        "doc": ("Starts recording in the background while the following verbs execute. On a call both sides are "
                "captured; in a conference, the audio of every member who is not muted or on hold plus anything "
                "played into the conference. Recording runs until the call or conference ends or <StopRecording> "
                "(and can be suspended with <PauseRecording>). Only one recording of this kind runs at once: a "
                "second <StartRecording> without a <StopRecording> in between is ignored."),
        "attributes": {
            "recordingAvailableUrl": notify_url("the recordingAvailable event (conferenceRecordingAvailable when "
                                                "recording a conference) once the file has been processed"),
            "recordingAvailableMethod": method("recordingAvailableUrl", "recordingAvailable"),
            "transcribe": ("When true, the recording is also transcribed and the result announced at "
                           "transcriptionAvailableUrl; only recordings between 0.5 s and 4 hours qualify. Default "
                           "false. Conference recordings cannot be transcribed: there the flag is silently ignored "
                           "and no transcription webhook is sent."),
            "detectLanguage": DETECT_LANGUAGE_REC,
            "transcriptionAvailableUrl": notify_url("the transcriptionAvailable event once the transcription is "
                                                    "ready"),
            "transcriptionAvailableMethod": method("transcriptionAvailableUrl", "transcriptionAvailable"),
            "username": user("`recordingAvailableUrl` and `transcriptionAvailableUrl`", True),
            "password": password("`recordingAvailableUrl` and `transcriptionAvailableUrl`", True),
            "tag": (tag("the recording webhooks") + " Ignored when recording a conference; those webhooks carry "
                    "the conference's tag."),
            "fileFormat": FILE_FORMAT,
            "multiChannel": ("When true, each side of the call is stored in its own audio channel; default false "
                             "(one mixed channel). Ignored for conference recordings, which are always "
                             "single-channel."),
            "recordingName": RECORDING_NAME,
        },
    },
    # ------------------------------------------------------------------------------------------- StartStream
    "StartStream": {
        "doc": ("Sends the call's audio in real time to your WebSocket server (base64-encoded PCMU / G.711 u-law) "
                "while execution moves on to the next verb. A call may carry at most 4 track streams at once, and a "
                "stream with tracks=\"both\" counts as two. Up to 12 <StreamParam> children pass your own values to "
                "the server in the stream's start message. For a bidirectional stream, keep the call from moving on "
                "and hanging up, e.g. with <StopStream wait=\"true\">."),
        "attributes": {
            "name": ("Name used to stop this stream with <StopStream>; defaults to the generated stream ID reported "
                     "in mediaStreamStarted. Must be unique on the call - a repeated name gets the stream rejected."),
            "mode": ("`unidirectional` (default) only sends call audio to your server; `bidirectional` also lets "
                     "your server play audio back into the call. " + NOT_IN_REFERENCE),
            "tracks": ("Which audio to send: `inbound` (default, audio arriving from the call's far end), `outbound` "
                       "(audio Bandwidth plays to it) or `both`, which uses two of the four stream slots."),
            "destination": "Required. The wss:// WebSocket URL that receives the audio.",
            "destinationUsername": ("User name sent in the Authorization header when opening the WebSocket "
                                    "connection to `destination`. " + NOT_IN_REFERENCE),
            "destinationPassword": ("Password sent in the Authorization header when opening the WebSocket "
                                    "connection to `destination`. " + NOT_IN_REFERENCE),
            "streamEventUrl": notify_url("mediaStreamStarted, mediaStreamRejected and mediaStreamStopped events "
                                         "for this stream"),
            "streamEventMethod": method("streamEventUrl", "stream event"),
            "username": user("`streamEventUrl`", True),
            "password": password("`streamEventUrl`", True),
        },
    },
    "StreamParam": {
        "doc": ("A name/value pair attached to a <StartStream>; it is copied into the streamParams map of the "
                "WebSocket start message, e.g. to pass a customer ID to your media server. At most 12 per stream."),
        "attributes": {
            "name": "Required. Key of the parameter, at most 256 characters.",
            "value": "Required. Value of the parameter, at most 2048 characters.",
        },
    },
    "StopStream": {
        "doc": ("Stops the <StartStream> stream with the given name and triggers mediaStreamStopped. Does nothing "
                "if no stream has that name."),
        "attributes": {
            "name": ("Required. The name given in <StartStream>, or the generated ID from mediaStreamStarted when "
                     "the stream was started without one."),
            "wait": ("When true, execution halts at this verb until the stream's WebSocket is closed (whether "
                     "your server closes it or it times out) and then goes on with the next verb; this keeps a bidirectional "
                     "stream's call alive. Default false. " + NOT_IN_REFERENCE),
        },
    },
    # ------------------------------------------------------------------------------------ StartTranscription
    "StartTranscription": {
        "doc": ("Starts live transcription of the call in the background while the following verbs run. Results "
                "arrive as realTimeTranscription events at transcriptionEventUrl and/or as JSON messages on a "
                "WebSocket destination. A call may carry at most 4 transcribed tracks at once (tracks=\"both\" "
                "counts as two). Up to 12 <CustomParam> children pass your own values to the WebSocket server."),
        "attributes": {
            "name": ("Name used to stop this transcription with <StopTranscription>; defaults to the generated ID "
                     "reported in realTimeTranscriptionStarted. Must be unique on the call (a repeat is rejected); "
                     "current docs allow only letters, digits, underscores and dashes."),
            "tracks": ("Which audio to transcribe: `inbound` (default, audio arriving from the call's far end), "
                       "`outbound` (audio Bandwidth plays to it) or `both`, which counts as two transcriptions."),
            "transcriptionEventUrl": notify_url("realTimeTranscriptionStarted, -Rejected, -Stopped and -Available "
                                                "events for this transcription"),
            "transcriptionEventMethod": method("transcriptionEventUrl", "transcription event"),
            "username": user("`transcriptionEventUrl`", True),
            "password": password("`transcriptionEventUrl`", True),
            "destination": ("Optional WebSocket URL that receives the transcript of the chosen tracks as a stream "
                            "of JSON messages."),
            "stabilized": ("When true (default), only settled transcript updates are sent to `destination`, not "
                           "every interim guess. Only meaningful together with destination."),
            "detectLanguage": ("When true, the service works out the dominant spoken language instead of assuming "
                               "English. Default false. " + NOT_IN_REFERENCE),
            "preferredLanguages": ("Comma-separated locales to transcribe in, e.g. en-US,es-US (default en-US), "
                                   "one dialect per language, used only when detectLanguage is false. "
                                   + NOT_IN_REFERENCE),
        },
    },
    "CustomParam": {
        "doc": ("A name/value pair attached to a <StartTranscription>; it is copied into the customParams map of "
                "the WebSocket start message. At most 12 per transcription."),
        "attributes": {
            "name": "Required. Key of the parameter, at most 256 characters.",
            "value": "Required. Value of the parameter, at most 2048 characters.",
        },
    },
    "StopTranscription": {
        "doc": ("Stops a live transcription begun by <StartTranscription>. Without a name, every active live "
                "transcription on the call is stopped (transcriptions of recordings are not affected)."),
        "attributes": {
            "name": ("Name of the transcription to stop, as given in <StartTranscription> or reported in "
                     "realTimeTranscriptionStarted. Leave it out to stop them all."),
        },
    },
    # --------------------------------------------------------------------------------------------------- Tag
    "Tag": {
        "doc": ("Sets, replaces or clears the call's tag without sending any webhook; the new value is included in "
                "every later webhook of the call. The text content is the tag (surrounding whitespace is trimmed; "
                "keep it within 256 characters); empty content clears it."),
        "attributes": {},
    },
    # ---------------------------------------------------------------------------------------------- Transfer
    "Transfer": {
        "doc": ("Places a new outbound call and connects it with the current call. Give 1-8 destinations as "
                "<PhoneNumber> and/or <SipUri> children: they ring at the same time and the first to answer is "
                "connected. Each destination may run its own BXML on the called party before connecting "
                "(transferAnswerUrl). With transferCompleteUrl set, that webhook's reply decides what the original "
                "call does after the transfer, and verbs after <Transfer> are skipped."),
        "attributes": {
            "transferCallerId": ("Caller ID shown to the destinations, in E.164 format; leave it out to pass on the "
                                 "original caller's number. Older docs also accepted Restricted, Anonymous, Private "
                                 "or Unavailable here; current docs want E.164 even with privacy on."),
            "privacy": ("When true, the caller's number is hidden from the destinations; use "
                        "transferCallerDisplayName to choose what is shown. Default false. " + NOT_IN_REFERENCE),
            "transferCallerDisplayName": ("Caller name shown to the destinations: at most 256 characters, no "
                                          "control characters such as newlines. With privacy=\"true\" only "
                                          "Restricted, Anonymous, Private or Unavailable are accepted."),
            "callTimeout": TIMEOUT_RING,
            "transferCompleteUrl": bxml_url("transferComplete", "Transfer",
                                            "Recommended; it is only called if the original call is still up when "
                                            "the transfer ends."),
            "transferCompleteMethod": method("transferCompleteUrl", "transferComplete"),
            "transferCompleteFallbackUrl": fallback_url("transferCompleteUrl", "transferComplete"),
            "transferCompleteFallbackMethod": fallback_method("transferCompleteFallbackUrl", "transferComplete"),
            "username": user("`transferCompleteUrl`"),
            "password": password("`transferCompleteUrl`"),
            "fallbackUsername": user("`transferCompleteFallbackUrl`"),
            "fallbackPassword": password("`transferCompleteFallbackUrl`"),
            "tag": tag("the transferComplete webhook"),
            "diversionTreatment": (DIVERSION_TREATMENT + " Only for transferring inbound calls; do not use it "
                                   "when transferring an outbound call your application placed."),
            "diversionReason": DIVERSION_REASON,
        },
    },
    "PhoneNumber": {
        "doc": ("One phone-number destination of a <Transfer>, written in E.164 format (e.g. +15555555555) as the "
                "text content. Its attributes govern that leg: transferAnswerUrl can run BXML on the called party "
                "before it is connected, and transferDisconnectUrl reports when the leg ends."),
        "attributes": {
            **DESTINATION_ATTRS,
            "uui": ("Comma-separated User-to-User header values to send in the INVITE to this number; the whole "
                    "value, parameters and separators included, may not exceed 350 characters. "
                    + NOT_IN_REFERENCE),
        },
    },
    "SipUri": {
        "doc": ("A SIP URI destination (e.g. sip:user@example.com) given as the text content. Inside <Transfer> it "
                "is one destination and its attributes govern that leg, like <PhoneNumber>. Inside <Refer> it is "
                "the single Refer-To target and takes no attributes."),
        "attributes": {
            "uui": UUI_RFC7433,
            **DESTINATION_ATTRS,
        },
    },
    # ----------------------------------------------------------------------------------------------- Connect
    "Connect": {
        "doc": ("Connects the call to one or more BRTC endpoints (created through Bandwidth's Endpoints API), "
                "listed as <Endpoint> children. This verb is in beta, so details may still change, and it is newer "
                "than the main BXML reference."),
        "attributes": {
            "eventCallbackUrl": ("Receives events about the connection for as long as it lasts (may be a relative "
                                 "URL). Bandwidth does not say that a BXML reply is honoured, so treat it as "
                                 "notification only."),
            "eventFallbackUrl": ("Backup address where connection events are retried when `eventCallbackUrl` "
                                 "fails to respond. May be a relative URL. " + NOT_IN_REFERENCE),
        },
    },
    "Endpoint": {
        "doc": ("The ID of a BRTC endpoint to connect to, given as the text content of a <Connect>. It takes no "
                "attributes and, like <Connect>, is in beta."),
        "attributes": {},
    },
    # ------------------------------------------------------------------------------------------------- Refer
    "Refer": {
        "doc": ("Hands an incoming SIP URI call back to the SIP side with a SIP REFER whose target is the single "
                "<SipUri> child (which takes no attributes). If the REFER succeeds, Bandwidth ends its part of the "
                "call; if it fails - including when the far end sends no final NOTIFY within 30 s of accepting it - "
                "the call stays up and continues with the referCompleteUrl reply or, without that URL, with the "
                "verbs after <Refer>. Only works on inbound SIP URI calls. A newer verb, not in the main 2023 BXML "
                "reference."),
        "attributes": {
            "referCompleteUrl": ("Receives referComplete (may be a relative URL); when set, verbs after <Refer> "
                                 "never run. After a successful REFER the call is already gone, so the event is "
                                 "informational and any BXML reply is ignored; after a failure the reply's BXML "
                                 "runs on the still-active call so you can recover."),
            "referCompleteMethod": method("referCompleteUrl", "referComplete"),
            "tag": tag("the referComplete webhook"),
        },
    },
    # -------------------------------------------------------------------------------------------------- SSML
    "break": {
        "doc": ("SSML: inserts a pause into the spoken text. Give an exact length with time, or a relative one "
                "with strength."),
        "attributes": {
            "strength": ("Relative pause length: none, x-weak, weak, medium, strong or x-strong. `none` suppresses "
                         "a pause the voice would otherwise make, e.g. after a full stop."),
            "time": "Exact pause length in seconds or milliseconds, e.g. 1s or 1000ms; at most 10 seconds.",
        },
    },
    "emphasis": {
        "doc": ("SSML: speaks the enclosed words with more or less stress than the surrounding text. The level "
                "attribute sets how strong the effect is."),
        "attributes": {
            "level": ("How much stress: `strong` (louder and slower), `moderate` (the usual emphasis) or `reduced` "
                      "(softer and quicker)."),
        },
    },
    "lang": {
        "doc": ("SSML: pronounces the enclosed text as a given language, e.g. a French phrase inside an English "
                "sentence. The voice itself stays the same; only the pronunciation rules change."),
        "attributes": {
            "xml:lang": ("Language of the enclosed text as a hyphenated code such as fr-FR, es-MX or en-GB (not "
                         "the underscore form used by SpeakSentence's locale)."),
        },
    },
    "p": {
        "doc": ("SSML: marks a paragraph, so the voice pauses around it the way a reader does between paragraphs - "
                "longer than between sentences. It takes no attributes and may contain sentences and other SSML "
                "tags."),
        "attributes": {},
    },
    "s": {
        "doc": ("SSML: marks a sentence, giving it the pause that ends a sentence without needing a full stop in "
                "the text. It takes no attributes."),
        "attributes": {},
    },
    "phoneme": {
        "doc": ("SSML: gives an exact phonetic pronunciation for the enclosed word - useful for names, places or "
                "brand terms that text-to-speech gets wrong. The pronunciation in ph is spoken instead of the "
                "enclosed text."),
        "attributes": {
            "ph": "The pronunciation to speak, written in the alphabet chosen by `alphabet` (e.g. IPA symbols).",
            "alphabet": "Phonetic alphabet used in `ph`: `ipa`, or `x-sampa` (an ASCII spelling of IPA).",
        },
    },
    "prosody": {
        "doc": ("SSML: changes the pitch, speed and/or loudness of the enclosed text. Set any mix of pitch, rate "
                "and volume; the ones left out stay as they are."),
        "attributes": {
            "pitch": ("Voice pitch: x-low, low, medium, high, x-high or default, or a relative change such as +20% "
                      "or -15%."),
            "rate": ("Speaking speed: x-slow, slow, medium, fast or x-fast, or a percentage of normal speed (50% is "
                     "half speed, 200% double)."),
            "volume": ("Loudness: silent, x-soft, soft, medium, loud, x-loud or default, or a change in decibels "
                       "such as +1dB or -6dB."),
        },
    },
    "say-as": {
        "doc": ("SSML: tells the voice how to read the enclosed text - as a date, a time, a phone number, letter "
                "by letter, or as a cardinal or ordinal number. interpret-as picks the reading; for dates, format "
                "gives the order of the parts."),
        "attributes": {
            "interpret-as": ("How to read the text: `date`, `time`, `telephone`, `characters` (spelled out one by "
                             "one), `cardinal` (\"twelve\") or `ordinal` (\"twelfth\")."),
            "format": ("With interpret-as=\"date\": the order of day, month and year in the text, e.g. mdy, dmy, "
                       "ymd, or partial forms such as md, ym or y."),
        },
    },
    "sub": {
        "doc": ("SSML: speaks a substitute instead of the enclosed written text, e.g. \"magnesium\" for \"Mg\" or "
                "a full name for an abbreviation. The written text stays in the document; only what is heard "
                "changes."),
        "attributes": {
            "alias": "The words actually spoken in place of the enclosed text.",
        },
    },
}


def apply(data: dict) -> tuple[int, list[str]]:
    """Set doc texts on `data` in place; return (number of still-empty docs, list of unused text keys)."""
    unused: list[str] = []
    for name, texts in DOCS.items():
        element = data["elements"].get(name)
        if element is None:
            unused.append(name)
            continue
        element["doc"] = texts["doc"]
        attributes = element.get("attributes", {})
        for attr, text in texts["attributes"].items():
            if attr in attributes:
                attributes[attr]["doc"] = text
            else:
                unused.append(f"{name}.{attr}")
    empty = []
    for name, element in data["elements"].items():
        if not element.get("doc", "").strip():
            empty.append(name)
        for attr, spec in element.get("attributes", {}).items():
            if not spec.get("doc", "").strip():
                empty.append(f"{name}.{attr}")
    for item in empty:
        print(f"empty doc: {item}", file=sys.stderr)
    return len(empty), unused


def main() -> int:
    # Load the table as it is right now (someone else may have changed other keys) and write it straight back.
    data = json.loads(TABLE.read_text(encoding="utf-8"))
    empty, unused = apply(data)
    TABLE.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    for item in unused:
        print(f"text with no matching element/attribute: {item}", file=sys.stderr)
    print(f"empty docs remaining: {empty}")
    return 0 if empty == 0 and not unused else 1


if __name__ == "__main__":
    sys.exit(main())
