"""The emulated voice platform: a virtual clock, calls and conferences executing BXML, webhooks out.

Each call, and each conference's event dispatcher and audio queue, is an *actor* running a generator: the
generator executes verbs and yields what it waits for (`Sleep`: media, a pause, a ring, a timeout; `Park`:
something only another party ends, such as a conference or a bridge). The engine keeps one queue of timers
ordered by virtual time and steps actors when their timers fire, so nothing ever sleeps.

Quiescence (when `settle` returns, which is when `Bandwidth.inbound()` and `Call.press()` return): the clock
runs forward, timer by timer, as long as some actor is *busy* (playing audio or speech, pausing, ringing,
sending a webhook whose answer is slow, an asynchronous event still to deliver); timeouts that fall due in the
meantime fire as they would. It stops when every actor waits only for what the test gives (digits, a hang-up,
a REST request, another call) or for a timeout, or when `settle_seconds` (default 30) of virtual time have
passed since the run began, so looping audio cannot run forever. `advance(seconds)` fires every timer, busy
or not, due within that many seconds and leaves the clock exactly that far on.

Threads: one re-entrant lock (`Engine.lock`) guards all state. The REST server's threads hand their work to
`submit`, which runs it under the lock; while the engine waits for an app's answer it keeps running submitted
work (without delivering webhooks itself: what that work sends goes out when the run resumes), so an app
that calls the REST API while answering a webhook does not deadlock.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import queue
import threading
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Awaitable, Callable, Generator
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar, cast
from urllib.parse import urljoin

from flowc.bxml.vocabulary import vocabulary
from flowc.sim import payloads
from flowc.sim.bxml import (
    Reply,
    attribute,
    break_seconds,
    callback,
    children,
    credentials_of,
    flag,
    number,
    read_reply,
    seconds,
    spoken_text,
)
from flowc.sim.timeline import Event, Heard, Note, StateChange, Verb, Webhook, redact, redact_fields
from flowc.sim.transport import Answer, Credentials, Target

MAX_MEMBERS = 20
MAX_CONFERENCE_SECONDS = 24 * 3600
# Webhooks one call may send without virtual time passing (documents that redirect to each other with nothing
# to play): beyond this the call is ended, instead of the emulator looping for ever.
MAX_WEBHOOKS_AT_ONE_INSTANT = 200
DEFAULT_CALLBACK_TIMEOUT = 15.0
def snake_case(name: str) -> str:
    """StartGather -> start_gather."""
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


SYNC_CONFERENCE_EVENTS = ("conferenceCreated", "conferenceMemberJoin", "conferenceMemberExit",
                          "conferenceRedirect")


# -- what actors wait for --------------------------------------------------------------------------------------

@dataclass(slots=True)
class Sleep:
    seconds: float
    busy: bool = True  # media, pauses, rings: time passes by itself. False: a timeout the test may let pass
    digits: bool = False  # a key press ends it early
    what: str = ""


@dataclass(slots=True)
class Park:
    what: str  # a conference, a bridge, a forwarded call: only another party ends it


Wait = Sleep | Park  # what an actor's generator yields
Woken = str | None  # what resumes it: a digit, the cause that ended a link or conference; None when its time is up
Outcome = Reply | str | None  # a verb's result: a reply that takes the call over, the cause ending it, or go on
Process = Generator[Wait, Woken, str | None]  # an actor's life; a call's returns the cause it ended with
VerbProcess = Generator[Wait, Woken, Outcome]
VerbRunner = Callable[["SimCall", ET.Element], VerbProcess]  # the method that runs one verb
T = TypeVar("T")


class Timer:
    __slots__ = ("time", "busy", "action", "live")

    def __init__(self, time: float, busy: bool, action: Callable[[], None]) -> None:
        self.time, self.busy, self.action, self.live = time, busy, action, True


STOP = object()  # an interrupted actor's pending replacement: nothing


class Actor:
    """Something that runs a generator on the engine's clock."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.process: Process | None = None
        self.timer: Timer | None = None
        self.token = 0
        self.wait: Sleep | Park | None = None
        self.pending: Process | object | None = None  # a Process, or STOP


@dataclass
class GatherState:
    max_digits: int
    terminators: str
    digits: str = ""
    terminator: str = ""
    finished: bool = False

    def done(self) -> bool:
        """A digit came, or the gather ended (a method, so that a type checker does not carry what it found
        across a wait, during which key presses change it)."""
        return bool(self.digits) or self.finished


@dataclass
class RecordingState:
    element: ET.Element
    started: float
    paused_at: float | None = None
    paused_total: float = 0.0


class SimCall(Actor):
    def __init__(self, call_id: str, from_: str, to: str, direction: str, now: float) -> None:
        super().__init__(call_id)
        self.id = call_id
        self.from_, self.to, self.direction = from_, to, direction
        self.state = "active"
        self.cause: str | None = None
        self.heard: list[str] = []
        self.tag: str | None = None
        self.start_time = now
        self.answer_time: float | None = None
        self.end_time: float | None = None
        self.base_url = ""
        self.callback_timeout = DEFAULT_CALLBACK_TIMEOUT
        self.app_credentials: tuple[str, str] | None = None
        self.disconnect: tuple[str, str] | None = None  # (url, method) of the disconnect event
        self.extra: dict[str, Any] = {}  # payload fields given by the test (diversion, uui, sipHeaders ...)
        self.sip_call_id = ""
        self.parent: SimCall | None = None  # the A leg of a transfer
        self.transfer_caller_id: str | None = None
        # (transfer-a | transfer-b | bridge-a | bridge-b, the other leg, the verb that linked them)
        self.link: tuple[str, SimCall, ET.Element] | None = None
        self.room: Room | None = None
        self.gather: GatherState | None = None
        self.record_terminators: str | None = None
        self.recording: RecordingState | None = None
        self.dtmf: ET.Element | None = None  # an active <StartGather>
        self.streams: dict[str, ET.Element] = {}
        self.transcriptions: dict[str, ET.Element] = {}


@dataclass
class Member:
    call: SimCall
    mute: bool = False
    hold: bool = False
    coaching: list[str] | None = None  # the calls this member coaches (None: not a coach)


class Room:
    """A conference: created by the first <Conference> of its name, settings from that document only."""

    def __init__(self, room_id: str, name: str, creator: SimCall, verb: ET.Element, now: float) -> None:
        self.id, self.name = room_id, name
        self.state = "active"
        self.created = now
        self.completed: float | None = None
        self.members: dict[str, Member] = {}
        self.coach_id: str | None = None
        self.base_url = creator.base_url
        events = callback(verb, "conferenceCreated")  # (one URL receives all of a conference's events)
        self.event_url, self.event_method = events.url, events.method
        self.fallback_url, self.fallback_method = events.fallback_url, events.fallback_method
        self.credentials, self.fallback_credentials = credentials_of(verb), credentials_of(verb, fallback=True)
        self.tag = verb.get("tag") or None
        self.callback_timeout = number(verb, "callbackTimeout", creator.callback_timeout)
        self.outbox: deque[tuple[str, dict[str, Any]]] = deque()
        self.held: tuple[str, dict[str, Any]] | None = None  # the swap fault's event, sent after the next one
        self.audio: deque[ET.Element] = deque()
        self.dispatcher = Actor(room_id + " events")
        self.player = Actor(room_id)
        self.recording: RecordingState | None = None
        self.expiry: Timer | None = None


# -- faults ----------------------------------------------------------------------------------------------------

@dataclass
class FaultRule:
    action: str  # slow | fail | duplicate | rate_limit | swap
    event_type: str | None = None
    url: str | None = None  # a substring of the URL (webhooks) or path (REST)
    times: int | None = None  # None: every matching delivery
    seconds: float = 0.0
    status: int | None = 500
    retry_after: int = 1

    def matches(self, event_type: str | None, url: str) -> bool:
        return ((self.event_type is None or self.event_type == event_type)
                and (self.url is None or self.url in url) and (self.times is None or self.times > 0))

    def use(self) -> None:
        if self.times is not None:
            self.times -= 1


@dataclass
class Faults:
    """Trouble on demand, so that tests can prove handlers robust and idempotent."""

    rules: list[FaultRule] = field(default_factory=list)
    reorder_spread: float = 0.0  # asynchronous events are delayed by a seeded random amount up to this

    def slow(self, seconds: float, event_type: str | None = None, url: str | None = None,
             times: int | None = None) -> None:
        """Matching webhooks are answered `seconds` of virtual time late; past the callback timeout they
        count as not answered (and the fallback URL is tried)."""
        self.rules.append(FaultRule("slow", event_type, url, times, seconds=seconds))

    def fail(self, status: int | None = 500, event_type: str | None = None, url: str | None = None,
             times: int | None = None) -> None:
        """Matching webhooks are answered with `status` without reaching the app (None: the connection fails)."""
        self.rules.append(FaultRule("fail", event_type, url, times, status=status))

    def duplicate(self, event_type: str | None = None, times: int | None = None) -> None:
        """Matching asynchronous events are delivered twice, as Bandwidth may."""
        self.rules.append(FaultRule("duplicate", event_type, None, times))

    def swap(self, event_type: str, times: int | None = 1) -> None:
        """A matching conference event is held back and delivered after the next event of its conference (a
        memberExit before its memberJoin): Bandwidth documents no order between webhooks."""
        self.rules.append(FaultRule("swap", event_type, None, times))

    def reorder(self, spread: float = 2.0) -> None:
        """Asynchronous events are delayed by up to `spread` virtual seconds each, so they may arrive out of order."""
        self.reorder_spread = spread

    def rate_limit(self, times: int = 1, retry_after: int = 1, path: str | None = None) -> None:
        """The next `times` REST requests (whose path contains `path`) are answered 429 with Retry-After."""
        self.rules.append(FaultRule("rate_limit", None, path, times, status=429, retry_after=retry_after))

    def take(self, action: str, event_type: str | None, url: str) -> FaultRule | None:
        for rule in self.rules:
            if rule.action == action and rule.matches(event_type, url):
                rule.use()
                return rule
        return None


async def _keep_worker_threads() -> asyncio.Task[bool]:
    """A task that lives as long as the engine, made anyio's root task for this loop: anyio stops its worker
    threads (where an app's plain `def` handlers run) when the root task ends, and each run_until_complete
    would otherwise be a new root, costing a thread start per webhook."""
    keeper = asyncio.ensure_future(asyncio.Event().wait())
    try:
        from anyio._backends._asyncio import _root_task

        _root_task.set(keeper)
    except (ImportError, AttributeError):  # another anyio: correct, only slower
        pass
    return keeper


# -- the engine ------------------------------------------------------------------------------------------------

@dataclass
class Options:
    settle_seconds: float = 30.0
    seconds_per_word: float = 0.4  # speech at 150 words a minute
    audio_seconds: float = 5.0  # length of an audio file not listed in audio_lengths
    audio_lengths: dict[str, float] = field(default_factory=dict)
    answer_seconds: float = 1.0  # how long a simulated callee rings before answering
    strict: bool = True  # run flowc's checker on every reply; its errors refuse the reply
    account_id: str = "9900000"
    seed: int = 0


class Engine:
    def __init__(self, targets: list[Target], options: Options, api_base: Callable[[], str]) -> None:
        self.targets = targets
        self.options = options
        self.api_base = api_base
        # What a webhook carries when neither its verb nor its REST request sets credentials: the Bandwidth
        # application's callback credentials for that URL (the emulator's front end says which; none here).
        self.application_credentials: Callable[[str], tuple[str, str] | None] = lambda url: None
        self.ids = payloads.Ids(options.seed)
        self.application_id = self.ids.call()[2:]
        self.now = 0.0
        self.heap: list[tuple[float, int, Timer]] = []
        self.sequence = 0
        self.busy = 0
        self.calls: dict[str, SimCall] = {}
        self.rooms: dict[str, Room] = {}
        self.active_rooms: dict[str, Room] = {}
        self.events: list[Event] = []
        self.webhooks: list[Webhook] = []
        self.callees: dict[str, str] = {}
        self.faults = Faults()
        self.lock = threading.RLock()
        self.inbox: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = queue.SimpleQueue()
        self.delivering = 0
        self.running: Actor | None = None
        self._instant: tuple[float, dict[str, int]] = (-1.0, {})  # webhooks per call at the current instant
        self.loop = asyncio.new_event_loop()  # the app's event loop, run while a webhook is out (see deliver)
        self._keeper = self.loop.run_until_complete(_keep_worker_threads())
        # Every verb of the vocabulary, run by the method named after it (<StartGather>: _start_gather): a verb
        # added to the vocabulary without a method here stops the engine at once instead of going unnoticed.
        self.verbs: dict[str, VerbRunner] = {name: getattr(self, "_" + snake_case(name))
                                        for name, spec in vocabulary().elements.items() if spec.kind == "verb"}

    # -- clock -------------------------------------------------------------------------------------------------

    def at(self, delay: float, action: Callable[[], None], busy: bool = True) -> Timer:
        timer = Timer(self.now + max(delay, 0.0), busy, action)
        self.sequence += 1
        heapq.heappush(self.heap, (timer.time, self.sequence, timer))
        if busy:
            self.busy += 1
        return timer

    def cancel(self, timer: Timer | None) -> None:
        if timer is not None and timer.live:
            timer.live = False
            if timer.busy:
                self.busy -= 1

    def _next(self) -> Timer | None:
        while self.heap and not self.heap[0][2].live:
            heapq.heappop(self.heap)
        return self.heap[0][2] if self.heap else None

    def _fire(self) -> None:
        _, _, timer = heapq.heappop(self.heap)
        timer.live = False
        if timer.busy:
            self.busy -= 1
        self.now = max(self.now, timer.time)
        timer.action()

    def settle(self) -> None:
        """Run until quiescent (see the module docstring)."""
        if self.delivering:
            return
        limit = self.now + self.options.settle_seconds
        while self.busy > 0:
            timer = self._next()
            if timer is None:
                break
            if timer.time > limit:
                self.now = limit
                self.note("emulator", f"still busy after {self.options.settle_seconds:g} s of virtual time; "
                          "stopped here (advance() continues)")
                break
            self._fire()

    def advance(self, seconds: float) -> None:
        limit = self.now + seconds
        while (timer := self._next()) is not None and timer.time <= limit:
            self._fire()
        self.now = limit

    # -- threads -----------------------------------------------------------------------------------------------

    def submit(self, work: Callable[[], T]) -> T:
        """Run `work` under the engine lock, from another thread (the REST server), then let affected calls
        run until they wait again. Returns what work returned."""
        future: Future[T] = Future()
        self.inbox.put((work, future))
        while not future.done():
            self._drain_soon()
            if self.lock.acquire(timeout=0.005):
                try:
                    self.drain()
                finally:
                    self.lock.release()
        return future.result()

    def drain(self) -> None:
        while True:
            try:
                work, future = self.inbox.get_nowait()
            except queue.Empty:
                return
            try:
                result = work()
                self.settle()  # does nothing while a webhook is out: the run resumes after it
            except BaseException as error:  # handed to the REST thread, which answers 500
                future.set_exception(error)
            else:
                future.set_result(result)

    # -- actors ------------------------------------------------------------------------------------------------

    def start(self, actor: Actor, process: Process) -> None:
        actor.process = process
        actor.token += 1
        token = actor.token
        actor.timer = self.at(0, partial(self._wake, actor, token, None))

    def _wake(self, actor: Actor, token: int, value: Woken) -> None:
        if actor.token != token or actor.process is None:
            return
        self._step(actor, value)

    def wake_soon(self, actor: Actor, value: Woken) -> None:
        """Resume a waiting actor now (a digit, the end of a conference, the other leg leaving)."""
        if actor.process is None:
            return
        self.cancel(actor.timer)
        actor.token += 1
        actor.timer = self.at(0, partial(self._wake, actor, actor.token, value))

    def _step(self, actor: Actor, value: Woken) -> None:
        actor.timer, actor.wait = None, None
        finished = False
        result: str | None = None
        wait: Wait | None = None
        self.running = actor
        assert actor.process is not None
        try:
            wait = actor.process.send(value)
        except StopIteration as stop:
            finished, result = True, stop.value
        finally:
            self.running = None
        if actor.pending is not None:
            pending, actor.pending = actor.pending, None
            if not finished and actor.process is not None:
                actor.process.close()
            actor.process = None
            if pending is not STOP:
                self.start(actor, cast(Process, pending))
            return
        if finished:
            actor.process = None
            if isinstance(actor, SimCall) and actor.state == "active":
                self.end_call(actor, result or "hangup")
            return
        self._arm(actor, cast(Sleep | Park, wait))

    def _arm(self, actor: Actor, wait: Sleep | Park) -> None:
        actor.wait = wait
        actor.token += 1
        if isinstance(wait, Sleep):
            actor.timer = self.at(wait.seconds, partial(self._wake, actor, actor.token, None), wait.busy)

    def interrupt(self, actor: Actor, then: Process | None = None) -> None:
        """Stop what an actor is doing (its current verb and every verb after it); optionally start anew."""
        self.cancel(actor.timer)
        actor.timer = None
        if actor is self.running:
            actor.pending = then if then is not None else STOP
            return
        if actor.process is not None:
            actor.process.close()
        actor.process, actor.wait = None, None
        actor.token += 1
        if then is not None:
            self.start(actor, then)

    # -- records -----------------------------------------------------------------------------------------------

    def record(self, event: Event) -> None:
        self.events.append(event)

    def note(self, subject: str, text: str) -> None:
        self.events.append(Note(self.now, subject, text))

    def state(self, subject: str, state: str, detail: str = "") -> None:
        self.events.append(StateChange(self.now, subject, state, detail))

    # -- delivering webhooks -----------------------------------------------------------------------------------

    def resolve(self, base: str, url: str) -> str:
        return urljoin(base, url) if base else url

    def deliver(self, method: str, url: str, payload: dict[str, Any], credentials: Credentials | None,
                timeout: float) -> Answer:
        target = next((t for t in self.targets if t.handles(url)), None)
        if target is None:
            return Answer(None, "", 0.0, f"no server for {url}")
        return self.loop.run_until_complete(self._while_serving(target.send(method, url, payload, credentials,
                                                                            timeout)))

    async def _while_serving(self, sending: Awaitable[T]) -> T:
        self.delivering += 1
        try:
            return await sending  # submit() wakes this loop to run REST work meanwhile (_drain_soon)
        finally:
            self.delivering -= 1

    def _drain_soon(self) -> None:
        """From the REST server's thread: have the loop, which the engine's thread is running while a
        webhook is out, run the submitted work."""
        if self.delivering and not self.loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                self.loop.call_soon_threadsafe(self.drain)

    def run_on_loop(self, coroutine: Awaitable[T]) -> T:
        return self.loop.run_until_complete(coroutine)

    def close(self) -> None:
        if self.loop.is_closed():
            return
        self._keeper.cancel()
        self.loop.run_until_complete(asyncio.sleep(0))
        self.loop.close()

    def fetch(self, event_type: str, payload: dict[str, Any], endpoint: Endpoint, context: str = "call",
              call_id: str | None = None, conference_id: str | None = None) -> Generator[Wait, Woken, Reply | str]:
        """Send a webhook whose reply is BXML (trying the fallback URL if the first fails); the Reply to run,
        or the cause of failure: `callback-error` (no usable answer) or `invalid-bxml` (refused)."""
        if self._looping(call_id or conference_id or ""):
            self.note(call_id or conference_id or "", f"{MAX_WEBHOOKS_AT_ONE_INSTANT} webhooks without any time "
                      "passing: the documents loop with nothing to play; the call is ended")
            return "application-error"
        attempts = [(endpoint.url, endpoint.method, endpoint.credentials, False)]
        if endpoint.fallback_url:
            attempts.append((endpoint.fallback_url, endpoint.fallback_method, endpoint.fallback_credentials, True))
        for url, method, credentials, is_fallback in attempts:
            url = self.resolve(endpoint.base, url)
            entry = Webhook(self.now, event_type, url, method, call_id, conference_id, payload, fallback=is_fallback)
            self.webhooks.append(entry)
            self.record(entry)
            answer, delay = self._send(event_type, method, url, payload, credentials, endpoint.timeout)
            if delay:
                yield Sleep(min(delay, endpoint.timeout), what=f"waiting for the {event_type} answer")
            if delay > endpoint.timeout:
                answer = Answer(None, "", answer.latency, f"no answer within {endpoint.timeout:g} s")
            entry.latency = answer.latency
            entry.status, entry.reply = answer.status, redact(answer.body)
            if answer.status is None or not 200 <= answer.status < 300:
                entry.reason = answer.error or f"HTTP {answer.status}"
                continue
            reply = read_reply(answer.body, context, check=self.options.strict)
            entry.diagnostics = list(reply.diagnostics)
            if reply.refused:
                entry.reason = reply.reason
                return "invalid-bxml"
            entry.accepted = True
            return reply
        return "callback-error"

    def _looping(self, subject: str) -> bool:
        moment, counts = self._instant
        if moment != self.now:
            counts = {}
            self._instant = (self.now, counts)
        counts[subject] = counts.get(subject, 0) + 1
        return counts[subject] > MAX_WEBHOOKS_AT_ONE_INSTANT

    def _send(self, event_type: str, method: str, url: str, payload: dict[str, Any], credentials: Credentials | None,
              timeout: float) -> tuple[Answer, float]:
        failure = self.faults.take("fail", event_type, url)
        slow = self.faults.take("slow", event_type, url)
        delay = slow.seconds if slow else 0.0
        if failure is not None:
            return Answer(failure.status, "", 0.0, "" if failure.status else "connection refused (fault)"), delay
        credentials = credentials or self.application_credentials(url)
        return self.deliver(method, url, payload, credentials, timeout), delay

    def post_event(self, event_type: str, payload: dict[str, Any], element: ET.Element, base: str,
                   call_id: str | None = None, conference_id: str | None = None, receiver: str | None = None) -> None:
        """post_async to the URL `element` names for the event (or for `receiver`, the event whose URL
        attribute receives it), with the element's credentials."""
        target = callback(element, receiver or event_type)
        self.post_async(event_type, payload, target.url, target.method, base, credentials_of(element), call_id,
                        conference_id)

    def post_async(self, event_type: str, payload: dict[str, Any], url: str | None, method: str, base: str,
                   credentials: Credentials | None = None, call_id: str | None = None,
                   conference_id: str | None = None) -> None:
        """An event whose reply Bandwidth ignores: delivered soon (later with the reorder fault), retried once
        when the connection fails, twice with the duplicate fault."""
        if not url:
            return
        url = self.resolve(base, url)
        copies = 2 if self.faults.take("duplicate", event_type, url) else 1
        for _ in range(copies):
            delay = self.ids.random.uniform(0, self.faults.reorder_spread) if self.faults.reorder_spread else 0.0
            # a delayed (reordered) event is not waited for: it arrives as time passes (advance())
            self.at(delay, partial(self._deliver_async, event_type, payload, url, method, credentials, call_id,
                                   conference_id), busy=not delay)

    def _deliver_async(self, event_type: str, payload: dict[str, Any], url: str, method: str,
                       credentials: Credentials | None, call_id: str | None, conference_id: str | None) -> None:
        for attempt in range(2):
            entry = Webhook(self.now, event_type, url, method, call_id, conference_id, payload)
            self.webhooks.append(entry)
            self.record(entry)
            answer, _ = self._send(event_type, method, url, payload, credentials, DEFAULT_CALLBACK_TIMEOUT)
            entry.status, entry.reply, entry.latency = answer.status, redact(answer.body), answer.latency
            if answer.status is not None:
                entry.accepted = 200 <= answer.status < 300
                entry.reason = "" if entry.accepted else f"HTTP {answer.status}"
                return
            entry.reason = answer.error + ("; retrying once" if attempt == 0 else "")

    # -- payloads ----------------------------------------------------------------------------------------------

    def call_url(self, call: SimCall) -> str:
        return f"{self.api_base()}/accounts/{self.options.account_id}/calls/{call.id}"

    def call_values(self, call: SimCall, **more: Any) -> dict[str, Any]:
        values: dict[str, Any] = {
            "eventTime": payloads.iso(self.now), "accountId": self.options.account_id,
            "applicationId": self.application_id, "from": call.from_, "to": call.to,
            "direction": call.direction, "callId": call.id, "callUrl": self.call_url(call),
            "startTime": payloads.iso(call.start_time), "tag": call.tag, "sipCallId": call.sip_call_id,
            "answerTime": payloads.iso(call.answer_time) if call.answer_time is not None else None,
        }
        if call.direction == "inbound":
            values["stirShaken"] = {"verstat": "TN-Validation-Passed", "attestationIndicator": "A",
                                    "originatingId": self.ids.call()[2:]}
        else:
            values["enqueuedTime"] = payloads.iso(call.start_time)
        if call.parent is not None:
            values.update(parentCallId=call.parent.id, transferCallerId=call.from_, transferTo=call.to)
        values.update(call.extra)
        values.update(more)
        return values

    def event(self, call: SimCall, event_type: str, **more: Any) -> dict[str, Any]:
        return payloads.build(event_type, self.call_values(call, **more))

    def room_event(self, room: Room, event_type: str, call: SimCall | None = None, **more: Any) -> dict[str, Any]:
        values = {"eventTime": payloads.iso(self.now), "conferenceId": room.id, "name": room.name,
                  "tag": room.tag, "accountId": self.options.account_id, **more}
        if call is not None:
            values.update({"callId": call.id, "from": call.from_, "to": call.to})
        return payloads.build(event_type, values)

    # -- calls -------------------------------------------------------------------------------------------------

    def new_call(self, from_: str, to: str, direction: str, call_id: str | None = None) -> SimCall:
        call = SimCall(call_id or self.ids.call(), from_, to, direction, self.now)
        call.sip_call_id = self.ids.sip_call_id()
        self.calls[call.id] = call
        self.state(call.id, "initiated", f"{direction} {from_} -> {to}")
        return call

    def answer(self, call: SimCall) -> None:
        if call.answer_time is None and call.state == "active":
            call.answer_time = self.now
            self.state(call.id, "answered")

    def end_call(self, call: SimCall, cause: str, error: str | None = None) -> None:
        """Hang up (or fail) a call: it leaves everything it was in and its disconnect event is sent."""
        if call.state != "active":
            return
        call.state, call.cause, call.end_time = "completed", cause, self.now
        self.state(call.id, "completed", cause)
        self.interrupt(call)
        self.detach(call)
        self._unlink(call, cause)
        self._finish_recording(call)
        for name in list(call.streams):
            self._stream_event(call, call.streams.pop(name), "mediaStreamStopped")
        for name in list(call.transcriptions):
            self._transcription_event(call, call.transcriptions.pop(name), "realTimeTranscriptionStopped")
        if call.disconnect:
            url, method = call.disconnect
            payload = self.event(call, "disconnect", endTime=payloads.iso(self.now), cause=cause,
                                 errorMessage=error)
            self.post_async("disconnect", payload, url, method, call.base_url, call.app_credentials, call.id)

    def detach(self, call: SimCall) -> None:
        """What an interrupted call leaves: its conference, its Gather or Record in progress."""
        call.gather, call.record_terminators = None, None
        if call.room is not None:
            self.leave(call)

    def _unlink(self, call: SimCall, cause: str) -> None:
        if call.link is None:
            return
        kind, peer, verb = call.link
        call.link = None
        if kind == "transfer-b":
            self._transfer_disconnect(call, verb, cause)
        if peer.link is None or peer.link[1] is not call:
            return
        if kind == "transfer-a":  # the caller hung up: the callee's leg ends too
            self.end_call(peer, "hangup")
        else:  # the other side left: the waiting leg goes on (transferComplete, bridgeComplete ...)
            peer.link = None
            self.wake_soon(peer, cause)

    def redirect(self, call: SimCall, endpoint: Endpoint, event_type: str = "redirect") -> None:
        """POST /calls/{id} with redirectUrl: end the current verbs, run what the redirect webhook answers."""
        self.detach(call)
        self._unlink(call, "hangup")
        self.interrupt(call, self._redirected(call, endpoint, event_type))

    def _redirected(self, call: SimCall, endpoint: Endpoint, event_type: str) -> Process:
        reply = yield from self.fetch(event_type, self.event(call, event_type), endpoint, call_id=call.id)
        if isinstance(reply, str):
            return reply
        return (yield from self.run(call, reply.verbs))

    def replace_bxml(self, call: SimCall, verbs: tuple[ET.Element, ...]) -> None:
        """PUT /calls/{id}/bxml: end the current verbs, run these instead."""
        self.detach(call)
        self._unlink(call, "hangup")
        self.interrupt(call, self.run(call, verbs))

    def main(self, call: SimCall, event_type: str, endpoint: Endpoint) -> Process:
        """A call's life: the first webhook (initiate, or answer for an outbound call), then its documents."""
        reply = yield from self.fetch(event_type, self.event(call, event_type), endpoint, call_id=call.id)
        if isinstance(reply, str):
            return reply
        return (yield from self.run(call, reply.verbs))

    def outbound(self, call: SimCall, endpoint: Endpoint, call_timeout: float) -> Process:
        behaviour = self.callees.get(call.to, "answer")
        if behaviour == "busy":
            yield Sleep(0.5, what="ringing")
            return "busy"
        if behaviour != "answer":
            yield Sleep(call_timeout, busy=False, what="ringing, not answered")
            return "timeout"
        yield Sleep(self.options.answer_seconds, what="ringing")
        self.answer(call)
        return (yield from self.main(call, "answer", endpoint))

    def run(self, call: SimCall, verbs: tuple[ET.Element, ...]) -> Process:
        """Execute documents: a verb whose webhook answers with BXML hands the call to that reply. Returns the
        cause that ended the call, or None when the last document ran out of verbs."""
        while True:
            outcome: Outcome = None
            for verb in verbs:
                if call.state != "active":
                    return "hangup"
                self.record(Verb(self.now, call.id, verb.tag, redact_fields(verb.attrib)))
                if call.answer_time is None and not (verb.tag == "Ring" and not flag(verb, "answerCall")):
                    self.answer(call)
                outcome = yield from self.verbs[verb.tag](call, verb)
                if outcome is not None:
                    break
            if isinstance(outcome, Reply):
                verbs = outcome.verbs
                continue
            return outcome

    def verb_endpoint(self, call: SimCall, verb: ET.Element, prefix: str, base: str | None = None) -> Endpoint | None:
        """Where a verb's webhook goes: its `<prefix>Url`, method, fallback and credentials."""
        url = verb.get(prefix + "Url")
        if not url:
            return None
        return Endpoint(url, attribute(verb, prefix + "Method") or "POST", credentials_of(verb),
                        verb.get(prefix + "FallbackUrl"), attribute(verb, prefix + "FallbackMethod") or "POST",
                        credentials_of(verb, fallback=True), call.callback_timeout,
                        base if base is not None else call.base_url)

    def take_over(self, call: SimCall, verb: ET.Element, prefix: str, event_type: str, context: str = "call",
                  **more: Any) -> VerbProcess:
        """Send a verb's webhook and hand the call to its reply (None: no URL, carry on with the next verb)."""
        endpoint = self.verb_endpoint(call, verb, prefix)
        if endpoint is None:
            return None
        return (yield from self.fetch(event_type, self.event(call, event_type, **more), endpoint, context,
                                      call_id=call.id))

    # -- verbs -------------------------------------------------------------------------------------------------

    def media(self, verb: ET.Element) -> tuple[str, str, float]:
        if verb.tag == "SpeakSentence":
            text = spoken_text(verb)
            return text, "speech", len(text.split()) * self.options.seconds_per_word + break_seconds(verb)
        url = (verb.text or "").strip()
        return url, "audio", self.options.audio_lengths.get(url, self.options.audio_seconds)

    def hear(self, call: SimCall, text: str, kind: str, conference_id: str | None = None) -> None:
        call.heard.append(text)
        self.record(Heard(self.now, call.id, text, kind, conference_id))

    def _speak(self, call: SimCall, verb: ET.Element, interruptible: bool = False) -> VerbProcess:
        text, kind, seconds = self.media(verb)
        self.hear(call, text, kind)
        return (yield Sleep(seconds, digits=interruptible, what=f"playing {kind}"))


    _speak_sentence = _play_audio = _speak
    def _pause(self, call: SimCall, verb: ET.Element) -> VerbProcess:
        yield Sleep(seconds(verb, "duration"), what="pausing")
        return None

    def _ring(self, call: SimCall, verb: ET.Element) -> VerbProcess:
        yield Sleep(seconds(verb, "duration"), what="ringing")
        return None

    def _tag(self, call: SimCall, verb: ET.Element) -> VerbProcess:
        call.tag = (verb.text or "").strip() or None
        yield from ()  # a generator, like every verb: this one ends at once
        return None

    def _hangup(self, call: SimCall, verb: ET.Element) -> VerbProcess:
        yield from ()  # a generator, like every verb: this one ends at once
        return "hangup"

    def _redirect(self, call: SimCall, verb: ET.Element) -> VerbProcess:
        return (yield from self.take_over(call, verb, "redirect", "redirect"))

    def _gather(self, call: SimCall, verb: ET.Element) -> VerbProcess:
        state = GatherState(int(number(verb, "maxDigits")), attribute(verb, "terminatingDigits") or "")
        call.gather = state
        prompts = children(verb)
        first, between = seconds(verb, "firstDigitTimeout"), seconds(verb, "interDigitTimeout")
        for _ in range(max(1, int(number(verb, "repeatCount")))):
            for prompt in prompts:
                if state.done():
                    break
                self.record(Verb(self.now, call.id, prompt.tag, redact_fields(prompt.attrib)))
                yield from self._speak(call, prompt, interruptible=True)
            if state.done():
                break
            yield Sleep(first, busy=False, digits=True, what="waiting for the first digit")
            if state.done():
                break
        while state.digits and not state.finished:
            if (yield Sleep(between, busy=False, digits=True, what="waiting for the next digit")) is None:
                break
        call.gather = None
        return (yield from self.take_over(call, verb, "gather", "gather", digits=state.digits,
                                          terminatingDigit=state.terminator))

    def press(self, call: SimCall, digit: str) -> None:
        """The caller presses one key."""
        self.note(call.id, f"presses {digit}")
        if call.dtmf is not None:
            self._dtmf_event(call, digit)
        gather = call.gather
        if gather is not None and not gather.finished:
            if digit in gather.terminators:
                gather.terminator, gather.finished = digit, True
            else:
                gather.digits += digit
                gather.finished = len(gather.digits) >= gather.max_digits
            if isinstance(call.wait, Sleep) and call.wait.digits:
                self.wake_soon(call, digit)
        elif call.record_terminators is not None and digit in call.record_terminators:
            self.wake_soon(call, digit)
        elif call.dtmf is None:
            self.note(call.id, f"nothing collects the digit {digit}: discarded")

    def _record(self, call: SimCall, verb: ET.Element) -> VerbProcess:
        longest = seconds(verb, "maxDuration")
        silence = seconds(verb, "silenceTimeout")
        limit = min(longest, silence) if silence > 0 else longest
        call.record_terminators = attribute(verb, "terminatingDigits") or ""
        started = self.now
        yield Sleep(limit, busy=False, digits=True, what="recording")
        call.record_terminators = None
        recording = self._recording_values(call, verb, started, self.now - started)
        self._recording_events(call, verb, recording)
        return (yield from self.take_over(call, verb, "recordComplete", "recordComplete", **recording))

    def _recording_values(self, call: SimCall, verb: ET.Element, started: float, seconds: float,
                          channels: int = 1) -> dict[str, Any]:
        recording_id = self.ids.recording()
        return {"recordingId": recording_id, "startTime": payloads.iso(started), "endTime": payloads.iso(self.now),
                "duration": payloads.duration(seconds), "fileFormat": attribute(verb, "fileFormat"),
                "channels": channels, "status": "complete",
                "mediaUrl": f"{self.call_url(call)}/recordings/{recording_id}/media"}

    def _recording_events(self, call: SimCall, verb: ET.Element, recording: dict[str, Any]) -> None:
        self.post_event("recordingAvailable", self.event(call, "recordingAvailable", **recording), verb,
                        call.base_url, call.id)
        if flag(verb, "transcribe"):
            transcription = {"speaker": 0, "text": "(simulated transcription)", "confidence": 0.9}
            self.post_event("transcriptionAvailable",
                            self.event(call, "transcriptionAvailable", transcription=transcription, **recording),
                            verb, call.base_url, call.id)

    def _start_recording(self, call: SimCall, verb: ET.Element) -> VerbProcess:
        if call.recording is None:
            call.recording = RecordingState(verb, self.now)
            self.state(call.id, "recording")
        yield from ()  # a generator, like every verb: this one ends at once
        return None

    def _pause_recording(self, call: SimCall, verb: ET.Element) -> VerbProcess:
        if call.recording is not None and call.recording.paused_at is None:
            call.recording.paused_at = self.now
            self.state(call.id, "recording paused")
        yield from ()  # a generator, like every verb: this one ends at once
        return None

    def _resume_recording(self, call: SimCall, verb: ET.Element) -> VerbProcess:
        recording = call.recording
        if recording is not None and recording.paused_at is not None:
            recording.paused_total += self.now - recording.paused_at
            recording.paused_at = None
            self.state(call.id, "recording")
        yield from ()  # a generator, like every verb: this one ends at once
        return None

    def _stop_recording(self, call: SimCall, verb: ET.Element) -> VerbProcess:
        self._finish_recording(call)
        yield from ()  # a generator, like every verb: this one ends at once
        return None

    def _finish_recording(self, call: SimCall) -> None:
        recording, call.recording = call.recording, None
        if recording is None:
            return
        if recording.paused_at is not None:
            recording.paused_total += self.now - recording.paused_at
        seconds = self.now - recording.started - recording.paused_total
        channels = 2 if flag(recording.element, "multiChannel") else 1
        self.state(call.id, "recording stopped", payloads.duration(seconds))
        self._recording_events(call, recording.element,
                               self._recording_values(call, recording.element, recording.started, seconds, channels))

    def _start_gather(self, call: SimCall, verb: ET.Element) -> VerbProcess:
        call.dtmf = verb
        yield from ()  # a generator, like every verb: this one ends at once
        return None

    def _stop_gather(self, call: SimCall, verb: ET.Element) -> VerbProcess:
        call.dtmf = None
        yield from ()  # a generator, like every verb: this one ends at once
        return None

    def _dtmf_event(self, call: SimCall, digit: str) -> None:
        verb = call.dtmf
        assert verb is not None
        self.post_event("dtmf", self.event(call, "dtmf", digit=digit), verb, call.base_url, call.id)

    def _send_dtmf(self, call: SimCall, verb: ET.Element) -> VerbProcess:
        digits = (verb.text or "").strip()
        each = seconds(verb, "toneDuration") + seconds(verb, "toneInterval")
        self.note(call.id, f"sends the tones {digits}")
        yield Sleep(len(digits) * each, what="sending tones")
        return None

    def _stream_event(self, call: SimCall, verb: ET.Element, event_type: str) -> None:
        self.post_event(event_type, self.event(call, event_type, streamId=verb.get("name") or "stream",
                                               streamParams={p.get("name", ""): p.get("value", "") for p in verb}),
                        verb, call.base_url, call.id)

    def _start_stream(self, call: SimCall, verb: ET.Element) -> VerbProcess:
        call.streams[verb.get("name") or "stream"] = verb
        self._stream_event(call, verb, "mediaStreamStarted")
        yield from ()  # a generator, like every verb: this one ends at once
        return None

    def _stop_stream(self, call: SimCall, verb: ET.Element) -> VerbProcess:
        name = verb.get("name")
        for key in [k for k in call.streams if name in (None, k)]:
            self._stream_event(call, call.streams.pop(key), "mediaStreamStopped")
        yield from ()  # a generator, like every verb: this one ends at once
        return None

    def _transcription_event(self, call: SimCall, verb: ET.Element, event_type: str) -> None:
        self.post_event(event_type, self.event(call, event_type), verb, call.base_url, call.id)

    def _start_transcription(self, call: SimCall, verb: ET.Element) -> VerbProcess:
        call.transcriptions[verb.get("name") or "transcription"] = verb
        self._transcription_event(call, verb, "realTimeTranscriptionStarted")
        yield from ()  # a generator, like every verb: this one ends at once
        return None

    def _stop_transcription(self, call: SimCall, verb: ET.Element) -> VerbProcess:
        name = verb.get("name")
        for key in [k for k in call.transcriptions if name in (None, k)]:
            self._transcription_event(call, call.transcriptions.pop(key), "realTimeTranscriptionStopped")
        yield from ()  # a generator, like every verb: this one ends at once
        return None

    def _connect(self, call: SimCall, verb: ET.Element) -> VerbProcess:
        self.note(call.id, "<Connect> to a BRTC endpoint is not emulated; the call waits until it is hung up")
        yield Park("connected to an endpoint")
        return None

    def _forward(self, call: SimCall, verb: ET.Element) -> VerbProcess:
        self.state(call.id, "forwarded", verb.get("to", ""))
        yield Park(f"forwarded to {verb.get('to', '')}")
        return None

    def _refer(self, call: SimCall, verb: ET.Element) -> VerbProcess:
        target = next(iter(children(verb)), None)
        uri = (target.text or "").strip() if target is not None else ""
        success = self.callees.get(uri, "answer") == "answer"
        yield Sleep(self.options.answer_seconds, what=f"referring to {uri}")
        status = "success" if success else "failure"
        self.state(call.id, f"refer {status}", uri)
        more = {"referCallStatus": status, "referSipResponseCode": 202 if success else 603,
                "notifySipResponseCode": 200 if success else 603}
        endpoint = self.verb_endpoint(call, verb, "referComplete")
        if endpoint is not None:
            reply = yield from self.fetch("referComplete", self.event(call, "referComplete", **more), endpoint,
                                          call_id=call.id)
            if not success:
                return reply
        return "hangup" if success else None

    def _transfer(self, call: SimCall, verb: ET.Element) -> VerbProcess:
        targets = children(verb)
        timeout = seconds(verb, "callTimeout")
        caller_id = verb.get("transferCallerId") or call.to
        legs = []
        for target in targets:
            leg = self.new_call(caller_id, (target.text or "").strip(), "outbound")
            leg.parent, leg.base_url, leg.callback_timeout = call, call.base_url, call.callback_timeout
            legs.append((leg, target, self.callees.get(leg.to, "answer")))
        answering = next(((leg, target) for leg, target, how in legs if how == "answer"), None)
        if answering is not None:
            yield Sleep(min(self.options.answer_seconds, timeout), what="ringing the transfer targets")
        elif all(how == "busy" for _, _, how in legs):
            yield Sleep(0.5, what="ringing the transfer targets")
        else:
            yield Sleep(timeout, busy=False, what="ringing the transfer targets")
        for leg, target, how in legs:
            if answering is None or leg is not answering[0]:
                cause = {"busy": "busy", "answer": "cancel"}.get(how, "timeout")
                self._end_leg(leg, target, cause)
        if answering is not None:
            leg, target = answering
            self.answer(leg)
            call.link, leg.link = ("transfer-a", leg, verb), ("transfer-b", call, target)
            self.start(leg, self._callee(leg, target))
            cause = (yield Park(f"transferred to {leg.to}")) or "hangup"
            chosen = leg
        else:
            chosen = legs[-1][0] if legs else call
            cause = "busy" if legs and all(how == "busy" for _, _, how in legs) else "timeout"
        return (yield from self.take_over(call, verb, "transferComplete", "transferComplete", cause=cause,
                                          transferCallerId=chosen.from_, transferTo=chosen.to, errorMessage=None,
                                          errorId=None))

    def _end_leg(self, leg: SimCall, target: ET.Element, cause: str) -> None:
        self.end_call(leg, cause)
        self._transfer_disconnect(leg, target, cause)

    def _transfer_disconnect(self, leg: SimCall, target: ET.Element, cause: str) -> None:
        payload = self.event(leg, "transferDisconnect", endTime=payloads.iso(self.now), cause=cause)
        self.post_event("transferDisconnect", payload, target, leg.base_url, leg.id)

    def _callee(self, leg: SimCall, target: ET.Element) -> Process:
        """The B leg of a transfer: transferAnswer's reply runs on it alone, then it is bridged to the caller."""
        endpoint = self.verb_endpoint(leg, target, "transferAnswer")
        if endpoint is not None:
            reply = yield from self.fetch("transferAnswer", self.event(leg, "transferAnswer"), endpoint,
                                          "transfer-answer", call_id=leg.id)
            if isinstance(reply, str):
                return reply
            outcome = yield from self.run(leg, reply.verbs)
            if outcome is not None:  # a <Hangup>, or a failed webhook: running out of verbs bridges instead
                return outcome
        self.state(leg.id, "bridged", leg.parent.id if leg.parent else "")
        yield Park(f"bridged to {leg.parent.id if leg.parent else ''}")
        return "hangup"

    def _bridge(self, call: SimCall, verb: ET.Element) -> VerbProcess:
        target = self.calls.get((verb.text or "").strip())
        if target is None or target.state != "active" or target is call:
            self.note(call.id, f"cannot bridge to {(verb.text or '').strip()}: no such active call")
            return (yield from self.take_over(call, verb, "bridgeComplete", "bridgeComplete", cause="error",
                                              errorMessage="the target call is not active", errorId=None))
        self.detach(target)
        self._unlink(target, "hangup")
        call.link, target.link = ("bridge-a", target, verb), ("bridge-b", call, verb)
        self.interrupt(target, self._bridge_target(target, call, verb))
        self.state(call.id, "bridged", target.id)
        cause = (yield Park(f"bridged to {target.id}")) or "hangup"
        return (yield from self.take_over(call, verb, "bridgeComplete", "bridgeComplete", cause=cause,
                                          errorMessage=None, errorId=None))

    def _bridge_target(self, target: SimCall, caller: SimCall, verb: ET.Element) -> Process:
        yield Park(f"bridged to {caller.id}")
        endpoint = self.verb_endpoint(target, verb, "bridgeTargetComplete", caller.base_url)
        if endpoint is None:
            return "hangup"
        reply = yield from self.fetch("bridgeTargetComplete", self.event(target, "bridgeTargetComplete"), endpoint,
                                      call_id=target.id)
        if isinstance(reply, str):
            return reply
        return (yield from self.run(target, reply.verbs))

    # -- conferences -------------------------------------------------------------------------------------------

    def _conference(self, call: SimCall, verb: ET.Element) -> VerbProcess:
        room = self.join(call, verb)
        if room is None:
            return None
        yield Park(f"in conference {room.name}")
        return None  # the conference ended: carry on with the verb after <Conference>

    def join(self, call: SimCall, verb: ET.Element) -> Room | None:
        name = (verb.text or "").strip()
        room = self.active_rooms.get(name)
        if room is not None and len(room.members) >= MAX_MEMBERS:
            self.note(call.id, f"conference {name} already has {MAX_MEMBERS} members: not admitted, the call "
                      "carries on with the next verb")
            return None
        created = room is None
        if room is None:
            room = Room(self.ids.conference(), name, call, verb, self.now)
            self.rooms[room.id] = room
            self.active_rooms[name] = room
            room.expiry = self.at(MAX_CONFERENCE_SECONDS, partial(self.end_room, room, "24 hours"), busy=False)
            self.state(room.id, "created", name)
        coaching = None
        if verb.get("callIdsToCoach") is not None:
            coaching = [c.strip() for c in verb.get("callIdsToCoach", "").split(",") if c.strip()]
            if room.coach_id is not None:
                self.note(call.id, f"conference {name} already has a coach ({room.coach_id}): joins without "
                          "coaching")
                coaching = None
            else:
                room.coach_id = call.id
        room.members[call.id] = Member(call, flag(verb, "mute"), flag(verb, "hold"), coaching)
        call.room = room
        self.state(call.id, "joined", f"{room.id}" + (" as coach" if coaching is not None else ""))
        if created:
            self.queue_room_event(room, "conferenceCreated")
        self.queue_room_event(room, "conferenceMemberJoin", call)
        return room

    def leave(self, call: SimCall) -> None:
        room, call.room = call.room, None
        if room is None or call.id not in room.members:
            return
        del room.members[call.id]
        if room.coach_id == call.id:
            room.coach_id = None
        self.state(call.id, "left", room.id)
        self.queue_room_event(room, "conferenceMemberExit", call)
        if not room.members:
            self._complete_room(room)

    def end_room(self, room: Room, why: str) -> None:
        """End a conference (REST `status: completed`, or its 24 hours): each member carries on with the
        verb after its <Conference>."""
        if room.state != "active":
            return
        self.note(room.id, f"ended ({why})")
        for member in list(room.members.values()):
            self.leave(member.call)
            self.wake_soon(member.call, "conference ended")

    def _complete_room(self, room: Room) -> None:
        room.state, room.completed = "completed", self.now
        if self.active_rooms.get(room.name) is room:
            del self.active_rooms[room.name]
        self.cancel(room.expiry)
        self.state(room.id, "completed")
        self._finish_room_recording(room)
        self.queue_room_event(room, "conferenceCompleted")

    def queue_room_event(self, room: Room, event_type: str, call: SimCall | None = None, **more: Any) -> None:
        """Conference events go, in order, to the creator's event URL (none at all without one)."""
        if not room.event_url:
            return
        room.outbox.append((event_type, self.room_event(room, event_type, call, **more)))
        if room.dispatcher.process is None:
            self.start(room.dispatcher, self._dispatch(room))

    def _dispatch(self, room: Room) -> Process:
        assert room.event_url is not None  # queue_room_event sends nothing without one
        endpoint = Endpoint(room.event_url, room.event_method, room.credentials, room.fallback_url,
                            room.fallback_method, room.fallback_credentials, room.callback_timeout, room.base_url)
        while room.outbox:
            event_type, payload = room.outbox.popleft()
            if room.held is None and self.faults.take("swap", event_type, room.event_url):
                room.held = (event_type, payload)  # delivered after the next event (the swap fault)
                self.note(room.id, f"{event_type} held back, to be delivered after the next event (fault)")
                continue
            if room.held is not None and (event_type, payload) != room.held:
                room.outbox.appendleft(room.held)
                room.held = None
            call_id = payload.get("callId")
            if event_type not in SYNC_CONFERENCE_EVENTS:  # after the exits it follows, duplicated on demand
                url = self.resolve(room.base_url, room.event_url)
                for _ in range(2 if self.faults.take("duplicate", event_type, url) else 1):
                    self._deliver_async(event_type, payload, url, room.event_method, room.credentials, call_id,
                                        room.id)
                continue
            reply = yield from self.fetch(event_type, payload, endpoint, "conference", call_id, room.id)
            if isinstance(reply, Reply) and room.state == "active":
                self.play_in_room(room, reply.verbs)
        return None

    def play_in_room(self, room: Room, verbs: tuple[ET.Element, ...]) -> None:
        """Queue BXML for a conference: played to every member, one verb after another, never overlapping."""
        room.audio.extend(verbs)
        if room.player.process is None:
            self.start(room.player, self._play_room(room))

    def _play_room(self, room: Room) -> Process:
        while room.audio and room.state == "active":
            verb = room.audio.popleft()
            self.record(Verb(self.now, room.id, verb.tag, redact_fields(verb.attrib)))
            if verb.tag in ("SpeakSentence", "PlayAudio"):
                text, kind, seconds = self.media(verb)
                for member in room.members.values():
                    if not member.hold:
                        self.hear(member.call, text, kind, room.id)
                yield Sleep(seconds, what=f"playing {kind} into the conference")
            elif verb.tag == "StartRecording" and room.recording is None:
                room.recording = RecordingState(verb, self.now)
                self.state(room.id, "recording")
            elif verb.tag == "PauseRecording" and room.recording and room.recording.paused_at is None:
                room.recording.paused_at = self.now
            elif verb.tag == "ResumeRecording" and room.recording and room.recording.paused_at is not None:
                room.recording.paused_total += self.now - room.recording.paused_at
                room.recording.paused_at = None
            elif verb.tag == "StopRecording":
                self._finish_room_recording(room)
        return None

    def _finish_room_recording(self, room: Room) -> None:
        recording, room.recording = room.recording, None
        if recording is None:
            return
        if recording.paused_at is not None:
            recording.paused_total += self.now - recording.paused_at
        seconds = self.now - recording.started - recording.paused_total
        recording_id = self.ids.recording()
        values: dict[str, Any] = {
                  "recordingId": recording_id, "channels": 1, "startTime": payloads.iso(recording.started),
                  "endTime": payloads.iso(self.now), "duration": payloads.duration(seconds),
                  "fileFormat": attribute(recording.element, "fileFormat"), "status": "complete",
                  "mediaUrl": f"{self.api_base()}/accounts/{self.options.account_id}/conferences/{room.id}"
                              f"/recordings/{recording_id}/media"}
        self.state(room.id, "recording stopped", values["duration"])
        self.post_event("conferenceRecordingAvailable", self.room_event(room, "conferenceRecordingAvailable",
                                                                        **values),
                        recording.element, room.base_url, conference_id=room.id, receiver="recordingAvailable")

    def can_hear(self, listener: SimCall, speaker: SimCall) -> bool:
        """Whether `listener` hears `speaker` in their conference: mute, hold and coaching decide."""
        room = listener.room
        if room is None or speaker.room is not room or listener is speaker:
            return False
        heard, hearing = room.members[speaker.id], room.members[listener.id]
        if hearing.hold or heard.hold or heard.mute:
            return False
        if heard.coaching is not None:
            return listener.id in heard.coaching
        return True


@dataclass
class Endpoint:
    """Where one webhook goes: URL, method, credentials, fallback, timeout, and the base of relative URLs."""

    url: str
    method: str = "POST"
    credentials: tuple[str, str] | None = None
    fallback_url: str | None = None
    fallback_method: str = "POST"
    fallback_credentials: tuple[str, str] | None = None
    timeout: float = DEFAULT_CALLBACK_TIMEOUT
    base: str = ""
