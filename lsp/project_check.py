"""Incremental checks of one project: after an edit, the checker runs over the files the edit can affect, not
over the whole project.

The checker's rules are cross-file only through names and rooms: a file's diagnostics depend on its own IR, on
the files that declare the names it declares or uses (duplicates, undefined names, a flow's context), on the
files that use the names it declares (unused flows, contexts, events), and on the files that join the same
conference rooms (one coach, consistent settings). So each file gets its Keys, cached with its analysis:

- declares: `f:NAME`, `c:NAME` (case-folded: FC111 compares names that way);
- uses: `f:NAME` for every flow reference, `c:NAME` for every `join NAME`;
- rooms: `r:PATTERN` for every literal room joined and every conference declared (its name pattern);
  `join NAME` joins the rooms of NAME's declarations, found through the declarers at check time.

An edit of file E affects E, the declarers and users of what E declares, the declarers of what E uses and the
joiners of E's rooms, before and after the edit; when E's declared names change, also every file with an
undefined name (its "did you mean" may change). Those files are checked together with everything they depend
on (their own declarers, users and room mates, the declarers of each "did you mean" guess, and the first file
with an entry flow: FC403 only applies to projects that have one), and only their diagnostics are taken. The
other files keep theirs. The result equals a check of the whole project (tests/test_lsp_project_check.py
compares the two over random edits); anything the keys cannot vouch for (the first check, whether the project
has entry flows changing, most of the project changing at once) checks the whole project.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flowc.core.diagnostics import Diagnostic, did_you_mean
from flowc.lsp.workspace import CheckResult, FileAnalysis
from flowc.semantics.ir import Env, FlowFile, Project

logger = logging.getLogger(__name__)
WHOLE_CHECK_SHARE = 0.5  # when more of the project than this is affected, one whole check is simpler


@dataclass(frozen=True, slots=True)
class Keys:
    declares: frozenset[str]
    uses: frozenset[str]
    rooms: frozenset[str]
    patterns: tuple[tuple[str, str], ...]  # (c:NAME, r:PATTERN) of each conference declared here
    flow_uses: frozenset[str]  # the exact names, for "did you mean"
    conference_uses: frozenset[str]
    entry: bool  # a flow with `on ...`


def keys_of(flow_file: FlowFile) -> Keys:
    """What one file declares, uses and joins (names resolved by flowc.semantics.links, as the checker does)."""
    from flowc.semantics.analysis import name_pattern
    from flowc.semantics.links import resolve

    links = resolve(Project([flow_file]))
    flow_uses = frozenset(reference.flow for reference in links.references)
    conference_uses = frozenset(e.conference for e, _ in links.conference_joins if e.conference is not None)
    rooms = {"r:" + name_pattern(e.texts[0]) for e, _ in links.conference_joins if e.conference is None and e.texts}
    patterns = tuple(("c:" + c.name.casefold(), "r:" + name_pattern(c.conference_name))
                     for c in flow_file.conferences)
    rooms.update(pattern for _, pattern in patterns)
    declares = {"f:" + flow.name.casefold() for flow in flow_file.flows} | {name for name, _ in patterns}
    uses = {"f:" + name.casefold() for name in flow_uses} | {"c:" + name.casefold() for name in conference_uses}
    return Keys(frozenset(declares), frozenset(uses), frozenset(rooms), patterns, flow_uses, conference_uses,
                any(flow.entry_events for flow in flow_file.flows))


class Multimap(dict[str, set[Any]]):
    """key -> the set of files (or (name, file) pairs) it belongs to, added and removed as files change."""

    def add(self, key: str, path: Any) -> None:
        found = self.get(key)
        if found is None:
            self[key] = {path}
        else:
            found.add(path)

    def remove(self, key: str, path: Any) -> None:
        found = self.get(key)
        if found is not None:
            found.discard(path)
            if not found:
                del self[key]


class Index:
    """Who declares, uses and joins what, over the project's files; updated file by file."""

    def __init__(self) -> None:
        self.keys: dict[str, Keys] = {}
        self.declarers = Multimap()
        self.users = Multimap()
        self.joiners = Multimap()
        self.room_names = Multimap()  # r:PATTERN -> (c:NAME, file) declared with it
        self.name_rooms = Multimap()  # c:NAME -> (r:PATTERN, file)
        self.flows = Multimap()  # exact declared name -> files
        self.conferences = Multimap()
        self.entries: set[str] = set()  # files with a flow with `on`
        # files declaring the application's callback credentials, and what they declare: every route's
        # credentials (FC712) depend on the declaration, wherever it is
        self.applications: dict[str, ApplicationKey] = {}

    def _each(self, path: str, own: Keys, analysis: FileAnalysis,
              change: Callable[[Multimap, str, Any], None]) -> None:
        for key in own.declares:
            change(self.declarers, key, path)
        for key in own.uses:
            change(self.users, key, path)
        for key in own.rooms:
            change(self.joiners, key, path)
        for name, pattern in own.patterns:
            change(self.room_names, pattern, (name, path))
            change(self.name_rooms, name, (pattern, path))
        for flow in analysis.flow_file.flows:
            change(self.flows, flow.name, path)
        for conference in analysis.flow_file.conferences:
            change(self.conferences, conference.name, path)

    def add(self, path: str, own: Keys, analysis: FileAnalysis) -> None:
        self.keys[path] = own
        self._each(path, own, analysis, Multimap.add)
        if own.entry:
            self.entries.add(path)
        if analysis.flow_file.applications:
            self.applications[path] = application_key(analysis.flow_file)

    def remove(self, path: str, analysis: FileAnalysis) -> None:
        own = self.keys.pop(path)
        self._each(path, own, analysis, Multimap.remove)
        self.entries.discard(path)
        self.applications.pop(path, None)

    def room_mates(self, path: str) -> set[str]:
        """The files joining any room this file joins (a `join NAME` joins the rooms NAME is declared with)."""
        own = self.keys[path]
        rooms = set(own.rooms)
        for key in own.uses:
            rooms.update(pattern for pattern, _ in self.name_rooms.get(key, ()))
        found: set[str] = set()
        for room in rooms:
            found.update(self.joiners.get(room, ()))
            for name in {name for name, _ in self.room_names.get(room, ())}:
                found.update(self.users.get(name, ()))
        return found

    def neighbours(self, path: str) -> set[str]:
        """The files whose diagnostics can depend on this file's IR and the other way round (itself included)."""
        own = self.keys.get(path)
        if own is None:
            return set()
        found = {path} | self.room_mates(path)
        for key in own.declares:
            found.update(self.declarers.get(key, ()))
            found.update(self.users.get(key, ()))
        for key in own.uses:
            found.update(self.declarers.get(key, ()))
        return found

    def undefined(self) -> set[str]:
        """The files using a flow or conference name no file declares."""
        return {path for path, own in self.keys.items()
                if any(n not in self.flows for n in own.flow_uses)
                or any(n not in self.conferences for n in own.conference_uses)}

    def guesses(self, path: str) -> set[str]:
        """The files declaring what "did you mean" suggests for this file's undefined names."""
        own = self.keys[path]
        found: set[str] = set()
        for names, declared in ((own.flow_uses, self.flows), (own.conference_uses, self.conferences)):
            for name in names:
                if name not in declared:
                    guess = did_you_mean(name, declared)
                    if guess is not None:
                        found.update(declared[guess])
        return found


ApplicationKey = tuple[tuple[tuple[str, str], ...], ...]


def application_key(flow_file: FlowFile) -> ApplicationKey:
    """What a file's `application auth` declarations say (not where), to tell a change of them from an edit."""
    return tuple(tuple((a.name, repr(a.value.name if isinstance(a.value, Env) else getattr(a.value, "literal", None)))
                       for a in application.auth) for application in flow_file.applications)


class ProjectCheck:
    """One project's latest check, kept to re-check only what the next edit affects."""

    def __init__(self) -> None:
        self.analyses: dict[str, FileAnalysis] = {}
        self.rules: dict[str, list[Diagnostic]] = {}  # the checker's diagnostics, by file
        self.diagnostics: dict[str, list[Diagnostic]] = {}  # all, by file (a file's list is kept while unchanged)
        self.index: Index | None = None

    def check(self, analyses: dict[str, FileAnalysis]) -> CheckResult:
        if len(analyses) < 2:  # nothing is cross-file: skip the index (it would cost a walk of a big file)
            self.index, self.analyses = None, dict(analyses)
            project = Project([a.flow_file for a in analyses.values()])
            self.rules = run_rules(project, set(analyses))
            self.diagnostics = {path: [*a.diagnostics, *self.rules.get(path, [])] for path, a in analyses.items()}
            return CheckResult(analyses, self.diagnostics, project)
        index, old = self.index, self.analyses
        changed = {p for p, a in analyses.items() if old.get(p) is not a} | (set(old) - set(analyses))
        affected: set[str] | None = None
        if index is not None:
            entry_files = bool(index.entries)
            applications = dict(index.applications)
            affected = set()
            for path in changed:  # what the old text of a changed file touched ...
                if path in index.keys:
                    affected |= index.neighbours(path)
            declared_before = {p: index.keys[p].declares for p in changed if p in index.keys}
            for path in changed & set(old):
                index.remove(path, old[path])
            for path in changed & set(analyses):
                index.add(path, keys_of(analyses[path].flow_file), analyses[path])
            for path in changed & set(analyses):  # ... and what the new one touches
                affected |= index.neighbours(path)
                if declared_before.get(path, frozenset()) != index.keys[path].declares:
                    affected |= index.undefined()  # a new or lost name: "did you mean" may change anywhere
            affected &= set(analyses)
            # (a changed application declaration changes which routes are open everywhere: FC712)
            if (entry_files != bool(index.entries) or applications != index.applications
                    or len(affected) > WHOLE_CHECK_SHARE * len(analyses)):
                affected = None
        else:
            index = Index()
            for path, analysis in analyses.items():
                index.add(path, keys_of(analysis.flow_file), analysis)
        self.index = index
        project = Project([a.flow_file for a in analyses.values()])
        if affected is None:
            self.rules = run_rules(project, set(analyses))
            affected = set(analyses)
        elif affected:
            needed = set(affected)
            for path in affected:
                needed |= index.neighbours(path) | index.guesses(path)
            if index.entries:
                needed.add(min(index.entries))  # FC403 applies only when the project has an entry flow
            declaring = [p for p in analyses if p in index.applications]
            if declaring:  # which routes are open (FC712) depends on the project's application declaration
                needed.add(declaring[0])
            part = Project([a.flow_file for p, a in analyses.items() if p in needed])
            found = run_rules(part, affected)
            for path in affected:
                self.rules[path] = found.get(path, [])
        for path in set(self.rules) - set(analyses):
            del self.rules[path]
        previous = self.diagnostics
        self.diagnostics = {path: previous[path] if path in previous and path not in affected and path not in changed
                            else [*analysis.diagnostics, *self.rules.get(path, [])]
                            for path, analysis in analyses.items()}
        self.analyses = dict(analyses)
        return CheckResult(analyses, self.diagnostics, project)


def run_rules(project: Project, keep: set[str]) -> dict[str, list[Diagnostic]]:
    """The checker's diagnostics of the files in `keep`, by file (a checker bug gives none, logged)."""
    from flowc.check import check_project

    try:
        found = check_project(project)
    except Exception:  # a checker bug: keep the syntax and structure diagnostics rather than none
        logger.exception("the checker failed; publishing the front end's diagnostics only")
        found = []
    by_file: dict[str, list[Diagnostic]] = {}
    for diagnostic in found:
        if diagnostic.span.file in keep:
            by_file.setdefault(diagnostic.span.file, []).append(diagnostic)
    return by_file
