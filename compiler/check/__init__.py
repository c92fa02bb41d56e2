"""The checker: every rule that can be known before a call, run over the whole project.

Rules live in this package's modules, one module per family (names, values, structure, contexts, conferences,
flow logic, callback credentials, business hours); each is a function registered with
`@rule(codes..., elements=...)` (flowc.check.registry) that reads the project's analysis (semantics.analysis: bodies,
sites, links, joins) and the vocabulary, and yields diagnostics whose severity the code table (flowc.core.codes)
gives. Value rules are driven entirely by the vocabulary (types, enums, ranges, lengths), so they cover every
attribute of every verb.

The same rules check BXML files (`flowc check doc.xml`): flowc.bxml.lint_xml converts each document into the IR,
and `xml_contexts` says which webhook each one answers. Rules about .flow-only ideas (flow names, `on`,
`env()`) skip those files.

Adding a rule: write the function in the module of its family, give its code an entry in flowc.core.codes, add a
test. Nothing else lists rules.
"""

from __future__ import annotations

from flowc.check import attempts, auth, conference, contexts, flow_logic, names, rooms, schedules, structure, values
from flowc.check.conference import check_conference_name
from flowc.check.registry import (
    EVERYTHING,
    RULES,
    Rule,
    Selection,
    UnknownCode,
    codes_for_attribute,
    codes_for_context,
    codes_for_declaration,
    codes_for_element,
    selection_from_options,
)
from flowc.check.structure import REQUIRED_ATTRIBUTES, document_too_large
from flowc.core.diagnostics import Diagnostic
from flowc.semantics.analysis import analyse
from flowc.semantics.ir import Project

__all__ = ["EVERYTHING", "REQUIRED_ATTRIBUTES", "RULES", "Rule", "Selection", "UnknownCode", "check_conference_name",
           "check_project", "codes_for_attribute", "codes_for_context", "codes_for_declaration",
           "codes_for_element", "document_too_large", "selection_from_options"]


# The families in the order their rules run (and so the order of their diagnostics before sorting).
FAMILIES = (names, values, structure, contexts, conference, rooms, flow_logic, attempts, auth, schedules)
RULES.sort(key=lambda r: [f.__name__ for f in FAMILIES].index(r.function.__module__))


def check_project(project: Project, xml_contexts: dict[str, str] | None = None,
                  selection: Selection = EVERYTHING) -> list[Diagnostic]:
    """Run every rule `selection` keeps. `xml_contexts` maps the files that came from BXML documents to the
    webhook they answer."""
    context = analyse(project, xml_contexts, fresh=True)
    diagnostics: list[Diagnostic] = []
    for rule in RULES:
        if selection.runs(rule):
            diagnostics.extend(rule.function(context))
    return diagnostics if selection.everything else selection.filter(diagnostics)
