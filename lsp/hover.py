"""Hover: what the word under the cursor means, in the project's own words.

Statement and attribute texts come from the vocabulary table (compiler/data/bxml.json via flowc.bxml.vocabulary), rule
texts from the diagnostic table (flowc.core.codes); this module only picks and lays them out.
"""

from __future__ import annotations

from flowc.bxml.vocabulary import AttributeSpec, ElementSpec, describe_default, describe_value, vocabulary
from flowc.check.registry import codes_for_attribute, codes_for_context, codes_for_declaration, codes_for_element
from flowc.core.codes import CODES
from flowc.lsp.completion import SLOT_FILTERS
from flowc.lsp.index import Site
from flowc.lsp.workspace import CheckResult, FileAnalysis
from flowc.semantics.ir import Attempts, Slot
from flowc.semantics.links import CONFERENCE_PATH, FLOW_PATH
from flowc.semantics.lower import CREDENTIAL_PAIRS

CONTEXT_NAMES = {"call": "calls", "conference": "conference replies", "transfer-answer": "transfer answers"}
ENTRY_EVENT_TEXTS = {
    "initiate": "the webhook Bandwidth sends when a call comes in to your number; this flow's document answers "
                "it, so set the application's initiate URL to the flow's address.",
    "answer": "the webhook Bandwidth sends when an outgoing call made through the API is answered; this flow's "
              "document answers it, so give the flow's address as the call's answer URL.",
}


def event_text(event: str) -> str:
    """What an event of `flow NAME on EVENT` is: the entry events in words, another call webhook by its
    name, and what FC115 says of anything else."""
    if event in ENTRY_EVENT_TEXTS:
        return ENTRY_EVENT_TEXTS[event]
    if event in vocabulary().flow_events:
        return f"Bandwidth's `{event}` webhook; this flow's document is the reply, run on the call."
    return f"not a webhook a flow can answer (FC115): {CODES['FC115'].explanation}"


def hover_at(analysis: FileAnalysis, offset: int, result: CheckResult | None) -> tuple[str, int, int] | None:
    """The hover text for the word at `offset` and the span it describes."""
    site = analysis.index.at(offset)
    if site is None:
        return None
    text = site_text(site, result)
    return (text, site.start, site.end) if text else None


def site_text(site: Site, result: CheckResult | None) -> str | None:
    if site.kind == "element":
        return element_text(site.spec)  # type: ignore[arg-type]
    if site.kind == "attribute":
        on_name = site.attribute is not None and site.start == site.attribute.name_span.start
        return (credentials_text(site) if on_name else None) or attribute_text(
            site.attribute_spec, site.spec, site.attribute.written)  # type: ignore[arg-type,union-attr]
    if site.kind == "value":
        return value_text(site)
    if site.kind == "flow":
        return flow_text(site.name, result, site.declaration)
    if site.kind == "conference":
        return conference_text(site.name, result)
    if site.kind == "handler":
        return handler_text(site)
    if site.kind in ("hours", "hours_word") or site.kind in ("branch", "when_value") and _is_hours(site, result):
        return hours_site_text(site, result)
    if site.kind == "when_value":
        return (f"**`\"{site.value}\"`**: this branch's document is served when {tested(site.name, False)} is "
                f"`{site.value}`" + ("" if site.value else " (empty: nothing was entered)"))
    if site.kind == "unknown_attribute":
        return (f"**`unknown {site.name}`**: an attribute flowc does not know, written into the BXML as "
                f"`{site.name}=\"...\"` without any check\n\n{CODES['FC503'].explanation}")
    if site.kind == "otherwise":
        owner = "conference handler" if site.context != "call" else "flow"
        return f"**`otherwise`**: the document served when no `when` branch of the {owner} matches the request"
    if site.kind == "slot" and site.slot is not None:
        return slot_text(site.slot)
    if site.kind == "event":
        return f"**`{site.name}`**: {event_text(site.name)}"
    if site.kind == "application":
        whose = (f"the callback credentials of flow `{site.name}`'s entry webhooks (instead of the project's "
                 "`application auth`)" if site.name else "the callback credentials the Bandwidth application sends "
                 "on its own callbacks, declared once for the project")
        return (f"**`auth USER PASSWORD`**: {whose}. Every route of the web app requires them unless a statement "
                f"reaching it declares its own.\n\n{CODES['FC711'].explanation}")
    if site.kind == "attempts" and site.element is not None and site.element.attempts is not None:
        return attempts_text(site.element.attempts)
    if site.kind == "branch":
        entry = CODES["FC114"]
        return f"**`when {site.name}`**: a branch on {tested(site.name)}, decided by the web app per request" \
               f"\n\n{entry.explanation}"
    return None


def _is_hours(site: Site, result: CheckResult | None) -> bool:
    return result is not None and site.name in result.project.hours


def hours_site_text(site: Site, result: CheckResult | None) -> str | None:
    """Business hours: the declaration (its name, keyword or a branch's `when NAME`), a word of its lines, or
    the `open`/`closed` a branch compares it with."""
    from flowc.lsp.hours import hours_text, state_text, word_text

    if site.kind == "hours_word":
        return word_text(site.value)
    if site.kind == "when_value":
        return state_text(site.name, site.value)
    return hours_text(result.project.hours.get(site.name) if result else None, site.name)


def attempts_text(attempts: Attempts) -> str:
    count = f"{attempts.count:g}" if attempts.count is not None else "N"
    after = (f"the call continues with flow `{attempts.exhausted}`" if attempts.exhausted else
             "the receiving flow's `otherwise` runs as for any answer")
    return (f"**`attempts {count}`**: asks at most {count} times in all. An answer that selects no `when` branch "
            "of the `then` flow is a failed attempt: the reply is that flow's `otherwise` statements, then this "
            f"question again. After the last failed attempt {after}. The count travels in the callback URL "
            f"(`?ask=...&attempt=2`), not in the server.\n\n{CODES['FC140'].explanation}")


def tested(subject: str, field: bool = True) -> str:
    """What a branch tests, in words: `hook(after_hours)` is a hook's value, `digits` a payload field."""
    if subject.startswith("hook("):
        return f"the value your hook `{subject[5:-1]}` returns"
    if subject.startswith("env("):
        return f"the server's environment variable `{subject[4:-1]}`"
    return f"the webhook's `{subject}`" + (" field" if field else "")


def rules_text(codes: list[str] | tuple[str, ...], reasons: dict[str, str] | None = None) -> list[str]:
    if not codes:
        return []
    lines = ["", "**Rules**", ""]
    for code in codes:
        entry = CODES[code]
        reason = f" ({reasons[code]})" if reasons and code in reasons else ""
        lines.append(f"- `{code}` {entry.title}{reason}: {entry.explanation}")
    return lines


def element_rules(spec: ElementSpec) -> list[str]:
    """The codes of the checker's rules about this statement, as the rules declare them."""
    return codes_for_element(spec)


def element_text(spec: ElementSpec) -> str:
    vocab = vocabulary()
    keywords = " / ".join(f"`{k}`" for k in spec.keywords)
    lines = [f"**{keywords}** → `<{spec.name}>`", "", spec.doc]
    if spec.kind == "verb":
        used = [CONTEXT_NAMES[c] for c in CONTEXT_NAMES if spec.name in vocab.contexts.get(c, ())]
        lines += ["", "Used in " + ", ".join(used) + "."]
    else:
        parents = [e.keyword for e in vocab.elements.values() if spec.name in e.children]
        if parents:
            lines += ["", "Inside " + ", ".join(f"`{p}`" for p in dict.fromkeys(parents)) + " blocks."]
    if spec.attributes:
        names = [a.aliases[0] if a.aliases else a.name for a in spec.attributes.values()]
        lines += ["", "Attributes: " + ", ".join(f"`{n}`" for n in names)]
    lines += rules_text(element_rules(spec))
    return "\n".join(lines)


def attribute_rules(spec: AttributeSpec, element: ElementSpec) -> tuple[list[str], dict[str, str]]:
    """The codes of the checker's rules about this attribute, and the reasons some give."""
    return codes_for_attribute(element, spec)


def attribute_text(spec: AttributeSpec, element: ElementSpec, written: str = "", value: int | None = None) -> str:
    """`value`: for a phrase that sets several attributes (`auth`), which of its values this attribute is."""
    title = f"`{written}` → " if written and written != spec.name else ""
    lines = [f"**{title}`{spec.name}`** on `<{element.name}>` (`{element.keyword}`)", "", spec.doc, "",
             f"- value: {describe_value(spec)}"]
    if spec.default is not None:
        lines.append(f"- default: `{describe_default(spec)}`")
    spellings = [f"`{alias}`" for alias in spec.aliases] + [f"`{spec.name}`"]
    if value is not None:
        spellings.insert(0, f"as the {('first', 'second')[value]} value of `{written}`")
    elif spec.name in element.positional:
        spellings.insert(0, f"as a value right after `{element.keyword}`")
    lines.append("- written " + " or ".join(spellings))
    if spec.events:
        lines.append("- receives " + ", ".join(f"`{e}`" for e in spec.events)
                     + ("" if spec.reply_bxml else " (notification only: no BXML in the reply)"))
    if spec.status != "documented":
        lines.append(f"- {spec.status}")
    codes, reasons = attribute_rules(spec, element)
    lines += rules_text(codes, reasons)
    return "\n".join(lines)


def credentials_text(site: Site) -> str | None:
    """`auth USER PASSWORD` sets two attributes at once: describe both."""
    pair = CREDENTIAL_PAIRS.get(tuple(site.attribute.written.split())) if site.attribute else None
    if pair is None or site.spec is None:
        return None
    texts = [attribute_text(site.spec.attributes[name], site.spec, site.attribute.written, index)  # type: ignore[union-attr]
             for index, name in enumerate(pair) if name in site.spec.attributes]
    return "\n\n---\n\n".join(texts)


def value_text(site: Site) -> str | None:
    spec, element, value = site.attribute_spec, site.spec, site.name
    if spec is None or element is None:
        return None
    lines = [f"**`{value}`**: a value of `{spec.name}` on `<{element.name}>`"]
    if spec.name == "voice":
        voice = next((v for v in vocabulary().voices if v["voice"].lower() == value.lower()), None)
        if voice is not None:
            lines += ["", f"{voice['type']} voice, {voice['gender']}, locale `{voice['locale']}`"]
    lines += ["", f"{spec.name}: {describe_value(spec)}"]
    if spec.default is not None:
        lines.append(f"(default `{describe_default(spec)}`)")
    lines += ["", spec.doc]
    return "\n".join(lines)


def flow_text(name: str, result: CheckResult | None, declared: bool = False) -> str:
    """`declared`: the cursor is on the declaration (which the last check may predate, mid-typing)."""
    lines = [f"**flow `{name}`**, served at `{FLOW_PATH.format(name=name)}`"]
    flow = result.flows.get(name) if result else None
    if flow is None or result is None:
        return lines[0] + ("" if declared or result is None else "\n\nNot defined in the project.")
    links = result.links
    lines += ["", f"Answers {', '.join(f'`{e}`' for e in links.events(flow))}."]
    context = links.context(name)
    if context != "call":
        lines.append(f"Runs in {CONTEXT_NAMES.get(context, context)}: only "
                     + ", ".join(f"`{vocabulary().elements[n].keyword}`"
                                 for n in sorted(vocabulary().contexts[context])) + " may be used.")
    references = links.references_to(name)
    lines += ["", f"{len(references)} reference(s); {len(flow.body)} statement(s), {len(flow.branches)} branch(es)."]
    return "\n".join(lines)


def conference_text(name: str, result: CheckResult | None) -> str:
    lines = [f"**conference `{name}`**"]
    conference = result.conferences.get(name) if result else None
    if conference is None:
        return lines[0] + ("\n\nNot declared in the project." if result else "")
    room = conference.conference_name.literal
    if room is not None:
        lines[0] += f": room `{room}`"
    spec = vocabulary().elements["Conference"]
    if conference.settings:
        lines += ["", "Settings applied to every `join " + name + "`:", ""]
        lines += [f"- `{a.name}`" for a in conference.settings if a.name in spec.attributes]
    if conference.handlers:
        lines += ["", f"Events arrive at `{CONFERENCE_PATH.format(name=name)}`; handled: "
                  + ", ".join(f"`{h.event}`" for h in conference.handlers)]
    lines += rules_text(codes_for_declaration())
    return "\n".join(lines)


def slot_text(slot: Slot) -> str:
    if slot.source == "hook":
        lines = [f"**`hook({slot.name})`**: a value your own code computes when the request arrives"]
    else:
        shape = vocabulary().fields.get(slot.name)
        lines = [f"**`{slot.name}`**: the `{slot.name}` field of the webhook's payload, filled in when the request "
                 "arrives (XML-escaped)" + (f"; {shape.description}" if shape else "")]
    if slot.filter:
        lines.append(f"\nFilter `{slot.filter}`: {SLOT_FILTERS.get(slot.filter, 'applied to the value')}.")
    return "\n".join(lines)


def handler_text(site: Site) -> str:
    lines = [f"**`{site.name}`**: the reply to this conference webhook"]
    if site.context != "no-bxml":
        allowed = sorted(vocabulary().elements[n].keyword for n in vocabulary().contexts["conference"])
        lines += ["", "Allowed: " + ", ".join(f"`{k}`" for k in allowed)]
    lines += rules_text(codes_for_context(site.context))
    return "\n".join(lines)
