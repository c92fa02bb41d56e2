"""The user's hooks module: value hooks (`hook(name)` in .flow) and observers (`on_<event>`), each given the
payload and, when it asks for it, the request's context.

A hook is called `hook(payload)`, or `hook(payload, context=...)` when it has a `context` parameter: the
RequestContext holds what the request knows beyond the payload (its route, its raw fields, the time left
before Bandwidth gives up) and the app's state, opened and closed by the app's lifespan, where shared
resources (a store, a Bandwidth REST client, timers) belong. An observer marked with `@after_reply` runs once
the reply has been sent, so a slow one never delays the call.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import keyword
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from flowc.runtime.problem import Problem, log

if TYPE_CHECKING:
    from flowc.bxml.webhooks import Webhook
    from flowc.runtime.control import Control
    from flowc.runtime.services import Runtime

F = TypeVar("F")  # a hooks module's function, returned as it came
DEFAULT_HOOK_THREADS = 16  # plain `def` hooks running at once per worker (FLOWC_HOOK_THREADS)
# The most threads of the pool one hook may hold: one that hangs cannot starve the others.
HOOK_SHARE_OF_THREADS = 0.5


def python_name(hook: str) -> str:
    """The function implementing hook(name): `-` becomes `_`, and a Python keyword gets a trailing `_`."""
    name = re.sub(r"\W", "_", hook)
    return name + "_" if keyword.iskeyword(name) else name


def snake(event_type: str) -> str:
    return re.sub(r"([A-Z])", r"_\1", event_type).lower()


def observer_name(event_type: str) -> str:
    """The hooks-module function called for every webhook of this type: conferenceMemberJoin ->
    on_conference_member_join."""
    return "on_" + snake(event_type)


def after_reply(function: F) -> F:
    """Mark an observer (`on_<event>`) to run after the reply is sent: it cannot change the reply, and what it
    raises is logged. Without it an observer runs before the reply, and a failure answers 500."""
    cast(Any, function).__flowc_after_reply__ = True
    return function


@dataclass
class AppState:
    """What the app holds between requests, opened by its lifespan and closed at shutdown: the pool running
    plain `def` hooks, and the runtime's stateful services (store, Bandwidth client, outbox, timers; opened
    on first use, see flowc.runtime.services)."""

    threads: int = DEFAULT_HOOK_THREADS
    values: dict[str, Any] = field(default_factory=dict)  # resources a hooks module keeps for its own use
    _pool: ThreadPoolExecutor | None = None
    _runtime: Runtime | None = None

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            from flowc.runtime.services import Runtime

            self._runtime = Runtime()
        return self._runtime

    @runtime.setter
    def runtime(self, runtime: Runtime) -> None:
        self._runtime = runtime

    @property
    def pool(self) -> ThreadPoolExecutor:
        if self._pool is None:  # also without a lifespan (an ASGI server started with lifespan off)
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="flowc-hook")
        return self._pool

    def close(self) -> None:
        """Stop the hook threads; hooks still running are not waited for."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


@dataclass
class RequestContext:
    """One request, as hooks that take a second parameter see it."""

    payload: Webhook | None
    data: dict[str, Any]  # the raw fields: body, and the parameters of the callback URL
    path: str
    deadline: float  # event-loop time by which the hooks must have answered
    state: AppState
    loop: asyncio.AbstractEventLoop = field(repr=False, default_factory=asyncio.get_running_loop)
    room: str | None = None  # the Bandwidth name of the room the request is about (a room's events, keys, lobby)
    _control: Control | None = field(default=None, repr=False)

    @property
    def control(self) -> Control:
        """The control API (flowc.runtime.control): mute, unmute, hold, unhold, coach, kick, move, announce,
        end. What it records is sent after the reply; calls and conferences default to this request's, and
        inside a room to the room's."""
        if self._control is None:
            control = self.state.runtime.control(self.data)
            control.room = self.room
            self._control = control
        return self._control

    @property
    def remaining(self) -> float:
        """Seconds left for the hooks of this request (also from a plain `def` hook's thread)."""
        return max(0.0, self.deadline - self.loop.time())


class Hook:
    """One function of the hooks module, with how to call it (decided once, at start-up)."""

    __slots__ = ("function", "name", "is_async", "takes_context", "after_reply", "share")

    def __init__(self, function: Any) -> None:
        self.function = function
        self.share: asyncio.Semaphore | None = None  # its threads of the pool (plain `def` hooks), made on first use
        self.name = getattr(function, "__name__", "?")
        self.is_async = inspect.iscoroutinefunction(function)
        self.takes_context = _takes_context(function)
        self.after_reply = bool(getattr(function, "__flowc_after_reply__", False))


def _takes_context(function: Any) -> bool:
    """Whether the function has a parameter named `context` (given by keyword): the one way to ask for it, so
    a hook with some other optional second parameter keeps being called with the payload alone."""
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):  # a builtin or a class without a readable signature: payload only
        return False
    found = parameters.get("context")
    return found is not None and found.kind in (found.POSITIONAL_OR_KEYWORD, found.KEYWORD_ONLY)


class Hooks:
    """The user's module: value hooks (hook(name) in .flow) and observers (on_<event>)."""

    def __init__(self, module: Any = None, path: str = "", threads: int = DEFAULT_HOOK_THREADS) -> None:
        self.module, self.path = module, path
        self.state = AppState(threads)
        self.functions: dict[str, Any] = {}
        if module is not None:
            self.functions = {n: f for n, f in vars(module).items() if callable(f) and not n.startswith("_")}
        self._hooks = {name: Hook(function) for name, function in self.functions.items()}
        self._observers: dict[str, Hook | None] = {}  # eventType -> its observer: no regex per request

    @classmethod
    def load(cls, path: Path, threads: int = DEFAULT_HOOK_THREADS) -> Hooks:
        from flowc.runtime.app import import_file, path_digest

        if not path.is_file():
            log.warning("no hooks module at %s: flows that use hook(...) will answer 501", path)
            return cls(threads=threads)
        return cls(import_file(f"flowc_hooks_{path_digest(path)}", path), str(path), threads)

    def observer(self, event_type: str) -> Hook | None:
        try:
            return self._observers[event_type]
        except KeyError:
            found = self._observers[event_type] = self._hooks.get(observer_name(event_type))
            return found

    async def call(self, hook: Hook, context: RequestContext) -> Any:
        """`async def` hooks run on the event loop; plain `def` hooks in the app's own bounded pool of threads
        (FLOWC_HOOK_THREADS), so a blocking lookup (a database, an HTTP API) does not stall the other requests,
        and hooks that hang can hold at most that many threads. Every hook must answer by the context's
        deadline (event-loop time): one that does not is answered 504 and logged, before Bandwidth's
        callbackTimeout runs out. Whatever a hook raises, SystemExit and KeyboardInterrupt included, is logged
        with its traceback and answered 500; the server carries on."""
        arguments = (context.payload, context) if hook.takes_context else (context.payload,)  # see _call
        scope = asyncio.timeout_at(context.deadline)
        try:
            async with scope:
                if hook.is_async:
                    result = await _call(hook.function, arguments)
                else:
                    result = await self._in_thread(hook, arguments)
                if inspect.isawaitable(result):
                    result = await result
            return result
        except (NotImplementedError, Problem):
            raise
        except TimeoutError:
            if not scope.expired():  # the hook's own TimeoutError (a database's, say): a failure like any other
                log.exception("hook %s (%s) raised an exception", hook.name, self.path)
                raise Problem(500, f"hook `{hook.name}` failed") from None
            log.error("hook %s (%s) did not answer in time: answered 504 (raise FLOWC_HOOK_TIMEOUT or make it "
                      "faster)", hook.name, self.path)
            raise Problem(504, f"hook `{hook.name}` did not answer in time") from None
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():  # the request itself is cancelled (shutdown, disconnect)
                raise
            log.exception("hook %s (%s) raised CancelledError", hook.name, self.path)
            raise Problem(500, f"hook `{hook.name}` failed") from None
        except BaseException:  # noqa: BLE001 - user code: SystemExit and KeyboardInterrupt must not stop the server
            log.exception("hook %s (%s) raised an exception", hook.name, self.path)
            raise Problem(500, f"hook `{hook.name}` failed") from None

    async def _in_thread(self, hook: Hook, arguments: tuple[Any, ...]) -> Any:
        """Run a plain `def` hook in the pool, on one of the threads it may hold. A thread stays held until the
        function returns, even after its request has been answered 504, so a hook that hangs holds at most its
        share of the pool while the other hooks keep the rest. Waiting for a thread counts against the budget."""
        loop = asyncio.get_running_loop()
        if hook.share is None:
            hook.share = asyncio.Semaphore(max(1, int(self.state.threads * HOOK_SHARE_OF_THREADS)))
        share = hook.share
        await share.acquire()
        try:
            future = self.state.pool.submit(_outcome, hook.function, arguments)
        except BaseException:
            share.release()
            raise
        future.add_done_callback(lambda _: _release_from_thread(loop, share))
        failed, result = await asyncio.wrap_future(future)
        if failed:
            raise result
        return result

    def close(self) -> None:
        self.state.close()

    async def value(self, name: str, file: str, context: RequestContext) -> str:
        hook = self._hooks.get(python_name(name))
        if hook is None:
            raise Problem(501, f"hook `{name}` (used by {file}) is not defined in the hooks module")
        try:
            result = await self.call(hook, context)
        except NotImplementedError:
            raise Problem(501, f"hook `{name}` (used by {file}) is not implemented yet") from None
        if isinstance(result, list | tuple):
            return ",".join(str(item) for item in result)
        if result is None:
            log.error("hook %s returned None (used by %s)", name, file)
            raise Problem(500, f"hook `{name}` returned no value")
        return str(result)

    async def observe(self, hook: Hook, context: RequestContext) -> None:
        try:
            await self.call(hook, context)
        except NotImplementedError:
            raise Problem(501, f"`{hook.name}` is not implemented yet") from None

    async def observe_after_reply(self, hook: Hook, context: RequestContext) -> None:
        """An observer run after the reply: nobody is left to answer, so a failure is only logged."""
        try:
            await self.observe(hook, context)
        except Problem as problem:
            if problem.status == 501:  # not logged by call(): say it here
                log.warning("%s: %s", context.path, problem.message)


def _release_from_thread(loop: asyncio.AbstractEventLoop, share: asyncio.Semaphore) -> None:
    with contextlib.suppress(RuntimeError):  # a closed loop: nothing waits for the thread any more
        loop.call_soon_threadsafe(share.release)


def _outcome(function: Any, arguments: tuple[Any, ...]) -> tuple[bool, Any]:
    """Run a plain `def` hook in a worker thread; what it raises (any BaseException) comes back as a value,
    to be raised again in the request's coroutine, where the app's own error handling sees it."""
    try:
        return False, _call(function, arguments)
    except BaseException as error:  # noqa: BLE001
        return True, error


def _call(function: Any, arguments: tuple[Any, ...]) -> Any:
    return function(arguments[0], context=arguments[1]) if len(arguments) == 2 else function(arguments[0])
