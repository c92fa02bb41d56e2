"""Compiled documents: pre-serialised XML segments with slots, filled in per request (escaped and checked).

Imports nothing heavy and nothing of the compiler: the document part of the runtime can be used and
benchmarked alone.
"""

from __future__ import annotations

import os
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, cast

from flowc.runtime.problem import Problem, log
from flowc.runtime.values import FILTERS, SlotRef

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SPECIAL = re.compile('[&<>"\x00-\x1f\ud800-\udfff\ufffe\uffff]').search
# Tab, newline and carriage return as character references: a parser turns them into spaces in an attribute
# value (and \r\n into \n in text) when written as themselves.
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\t": "&#9;", "\n": "&#10;",
                          "\r": "&#13;"})

# (hook name, file using it) -> its value: how a document asks for a hook's value (see flowc.runtime.hooks)
HookValue = Callable[[str, str], Awaitable[str]]


def escape(value: str) -> str:
    """XML-escape a runtime value for text or a double-quoted attribute; drop characters XML cannot hold."""
    if _SPECIAL(value) is None:  # the common case: nothing to do
        return value
    if _INVALID_XML.search(value):
        value = _INVALID_XML.sub("", value)
    return value.translate(_ESCAPES)


class Template:
    """Literal strings with slot values inserted at fixed positions: one list copy and one join per use."""

    __slots__ = ("pieces", "positions")

    def __init__(self, items: tuple[str | int, ...]) -> None:
        self.pieces = [item if isinstance(item, str) else "" for item in items]
        self.positions = [(position, item) for position, item in enumerate(items) if not isinstance(item, str)]

    def join(self, values: list[str]) -> str:
        pieces = self.pieces.copy()
        for position, index in self.positions:
            pieces[position] = values[index]
        return "".join(pieces)


@dataclass(slots=True)
class Check:
    """A rule on one attribute value or element text that holds runtime values, checked after filling in."""

    what: str  # e.g. "the conference name", "callIdsToCoach of <Conference>"
    items: tuple[str | int, ...]  # literal text (unescaped) or the index of a slot
    pattern: str | None = None  # the whole value (or each comma-separated item) must match
    each: bool = False
    max_length: int | None = None
    rule: str = ""  # the rule in words, for the error message
    _template: Template = field(init=False, repr=False, compare=False)
    _match: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._template = Template(self.items)
        self._match = re.compile(self.pattern).fullmatch if self.pattern is not None else None

    def verify(self, values: list[str]) -> None:
        self.check(self._template.join(values))

    def check(self, value: str) -> None:
        if self.max_length is not None and len(value) > self.max_length:
            raise Problem(422, f"{self.what} would be {len(value)} characters; at most {self.max_length} are allowed")
        if self._match is not None:
            for item in value.split(",") if self.each else (value,):
                if self._match(item) is None:
                    raise Problem(422, f"{self.what} would be {item!r}, which is not {self.rule}")


_environment: dict[str, str] = {}


def environment(name: str, file: str) -> str:
    """A secret from the environment, read once per process (restart the workers to rotate secrets)."""
    value = _environment.get(name)
    if value is None:
        value = os.environ.get(name)
        if value is None:
            log.error("environment variable %s is not set (used by %s)", name, file)
            raise Problem(500, "the server is not configured: a secret is missing")
        _environment[name] = value
    return value


def text_of(value: Any, name: str, file: str) -> str:
    if value is None:
        raise Problem(422, f"payload field `{name}` is required by {file}")
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    raise Problem(422, f"payload field `{name}` must be a text value")


def _getter(slot: SlotRef, file: str) -> Callable[[dict[str, Any]], str]:
    """A function data -> the slot's value (before escaping), for payload and environment slots. One closure
    per kind, no nesting: this runs for every runtime value of every request."""
    name = slot.name
    if slot.source == "env":
        def get_env(data: dict[str, Any]) -> str:
            value = _environment.get(name)
            return value if value is not None else environment(name, file)
        if slot.filter is None:
            return get_env
        apply = FILTERS[slot.filter].apply
        return lambda data: apply(get_env(data))
    if slot.filter is None:
        def get(data: dict[str, Any]) -> str:
            value = data.get(name)
            return value if value.__class__ is str else text_of(value, name, file)
        return get
    remove = FILTERS[slot.filter].removed.sub

    def get_filtered(data: dict[str, Any]) -> str:
        value = data.get(name)
        return remove("", value if value.__class__ is str else text_of(value, name, file))
    return get_filtered


class Document:
    """A compiled BXML document: serialised XML segments with runtime slots (indexes into `slots`)."""

    __slots__ = ("file", "parts", "slots", "checks", "static", "template", "getters", "has_hooks", "fast")

    def __init__(self, file: str, parts: tuple[str | int, ...], slots: tuple[SlotRef, ...] = (),
                 checks: tuple[Check, ...] = ()) -> None:
        self.file, self.parts, self.slots, self.checks = file, parts, slots, checks
        self.static = "".join(p for p in parts if isinstance(p, str)).encode() if not slots else None
        self.template = Template(parts)
        self.getters = [None if slot.source == "hook" else _getter(slot, file) for slot in slots]
        self.has_hooks = any(slot.source == "hook" for slot in slots)
        self.fast = _specialise(self) if slots and not self.has_hooks else None

    @property
    def secrets(self) -> list[str]:
        """The environment variables the document reads."""
        return [slot.name for slot in self.slots if slot.source == "env"]

    async def render(self, data: dict[str, Any], hook_value: HookValue | None = None) -> bytes:
        """The document for one request; `hook_value(name, file)` answers its hook(...) slots."""
        if self.static is not None:
            return self.static
        if self.fast is not None:
            return self.fast(data)
        values = []
        computed: dict[str, str] = {}  # each hook runs once per request, however many places use it
        for slot, get in zip(self.slots, self.getters, strict=True):
            if get is not None:
                values.append(get(data))
                continue
            if slot.name not in computed:
                if hook_value is None:
                    raise Problem(501, f"hook `{slot.name}` is not available")
                computed[slot.name] = await hook_value(slot.name, self.file)
            value = computed[slot.name]
            values.append(FILTERS[slot.filter].apply(value) if slot.filter else value)
        return self.fill(values)

    def render_sync(self, data: dict[str, Any]) -> bytes:
        """Payload and environment slots only (no hooks): the benchmark's and tests' entry point."""
        if self.static is not None:
            return self.static
        if self.fast is None:  # only documents with hooks lack one: they need the payload and the event loop
            raise TypeError(f"{self.file} uses hooks: render it with `await render(...)`")
        return self.fast(data)

    def fill(self, values: list[str]) -> bytes:
        for check in self.checks:
            check.verify(values)
        return self.template.join([v if _SPECIAL(v) is None else escape(v) for v in values]).encode()


def _specialise(document: Document) -> Callable[[dict[str, Any]], bytes]:
    """A render function written for this one document (as dataclasses write __init__): straight-line code
    that reads each value, applies its filter, runs the checks and joins the escaped values with the XML
    around them. About twice as fast as the generic loop in Document.fill, which it must match exactly."""
    names = {"_text": text_of, "_env": environment, "_cache": _environment, "_special": _SPECIAL,
             "_escape": escape,
             "_safe": FILTERS["safe"].removed.sub, "_digits": FILTERS["digits"].removed.sub, "FILE": document.file,
             "CHECKS": document.checks}
    lines = ["def render(data):"]
    for i, slot in enumerate(document.slots):
        if slot.source == "env":
            lines += [f"    v{i} = _cache.get({slot.name!r})",
                      f"    if v{i} is None: v{i} = _env({slot.name!r}, FILE)"]
        else:
            lines += [f"    v{i} = data.get({slot.name!r})",
                      f"    if v{i}.__class__ is not str: v{i} = _text(v{i}, {slot.name!r}, FILE)"]
        if slot.filter is not None:
            lines.append(f"    v{i} = {'_safe' if slot.filter == 'safe' else '_digits'}('', v{i})")
    for k, check in enumerate(document.checks):
        value = " + ".join(repr(item) if isinstance(item, str) else f"v{item}" for item in check.items) or "''"
        lines.append(f"    CHECKS[{k}].check({value})")
    for i in range(len(document.slots)):
        lines.append(f"    e{i} = v{i} if _special(v{i}) is None else _escape(v{i})")
    pieces = ", ".join(repr(part) if isinstance(part, str) else f"e{part}" for part in document.parts)
    lines.append(f"    return ''.join(({pieces},)).encode()")
    exec(compile("\n".join(lines), f"<flowc render {document.file}>", "exec"), names)  # noqa: S102
    return cast("Callable[[dict[str, Any]], bytes]", names["render"])

