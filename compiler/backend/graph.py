"""`flowc graph`: the picture of a project's flows, drawn from the analysis the checker uses.

The model (`Graph`) is built from three things only: the project's IR, its name links (flowc.semantics.links: which
attribute names which flow, which webhook arrives there, in which context a flow runs) and the checker's
diagnostics (unused flows, FC403; unresolved names, FC401/FC402), so the picture always agrees with
`flowc check`. Two renderers turn it into text: Mermaid flowcharts (rendered by the forges users push to) and
Graphviz DOT; `svg` runs Graphviz's `dot` on the DOT text. Output is deterministic: nodes, edges and files
come in source order, and node ids are derived from names, never from memory addresses or hashes.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field

from flowc.bxml.vocabulary import AttributeSpec, Context, vocabulary
from flowc.core.diagnostics import Diagnostic, Span
from flowc.semantics.ir import Branch, Conference, Element, Flow, Policy, Project, Text, walk
from flowc.semantics.links import ENTRY_EVENTS, Links, Reference
from flowc.syntax.source import SourceFile

FORMATS = ("mermaid", "dot", "svg")
DOT_MISSING = "FC801"
INSTALL_GRAPHVIZ = ("install Graphviz, which provides `dot`: `apt-get install graphviz` (Debian, Ubuntu), "
                    "`brew install graphviz` (macOS), `choco install graphviz` (Windows), or see "
                    "https://graphviz.org/download/; `--format dot` or `--format mermaid` need nothing")
EVENT_WORDS = {event: " ".join(words) for words, event in vocabulary().conference_events.items()}
CONFERENCE_EVENT_URL = vocabulary().conference_event_url.name
JOIN = vocabulary().join.name


def _answered_elsewhere(spec: AttributeSpec) -> bool:
    """Whether the flow a URL names answers someone other than the call: the called party of a transfer, or a
    conference (the vocabulary's reply context of the URL's events)."""
    events = vocabulary().events
    return any(events[e].reply in (Context.TRANSFER_ANSWER, Context.CONFERENCE) for e in spec.events)


class GraphError(Exception):
    """A graph that cannot be produced (`dot` missing or failing): a code and a message, exit status 2."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# -- the model ---------------------------------------------------------------------------------------------


@dataclass
class Node:
    id: str  # safe in every format: letters, digits and `_`, never a keyword
    kind: str  # flow | conference | room | missing | start
    name: str
    lines: list[str] = field(default_factory=list)  # what the label says below the name
    classes: list[str] = field(default_factory=list)  # entry | whisper | reply | unused | missing
    file: str | None = None  # the display path of the file that declares it (its cluster)


@dataclass
class Edge:
    source: str
    target: str
    label: str
    dashed: bool = False  # the webhook concerns another call leg or the conference, not the call itself
    missing: bool = False  # the target is a name the checker could not resolve
    via: str | None = None  # a conference's continuation: the flow whose call continues (for --flow)


@dataclass
class Graph:
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # display paths, in project order

    def node(self, node_id: str) -> Node:
        return next(n for n in self.nodes if n.id == node_id)

    def reachable_from(self, name: str) -> Graph:
        """What the flow (or conference) `name` reaches, following every edge; KeyError if there is no such name."""
        start = next((n.id for n in self.nodes if n.name == name and n.kind in ("flow", "conference")), None)
        if start is None:
            raise KeyError(name)
        leaving: dict[str, list[Edge]] = {}
        for edge in self.edges:
            leaving.setdefault(edge.source, []).append(edge)
        reached, queue = {start}, [start]
        waiting: dict[str, list[str]] = {}  # flow -> continuation targets, followed once that flow is reached
        while queue:
            here = queue.pop()
            ahead = [e.target for e in leaving.get(here, ()) if e.via is None or e.via in reached]
            for edge in leaving.get(here, ()):
                if edge.via is not None and edge.via not in reached:
                    waiting.setdefault(edge.via, []).append(edge.target)
            for target in ahead + waiting.pop(here, []):
                if target not in reached:
                    reached.add(target)
                    queue.append(target)
        entries = {e.source for e in leaving.get("start", ()) if e.target in reached}
        kept = reached | entries
        nodes = [n for n in self.nodes if n.id in kept]
        edges = [e for e in self.edges
                 if e.source in kept and e.target in reached and (e.via is None or e.via in reached)]
        return Graph(nodes, edges,
                     [f for f in self.files if any(n.file == f for n in nodes)])


class _Ids:
    """Node ids from names: `f_` + the name with every other character made `_`, numbered when two collide."""

    def __init__(self) -> None:
        self.taken: dict[tuple[str, str], str] = {}
        self.used: set[str] = set()

    def of(self, prefix: str, name: str) -> str:
        key = (prefix, name)
        if key not in self.taken:
            base = f"{prefix}_{re.sub(r'[^A-Za-z0-9_]', '_', name)}"
            candidate, count = base, 1
            while candidate in self.used:
                count += 1
                candidate = f"{base}_{count}"
            self.used.add(candidate)
            self.taken[key] = candidate
        return self.taken[key]


def display_paths(paths: Iterable[str]) -> dict[str, str]:
    """Each file's path relative to the directory holding them all: the same labels from any working directory."""
    paths = list(paths)
    if not paths:
        return {}
    absolute = [os.path.abspath(p) for p in paths]
    base = os.path.commonpath([os.path.dirname(p) for p in absolute])
    return {p: os.path.relpath(a, base).replace(os.sep, "/") for p, a in zip(paths, absolute, strict=True)}


def build(project: Project, links: Links, diagnostics: list[Diagnostic]) -> Graph:
    return _Builder(project, links, diagnostics).graph


class _Builder:
    def __init__(self, project: Project, links: Links, diagnostics: list[Diagnostic]) -> None:
        self.project, self.links = project, links
        self.reported = {(d.code, d.span): d for d in diagnostics}
        self.references = {id(r.attribute): r for r in links.references}
        self.flows, self.conferences = project.flows, project.conferences
        self.ids = _Ids()
        self.graph = Graph()
        self.extra: dict[str, Node] = {}  # rooms and unresolved names, drawn outside the file clusters
        self.joined: dict[str, list[str]] = {}  # flow name -> conferences (node ids) it joins
        self.edge_keys: set[tuple[str, str, str, str | None]] = set()
        paths = display_paths(f.path for f in project.files)
        self.graph.files = list(dict.fromkeys(paths.values()))
        self._declarations(paths)
        for file in project.files:
            for flow in file.flows:
                self._flow_edges(flow)
            for conference in file.conferences:
                self._conference_edges(conference)
        entries = self._entries()
        entry_flows = {id(flow) for flow, _ in entries}
        for node in self.graph.nodes:
            if node.kind == "flow":
                flow = self.flows[node.name]
                self._describe_flow(node, flow, id(flow) in entry_flows)
        if entries:
            self.graph.nodes.insert(0, Node("start", "start", "call"))
            edges = {(self.ids.of("f", flow.name), ", ".join(events)): None for flow, events in entries}
            self.graph.edges[:0] = [Edge("start", target, label) for target, label in edges]
        self.graph.nodes.extend(self.extra.values())

    def _declarations(self, paths: dict[str, str]) -> None:
        """A node per flow and declared conference, in source order; a name defined twice (FC111) is one node,
        where it is first defined."""
        declared: set[tuple[str, str]] = set()
        for file in self.project.files:
            declarations: list[tuple[str, Flow | Conference]] = [
                *(("f", f) for f in file.flows), *(("c", c) for c in file.conferences)]
            for prefix, declaration in declarations:
                if (prefix, declaration.name) in declared:
                    continue
                declared.add((prefix, declaration.name))
                if prefix == "f":
                    node = Node(self.ids.of("f", declaration.name), "flow", declaration.name)
                else:
                    node = self._conference_node(self.conferences[declaration.name])
                node.file = paths[file.path]
                self.graph.nodes.append(node)

    def _entries(self) -> list[tuple[Flow, list[str]]]:
        """The flows calls start in, with the webhooks that enter them: those with `on ...`, or (when no flow
        declares any, as the checker reads it) every flow no other flow names."""
        flows = [f for file in self.project.files for f in file.flows]
        if any(f.entry_events for f in flows):
            return [(f, list(f.entry_events)) for f in flows if f.entry_events]
        named = {r.flow for r in self.links.references if r.in_flow != r.flow}
        return [(f, list(ENTRY_EVENTS)) for f in flows if f.name not in named]

    def _conference_node(self, conference: Conference) -> Node:
        lines = [f"room {_text(conference.conference_name)}"]
        if conference.handlers:
            lines.append("on " + ", ".join(EVENT_WORDS.get(h.event, h.event) for h in conference.handlers))
        return Node(self.ids.of("c", conference.name), "conference", conference.name, lines)

    def _describe_flow(self, node: Node, flow: Flow, entry: bool) -> None:
        if entry:
            node.classes.append("entry")
        context = self.links.context(flow.name)
        if context != "conference":  # a conference reply receives the conference's five events: said below
            node.lines.append("webhooks: " + ", ".join(self.links.events(flow)))
        if context == "transfer-answer":
            node.lines.append("whisper: runs on the transferred call")
            node.classes.append("whisper")
        elif context == "conference":
            replies = sorted({self._node(e.source).name for e in self.graph.edges
                              if e.target == node.id and e.label.endswith("conference events")})
            node.lines.append("conference reply" + (f" of {', '.join(replies)}" if replies else ""))
            node.classes.append("reply")
        for conference in dict.fromkeys(self.joined.get(flow.name, [])):
            node.lines.append(f"joins {self._node(conference).name}")
        unused = self.reported.get(("FC403", flow.name_span))
        if unused is not None:
            node.lines.append(f"{unused.code} {unused.message}")
            node.classes.append("unused")

    def _node(self, node_id: str) -> Node:
        return self.extra[node_id] if node_id in self.extra else self.graph.node(node_id)

    def _flow_edges(self, flow: Flow) -> None:
        source = self.ids.of("f", flow.name)
        for branch, body in [*((b, b.body) for b in flow.branches), (None, flow.body)]:
            prefix = _branch_label(branch) if branch else ("otherwise" if flow.branches else "")
            conference: str | None = None  # the conference this body's call is in, once it has joined
            for statement in body:
                for element in walk([statement]):
                    if element.tag == JOIN:
                        conference = self._join(flow, element, source, prefix)
                        continue
                    owner, label = (conference, f"after {flow.name}") if conference else (source, prefix)
                    via = source if conference else None
                    self._reference_edges(element, owner, label, via=via)
                    attempts = element.attempts
                    if attempts is not None and attempts.continuation is not None:  # `exhausted voicemail`
                        failed = _join_label(label, f"{attempts.whole or 'N'} failed attempts")
                        self._reference_edges(attempts.continuation, owner, failed, via=via)

    def _join(self, flow: Flow, element: Element, source: str, prefix: str) -> str:
        """The edge from a flow into the conference it joins; returns the conference's node id."""
        if element.conference is not None:
            target = self._declared_or_missing(element)
        else:
            room = _text(element.texts[0]) if element.texts else '""'
            target = self.ids.of("r", room.strip('"'))
            self.extra.setdefault(target, Node(target, "room", f"room {room}", ["conference by literal name"]))
        role = element.role or ("coach" if element.attribute("callIdsToCoach") else None)  # a room's role
        self._add(Edge(source, target, _join_label(prefix, f"join as {role}" if role else "join")))
        self.joined.setdefault(flow.name, []).append(target)
        self._reference_edges(element, target, "", via=None)  # `join ... events NAME`: the room's webhooks
        return target

    def _declared_or_missing(self, element: Element) -> str:
        name = element.conference or ""
        if name in self.conferences:
            return self.ids.of("c", name)
        return self._missing("mc", name, "conference", ("FC402", element.conference_span or element.keyword_span))

    def _missing(self, prefix: str, name: str, what: str, key: tuple[str, Span]) -> str:
        node_id = self.ids.of(prefix, name)
        reported = self.reported.get(key)
        lines = [f"{reported.code} {reported.message}"] if reported else [f"no {what} named `{name}`"]
        if reported and reported.help:
            lines.append(reported.help)
        node = self.extra.setdefault(node_id, Node(node_id, "missing", name, [], ["missing"]))
        node.lines.extend(line for line in lines if line not in node.lines)
        return node_id

    def _reference_edges(self, element: Element, source: str, prefix: str, via: str | None) -> None:
        for attribute in element.attributes:
            reference = self.references.get(id(attribute))
            if reference is not None:
                self._edge(reference, source, prefix, via)

    def _edge(self, reference: Reference, source: str, prefix: str, via: str | None) -> None:
        if reference.flow in self.flows:
            target, missing = self.ids.of("f", reference.flow), False
        else:
            unresolved = ("FC401", reference.attribute.value.span)
            target, missing = self._missing("mf", reference.flow, "flow", unresolved), True
        spec = reference.spec
        what = "conference events" if spec.name == CONFERENCE_EVENT_URL else ", ".join(spec.events)
        dashed = _answered_elsewhere(spec) or missing
        self._add(Edge(source, target, _join_label(prefix, what), dashed, missing, via))

    def _add(self, edge: Edge) -> None:
        """One edge per way: a transfer to a number and a SIP address answered by the same flow is one arrow."""
        key = (edge.source, edge.target, edge.label, edge.via)
        if key not in self.edge_keys:
            self.edge_keys.add(key)
            self.graph.edges.append(edge)

    def _conference_edges(self, conference: Conference) -> None:
        source = self.ids.of("c", conference.name)
        for setting in conference.settings:  # `conference room "r" { events on_events }`
            reference = self.references.get(id(setting))
            if reference is not None:
                self._edge(reference, source, "", None)
        for handler in conference.handlers:
            label = f"on {EVENT_WORDS.get(handler.event, handler.event)}"
            for element in walk(handler.body):
                self._reference_edges(element, source, label, None)
        policy = conference.policy
        if policy is not None and policy.overflow is not None:  # `max 3 else busy`: callers over the cap
            self._overflow_edge(source, policy)

    def _overflow_edge(self, source: str, policy: Policy) -> None:
        """The room's redirect of a caller over its cap (flowc.semantics.links records it as a reference)."""
        for reference in self.links.references:
            if reference.in_flow is None and reference.attribute.value.span == policy.overflow_span:
                self._edge(reference, source, f"over max {policy.cap}", None)


def _join_label(prefix: str, what: str) -> str:
    return f"{prefix}: {what}" if prefix else what


def _branch_label(branch: Branch) -> str:
    return f"{branch.field} " + ", ".join(f'"{value}"' for value in branch.values)


def _text(text: Text) -> str:
    """A string as written: literal parts and `{field|filter}` runtime parts."""
    parts = []
    for part in text.parts:
        if isinstance(part, str):
            parts.append(part.replace("\\", "\\\\").replace('"', '\\"'))
        else:
            prefix = "hook:" if part.source == "hook" else ""
            parts.append("{" + prefix + part.name + (f"|{part.filter}" if part.filter else "") + "}")
    return '"' + "".join(parts) + '"'


# -- Mermaid -----------------------------------------------------------------------------------------------

MERMAID_SHAPES = {"flow": ('["', '"]'), "conference": ('{{"', '"}}'), "room": ('{{"', '"}}'),
                  "missing": ('["', '"]'), "start": ('(("', '"))')}
MERMAID_CLASSES = {
    "entry": "stroke-width:3px",
    "whisper": "fill:#fff4dd",
    "reply": "fill:#e8f0ff",
    "unused": "stroke-dasharray:5 5,color:#777777",
    "missing": "stroke:#cc0000,stroke-dasharray:5 5,color:#cc0000",
}


def mermaid_text(text: str) -> str:
    """Text inside a quoted Mermaid label: every character Mermaid reads as syntax becomes an entity code."""
    out = []
    for character in text:
        if character.isalnum() or character in " _-.,:;/()'!?+=@$%*~^":
            out.append(character)
        elif character == "\n":
            out.append("<br/>")
        else:
            out.append(f"#{ord(character)};")
    return "".join(out)


def _label_lines(node: Node) -> list[str]:
    title = f"conference {node.name}" if node.kind == "conference" else node.name
    return [title, *node.lines]


def render_mermaid(graph: Graph) -> str:
    lines = ["flowchart TD"]

    def node_line(node: Node, indent: str) -> str:
        opening, closing = MERMAID_SHAPES[node.kind]
        return f"{indent}{node.id}{opening}{mermaid_text(chr(10).join(_label_lines(node)))}{closing}"

    for index, path in enumerate(graph.files, 1):
        members = [n for n in graph.nodes if n.file == path]
        if members:
            lines.append(f'    subgraph file_{index}["{mermaid_text(path)}"]')
            lines.extend(node_line(node, "        ") for node in members)
            lines.append("    end")
    lines.extend(node_line(node, "    ") for node in graph.nodes if node.file is None)
    for edge in graph.edges:
        arrow = "-.->" if edge.dashed else "-->"
        label = f'|"{mermaid_text(edge.label)}"|' if edge.label else ""
        lines.append(f"    {edge.source} {arrow}{label} {edge.target}")
    for name, style in MERMAID_CLASSES.items():
        classed = [n.id for n in graph.nodes if name in n.classes]
        if classed:
            lines.append(f"    classDef {name} {style}")
            lines.append(f"    class {','.join(classed)} {name}")
    return "\n".join(lines) + "\n"


# -- Graphviz DOT ------------------------------------------------------------------------------------------

DOT_SHAPES = {"flow": "box", "conference": "hexagon", "room": "hexagon", "missing": "box", "start": "circle"}
DOT_CLASSES = {
    "entry": {"penwidth": "2.5"},
    "whisper": {"fillcolor": "#fff4dd"},
    "reply": {"fillcolor": "#e8f0ff"},
    "unused": {"color": "#777777", "fontcolor": "#777777", "style": "rounded,dashed"},
    "missing": {"color": "#cc0000", "fontcolor": "#cc0000", "style": "dashed"},
}


def dot_string(text: str) -> str:
    """A double-quoted DOT string: every id is quoted, so keywords (`node`, `graph`, `subgraph`) are plain names."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "").replace("\n", "\\n")
    return f'"{escaped}"'


def _dot_node(node: Node) -> str:
    attributes = {"label": "\n".join(_label_lines(node)), "shape": DOT_SHAPES[node.kind]}
    if node.kind == "flow":
        attributes["style"] = "rounded,filled"
        attributes["fillcolor"] = "white"
    for name in node.classes:
        attributes.update(DOT_CLASSES[name])
    if "filled" not in attributes.get("style", "filled") and "fillcolor" in attributes:
        attributes["style"] += ",filled"
    return f"{dot_string(node.id)} [{', '.join(f'{k}={dot_string(v)}' for k, v in attributes.items())}]"


def render_dot(graph: Graph) -> str:
    lines = ["digraph flows {", '    graph [rankdir="TB", fontname="Helvetica"]',
             '    node [fontname="Helvetica", fontsize="11"]', '    edge [fontname="Helvetica", fontsize="10"]']
    for index, path in enumerate(graph.files, 1):
        members = [n for n in graph.nodes if n.file == path]
        if members:
            lines.append(f"    subgraph {dot_string(f'cluster_{index}')} {{")
            lines.append(f'        graph [label={dot_string(path)}, style="rounded", color="#999999"]')
            lines.extend(f"        {_dot_node(node)}" for node in members)
            lines.append("    }")
    lines.extend(f"    {_dot_node(node)}" for node in graph.nodes if node.file is None)
    for edge in graph.edges:
        attributes = {"label": edge.label} if edge.label else {}
        if edge.dashed:
            attributes["style"] = "dashed"
        if edge.missing:
            attributes["color"] = "#cc0000"
        rendered = f" [{', '.join(f'{k}={dot_string(v)}' for k, v in attributes.items())}]" if attributes else ""
        lines.append(f"    {dot_string(edge.source)} -> {dot_string(edge.target)}{rendered}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_svg(graph: Graph) -> str:
    """SVG by Graphviz's `dot`; GraphError (FC801) when it is not installed or fails."""
    dot = shutil.which("dot")
    if dot is None:
        raise GraphError(DOT_MISSING, f"`--format svg` needs Graphviz's `dot` on PATH: {INSTALL_GRAPHVIZ}")
    try:
        done = subprocess.run([dot, "-Tsvg"], input=render_dot(graph), capture_output=True, text=True,
                              timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise GraphError(DOT_MISSING, f"running `{dot} -Tsvg` failed ({error})") from None
    if done.returncode != 0:
        raise GraphError(DOT_MISSING, f"`{dot} -Tsvg` failed: {done.stderr.strip()}")
    return done.stdout


RENDERERS = {"mermaid": render_mermaid, "dot": render_dot, "svg": render_svg}


def render(graph: Graph, fmt: str) -> str:
    return RENDERERS[fmt](graph)


MERMAID_MAX_EDGES, MERMAID_MAX_TEXT = 500, 50_000  # Mermaid's defaults (maxEdges, maxTextSize)
MERMAID_TOO_LARGE = "FC802"


def mermaid_limits(graph: Graph, text: str) -> str | None:
    """Why Mermaid's renderer (and the forges') would refuse this diagram, or None when it is within the limits."""
    if len(graph.edges) > MERMAID_MAX_EDGES:
        size = f"{len(graph.edges)} arrows (Mermaid draws at most {MERMAID_MAX_EDGES})"
    elif len(text) > MERMAID_MAX_TEXT:
        size = f"{len(text):,} characters (Mermaid draws at most {MERMAID_MAX_TEXT:,})"
    else:
        return None
    return f"the diagram has {size}: draw part of it with `--flow NAME`, or use `--format svg` or `--format dot`"


# -- the command -------------------------------------------------------------------------------------------

SUFFIX_FORMATS = {".mmd": "mermaid", ".mermaid": "mermaid", ".dot": "dot", ".gv": "dot", ".svg": "svg"}


def project_graph(files: dict[str, bytes], flow: str | None = None
                  ) -> tuple[Graph, list[Diagnostic], dict[str, SourceFile]]:
    """The graph of in-memory files {path: bytes} (checked as one project), its diagnostics and sources."""
    from flowc.semantics.links import resolve
    from flowc.semantics.project import compile_sources

    compilation = compile_sources(files)
    graph = build(compilation.project, resolve(compilation.project), compilation.diagnostics)
    return (graph.reachable_from(flow) if flow else graph), compilation.sorted_diagnostics(), compilation.sources


def graph_command(paths: list[str], out: str | None, fmt: str | None, flow: str | None) -> int:
    """`flowc graph`: 0 drawn, 1 drawn but the checker found errors (printed on stderr), 2 usage or tool error."""
    import sys
    from pathlib import Path

    from flowc.cli.usage import EXIT_DIAGNOSTICS, EXIT_OK, EXIT_USAGE, UsageError
    from flowc.semantics.project import read_files

    target = Path(out) if out else None
    if fmt is None:  # `-o flows.svg` says the format; standard output gets Mermaid
        fmt = SUFFIX_FORMATS.get(target.suffix.lower(), "mermaid") if target else "mermaid"
    if target is not None:
        if target.is_dir():
            raise UsageError(f"{out} is a directory; -o takes the file to write")
        if any(os.path.exists(p) and target.exists() and os.path.samefile(p, target) for p in paths):
            raise UsageError(f"-o {out} is one of the sources; give another file for the diagram")
    try:
        graph, diagnostics, sources = project_graph(read_files(paths), flow)
    except KeyError:
        raise UsageError(f"no flow or conference named `{flow}` in {' '.join(paths)}") from None
    try:
        text = render(graph, fmt)
    except GraphError as error:
        print(f"flowc: error[{error.code}]: {error.message}", file=sys.stderr)
        return EXIT_USAGE
    too_large = mermaid_limits(graph, text) if fmt == "mermaid" else None
    if too_large:
        print(f"flowc: warning[{MERMAID_TOO_LARGE}]: {too_large}", file=sys.stderr)
    if target is None:
        sys.stdout.write(text)
    else:
        from flowc.core.files import write_atomic

        write_atomic(target, text)
    if diagnostics:
        from flowc.cli.render import render_text, use_color

        print(render_text(diagnostics, sources, color=use_color(sys.stderr)), file=sys.stderr)
    return EXIT_DIAGNOSTICS if any(d.is_error for d in diagnostics) else EXIT_OK
