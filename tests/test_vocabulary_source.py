"""One source of truth: facts about BXML and Bandwidth's webhooks live in compiler/data/bxml.json.

The code may name the element or attribute a rule is about, but no table of element or attribute names lives in
it: this test counts the string literals in the Python code of flowc (compiler/ and lsp/) that are the name
of a BXML element or attribute, and fails if the count rises above the figure below (142 before issue 15).
Words that are also everyday keys (`name`, `value`, `from`, SSML's `s` and `p` ...) are not counted.

The emulator (compiler/sim) is counted too: its verbs' handlers name the attributes they act on, and its REST
API (sim/rest.py, 37) shares field names with BXML attributes (`username`, `callTimeout`, `mute` ...), but the
list of verbs, the URL and method attribute of each webhook, the credential pairs, defaults, units and allowed
children come from the vocabulary (152 names before, 83 after; 47 outside the emulator).
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from flowc.bxml.vocabulary import DATA, vocabulary

ROOT = Path(__file__).resolve().parent.parent
MOST = 130  # after issue 15, the emulator included; lower it when a change removes more
COMMON_WORDS = {"text", "name", "to", "from", "tag", "value", "duration", "p", "s", "sub", "break", "lang", "format",
                "level", "time", "alias", "destination", "strength", "volume", "rate", "pitch", "ph", "emphasis",
                "prosody", "phoneme"}


def vocabulary_names() -> set[str]:
    raw = json.loads(DATA.read_text())
    names = set(raw["elements"])
    for element in raw["elements"].values():
        names |= set(element["attributes"])
    return names - COMMON_WORDS


def literal_names(path: Path, names: set[str]) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), str(path))
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in names]


def count() -> dict[str, list[tuple[int, str]]]:
    names = vocabulary_names()
    found = {}
    for folder in ("compiler", "lsp"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            hits = literal_names(path, names)
            if hits:
                found[str(path.relative_to(ROOT))] = hits
    return found


def test_names_written_in_code_do_not_grow():
    found = count()
    total = sum(len(hits) for hits in found.values())
    listing = "\n".join(f"{path}:{line}: {name}" for path, hits in found.items() for line, name in hits)
    assert total <= MOST, f"{total} BXML names written as literals (at most {MOST}):\n{listing}"


def test_the_counter_finds_a_table_written_in_code(tmp_path):
    table = tmp_path / "rule.py"
    table.write_text('LIMITS = {"Transfer": (1, 8), "Refer": (1, 1)}\nwords = ["name", "value"]\n')
    assert [name for _, name in literal_names(table, vocabulary_names())] == ["Transfer", "Refer"]


def test_nothing_outside_the_checker_reads_its_tables():
    """Outside the checker, code runs it (check_project, a selection of codes) or reads its registry (which
    codes apply where); facts come from the vocabulary, never from the checker's modules."""
    from flowc.check import __all__ as public

    for folder in ("compiler", "lsp", "tools"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = str(path.relative_to(ROOT))
            if relative.startswith("compiler/check/"):
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and node.module == "flowc.check":
                    names = {alias.name for alias in node.names}
                    assert names <= set(public), (relative, names - set(public))
                elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("flowc.check."):
                    assert node.module == "flowc.check.registry", (relative, node.module)


def test_the_emulator_runs_every_verb_of_the_vocabulary():
    """The emulator's verb table is the vocabulary's list of verbs, each run by the method named after it."""
    from flowc.sim.engine import Engine, snake_case

    verbs = [name for name, spec in vocabulary().elements.items() if spec.kind == "verb"]
    assert verbs and all(callable(getattr(Engine, "_" + snake_case(name), None)) for name in verbs)
    assert snake_case("StartGather") == "start_gather" and snake_case("SendDtmf") == "send_dtmf"


def test_the_emulator_reads_webhook_settings_from_the_vocabulary():
    """Where a verb sends each webhook, with which method and credentials, and its durations in seconds: the
    vocabulary's URL attributes (their events and method attribute), credential pairs and units."""
    import xml.etree.ElementTree as ET

    from flowc.sim.bxml import callback, children, credentials_of, seconds

    gather = ET.fromstring('<StartGather dtmfUrl="/d" dtmfMethod="GET" username="u" password="p"/>')
    assert callback(gather, "dtmf") == type(callback(gather, "dtmf"))("/d", "GET", None, "POST")
    assert credentials_of(gather) == ("u", "p") and credentials_of(gather, fallback=True) is None
    room = ET.fromstring('<Conference conferenceEventUrl="/e" conferenceEventFallbackUrl="/f" '
                         'fallbackUsername="fu" fallbackPassword="fp">r</Conference>')
    events = callback(room, "conferenceMemberJoin")
    assert (events.url, events.method, events.fallback_url) == ("/e", "POST", "/f")
    assert credentials_of(room, fallback=True) == ("fu", "fp") and credentials_of(room) is None
    tones = ET.fromstring('<SendDtmf toneDuration="100">12</SendDtmf>')
    assert seconds(tones, "toneDuration") == 0.1 and seconds(tones, "toneInterval") == 0.4  # ms; the default
    assert seconds(ET.fromstring("<Pause/>"), "duration") == 1  # seconds, the documented default
    transfer = ET.fromstring("<Transfer><PhoneNumber>+1</PhoneNumber><Tag>x</Tag><SipUri>sip:a</SipUri></Transfer>")
    assert [c.tag for c in children(transfer)] == ["PhoneNumber", "SipUri"]


@pytest.mark.parametrize("field", ["name", "direction", "eventType"])
def test_name_characters_are_what_safe_keeps(field):
    from flowc.semantics.ir import FILTERS

    assert vocabulary().fields[field].characters == FILTERS["safe"].characters


def test_the_conference_name_pattern_matches_the_name_field():
    import re

    vocab = vocabulary()
    pattern = re.compile(vocab.conference_name_pattern)
    shape = vocab.fields["name"]
    assert pattern.fullmatch("".join(sorted(shape.characters or ())))
    assert pattern.fullmatch("a" * vocab.limits.conference_name_length)
    assert not pattern.fullmatch("a" * (vocab.limits.conference_name_length + 1))


def test_the_pipeline_reproduces_the_table(tmp_path):
    """tools/build_vocabulary.py writes the table from the gathered reference and its own facts, keeping the
    hand-written texts: re-running it over the table changes nothing (skipped without the reference)."""
    import importlib.util
    import sys

    reference = Path("/work/shared/reference/verbs.json")
    if not reference.exists():
        pytest.skip("the gathered reference is not on this machine")
    spec = importlib.util.spec_from_file_location("build_vocabulary", ROOT / "tools" / "build_vocabulary.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["build_vocabulary"] = module
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    previous = json.loads(DATA.read_text())
    assert module.convert(json.loads(reference.read_text()), previous) == previous
