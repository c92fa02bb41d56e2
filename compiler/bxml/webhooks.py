"""Typed payloads of every Bandwidth voice webhook a compiled flow can receive (pydantic v2).

Field names and types follow Bandwidth's callback schemas. Bandwidth marks no field as required and adds
fields over time, so: unknown fields are kept (`extra="allow"`), and only what identifies the event is
required (`eventType`, plus `callId` for call events and `conferenceId`/`name` for conference events). A
route additionally requires the fields its documents read (see flowc.runtime). Python names are snake_case
(`from` is `from_`); the JSON names are the aliases, and both are accepted.

Imported by the generated web app and by your hooks module; it does not import the compiler, only the
vocabulary table (flowc.bxml.vocabulary), which says which model each event's payload has.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from flowc.bxml.vocabulary import vocabulary
from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True)


class Diversion(_Model):
    reason: str | None = None
    privacy: str | None = None
    screen: str | None = None
    counter: str | None = None
    limit: str | None = None
    unknown: str | None = None
    orig_to: str | None = Field(None, alias="origTo")


class StirShaken(_Model):
    verstat: str | None = None
    attestation_indicator: str | None = Field(None, alias="attestationIndicator")
    originating_id: str | None = Field(None, alias="originatingId")


class MachineDetectionResult(_Model):
    value: str | None = None
    duration: str | None = None


class Transcription(_Model):
    speaker: int | None = None
    text: str | None = None
    confidence: float | None = None


class Webhook(_Model):
    """What every webhook carries."""

    event_type: str = Field(alias="eventType", min_length=1)
    event_time: datetime | None = Field(None, alias="eventTime")
    tag: str | None = None


# -- call webhooks -------------------------------------------------------------------------------------------

class CallEvent(Webhook):
    """Fields common to the webhooks about one call."""

    call_id: str = Field(alias="callId", min_length=1)
    account_id: str | None = Field(None, alias="accountId")
    application_id: str | None = Field(None, alias="applicationId")
    from_: str | None = Field(None, alias="from")
    to: str | None = None
    direction: Literal["inbound", "outbound"] | str | None = None  # str: values Bandwidth may add later
    call_url: str | None = Field(None, alias="callUrl")
    enqueued_time: datetime | None = Field(None, alias="enqueuedTime")
    start_time: datetime | None = Field(None, alias="startTime")
    answer_time: datetime | None = Field(None, alias="answerTime")
    parent_call_id: str | None = Field(None, alias="parentCallId")
    transfer_caller_id: str | None = Field(None, alias="transferCallerId")
    transfer_to: str | None = Field(None, alias="transferTo")


class _Ended(CallEvent):
    end_time: datetime | None = Field(None, alias="endTime")
    cause: str | None = None
    error_message: str | None = Field(None, alias="errorMessage")
    error_id: str | None = Field(None, alias="errorId")


class Initiate(CallEvent):
    diversion: Diversion | None = None
    stir_shaken: StirShaken | None = Field(None, alias="stirShaken")
    uui: str | None = Field(None, max_length=256)
    sip_call_id: str | None = Field(None, alias="sipCallId")
    sip_headers: dict[str, str] | None = Field(None, alias="sipHeaders")


class Answer(CallEvent):
    machine_detection_result: MachineDetectionResult | None = Field(None, alias="machineDetectionResult")
    sip_call_id: str | None = Field(None, alias="sipCallId")


class Disconnect(_Ended):
    sip_call_id: str | None = Field(None, alias="sipCallId")
    sip_response_code: int | None = Field(None, alias="sipResponseCode")


class Gather(CallEvent):
    digits: str | None = None
    terminating_digit: str | None = Field(None, alias="terminatingDigit")


class PartialGather(Gather):
    pass


class Redirect(CallEvent):
    pass


class TransferAnswer(CallEvent):
    pass


class TransferComplete(_Ended):
    pass


class TransferDisconnect(_Ended):
    pass


class BridgeComplete(_Ended):
    pass


class BridgeTargetComplete(CallEvent):
    pass


class ReferComplete(CallEvent):
    refer_call_status: Literal["success", "failure"] | str | None = Field(None, alias="referCallStatus")
    refer_sip_response_code: int | None = Field(None, alias="referSipResponseCode")
    notify_sip_response_code: int | None = Field(None, alias="notifySipResponseCode")


class _Recording(CallEvent):
    recording_id: str = Field(alias="recordingId", min_length=1)
    media_url: str | None = Field(None, alias="mediaUrl")
    end_time: datetime | None = Field(None, alias="endTime")
    duration: str | None = None  # ISO 8601 duration, e.g. PT20.056S
    file_format: Literal["wav", "mp3"] | str | None = Field(None, alias="fileFormat")
    channels: int | None = None


class RecordComplete(_Recording):
    pass


class RecordingAvailable(_Recording):
    status: str | None = None


class TranscriptionAvailable(_Recording):
    transcription: Transcription | None = None


class Dtmf(CallEvent):
    digit: str | None = None


class MachineDetectionComplete(CallEvent):
    machine_detection_result: MachineDetectionResult | None = Field(None, alias="machineDetectionResult")


class StreamEvent(CallEvent):
    """mediaStreamStarted / mediaStreamRejected / mediaStreamStopped."""

    stream_id: str | None = Field(None, alias="streamId")
    stream_params: dict[str, Any] | None = Field(None, alias="streamParams")


class RealTimeTranscriptionEvent(CallEvent):
    """realTimeTranscriptionStarted / ...Rejected / ...Stopped / ...Available."""


class ConnectEvent(CallEvent):
    pass


# -- conference webhooks -------------------------------------------------------------------------------------

class ConferenceEvent(Webhook):
    """Fields common to the webhooks about one conference."""

    conference_id: str = Field(alias="conferenceId", min_length=1)
    name: str = Field(min_length=1)


class ConferenceCreated(ConferenceEvent):
    pass


class ConferenceRedirect(ConferenceEvent):
    pass


class ConferenceCompleted(ConferenceEvent):
    pass


class ConferenceMemberJoin(ConferenceEvent):
    call_id: str = Field(alias="callId", min_length=1)
    from_: str | None = Field(None, alias="from")
    to: str | None = None


class ConferenceMemberExit(ConferenceMemberJoin):
    pass


class ConferenceRecordingAvailable(ConferenceEvent):
    account_id: str | None = Field(None, alias="accountId")
    recording_id: str = Field(alias="recordingId", min_length=1)
    channels: int | None = None
    start_time: datetime | None = Field(None, alias="startTime")
    end_time: datetime | None = Field(None, alias="endTime")
    duration: str | None = None
    file_format: Literal["wav", "mp3"] | str | None = Field(None, alias="fileFormat")
    media_url: str | None = Field(None, alias="mediaUrl")
    status: str | None = None


# The payload model of every event the vocabulary knows (compiler/data/bxml.json names each event's class).
MODELS: dict[str, type[Webhook]] = {name: globals()[event.payload] for name, event in vocabulary().events.items()}


def model_for(event_type: str, conference: bool = False) -> type[Webhook]:
    """The payload class of an event; unknown (newer) events get the generic class of their kind."""
    return MODELS.get(event_type) or (ConferenceEvent if conference else CallEvent)


def model_name(events: list[str] | tuple[str, ...]) -> str:
    """The class a hook stub names for its payload: the event's own class when there is one, else a base."""
    classes = {model_for(e, e.startswith("conference")).__name__ for e in events}
    if len(classes) == 1:
        return classes.pop()
    if all(e.startswith("conference") for e in events):
        return "ConferenceEvent"
    return "CallEvent" if not any(e.startswith("conference") for e in events) else "Webhook"
