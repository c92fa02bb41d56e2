"""Business hours in the editor, through a real `python -m flowc lsp` over stdio: the diagnostics and quick
fixes of FC250/FC251/FC256, hover on the declaration, its words and the branches on it, completion inside
`hours { ... }` and after `when`."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_lsp import LanguageClient
from test_lsp import (
    apply,
    close_document,
    codes,
    complete,
    diagnostics,
    fix,
    hover,
    open_document,
    position,
    started_client,
    uri,
)

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

OFFICE = '''hours office in "America/New_York" {
    monday to friday 9:00 to 17:00
    closed 2026-12-25
    override hook(office_override)
}

flow main on initiate {
    when office open {
        say "Connecting you."
    }
    otherwise {
        say "We are closed."
    }
}
'''


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("hours")


client = started_client()


async def test_hover_on_the_declaration_its_words_and_a_branch(client: LanguageClient, folder: Path):
    document = uri(folder, "office.flow")
    open_document(client, document, OFFICE)
    await diagnostics(client, document, lambda ds: True)
    declared = await hover(client, document, position(OFFICE, "office", 2))
    assert "in `America/New_York`" in declared and "monday, tuesday, wednesday, thursday, friday: 9:00 to 17:00" \
        in declared and "FC255" in declared
    assert "`hours office` in" not in declared
    assert "friday" in await hover(client, document, position(OFFICE, "friday", 2))
    assert "holidays" in await hover(client, document, position(OFFICE, "closed", 2))
    assert "decide instead" in await hover(client, document, position(OFFICE, "override", 2))
    branch = await hover(client, document, position(OFFICE, "when office", 7))
    assert "hours `office`" in branch and "evaluated by the web app per request" in branch
    state = await hover(client, document, position(OFFICE, "open {", 2))
    assert "while `office` is open" in state
    close_document(client, document)


async def test_completion_inside_hours_and_after_when(client: LanguageClient, folder: Path):
    document = uri(folder, "complete.flow")
    text = OFFICE.replace("    closed 2026-12-25\n", "    \n")
    open_document(client, document, text)
    await diagnostics(client, document, lambda ds: True)
    labels = await complete(client, document, position(text, "17:00\n    ", 10))
    assert labels[:7] == ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    assert {"daily", "weekdays", "weekends", "closed", "override"} <= set(labels)
    close_document(client, document)
    document = uri(folder, "complete_when.flow")
    text = OFFICE.replace("when office open {", "when office  {")
    open_document(client, document, text)
    await diagnostics(client, document, lambda ds: True)
    assert await complete(client, document, position(text, "when office ", 12)) == ["open", "closed"]
    close_document(client, document)
    document = uri(folder, "complete_top.flow")
    text = "ho\n"
    open_document(client, document, text)
    assert "hours" in await complete(client, document, position(text, "ho", 2))
    close_document(client, document)


@pytest.mark.parametrize(("broken", "code", "fixed"), [
    ("America/NewYork", "FC251", '"America/New_York"'),
    ("mondy to friday", "FC250", "monday to friday"),
    ("when office opne", "FC256", "when office open"),
])
async def test_quick_fixes(client: LanguageClient, folder: Path, broken, code, fixed):
    original = {"FC251": "America/New_York", "FC250": "monday to friday", "FC256": "when office open"}[code]
    text = OFFICE.replace(original, broken, 1)
    document = uri(folder, f"fix_{code}.flow")
    open_document(client, document, text)
    [found] = await diagnostics(client, document, lambda ds: code in codes(ds))
    [action] = await fix(client, document, text, found)
    assert fixed in apply(text, action.edit.changes[document])
    close_document(client, document)


async def test_unknown_attribute_hover_and_completion(client: LanguageClient, folder: Path):
    document = uri(folder, "unknown.flow")
    text = 'flow main {\n    say "Hi" voice kate unknown newFeature "on"\n}\n'
    open_document(client, document, text)
    [found] = await diagnostics(client, document, lambda ds: "FC503" in codes(ds))
    assert "newFeature" in found.message
    assert "without any check" in await hover(client, document, position(text, "newFeature", 2))
    close_document(client, document)
    document = uri(folder, "unknown_complete.flow")
    text = 'flow main {\n    say "Hi" \n}\n'
    open_document(client, document, text)
    assert "unknown" in await complete(client, document, position(text, '"Hi" ', 5))
    close_document(client, document)
