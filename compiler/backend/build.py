"""`flowc compile`: front end + checker + backend, then write OUT.

Everything is rendered in memory first; if any error is found nothing in OUT is touched. The new OUT is then
built whole beside the old one and swapped in (flowc.backend.outdir): a killed or failed compile leaves the previous
build, and files flowc did not write (your own) are never written or removed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowc.backend.outdir import replace_out
from flowc.core.diagnostics import Diagnostic, Span
from flowc.core.files import FileProblem
from flowc.semantics.project import Compilation

if TYPE_CHECKING:
    from flowc.backend.plan import Plan
    from flowc.bxml.emit_xml import RenderedDocument
    from flowc.semantics.ir import Hours
    from flowc.syntax.source import SourceFile

# More files to write from the plan and its documents ({relative path: bytes}): the web app (flowc.backend.emit_app).
ExtraOutputs = Callable[["Plan", list["RenderedDocument"]], dict[str, bytes]]

MANIFEST = "manifest.json"


@dataclass
class BuildResult:
    compilation: Compilation
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    warnings: list[FileProblem] = field(default_factory=list)  # leftovers of an interrupted compile kept
    plan: Plan | None = None  # the Plan and RenderedDocuments written, for what runs after the build (hooks module)
    rendered: list[RenderedDocument] = field(default_factory=list)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return self.compilation.diagnostics


def manifest_data(plan: Plan, rendered: list[RenderedDocument], sources: dict[str, SourceFile]) -> dict[str, Any]:
    def source_of(span: Span) -> str:
        source = sources.get(span.file)
        line = source.position(span.start)[0] if source else 1
        return f"{span.file}:{line}"

    documents: list[dict[str, Any]] = []
    for item in rendered:
        document = item.document
        entry: dict[str, Any] = {"file": document.file, "flow": document.flow, "context": document.context,
                 "source": source_of(document.span)}
        if document.branch:
            entry["branch"] = document.branch
        if document.event:
            entry["event"] = document.event
        if document.attempt:
            entry["attempt"] = document.attempt
        if item.slots:
            entry["slots"] = sorted({slot.placeholder for slot in item.slots})
        documents.append(entry)
    routes: list[dict[str, Any]] = []
    rooms = {room.conference.name for room in plan.rooms}
    sites = {site.file: site.room for room in plan.rooms for site in room.sites}
    for route in plan.routes:
        entry = {"method": route.method, "path": route.path, "events": route.events, "flow": route.flow}
        if route.conference:
            entry["conference"] = route.conference
        # a room's routes answer from its state (flowc.backend.rooms): which document depends on who is in it
        room = route.room or (route.conference if route.conference in rooms else None) or next(
            (sites[d.file] for d in route.documents if d.file in sites), None)
        if room is not None:
            entry["room"] = room
        routes.append(entry)
    # URLs for webhooks that take no BXML: the web app serves them too (answering 204), so they are listed
    for extra in plan.table.events:
        routes.append({"method": extra.method, "path": extra.path, "events": extra.events, "flow": extra.owner,
                       "bxml": False})
    manifest: dict[str, Any] = {"documents": documents, "routes": routes}
    if plan.project.hours:
        manifest["hours"] = {name: hours_data(hours) for name, hours in plan.project.hours.items()}
    return _with_credentials(manifest, plan)


def hours_data(hours: Hours) -> dict[str, Any]:
    """A business-hours declaration as the manifest lists it (the web app has the same in app.py)."""
    from flowc.runtime.schedule import DAY_NAMES

    opening = [{"days": [DAY_NAMES[d] for d in o.days], "from": o.start, "to": o.end} for o in hours.opening]
    data = {"zone": hours.zone, "opening": opening, "closed": [c.date for c in hours.closed]}
    if hours.override is not None:
        data["override"] = hours.override.name
    return data


def _with_credentials(manifest: dict[str, Any], plan: Plan) -> dict[str, Any]:
    """`application.auth` when the project declares the application's callback credentials, and `auth` on
    every route that requires credentials (flowc.semantics.credentials): environment variable names, never values."""
    from flowc.semantics.credentials import manifest_entries

    application, required = manifest_entries(plan.table)
    for route in manifest["routes"]:
        if route["path"] in required:
            route["auth"] = required[route["path"]]
    return {"application": {"auth": application}, **manifest} if application else manifest


def render(compilation: Compilation) -> tuple[Plan, list[RenderedDocument], list[Diagnostic]]:
    """Plan and render every document (imports lxml). Returns (plan, rendered, size diagnostics)."""
    from flowc.backend.plan import plan as make_plan
    from flowc.bxml.emit_xml import render_plan
    from flowc.bxml.vocabulary import vocabulary
    from flowc.check import document_too_large

    plan = make_plan(compilation.project)
    rendered = render_plan(plan)
    limit = vocabulary().max_document_bytes
    oversized = [
        document_too_large(f"`{item.document.file}` is {len(item.xml)} bytes", item.document.span,
                           help="split it: move statements into another flow and `redirect to` it")
        for item in rendered if len(item.xml) > limit
    ]
    return plan, rendered, oversized


def build(compilation: Compilation, out: Path, extra_outputs: ExtraOutputs | None = None) -> BuildResult:
    """Write documents, manifest and any extra generated files ({relative path: bytes}) to `out`."""
    result = BuildResult(compilation)
    if compilation.has_errors:
        return result
    plan, rendered, oversized = render(compilation)
    compilation.diagnostics.extend(oversized)
    if oversized:
        return result
    result.plan, result.rendered = plan, rendered
    outputs: dict[str, bytes] = {item.document.file: item.xml for item in rendered}
    if extra_outputs is not None:
        outputs.update(extra_outputs(plan, rendered))
    manifest = manifest_data(plan, rendered, compilation.sources)
    manifest["generated"] = sorted(p for p in outputs if p not in {d["file"] for d in manifest["documents"]})
    outputs[MANIFEST] = (json.dumps(manifest, indent=2) + "\n").encode()
    swap = replace_out(out, outputs)
    result.written = [path for path in swap.written if path != MANIFEST]
    result.removed, result.warnings = swap.removed, swap.warnings
    return result
