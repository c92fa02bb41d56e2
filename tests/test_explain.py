"""`flowc explain` and docs/diagnostics.md come from the same table and must not drift apart."""

import os
import subprocess
import sys
from pathlib import Path

from flowc.cli.explain import diagnostics_markdown, explain_page
from flowc.core.codes import CODES

DOCS = Path(__file__).resolve().parent.parent / "docs" / "diagnostics.md"


def flowc(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flowc", *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "NO_COLOR": "1"})


def test_committed_docs_match_the_generated_page():
    assert DOCS.read_text() == diagnostics_markdown(), (
        "docs/diagnostics.md is stale: run `python -m flowc.cli.explain > docs/diagnostics.md`")


def test_docs_generator_runs_as_a_module():
    result = subprocess.run([sys.executable, "-m", "flowc.cli.explain"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout == diagnostics_markdown()


def test_every_code_has_a_page_and_an_anchor():
    markdown = diagnostics_markdown()
    for code in CODES.values():
        assert f'<a id="{code.code.lower()}"></a>' in markdown
        assert f"## {code.code}: {code.title}" in markdown


def test_page_shows_explanation_and_examples():
    page = explain_page(CODES["FC309"])
    assert page.startswith("# FC309: conflicting conference webhook settings\n")
    assert "Default severity: warning" in page
    assert CODES["FC309"].explanation in page
    assert "```flow\n" + CODES["FC309"].bad.rstrip("\n") + "\n```" in page
    assert "```xml\n" in explain_page(CODES["FC503"])


def test_cli_explain_code():
    result = flowc("explain", "fc305")
    assert result.returncode == 0
    assert result.stdout.startswith("# FC305: ") and "{from|safe}" in result.stdout


def test_cli_explain_lists_codes_and_rejects_unknown():
    listing = flowc("explain")
    assert listing.returncode == 0 and len(listing.stdout.splitlines()) == len(CODES)
    assert flowc("explain", "FC999").returncode == 2
