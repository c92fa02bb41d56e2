"""Counted attempts (`gather ... then choice attempts 3 exhausted voicemail`): the count's bounds, a flow that
receives the answers, and a receiving flow that can tell a failed attempt from a good one."""

from __future__ import annotations

from collections.abc import Iterator

from flowc.bxml.vocabulary import ElementSpec, vocabulary
from flowc.check.common import CheckContext, diagnostic, rule
from flowc.check.flow_logic import takes_over
from flowc.core.diagnostics import Diagnostic, Edit, Fix, Label, Span
from flowc.semantics.ir import MAX_ATTEMPTS, Attempts, Element, Flow, Word

COUNTED, CALLBACK = vocabulary().attempt_callback


def _counts(spec: ElementSpec) -> bool:
    return spec.name == COUNTED


@rule("FC140", "FC141", "FC410", elements=(COUNTED,),
      on_elements={code: _counts for code in ("FC140", "FC141", "FC410")})
def counted_attempts(context: CheckContext) -> Iterator[Diagnostic]:
    for element, _, _ in context.tagged(COUNTED):
        attempts = element.attempts
        if attempts is None:
            continue
        yield from _bounds(attempts)
        receiver = _receiver(element, context)
        if attempts.count is None and attempts.exhausted_span is not None:
            yield diagnostic("FC141", "`exhausted` continues after the last attempt, so it needs `attempts N`",
                             attempts.exhausted_span, help="count the attempts: `attempts 2 exhausted ...`",
                             fix=Fix("count 2 attempts", (Edit(_before(attempts.span), "attempts 2 "),)))
        elif receiver is None:
            yield diagnostic("FC141", "the attempts are counted by the flow that receives the answers, and this "
                             "gather names none", attempts.span,
                             help="send the answers to a flow that branches on them: `then choice`")
        elif attempts.whole is not None:
            yield from _repeatable(receiver, attempts, context)


def _before(span: Span) -> Span:
    return Span(span.file, span.start, span.start)


def _bounds(attempts: Attempts) -> Iterator[Diagnostic]:
    count = attempts.count
    if count is None or attempts.whole is not None:
        return
    bounded = int(min(max(round(count), 1), MAX_ATTEMPTS))
    written = f"{count:g}"
    yield diagnostic("FC140", f"`attempts {written}`: the number of times to ask is a whole number from 1 to "
                     f"{MAX_ATTEMPTS}", attempts.span,
                     fix=Fix(f"ask {bounded} times", (Edit(attempts.span, f"attempts {bounded}"),)))


def _receiver(element: Element, context: CheckContext) -> Flow | None:
    target = element.attribute(CALLBACK)
    if target is None or type(target.value) is not Word:
        return None
    return context.flows.get(target.value.value)


def _repeatable(receiver: Flow, attempts: Attempts, context: CheckContext) -> Iterator[Diagnostic]:
    """The question is asked again in the receiving flow's reply to an answer none of its branches takes: after
    its default statements, which must leave the call to the gather."""
    if not receiver.branches:
        yield diagnostic("FC410", f"`{receiver.name}` has no `when` branch, so every answer is a failed attempt",
                         attempts.span, labels=[Label(receiver.name_span, "receives the answers")],
                         help="branch on the answer in that flow (`when digits \"1\" { ... }`): an answer that "
                         "selects a branch ends the count")
        return
    specs = context.vocab.elements
    handing = next((e for e in receiver.body if takes_over(e, specs)), None)
    if handing is not None:
        yield diagnostic("FC410", f"`{receiver.name}`'s default statements hand the call over, so the question "
                         "is never asked again", attempts.span,
                         labels=[Label(handing.keyword_span, "the call leaves the document here")],
                         help="the reply to a failed attempt is that flow's default statements followed by the "
                         "same gather: keep them to what to say (`say \"Sorry.\"`)")
