"""Go to definition, find references (flows and conferences, across the project's files) and the outline."""

from __future__ import annotations

from dataclasses import dataclass

from flowc.bxml.vocabulary import vocabulary
from flowc.core.diagnostics import Span
from flowc.lsp.workspace import CheckResult, FileAnalysis
from flowc.semantics.ir import FlowFile
from flowc.semantics.links import is_flow_reference


@dataclass(frozen=True)
class Name:
    kind: str  # flow | conference
    name: str


def name_at(analysis: FileAnalysis, offset: int) -> Name | None:
    site = analysis.index.at(offset)
    if site is None or site.kind not in ("flow", "conference"):
        return None
    return Name(site.kind, site.name)


def definitions(result: CheckResult, name: Name) -> list[Span]:
    spans: list[Span] = []
    for analysis in result.analyses.values():
        declared = analysis.flow_file.flows if name.kind == "flow" else analysis.flow_file.conferences
        spans.extend(d.name_span for d in declared if d.name == name.name)
    return spans


def references(result: CheckResult, name: Name, include_declaration: bool) -> list[Span]:
    spans = definitions(result, name) if include_declaration else []
    links = result.links
    if name.kind == "flow":
        spans.extend(r.attribute.value.span for r in links.references_to(name.name))
        conference_spec = vocabulary().elements["Conference"]
        for conference in result.project.conferences.values():  # `events NAME` in a declaration
            for attribute in conference.settings:
                spec = conference_spec.attributes.get(attribute.name)
                if spec and is_flow_reference(spec, attribute) and attribute.value.value == name.name:  # type: ignore[union-attr]
                    spans.append(attribute.value.span)
    else:
        for element, _ in links.conference_joins:
            if element.conference == name.name and element.conference_span is not None:
                spans.append(element.conference_span)
    return sorted(spans, key=lambda s: (s.file, s.start))


@dataclass
class Symbol:
    name: str
    kind: str  # flow | branch | conference | handler
    span: Span
    selection: Span
    children: list[Symbol]


def outline(flow_file: FlowFile) -> list[Symbol]:
    symbols = []
    for flow in flow_file.flows:
        branches = [Symbol(f"when {b.field} {', '.join(b.values)}", "branch", b.span, b.span, [])
                    for b in flow.branches]
        symbols.append(Symbol(flow.name, "flow", flow.span, flow.name_span, branches))
    for conference in flow_file.conferences:
        handlers = [Symbol(f"on {h.event}", "handler", h.span, h.span, []) for h in conference.handlers]
        symbols.append(Symbol(conference.name, "conference", conference.span, conference.name_span, handlers))
    return sorted(symbols, key=lambda s: s.span.start)

