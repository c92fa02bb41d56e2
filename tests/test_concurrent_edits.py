"""`check --fix` and `fmt` never lose an edit made while they work (issue 9, item 5): a file is rewritten only
if it still holds exactly what was read. The edit is made by a second process at the moment between reading
and writing (the hook point is the step that computes the new text). Also the dedicated test of FC907."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import flowc.core.fixes
import flowc.syntax.formatter
from flowc.cli.commands import main as run_flowc

FIXABLE = 'flow main {\n    sayy "Hello"\n}\n'  # a safe fix: `say`
UNFORMATTED = 'flow main {\n  say   "Hello"\n}\n'
EDITED = 'flow main {\n    say "Edited meanwhile"\n    hangup\n}\n'


def edit_from_another_process(path: Path) -> None:
    subprocess.run([sys.executable, "-c", "import sys; open(sys.argv[1], 'w').write(sys.argv[2])", str(path), EDITED],
                   check=True, timeout=30)


def test_check_fix_keeps_an_edit_made_while_it_fixed(tmp_path, monkeypatch, capsys):
    path = tmp_path / "main.flow"
    path.write_text(FIXABLE)
    apply_edits = flowc.core.fixes.apply_edits

    def edit_then_apply(text, edits):
        edit_from_another_process(path)
        return apply_edits(text, edits)

    monkeypatch.setattr(flowc.core.fixes, "apply_edits", edit_then_apply)
    run_flowc(["check", "--fix", str(path)])
    assert path.read_text() == EDITED
    err = capsys.readouterr().err
    assert "warning[FC907]" in err and str(path) in err and "fixed" not in err
    assert not list(tmp_path.glob(".*.tmp"))


def test_check_fix_still_fixes_an_untouched_file(tmp_path, capsys):
    path = tmp_path / "main.flow"
    path.write_bytes(b"\xef\xbb\xbf" + FIXABLE.encode())
    assert run_flowc(["check", "--fix", str(path)]) == 0
    assert path.read_bytes() == b'\xef\xbb\xbfflow main {\n    say "Hello"\n}\n'
    assert "FC907" not in capsys.readouterr().err


def test_fmt_keeps_an_edit_made_while_it_formatted(tmp_path, monkeypatch, capsys):
    path = tmp_path / "main.flow"
    path.write_text(UNFORMATTED)
    format_module = flowc.syntax.formatter.format_module

    def edit_then_format(module, text):
        edit_from_another_process(path)
        return format_module(module, text)

    monkeypatch.setattr(flowc.syntax.formatter, "format_module", edit_then_format)
    assert run_flowc(["fmt", str(path)]) == 1
    assert path.read_text() == EDITED
    err = capsys.readouterr().err
    assert "warning[FC907]" in err and str(path) in err and "reformatted " + str(path) not in err
    assert not list(tmp_path.glob(".*.tmp"))
