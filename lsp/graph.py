"""`flowc/graph`: the language server's custom request for the diagram of the open project.

Editors send `{"uri": DOCUMENT, "format": "mermaid" | "dot" | "svg", "flow": NAME}` (every field optional;
`uri` picks the project the document belongs to, `flow` keeps only what that flow reaches) and receive
`{"format": ..., "text": ...}` (plus `"warning"` when Mermaid would refuse a diagram that large, FC802): the
same diagram as `flowc graph`, drawn from the server's latest check (open documents' unsaved text included),
or `{"error": ...}` saying why there is none. flowc.backend.graph is imported on the first request, so the server
starts without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flowc.lsp.convert import path_of

if TYPE_CHECKING:
    from flowc.lsp.workspace import CheckResult

METHOD = "flowc/graph"
DEFAULT_FORMAT = "mermaid"


def graph_request(result: CheckResult, params: object) -> dict[str, Any]:
    """The answer to one `flowc/graph` request from a check of the project as it is now (the server waits for
    one); params is pygls' object for the JSON params (or None)."""
    uri, fmt, flow = (getattr(params, name, None) for name in ("uri", "format", "flow"))
    return project_diagram(result, path_of(uri) if uri else None, fmt or DEFAULT_FORMAT, flow)


def project_diagram(result: CheckResult, path: str | None, fmt: str, flow: str | None = None) -> dict[str, Any]:
    from flowc.backend.graph import FORMATS, MERMAID_TOO_LARGE, GraphError, build, mermaid_limits, render

    if fmt not in FORMATS:
        return {"error": f"unknown format `{fmt}`: use one of {', '.join(FORMATS)}"}
    group = result.group(path) if path else result
    files = {file.path for file in group.project.files}
    diagnostics = [d for found in group.diagnostics.values() for d in found if d.span.file in files]
    graph = build(group.project, group.links, diagnostics)
    if flow:
        try:
            graph = graph.reachable_from(flow)
        except KeyError:
            return {"error": f"no flow or conference named `{flow}` in this project"}
    try:
        answer = {"format": fmt, "text": render(graph, fmt)}
    except GraphError as error:
        return {"error": f"{error.code}: {error.message}"}
    too_large = mermaid_limits(graph, answer["text"]) if fmt == "mermaid" else None
    if too_large:
        answer["warning"] = f"{MERMAID_TOO_LARGE}: {too_large}"
    return answer
