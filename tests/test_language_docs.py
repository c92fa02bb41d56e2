"""docs/language.md stays true: the generated reference is up to date with the vocabulary table and the
compiler, and every hand-written example shows what flowc actually emits."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest
from flowc.backend.build import manifest_data, render
from flowc.semantics.project import compile_sources
from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "language.md"
TOOL = ROOT / "tools" / "gen_language_reference.py"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def load_tool():
    spec = importlib.util.spec_from_file_location("gen_language_reference", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def hand_written() -> str:
    tool = load_tool()
    text = DOC.read_text()
    return text[: text.index(tool.BEGIN)] + text[text.index(tool.END) + len(tool.END):]


def blocks(text: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(text)]


def compile_snippet(source: str, name: str = "snippet.flow"):
    compilation = compile_sources({name: source.encode()})
    errors = [f"{d.code} {d.message}" for d in compilation.diagnostics if d.is_error]
    assert errors == [], source
    plan, rendered, _ = render(compilation)
    return compilation, plan, rendered


def test_generated_reference_is_up_to_date():
    tool = load_tool()
    text = DOC.read_text()
    assert tool.replace_region(text, tool.generate()) == text, \
        "docs/language.md is out of date: run python tools/gen_language_reference.py"


def test_generated_reference_covers_every_element_and_attribute():
    from flowc.bxml.vocabulary import vocabulary

    region = load_tool().generate()
    for element in vocabulary().elements.values():
        assert f"→ `<{element.name}>`" in region
        for attribute in element.attributes:
            assert f"| `{attribute}` |" in region, (element.name, attribute)


def test_every_xml_example_is_what_the_preceding_flow_compiles_to():
    checked = 0
    documents: dict[str, bytes] | None = None
    for language, body in blocks(hand_written()):
        if language == "flow":
            _, _, rendered = compile_snippet(body)
            documents = {item.document.file: item.xml for item in rendered}
        elif language == "xml":
            assert documents is not None, "an xml example must follow a flow example"
            wanted = etree.canonicalize(xml_data=body)
            matches = [f for f, xml in documents.items() if etree.canonicalize(xml_data=xml.decode()) == wanted]
            assert matches, f"no document of the preceding flow example is:\n{body}"
            checked += 1
    assert checked >= 8


def test_the_manifest_example_is_what_flowc_writes():
    sections = blocks(hand_written())
    team = next(body for language, body in sections if language == "flow" and body.startswith("conference team"))
    shown = next(json.loads(body) for language, body in sections if language == "json")
    compilation, plan, rendered = compile_snippet(team, "team.flow")
    manifest = manifest_data(plan, rendered, compilation.sources)
    assert manifest == {key: value for key, value in shown.items() if key != "generated"}


@pytest.mark.parametrize("name", ["seed/join.flow", "seed/coach.flow"])
def test_tutorial_starts_from_the_seed_examples(name):
    source = (ROOT / "examples" / name).read_text()
    statements = [line.strip() for line in source.splitlines() if line.strip() and not line.startswith("#")]
    text = hand_written()
    assert all(statement in text for statement in statements)
