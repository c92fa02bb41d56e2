"""Contexts: the verbs Bandwidth accepts where a document runs (a conference reply, a transfer answer, a reply
that takes no BXML), and the options it ignores there."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from flowc.bxml.vocabulary import CONFERENCE, NO_BXML, TRANSFER_ANSWER, Context, ElementSpec, vocabulary
from flowc.check.common import CheckContext, diagnostic, keyword, removal, rule
from flowc.core.diagnostics import Diagnostic, Edit, Fix
from flowc.semantics.analysis import Body
from flowc.semantics.ir import Word


def _verb_outside(context: str) -> Callable[[ElementSpec], bool]:
    return lambda spec: spec.kind == "verb" and spec.name not in vocabulary().contexts[context]


@rule("FC301", "FC302", "FC303", on_elements={"FC301": _verb_outside(Context.CONFERENCE),
                                               "FC302": _verb_outside(Context.TRANSFER_ANSWER)},
      on_contexts={"FC301": (Context.CONFERENCE, Context.UPDATE_CONFERENCE), "FC303": (Context.NO_BXML,)})
def context_verbs(context: CheckContext) -> Iterator[Diagnostic]:
    conference_allowed = context.vocab.contexts[Context.CONFERENCE]
    transfer_allowed = context.vocab.contexts[Context.TRANSFER_ANSWER]
    rules_of = context.vocab.context_rules
    for body in context.bodies:
        runs = rules_of[body.context]  # an update-conference document: the conference-reply rule
        if body.context is NO_BXML:
            for element in body.elements:
                yield diagnostic("FC303", f"Bandwidth ignores BXML in the reply to {body.event}",
                                 element.keyword_span, fix=Fix("remove it", (Edit(element.span, ""),)))
        elif runs is CONFERENCE:
            where = "an update-conference document" if body.context is not runs else "a conference reply"
            for element in body.elements:
                if element.tag not in conference_allowed:
                    yield diagnostic("FC301", f"`{keyword(element, context)}` cannot be used in {where}",
                                     element.keyword_span,
                                     help="allowed: " + ", ".join(_names(conference_allowed, body, context)),
                                     notes=["Bandwidth rejects the whole reply when it contains any other verb"],
                                     fix=Fix("remove it", (Edit(element.span, ""),), safe=False))
        elif body.context is TRANSFER_ANSWER:
            for element in body.elements:
                if element.tag not in transfer_allowed:
                    where = "this document answers transferAnswer" if context.is_xml(body.file) else (
                        f"flow `{body.owner.name}` answers transferAnswer")
                    yield diagnostic("FC302", f"`{keyword(element, context)}` cannot run in a transfer answer",
                                     element.keyword_span,
                                     help=f"{where} (the called party, before bridging); allowed: "
                                     + ", ".join(_names(transfer_allowed, body, context)))


def _names(allowed: frozenset[str], body: Body, context: CheckContext) -> list[str]:
    xml = context.is_xml(body.file)
    return sorted(f"<{n}>" if xml else context.vocab.elements[n].keyword for n in allowed)


# Statements with attributes Bandwidth ignores in a conference (the vocabulary's `ignored_in_conference`).
IN_CONFERENCE = tuple(name for name, spec in vocabulary().elements.items()
                      if any(a.ignored_in_conference for a in spec.attributes.values()))


@rule("FC311", elements=IN_CONFERENCE, on_elements={"FC311": lambda spec: spec.name in IN_CONFERENCE},
      on_attributes={"FC311": lambda element, attribute: attribute.ignored_in_conference},
      on_contexts={"FC311": (Context.CONFERENCE, Context.UPDATE_CONFERENCE)})
def conference_recording_options(context: CheckContext) -> Iterator[Diagnostic]:
    rules_of = context.vocab.context_rules
    for element, spec, body in context.tagged(*IN_CONFERENCE):
        if rules_of[body.context] is not CONFERENCE:
            continue
        for attribute in element.attributes:
            attribute_spec = spec.attributes.get(attribute.name)
            reason = attribute_spec.ignored_in_conference if attribute_spec else None
            if reason is None or (isinstance(attribute.value, Word) and attribute.value.value == "false"):
                continue
            yield diagnostic("FC311", f"`{attribute.written or attribute.name}` has no effect when recording a "
                             "conference", attribute.span, help=reason, fix=removal(attribute))
