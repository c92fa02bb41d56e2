"""Names: flows and conferences defined twice, named but not defined, or defined but never used."""

from __future__ import annotations

from collections.abc import Iterator

from flowc.check.common import CheckContext, diagnostic, rule
from flowc.diagnostics import Diagnostic, Edit, Fix, Label, Span, did_you_mean


@rule("FC111")
def duplicate_names(context: CheckContext) -> Iterator[Diagnostic]:
    for kind in ("flows", "conferences"):
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
    for flow in flows:
        if flow.entry_events or flow.name in named:
            continue
        yield diagnostic("FC403", f"flow `{flow.name}` is never used", flow.name_span,
                         help=f"nothing refers to `{flow.name}` and it has no `on`: name it in a `then`/`to` "
                         f"somewhere, or write `flow {flow.name} on initiate, answer {{ ... }}` if calls start "
                         "here",
                         fix=Fix(f"remove flow `{flow.name}`", (Edit(flow.span, ""),), safe=False))
