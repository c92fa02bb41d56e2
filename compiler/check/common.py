"""What every rule module reads: the context a rule runs on (the project's analysis) and small helpers for
spans and fixes."""

from __future__ import annotations

from flowc.check.registry import diagnostic, rule
from flowc.core.diagnostics import Edit, Fix, Span
from flowc.semantics.analysis import Analysis
from flowc.semantics.ir import Attribute, Element

CheckContext = Analysis  # rules read the analysis: bodies, sites by element, links, joins, the vocabulary

__all__ = ["CheckContext", "diagnostic", "keyword", "phrase_span", "removal", "rule"]


def keyword(element: Element, context: CheckContext) -> str:
    spec = context.vocab.elements[element.tag]
    return f"<{spec.name}>" if context.is_xml(element.span.file) else spec.keyword


def phrase_span(element: Element, attribute: Attribute) -> Span:
    """The whole phrase that set `attribute`: `auth USER PASSWORD` sets two attributes from one name."""
    span = attribute.span
    for other in element.attributes:
        if other.name_span == attribute.name_span:
            span = span.cover(other.span)
    return span


def removal(attribute: Attribute) -> Fix:
    return Fix(f"remove `{attribute.written or attribute.name}`", (Edit(attribute.span, ""),), safe=False)
