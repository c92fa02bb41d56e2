"""Names: flows and conferences defined twice, named but not defined, or defined but never used."""

from __future__ import annotations

from collections.abc import Iterator

from flowc.check.common import CheckContext, diagnostic, rule
from flowc.core.diagnostics import Diagnostic, Edit, Fix, Label, Span, did_you_mean
from flowc.semantics.ir import Flow


@rule("FC111")
def duplicate_names(context: CheckContext) -> Iterator[Diagnostic]:
    for kind in ("flows", "conferences", "hours"):
        seen: dict[str, tuple[str, Span]] = {}
        for file in context.project.files:
            for declaration in getattr(file, kind):
                # `Main` and `main` would write flows/Main.xml and flows/main.xml: one file on macOS and Windows
                first = seen.get(declaration.name.casefold())
                if first is None:
                    seen[declaration.name.casefold()] = (declaration.name, declaration.name_span)
                    continue
                message = f"`{declaration.name}` is defined twice" if first[0] == declaration.name else (
                    f"`{declaration.name}` and `{first[0]}` differ only in case, so their documents would be one "
                    "file on case-insensitive file systems")
                yield diagnostic("FC111", message, declaration.name_span,
                                 labels=[Label(first[1], "first defined here")],
                                 help="rename one of them")


@rule("FC401")
def undefined_flows(context: CheckContext) -> Iterator[Diagnostic]:
    flows = context.flows
    for attribute, name in [(r.attribute, r.flow) for r in context.links.references]:
        if name in flows:
            continue
        span = attribute.value.span
        guess = did_you_mean(name, [f for f in flows if not context.is_xml(flows[f].span.file)])
        yield diagnostic(
            "FC401", f"no flow named `{name}`", span,
            help=f"did you mean `{guess}`?" if guess else
            "define it with `flow NAME { ... }`, or give a URL in quotes",
            fix=Fix(f"use `{guess}`", (Edit(span, guess),)) if guess else None,
        )


@rule("FC402", elements=("Conference",))
def undefined_conferences(context: CheckContext) -> Iterator[Diagnostic]:
    conferences = context.conferences
    for element, _ in context.links.conference_joins:
        if element.conference is None or element.conference in conferences:
            continue
        span = element.conference_span or element.keyword_span
        guess = did_you_mean(element.conference, conferences)
        yield diagnostic(
            "FC402", f"no conference named `{element.conference}`", span,
            help=f"did you mean `{guess}`?" if guess else
            f'declare it with `conference {element.conference} {{ ... }}`, or join by literal name: '
            f'`join conference "{element.conference}"`',
            fix=Fix(f"use `{guess}`", (Edit(span, guess),)) if guess else None,
        )


@rule("FC403")
def unused_flows(context: CheckContext) -> Iterator[Diagnostic]:
    flows = [f for f in context.flows.values() if not context.is_xml(f.span.file)]
    if not any(flow.entry_events for flow in flows):
        return  # no declared entry points: every flow nobody names is one
    named = {r.flow for r in context.links.references if r.in_flow != r.flow}
    named.update(word for file in context.project.files for word in file.unread_words)  # `gathr then menu`
    for flow in flows:
        if flow.entry_events or flow.name in named or flow.document is not None:
            continue  # (a document for an update endpoint is used by your code, through Bandwidth's API)
        yield diagnostic("FC403", f"flow `{flow.name}` is never used", flow.name_span,
                         help=f"nothing refers to `{flow.name}` and it has no `on`: name it in a `then`/`to` "
                         f"somewhere, or write `flow {flow.name} on initiate, answer {{ ... }}` if calls start "
                         "here",
                         fix=Fix(f"remove flow `{flow.name}`", (Edit(flow.span, ""),), safe=False))


@rule("FC115")
def unknown_flow_events(context: CheckContext) -> Iterator[Diagnostic]:
    """`flow NAME on EVENT`: each event is one of Bandwidth's webhooks whose reply is a call's BXML."""
    vocab = context.vocab
    allowed = vocab.flow_events
    for flow in context.flows.values():
        for event, span in zip(flow.entry_events, flow.entry_event_spans, strict=False):
            if event in allowed:
                continue
            spec = vocab.events.get(event)
            guess = did_you_mean(event, allowed) if spec is None else None
            if spec is not None and spec.phrase:
                phrase = " ".join(spec.phrase)
                message = (f"`{event}` is a conference webhook: answer it with `on {phrase} {{ ... }}` in a "
                           "conference declaration")
            elif spec is not None:
                message = f"`{event}` is a webhook whose reply carries no BXML, so no flow can answer it"
            else:
                message = f"unknown webhook event `{event}`"
            yield diagnostic(
                "FC115", message, span,
                help=f"did you mean `{guess}`?" if guess else "a flow answers " + ", ".join(allowed),
                fix=Fix(f"use `{guess}`", (Edit(span, guess),)) if guess else _remove_event(flow, span),
            )


def _remove_event(flow: Flow, span: Span) -> Fix:
    """Remove one event word with the comma that joins it to its neighbour (`on initiate, bogus`)."""
    spans = flow.entry_event_spans
    index = spans.index(span)
    if len(spans) == 1:  # the only event: ` on EVENT` goes, leaving `flow NAME {`
        removed = Span(span.file, flow.name_span.end, span.end)
    elif index > 0:
        removed = Span(span.file, spans[index - 1].end, span.end)
    else:
        removed = Span(span.file, span.start, spans[1].start)
    return Fix(f"remove `{flow.entry_events[index]}`", (Edit(removed, ""),), safe=False)
