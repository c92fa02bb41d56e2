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
from dataclasses import dataclass, field

from flowc.diagnostics import Diagnostic, did_you_mean
from flowc.ir import FlowFile, Project
from flowc.lsp.workspace import CheckResult, FileAnalysis

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
    """What one file declares, uses and joins (names resolved by flowc.links, as the checker does)."""
    from flowc.check import name_pattern
    from flowc.links import resolve

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


@dataclass
class Index:
    """Who declares, uses and joins what, over the project's files."""

    keys: dict[str, Keys]
    declarers: dict[str, set[str]] = field(default_factory=dict)
    users: dict[str, set[str]] = field(default_factory=dict)
    joiners: dict[str, set[str]] = field(default_factory=dict)
    room_names: dict[str, set[str]] = field(default_factory=dict)  # r:PATTERN -> the c:NAMEs declared with it
    name_rooms: dict[str, set[str]] = field(default_factory=dict)  # c:NAME -> its r:PATTERNs
    flows: set[str] = field(default_factory=set)  # exact declared names
    conferences: set[str] = field(default_factory=set)
    declared_by: dict[str, set[str]] = field(default_factory=dict)  # exact name -> files

    @classmethod
    def build(cls, analyses: dict[str, FileAnalysis], keys: dict[str, Keys]) -> Index:
        index = cls(keys)
        for path, analysis in analyses.items():
            own = keys[path]
            for key in own.declares:
                index.declarers.setdefault(key, set()).add(path)
            for key in own.uses:
                index.users.setdefault(key, set()).add(path)
            for key in own.rooms:
                index.joiners.setdefault(key, set()).add(path)
            for name, pattern in own.patterns:
                index.room_names.setdefault(pattern, set()).add(name)
                index.name_rooms.setdefault(name, set()).add(pattern)
            for declaration in (*analysis.flow_file.flows, *analysis.flow_file.conferences):
                index.declared_by.setdefault(declaration.name, set()).add(path)
            index.flows.update(flow.name for flow in analysis.flow_file.flows)
            index.conferences.update(conference.name for conference in analysis.flow_file.conferences)
        return index

    def room_mates(self, path: str) -> set[str]:
        """The files joining any room this file joins (a `join NAME` joins the rooms NAME is declared with)."""
        own = self.keys[path]
        rooms = set(own.rooms)
        for key in own.uses:
            rooms.update(self.name_rooms.get(key, ()))
        found: set[str] = set()
        for room in rooms:
            found.update(self.joiners.get(room, ()))
            for name in self.room_names.get(room, ()):
                found.update(self.users.get(name, ()))
        return found

    def dependencies(self, path: str) -> set[str]:
        """The files whose IR this file's diagnostics can depend on (itself included)."""
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
                if not own.flow_uses <= self.flows or not own.conference_uses <= self.conferences}

    def guesses(self, path: str) -> set[str]:
        """The files declaring what "did you mean" suggests for this file's undefined names."""
        own = self.keys[path]
        found: set[str] = set()
        for names, declared in ((own.flow_uses, self.flows), (own.conference_uses, self.conferences)):
            for name in names - declared:
                guess = did_you_mean(name, declared)
                if guess is not None:
                    found.update(self.declared_by.get(guess, ()))
        return found


class ProjectCheck:
    """One project's latest check, kept to re-check only what the next edit affects."""

    def __init__(self) -> None:
        self.analyses: dict[str, FileAnalysis] = {}
        self.rules: dict[str, list[Diagnostic]] = {}  # the checker's diagnostics, by file
        self.index: Index | None = None
        self.keys: dict[int, tuple[FileAnalysis, Keys]] = {}  # by id(analysis), holding the analysis alive

    def _keys(self, analysis: FileAnalysis) -> Keys:
        cached = self.keys.get(id(analysis))
        if cached is not None and cached[0] is analysis:
            return cached[1]
        found = keys_of(analysis.flow_file)
        self.keys[id(analysis)] = (analysis, found)
        return found

    def check(self, analyses: dict[str, FileAnalysis]) -> CheckResult:
        keys = {path: self._keys(analysis) for path, analysis in analyses.items()}
        live = {id(a) for a in analyses.values()}
        self.keys = {k: v for k, v in self.keys.items() if k in live}
        index = Index.build(analyses, keys)
        affected = self._affected(analyses, index)
        project = Project([a.flow_file for a in analyses.values()])
        if affected is None:
            self.rules = run_rules(project, set(analyses))
        elif affected:
            order = list(analyses)
            needed = set(affected)
            for path in affected:
                needed |= index.dependencies(path) | index.guesses(path)
            entry = next((p for p in order if keys[p].entry), None)
            if entry is not None:
                needed.add(entry)
            part = Project([analyses[p].flow_file for p in order if p in needed])
            found = run_rules(part, affected)
            self.rules = {p: found.get(p, []) if p in affected else self.rules.get(p, []) for p in order}
        self.analyses = dict(analyses)
        self.index = index
        diagnostics = {path: [*analysis.diagnostics, *self.rules.get(path, [])]
                       for path, analysis in analyses.items()}
        for path, found in self.rules.items():  # diagnostics located outside the project's files (never, today)
            if path not in diagnostics:
                diagnostics[path] = list(found)
        return CheckResult(analyses, diagnostics, project)

    def _affected(self, analyses: dict[str, FileAnalysis], new: Index) -> set[str] | None:
        """The files whose checker diagnostics may differ from the last check's (None: check them all)."""
        old = self.index
        if old is None:
            return None
        changed = {p for p in analyses if self.analyses.get(p) is not analyses[p]} | (set(self.analyses) -
                                                                                       set(analyses))
        if not changed:
            return set()
        if any(k.entry for k in old.keys.values()) != any(k.entry for k in new.keys.values()):
            return None
        affected: set[str] = set()
        for path in changed:
            for index in (old, new):
                own = index.keys.get(path)
                if own is None:
                    continue
                affected.add(path)
                affected |= index.room_mates(path)
                for key in own.declares:
                    affected.update(index.declarers.get(key, ()))
                    affected.update(index.users.get(key, ()))
                for key in own.uses:
                    affected.update(index.declarers.get(key, ()))
            before, after = old.keys.get(path), new.keys.get(path)
            if (before.declares if before else frozenset()) != (after.declares if after else frozenset()):
                affected |= new.undefined()
        affected &= set(analyses)
        return None if len(affected) > WHOLE_CHECK_SHARE * len(analyses) else affected


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
