"""Flow logic: statements that never run (after a verb that takes the call over, branches an earlier branch
shadows) and statements that run only once the call leaves a conference."""

from __future__ import annotations

from collections.abc import Iterator

from flowc.bxml.vocabulary import CALL, TRANSFER_ANSWER, ElementSpec
from flowc.check.common import CheckContext, diagnostic, rule
from flowc.core.diagnostics import Diagnostic, Edit, Fix, Label, Span
from flowc.semantics.ir import Element


def takes_over(element: Element, specs: dict[str, ElementSpec]) -> bool:
    """Whether the rest of the document can never run after this verb (its `takes_over` in the vocabulary)."""
    return specs[element.tag].ends_document(element.attribute)


@rule("FC405", "FC406", on_elements={"FC406": lambda spec: spec.name == "Conference"})
def statement_order(context: CheckContext) -> Iterator[Diagnostic]:
    rules_of = context.vocab.context_rules
    for body in context.bodies:
        runs = rules_of[body.context]  # an update-call document: a call's
        if (runs is CALL or runs is TRANSFER_ANSWER) and len(body.elements) > 1:
            yield from _order(body.elements, context)


def _order(elements: list[Element], context: CheckContext) -> Iterator[Diagnostic]:
    join_index: int | None = None
    specs = context.vocab.elements
    for index, element in enumerate(elements):
        if takes_over(element, specs):
            if join_index is not None and index > join_index:
                yield _after_join(elements[join_index], elements[join_index + 1 : index + 1], context)
            if index + 1 < len(elements):
                yield _dead(element, elements[index + 1 :], specs[element.tag])
            return
        if element.tag == "Conference" and join_index is None:
            room = context.conferences.get(element.conference) if element.conference else None
            if room is not None and room.policy is not None:
                continue  # a room's join: what follows is where the call goes on when the room ends (backend.rooms)
            join_index = index
    if join_index is not None and join_index + 1 < len(elements):
        yield _after_join(elements[join_index], elements[join_index + 1 :], context)


@rule("FC405")
def shadowed_branch_values(context: CheckContext) -> Iterator[Diagnostic]:
    """`when digits "1"` twice: the web app serves the first branch that matches, so the later value is dead.
    Branches testing different values (`digits`, `hook(digits)`) never shadow each other."""
    groups = [flow.branches for flow in context.flows.values()]
    groups += [handler.branches for conference in context.conferences.values() for handler in conference.handlers]
    for branches in groups:
        earlier: dict[tuple[str, str, str], Span] = {}
        for branch in branches:
            pairs = list(zip(branch.values, branch.value_spans, strict=False))
            shadowed = [(value, span) for value, span in pairs if (branch.source, branch.field, value) in earlier]
            what = "this branch never runs" if len(shadowed) == len(pairs) else "this value never selects this branch"
            for value, span in shadowed:
                first = earlier[(branch.source, branch.field, value)]
                yield diagnostic("FC405", f"{what}: `{branch.subject}` \"{value}\" is matched by an earlier branch",
                                 span, labels=[Label(first, "matched here first")],
                                 help="the web app serves the first branch whose values include the tested "
                                 "value; remove the repeated value")
            for value, span in pairs:
                earlier.setdefault((branch.source, branch.field, value), span)


def _dead(takeover: Element, after: list[Element], spec: ElementSpec) -> Diagnostic:
    first, last = after[0], after[-1]
    span = first.span.cover(last.span)
    count = f"these {len(after)} statements never run" if len(after) > 1 else "this statement never runs"
    how = spec.takes_over_note or "the call continues with the BXML this verb's webhook returns"
    return diagnostic("FC405", count, span, labels=[Label(takeover.keyword_span, how)],
                      fix=Fix("remove the statements that never run",
                              (Edit(Span(span.file, takeover.span.end, last.span.end), ""),), safe=False))


def _after_join(join: Element, after: list[Element], context: CheckContext) -> Diagnostic:
    span = after[0].span.cover(after[-1].span)
    what = "this statement runs" if len(after) == 1 else f"these {len(after)} statements run"
    return diagnostic("FC406", f"{what} only after the call leaves the conference", span,
                      labels=[Label(join.keyword_span, "the call stays in the conference until it leaves")],
                      help=f"move {'it' if len(after) == 1 else 'them'} before the "
                      f"{'<Conference>' if context.is_xml(join.span.file) else 'join'} to run first")
