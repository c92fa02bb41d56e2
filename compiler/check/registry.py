"""The rule registry: each rule declares the codes it emits and the elements it visits.

A rule is a function of the checker's context that yields diagnostics, registered with `@rule(...)`. Its
declaration is what the rest of flowc reads: `check_project` skips rules whose codes are all deselected
(`--select`/`--ignore`), and the editor's hover lists, for a statement or an attribute, the codes of the rules
that apply to it. Severities come from the code table (flowc.core.codes), never from the rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from flowc.core.codes import CODES, coded
from flowc.core.diagnostics import Diagnostic

if TYPE_CHECKING:
    from flowc.bxml.vocabulary import AttributeSpec, ElementSpec
    from flowc.semantics.analysis import Analysis as CheckContext

# Which statements a code applies to, for hover: a predicate of the element and, for attribute-level codes, of
# the attribute (returning a reason to show, True, or False/None).
ElementTest = Callable[["ElementSpec"], bool]
AttributeTest = Callable[["ElementSpec", "AttributeSpec"], "str | bool | None"]
RuleFunction = Callable[["CheckContext"], Iterator[Diagnostic]]


class Rule:
    """A registered rule (a plain class, not a dataclass: `flowc check` imports this module on every run)."""

    __slots__ = ("name", "function", "codes", "elements", "on_elements", "on_attributes", "on_contexts",
                 "on_declarations")

    def __init__(self, name: str, function: Callable[[CheckContext], Iterator[Diagnostic]], codes: tuple[str, ...],
                 elements: tuple[str, ...], on_elements: dict[str, ElementTest],
                 on_attributes: dict[str, AttributeTest], on_contexts: dict[str, tuple[str, ...]],
                 on_declarations: tuple[str, ...]) -> None:
        self.name = name
        self.function = function
        self.codes = codes
        self.elements = elements  # the elements it visits (empty: the project as a whole)
        # per code: which statements and attributes it is about (hover). A code absent from both is about no
        # one statement (names, document size ...).
        self.on_elements = on_elements
        self.on_attributes = on_attributes
        self.on_contexts = on_contexts  # per code: the contexts (vocabulary.Context) whose replies it checks
        self.on_declarations = on_declarations  # the codes about a conference declaration as a whole

    def __repr__(self) -> str:
        return f"Rule({self.name!r}, codes={self.codes!r})"


RULES: list[Rule] = []


def rule(*codes: str, elements: Iterable[str] = (), on_elements: dict[str, ElementTest] | None = None,
         on_attributes: dict[str, AttributeTest] | None = None, on_contexts: dict[str, tuple[str, ...]] | None = None,
         on_declarations: Iterable[str] = ()) -> Callable[[RuleFunction], RuleFunction]:
    """Register a rule emitting `codes`. `elements`: the element names it visits (empty: it reads the project
    as a whole). For the editor's hover, per code: `on_elements`/`on_attributes` the statements and attributes
    it is about, `on_contexts` the replies (a conference handler's) it checks as a whole, `on_declarations` the
    codes about a conference declaration; a code named nowhere is about no single place."""
    for code in codes:
        if code not in CODES:
            raise ValueError(f"rule code {code} is not in flowc.core.codes")
    for code in [*(on_elements or {}), *(on_attributes or {}), *(on_contexts or {}), *on_declarations]:
        if code not in codes:
            raise ValueError(f"a rule can only say where its own codes apply, not {code}")

    def register(function: RuleFunction) -> RuleFunction:
        RULES.append(Rule(function.__name__, function, codes, tuple(elements), dict(on_elements or {}),
                          dict(on_attributes or {}), dict(on_contexts or {}), tuple(on_declarations)))
        return function

    return register


diagnostic = coded  # a diagnostic with the severity the code table gives its code

# -- selection -------------------------------------------------------------------------------------------------

ALWAYS_REPORTED = "FC0"  # input and syntax errors: nothing else can be checked without them fixed


class UnknownCode(ValueError):
    """A --select/--ignore prefix that matches no code."""


class Selection:
    """`--select FC3 --ignore FC403`, as ruff reads it: a code is reported when the longest prefix matching it
    is a selected one (no --select: every code is selected); an ignored prefix wins a tie. Codes FC0xx (input
    and syntax) are always reported."""

    __slots__ = ("select", "ignore")

    def __init__(self, select: tuple[str, ...] = (), ignore: tuple[str, ...] = ()) -> None:
        self.select = select
        self.ignore = ignore

    def __repr__(self) -> str:
        return f"Selection(select={self.select!r}, ignore={self.ignore!r})"

    @classmethod
    def parse(cls, select: Iterable[str] = (), ignore: Iterable[str] = ()) -> Selection:
        """From the CLI's or the editor's lists; each item may hold several prefixes separated by commas."""
        chosen = tuple(_prefixes(select)), tuple(_prefixes(ignore))
        for prefix in chosen[0] + chosen[1]:
            if not any(code.startswith(prefix) for code in CODES):
                raise UnknownCode(f"`{prefix}` matches no diagnostic code (see `flowc explain`)")
        return cls(*chosen)

    @property
    def everything(self) -> bool:
        return not self.select and not self.ignore

    def keeps(self, code: str) -> bool:
        if self.everything or code.startswith(ALWAYS_REPORTED):
            return True
        selected = max((len(p) for p in self.select if code.startswith(p)), default=-1 if self.select else 0)
        ignored = max((len(p) for p in self.ignore if code.startswith(p)), default=-1)
        return selected > ignored

    def filter(self, diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
        return [d for d in diagnostics if self.keeps(d.code)]

    def runs(self, rule: Rule) -> bool:
        return self.everything or any(self.keeps(code) for code in rule.codes)


EVERYTHING = Selection()


def _prefixes(items: Iterable[str]) -> Iterator[str]:
    for item in items:
        for prefix in str(item).split(","):
            if prefix.strip():
                yield prefix.strip().upper()


def selection_from_options(options: object) -> Selection:
    """The editor's choice of codes: `{"select": [...], "ignore": [...]}` in the language server's
    initialization options (or settings). Anything unusable selects every code rather than failing the server."""
    if not isinstance(options, dict):
        return EVERYTHING
    lists: list[list[str]] = []
    for key in ("select", "ignore"):
        value = options.get(key)
        lists.append([item for item in value if isinstance(item, str)] if isinstance(value, list) else
                     [value] if isinstance(value, str) else [])
    try:
        return Selection.parse(lists[0], lists[1])
    except UnknownCode:
        return EVERYTHING


# -- what applies where (hover) ----------------------------------------------------------------------------------

def codes_for_element(spec: ElementSpec) -> list[str]:
    """The codes of the rules about a statement, in code order."""
    return sorted({code for r in RULES for code, test in r.on_elements.items() if test(spec)})


def codes_for_context(context: str) -> list[str]:
    """The codes of the rules about a reply in `context` (a conference handler's), in code order."""
    return sorted({code for r in RULES for code, contexts in r.on_contexts.items() if context in contexts})


def codes_for_declaration() -> list[str]:
    """The codes of the rules about a conference declaration, in code order."""
    return sorted({code for r in RULES for code in r.on_declarations})


def codes_for_attribute(element: ElementSpec, attribute: AttributeSpec) -> tuple[list[str], dict[str, str]]:
    """The codes of the rules about an attribute, in code order, and the reasons some of them give."""
    codes: set[str] = set()
    reasons: dict[str, str] = {}
    for r in RULES:
        for code, test in r.on_attributes.items():
            verdict = test(element, attribute)
            if verdict:
                codes.add(code)
                if isinstance(verdict, str):
                    reasons[code] = verdict
    return sorted(codes), reasons
