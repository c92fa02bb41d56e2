"""The language server's incremental project check (lsp/project_check.py) gives exactly the diagnostics of a
check of the whole project, edit after edit, while checking only the files an edit affects."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest
from flowc.check import check_project
from flowc.core.diagnostics import sort_key
from flowc.lsp import project_check
from flowc.lsp.project_check import ProjectCheck
from flowc.lsp.workspace import analyse
from flowc.semantics.ir import Project

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_check import FILE_TEMPLATE  # noqa: E402

# Edits that change what files declare, use and join, and so the diagnostics of other files.
EDITS = [
    ("flow after{n} {{", "flow after{n}x {{"),  # a flow renamed: its users get FC401, it may become unused
    ("redirect to support{n}", "redirect to supprt{n}"),  # a typo: FC401 with a "did you mean"
    ("redirect to support{n}", "redirect to support{m}"),  # now used from elsewhere
    ("flow coach{n} on answer {{", "flow main{m} {{"),  # a duplicate name in another file (FC111)
    ("flow coach{n} on answer {{", "flow Main{m} {{"),  # names that differ only in case
    ("join room{n} mute", "join room{m} mute"),  # joins another file's declared room
    ('join conference "coaching-{n}" hold', 'join conference "coaching-{m}" hold'),  # another file's room
    ('join conference "coaching-{n}" hold tag "coach {n}"', 'join conference "coaching-{m}" hold tag "x"'),
    ('"room-{n}-{{to|safe}}"', '"coaching-{m}"'),  # a declared room's name becomes another file's room
    ('as coach of "c-1-{n}"', 'as coach of "c-9-{n}"'),
    ("join room{n} mute", "join roomm{n} mute"),  # an undeclared conference (FC402)
    ("flow main{n} on initiate, answer {{", "flow main{n} {{"),  # one entry flow fewer
    ('say "Thank you, goodbye."', 'sya "Thank you, goodbye."'),  # a per-file rule only
    ("# generated file {n}\n", ""),  # every offset of the file moves
    ("redirect to support{n}", "redirect to helper{m}"),  # undefined, no guess ...
    ("flow listen{n} on answer {{", "flow helpr{m} {{"),  # ... until another file declares a name close to it
]


def project(count: int, entries: str = "every file") -> dict[str, str]:
    """The benchmark's files; with entries="first file" only the first has flows with `on` (FC403 then depends
    on a file an edit elsewhere does not touch)."""
    texts = {}
    for n in range(count):
        text = FILE_TEMPLATE.format(n=n, prev=max(n - 1, 0))
        if entries == "first file" and n:
            text = text.replace(" on initiate, answer {", " {").replace(" on answer {", " {")
        texts[f"/p/f{n:03d}.flow"] = text
    return texts


def whole(texts: dict[str, str]) -> dict[str, list]:
    """What `flowc check` reports for the project, by file."""
    analyses = {path: analyse(path, text) for path, text in sorted(texts.items())}
    found = {path: list(analysis.diagnostics) for path, analysis in analyses.items()}
    for diagnostic in check_project(Project([a.flow_file for a in analyses.values()])):
        found[diagnostic.span.file].append(diagnostic)
    return {path: sorted(diagnostics, key=sort_key) for path, diagnostics in found.items()}


@pytest.mark.parametrize("entries", ["every file", "first file"])
def test_random_edits_give_the_whole_projects_diagnostics(monkeypatch, entries):
    rng = random.Random(15)
    texts = project(14, entries)
    incremental = ProjectCheck()
    analyses = {path: analyse(path, text) for path, text in sorted(texts.items())}
    incremental.check(analyses)
    checked: list[int] = []
    run_rules = project_check.run_rules
    monkeypatch.setattr(project_check, "run_rules",
                        lambda part, keep: checked.append(len(part.files)) or run_rules(part, keep))
    for step in range(70):
        path = rng.choice(sorted(texts))
        n, m = int(path[-8:-5]), rng.randrange(4)
        old, new = (part.format(n=n, m=m) for part in rng.choice(EDITS))
        if rng.random() < 0.3 and old not in texts[path]:
            old, new = new, old  # undo an earlier edit
        if step == 40:
            del texts[path]  # a file deleted
        elif step == 50:
            texts["/p/f099.flow"] = FILE_TEMPLATE.format(n=99, prev=n)  # a file added
        elif old in texts[path]:
            texts[path] = texts[path].replace(old, new, 1)
        else:
            continue
        analyses = {p: analyses[p] if p in analyses and analyses[p].text == t else analyse(p, t)
                    for p, t in sorted(texts.items())}
        result = incremental.check(analyses)
        got = {p: sorted(found, key=sort_key) for p, found in result.diagnostics.items()}
        assert got == whole(texts), f"step {step}: {path}: {old!r} -> {new!r}"
    assert sum(1 for size in checked if size < len(texts)) > len(checked) * 0.5, checked  # mostly part of it


def test_an_edit_inside_a_flow_checks_only_its_neighbours(monkeypatch):
    texts = project(40)
    check = ProjectCheck()
    analyses = {path: analyse(path, text) for path, text in sorted(texts.items())}
    check.check(analyses)
    parts = []
    run_rules = project_check.run_rules
    monkeypatch.setattr(project_check, "run_rules", lambda part, keep: parts.append(part) or run_rules(part, keep))
    path = "/p/f020.flow"
    analyses[path] = analyse(path, texts[path].replace('say "Thank you, goodbye."', 'sya "Bye."'))
    result = check.check(analyses)
    assert [d.code for d in result.diagnostics[path]] == ["FC102"]
    [part] = parts
    assert len(part.files) <= 6  # the file, the files it refers to and that refer to it, and an entry file


def test_the_application_declaration_reaches_every_partial_check():
    # Without the declaration the documents holding secrets are served on open routes (FC712) in every file;
    # removing it from the one file that has it must re-check the others, adding it back must clear them.
    texts = {path: text.replace("application auth env(BANDWIDTH_CALLBACK_USER) env(BANDWIDTH_CALLBACK_PASSWORD)\n",
                                "") for path, text in project(6).items()}
    declaration = "application auth env(BANDWIDTH_CALLBACK_USER) env(BANDWIDTH_CALLBACK_PASSWORD)\n"
    texts["/p/f000.flow"] = declaration + texts["/p/f000.flow"]
    check = ProjectCheck()
    analyses = {path: analyse(path, text) for path, text in sorted(texts.items())}
    result = check.check(analyses)
    assert not any(d.code == "FC712" for ds in result.diagnostics.values() for d in ds)
    analyses["/p/f003.flow"] = analyse("/p/f003.flow", texts["/p/f003.flow"].replace("# generated", "# edited"))
    result = check.check(analyses)  # a partial check: f000 must be part of it
    assert not any(d.code == "FC712" for ds in result.diagnostics.values() for d in ds)
    assert {path: [d.code for d in ds] for path, ds in result.diagnostics.items()} == \
        {path: [d.code for d in ds] for path, ds in whole({**texts, "/p/f003.flow": texts["/p/f003.flow"].replace(
            "# generated", "# edited")}).items()}
    analyses["/p/f000.flow"] = analyse("/p/f000.flow", texts["/p/f000.flow"].replace(declaration, ""))
    result = check.check(analyses)
    assert all("FC712" in [d.code for d in result.diagnostics[path]] for path in texts)
