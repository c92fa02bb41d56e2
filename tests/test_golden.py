"""Golden tests: source -> IR -> BXML for every statement of the language.

Each case is tests/golden/CASE.flow, compiled on its own (as the file `CASE.flow`). Expected results:

- CASE.ir.json: the IR, as `flowc.semantics.ir.ir_adapter().dump_python(project, mode="json")` (spans are offsets);
- CASE.xml when the case compiles to one document, otherwise CASE/ holding the documents at their paths
  under OUT (CASE/flows/main.xml, CASE/conferences/NAME.member-join.xml ...).

XML is compared canonically (lxml.etree.canonicalize). After an intended change to the compiler, regenerate
with `pytest tests/test_golden.py --update-golden` and review the diff.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from bxml_validation import validate
from flowc.backend.build import render
from flowc.bxml.vocabulary import vocabulary
from flowc.semantics.ir import ir_adapter
from flowc.semantics.project import Compilation, compile_sources
from lxml import etree

GOLDEN = Path(__file__).resolve().parent / "golden"
CASES = sorted(p.stem for p in GOLDEN.glob("*.flow"))


def compile_case(case: str) -> Compilation:
    return compile_sources({f"{case}.flow": (GOLDEN / f"{case}.flow").read_bytes()})


def ir_json(compilation: Compilation) -> str:
    data = ir_adapter().dump_python(compilation.project, mode="json")
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def emitted(compilation: Compilation) -> dict[str, tuple[str, bytes]]:
    """{document path under OUT: (context, xml)}"""
    _, rendered, _ = render(compilation)
    return {item.document.file: (item.document.context, item.xml) for item in rendered}


def expected_xml(case: str) -> dict[str, bytes]:
    single = GOLDEN / f"{case}.xml"
    if single.exists():
        return {"": single.read_bytes()}
    directory = GOLDEN / case
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*.xml"))}


def write_expected(case: str, compilation: Compilation, documents: dict[str, tuple[str, bytes]]) -> None:
    (GOLDEN / f"{case}.ir.json").write_text(ir_json(compilation))
    single, directory = GOLDEN / f"{case}.xml", GOLDEN / case
    single.unlink(missing_ok=True)
    if directory.is_dir():
        shutil.rmtree(directory)
    if len(documents) == 1:
        single.write_bytes(next(iter(documents.values()))[1] + b"\n")
        return
    for path, (_, xml) in documents.items():
        target = directory / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(xml + b"\n")


def canonical(xml: bytes) -> str:
    return etree.canonicalize(xml_data=xml.decode())


@pytest.mark.parametrize("case", CASES)
def test_golden(case, update_golden):
    compilation = compile_case(case)
    diagnostics = [f"{d.code} {d.message}" for d in compilation.sorted_diagnostics()]
    assert diagnostics == [], "golden cases must compile without diagnostics"
    documents = emitted(compilation)
    if update_golden:
        write_expected(case, compilation, documents)
    assert json.loads(ir_json(compilation)) == json.loads((GOLDEN / f"{case}.ir.json").read_text()), \
        f"IR of {case}.flow changed; run pytest --update-golden if intended"
    expected = expected_xml(case)
    if set(expected) == {""}:
        assert len(documents) == 1, f"{case} now compiles to {sorted(documents)}"
        actual = {"": next(iter(documents.values()))[1]}
    else:
        actual = {path: xml for path, (_, xml) in documents.items()}
    assert set(actual) == set(expected)
    for path, xml in actual.items():
        assert canonical(xml) == canonical(expected[path]), f"{case} {path or case + '.xml'}"
    for path, (context, xml) in documents.items():
        assert validate(xml, context) == [], f"{case} {path}"


def test_golden_cases_cover_every_element_of_the_table():
    used: set[str] = set()
    for case in CASES:
        for _, xml in emitted(compile_case(case)).values():
            used |= {node.tag for node in etree.fromstring(xml).iter() if isinstance(node.tag, str)}
    assert set(vocabulary().elements) - used == set()


def test_golden_cases_cover_every_keyword_and_alias_of_the_table():
    """Each keyword and each multi-word alias of the table is written in at least one golden case."""
    sources = "\n".join((GOLDEN / f"{case}.flow").read_text() for case in CASES)
    words = set(sources.split())
    missing = [keyword for spec in vocabulary().elements.values() for keyword in spec.keywords
               if keyword not in sources or not set(keyword.split()) <= words]
    assert missing == []


def test_golden_cases_cover_the_language_constructs():
    compilations = [compile_case(case) for case in CASES]
    project_files = [compilation.project.files[0] for compilation in compilations]
    flows = [flow for file in project_files for flow in file.flows]
    conferences = [conference for file in project_files for conference in file.conferences]
    assert any(flow.branches for flow in flows)
    assert any(flow.entry_events for flow in flows)
    assert any(conference.handlers for conference in conferences)
    assert any(not conference.handlers for conference in conferences)
    text = "\n".join(ir_json(compilation) for compilation in compilations)
    for needle in ('"kind": "env"', '"source": "hook"', '"filter": "safe"', '"filter": "digits"', '"unit": "ms"',
                   '"kind": "list"'):
        assert needle in text, needle


def test_no_stale_golden_files():
    known = set(CASES)
    for path in GOLDEN.iterdir():
        stem = path.name.split(".")[0] if path.is_file() else path.name
        assert stem in known, f"{path.name} belongs to no case"


def test_a_flow_named_as_a_conference_event_url_answers_conference_webhooks():
    source = b'flow events {\n    say "Welcome"\n}\nflow main {\n    join conference "room" events events\n}\n'
    documents = emitted(compile_sources({"main.flow": source}))
    assert documents["flows/events.xml"][0] == "conference"
    assert documents["flows/main.xml"][0] == "call"


def test_branches_whose_values_look_alike_in_a_file_name_get_distinct_documents():
    values = ", ".join(f'"{i}"' for i in range(200))
    text = (f'flow main {{\n    when digits "*" {{ say "star" }}\n    when digits "#" {{ say "pound" }}\n'
            f'    when digits {values} {{ say "many" }}\n    when tag "a" {{ say "a" }}\n'
            f'    when tag "A" {{ say "A" }}\n    otherwise {{ say "none" }}\n}}\n')
    documents = emitted(compile_sources({"main.flow": text.encode()}))
    assert len(documents) == 6 and len({name.casefold() for name in documents}) == 6
    assert all(len(name.rsplit("/", 1)[-1]) <= 100 for name in documents)
    texts = sorted(xml.decode().split("<SpeakSentence>")[1].split("<")[0] for _, xml in documents.values())
    assert texts == ["A", "a", "many", "none", "pound", "star"]
