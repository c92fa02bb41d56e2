"""Every diagnostic code is registered, documented and demonstrated: each code's `bad` example really
produces it and its `good` example checks clean. Codes whose example cannot be shown in a few lines have a
dedicated test here."""

import re
from pathlib import Path

import pytest
from flowc.bxml.lint_xml import lint_sources
from flowc.core.codes import CODES
from flowc.core.diagnostics import Severity
from flowc.semantics.project import compile_sources

COMPILER = Path(__file__).resolve().parent.parent / "compiler"
# Codes without a `bad` example in the table, each with its own test below.
TESTED_HERE = {"FC002", "FC003", "FC004", "FC008", "FC204", "FC209"}
TESTED_HERE |= {"FC603"}  # the import's own guard: tests/test_import_roundtrip.py
TESTED_HERE |= {"FC701", "FC702", "FC703", "FC704", "FC705", "FC706", "FC707"}  # the web app: tests/test_app_hooks.py
TESTED_HERE |= {"FC711"}  # reported by `flowc compile`: tests/test_app_security.py
TESTED_HERE |= {f"FC9{n:02}" for n in range(1, 11)}  # files, OUT: test_out_safety, test_odd_paths ...
TESTED_HERE |= {"FC801", "FC802"}  # `flowc graph`: tests/test_graph.py
TESTED_HERE |= {"FC811"}  # `flowc sim`: tests/test_sim_cli.py


def diagnostics_of(code):
    def run(text: str):
        if code.code.startswith("FC6"):  # `flowc import` codes: the example document is imported, not linted
            from flowc.bxml.import_xml import import_source

            return import_source("example.xml", text.encode()).diagnostics
        if code.language == "xml":
            return lint_sources({"example.xml": text.encode()}, code.context)[1]
        return compile_sources({"example.flow": text.encode()}).diagnostics
    return run


def codes(text: str) -> list[str]:
    return [d.code for d in compile_sources({"t.flow": text.encode()}).diagnostics]


@pytest.mark.parametrize("code", [c for c in CODES.values() if c.bad], ids=lambda c: c.code)
def test_bad_example_produces_its_code(code):
    found = diagnostics_of(code)(code.bad)
    matching = [d for d in found if d.code == code.code]
    assert matching, f"{code.code} bad example gave {[(d.code, d.message) for d in found]}"
    assert all(d.severity is code.severity for d in matching)


@pytest.mark.parametrize("code", [c for c in CODES.values() if c.good], ids=lambda c: c.code)
def test_good_example_is_clean(code):
    found = diagnostics_of(code)(code.good)
    assert found == [], [(d.code, d.message) for d in found]


def test_every_code_has_an_example_or_a_dedicated_test():
    assert {c.code for c in CODES.values() if not c.bad} == TESTED_HERE


def test_every_code_is_documented():
    for code in CODES.values():
        assert re.fullmatch(r"FC\d{3}", code.code)
        assert code.title and code.title[0].islower() and not code.title.endswith("."), code.code
        assert len(code.explanation) > 40, code.code


def test_every_code_the_compiler_uses_is_registered():
    used = set()
    for path in COMPILER.glob("*.py"):
        used |= set(re.findall(r'"(FC\d{3})"', path.read_text()))
    assert used - set(CODES) == set()


def test_file_too_large():
    found = compile_sources({"big.flow": b"#" * (2 * 1024 * 1024 + 1)}).diagnostics
    assert [d.code for d in found] == ["FC002"]


def test_binary_file():
    assert codes("flow main {\x00}\n") == ["FC003"]


def test_invalid_utf8():
    found = compile_sources({"t.flow": b'flow main {\n    say "caf\xe9"\n}\n'}).diagnostics
    assert [d.code for d in found] == ["FC004"]


def test_nesting_too_deep_is_reported_not_a_crash():
    deep = "flow main {\n    say {\n" + "emphasis {\n" * 3000 + "}\n" * 3000 + "    }\n}\n"
    found = compile_sources({"t.flow": deep.encode()}).diagnostics
    assert [d.code for d in found] == ["FC008"]
    shallow = "flow main {\n    say {\n" + "emphasis {\n" * 10 + '"hi"\n' + "}\n" * 10 + "    }\n}\n"
    assert codes(shallow) == []
    xml = ("<Response><SpeakSentence>" + "<emphasis>" * 3000 + "hi" + "</emphasis>" * 3000
           + "</SpeakSentence></Response>")
    assert [d.code for d in lint_sources({"t.xml": xml.encode()})[1]] == ["FC008"]


def test_value_too_long():
    assert "FC204" in codes(f'flow main {{\n    redirect to "/next" tag "{"x" * 257}"\n}}\n')
    assert codes(f'flow main {{\n    redirect to "/next" tag "{"x" * 256}"\n}}\n') == []


def test_document_too_large():
    lines = "\n".join(f'    say "{"This sentence is long enough to fill the document quickly. " * 4}"'
                      for _ in range(300))
    found = compile_sources({"t.flow": f"flow main {{\n{lines}\n}}\n".encode()}).diagnostics
    [too_large] = [d for d in found if d.code == "FC209"]
    assert too_large.severity is Severity.ERROR and "65536" in too_large.message
    assert codes("flow main {\n" + "\n".join(lines.splitlines()[:100]) + "\n}\n") == []


def test_xml_document_too_large():
    body = "<SpeakSentence>Hello there.</SpeakSentence>\n" * 1600
    found = lint_sources({"big.xml": f"<Response>\n{body}</Response>\n".encode()})[1]
    assert [d.code for d in found] == ["FC209"]
