"""End-to-end tests of the `flowc` command: real subprocesses, real files, exit codes and output."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "seed"


def flowc(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "flowc", *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=60)


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def test_version():
    result = flowc("--version")
    assert result.returncode == 0 and result.stdout.startswith("flowc ")


def test_no_command_is_a_usage_error():
    assert flowc().returncode == 2


def test_compile_seed_writes_documents_and_manifest(tmp_path):
    out = tmp_path / "out"
    result = flowc("compile", str(SEED), "-o", str(out))
    assert result.returncode == 0, result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    files = {d["file"]: d for d in manifest["documents"]}
    assert set(files) == {"flows/join.xml", "flows/coach.xml"}
    assert files["flows/join.xml"]["context"] == "call"
    assert files["flows/join.xml"]["source"].endswith("join.flow:2")
    assert {r["path"] for r in manifest["routes"]} == {"/flows/join", "/flows/coach"}
    xml = (out / "flows" / "join.xml").read_bytes()
    assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<Response>')


def test_compile_is_deterministic(tmp_path):
    flowc("compile", str(SEED), "-o", str(tmp_path / "a"))
    flowc("compile", str(SEED), "-o", str(tmp_path / "b"))
    for path in (tmp_path / "a").rglob("*"):
        if path.is_file():
            assert path.read_bytes() == (tmp_path / "b" / path.relative_to(tmp_path / "a")).read_bytes()


def test_failed_compile_leaves_previous_output_intact(tmp_path):
    project = tmp_path / "flows"
    write(project / "main.flow", 'flow main {\n    say "Hello"\n}\n')
    out = tmp_path / "out"
    assert flowc("compile", str(project), "-o", str(out)).returncode == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    write(project / "main.flow", 'flow main {\n    say "Hello" gender robot\n}\n')
    result = flowc("compile", str(project), "-o", str(out))
    assert result.returncode == 1
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_renamed_flow_removes_stale_document_but_not_user_files(tmp_path):
    project = tmp_path / "flows"
    out = tmp_path / "out"
    write(project / "main.flow", "flow first {\n    hangup\n}\n")
    assert flowc("compile", str(project), "-o", str(out)).returncode == 0
    write(out / "notes.txt", "mine")
    write(project / "main.flow", "flow second {\n    hangup\n}\n")
    assert flowc("compile", str(project), "-o", str(out)).returncode == 0
    assert not (out / "flows" / "first.xml").exists()
    assert (out / "flows" / "second.xml").exists()
    assert (out / "notes.txt").read_text() == "mine"


def test_check_renders_rustc_style(tmp_path):
    bad = write(tmp_path / "bad.flow", 'flow main {\n    say "Hi" gendr male\n}\n')
    result = flowc("check", str(bad))
    assert result.returncode == 1
    assert "error[FC103]" in result.stdout
    assert f"--> {bad}:2:14" in result.stdout
    assert '2 |     say "Hi" gendr male' in result.stdout
    assert "  |              ^^^^^" in result.stdout
    assert "help: did you mean `gender`?" in result.stdout
    assert "1 error" in result.stderr


def test_check_json_format(tmp_path):
    bad = write(tmp_path / "bad.flow", 'flow main {\n    say "Hi" gendr male\n}\n')
    result = flowc("check", "--format", "json", str(bad))
    assert result.returncode == 1
    [item] = json.loads(result.stdout)
    assert item["code"] == "FC103" and item["severity"] == "error"
    assert item["location"] == {"row": 2, "column": 14}
    assert item["end_location"] == {"row": 2, "column": 19}
    assert item["fix"]["edits"] == [{"content": "gender", "location": {"row": 2, "column": 14},
                                     "end_location": {"row": 2, "column": 19}}]


def test_check_clean_file_exits_zero(tmp_path):
    result = flowc("check", str(SEED / "join.flow"))
    assert result.returncode == 0 and result.stdout == ""
    assert result.stderr == "no problems found\n"  # one summary line, as compile prints one
    assert flowc("check", "--format", "json", str(SEED / "join.flow")).stderr == ""


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"flow a {\x00}", "FC003"),
        (b"flow a { say \"\xff\xfe\" }", "FC004"),
        (b"#" * (2 * 1024 * 1024 + 10), "FC002"),
    ],
)
def test_bad_input_gives_a_diagnostic_not_a_traceback(tmp_path, content, code):
    path = write(tmp_path / "x.flow", content)
    result = flowc("check", str(path))
    assert result.returncode == 1
    assert f"error[{code}]" in result.stdout
    assert "Traceback" not in result.stderr


def test_missing_file_is_an_io_error(tmp_path):
    result = flowc("check", str(tmp_path / "nope.flow"))
    assert result.returncode == 2
    assert "nope.flow" in result.stderr and "Traceback" not in result.stderr


def test_output_path_that_is_a_file_is_a_usage_error(tmp_path):
    target = write(tmp_path / "out", "x")
    assert flowc("compile", str(SEED), "-o", str(target)).returncode == 2


def test_ir_prints_json(tmp_path):
    result = flowc("ir", str(SEED / "coach.flow"))
    assert result.returncode == 0
    project = json.loads(result.stdout)
    [flow] = project["files"][0]["flows"]
    conference = flow["body"][1]
    assert conference["tag"] == "Conference"
    assert conference["attributes"][0]["name"] == "callIdsToCoach"


def test_check_does_not_import_heavy_modules():
    code = (
        "import sys; from flowc.cli.commands import main; main(['check', {!r}]);"
        "heavy = {{'lxml', 'jinja2', 'pygls', 'lsprotocol', 'pydantic', 'lark'}}"
        " & {{m.split('.')[0] for m in sys.modules}};"
        "print(sorted(heavy))"
    ).format(str(SEED / "join.flow"))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr


def test_a_long_line_is_shown_as_a_window_around_the_problem(tmp_path):
    path = tmp_path / "long.flow"
    path.write_text("flow main { " + "pause 1s; " * 200 + "sayy \"hi\" }\n")
    result = flowc("check", str(path))
    source_line = next(line for line in result.stdout.splitlines() if line.startswith("1 |"))
    caret_line = result.stdout.splitlines()[result.stdout.splitlines().index(source_line) + 1]
    assert len(source_line) < 140 and source_line.startswith("1 | …")
    assert source_line[caret_line.index("^"):].startswith("sayy")


def test_a_file_named_twice_is_one_file(tmp_path):
    write(tmp_path / "p" / "main.flow", 'flow main {\n    say "Hello"\n}\n')
    (tmp_path / "alias.flow").symlink_to(tmp_path / "p" / "main.flow")
    result = flowc("check", "p/main.flow", "./p/main.flow", "p", "alias.flow", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout == "", result.stdout


def test_rendering_shows_control_characters_harmlessly_and_aligns_carets_under_wide_characters(tmp_path):
    import unicodedata

    write(tmp_path / "esc.flow", 'flow esc {\n    say "\x1b[31m"\n}\n')
    result = flowc("check", "esc.flow", cwd=tmp_path)
    assert "FC005" in result.stdout and "\x1b" not in result.stdout and "␛[31m" in result.stdout
    write(tmp_path / "main.flow", 'flow main {\n    say "日本語 🎉" gendr male\n}\n')
    result = flowc("check", "main.flow", cwd=tmp_path)
    lines = result.stdout.splitlines()
    source = next(line for line in lines if line.startswith("2 |"))
    carets = lines[lines.index(source) + 1]
    # wide characters take two terminal columns: the carets start under `gendr`
    width = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in source[: source.index("gendr")])
    assert carets.index("^") == width and carets.count("^") == len("gendr")


def test_ir_keeps_stdout_for_the_json_and_reports_problems_on_stderr(tmp_path):
    write(tmp_path / "main.flow", 'flow main {\n    say "Hi" gendr male\n}\n')
    result = flowc("ir", "main.flow", cwd=tmp_path)
    assert result.returncode == 1 and "FC103" in result.stderr
    assert json.loads(result.stdout)["files"][0]["flows"][0]["name"] == "main"


@pytest.mark.parametrize("command", [["compile", "-o", "out"], ["ir"]])
def test_compile_and_ir_given_bxml_point_to_check_and_import(tmp_path, command):
    write(tmp_path / "doc.xml", "<Response><Hangup/></Response>")
    result = flowc(*command, "doc.xml", cwd=tmp_path)
    assert result.returncode == 2 and "flowc import" in result.stderr and result.stdout == ""
    assert not (tmp_path / "out").exists()


def test_a_stray_manifest_in_out_never_makes_compile_delete_anything(tmp_path):
    out = tmp_path / "out"
    victims = [write(tmp_path / "victim.txt", "keep"), write(tmp_path / "elsewhere" / "v.xml", "keep")]
    (out / "linked").parent.mkdir(parents=True)
    (out / "linked").symlink_to(tmp_path / "elsewhere")
    write(out / "flows" / "old.xml", "<Response/>")
    write(out / "manifest.json", json.dumps({
        "documents": [{"file": str(victims[0])}, {"file": "linked/v.xml"}, {"file": 3}, {"file": "flows/old.xml"}],
        "generated": ["../victim.txt", "flows/../../victim.txt"]}))
    result = flowc("compile", str(SEED), "-o", str(out))
    assert result.returncode == 2 and "FC902" in result.stderr  # a manifest proves nothing (tests/test_out_safety.py)
    assert all(victim.read_text() == "keep" for victim in victims)
    assert (out / "flows" / "old.xml").exists()


@pytest.mark.parametrize("problem", ["long name", "directory in the way"])
def test_a_compile_that_cannot_write_leaves_the_previous_out_intact(tmp_path, problem):
    out = tmp_path / "out"
    write(tmp_path / "src" / "main.flow", "flow main {\n    hangup\n}\n")
    assert flowc("compile", "src", "-o", "out", cwd=tmp_path).returncode == 0
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    if problem == "long name":
        extra = "flow " + "x" * 300 + " {\n    hangup\n}\n"
    else:
        extra = "flow zz {\n    hangup\n}\n"
        (out / "flows" / "zz.xml").mkdir()
    write(tmp_path / "src" / "main.flow", 'flow main {\n    say "changed"\n}\n' + extra)
    result = flowc("compile", "src", "-o", "out", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before


def test_check_reads_an_upper_case_xml_extension_as_bxml(tmp_path):
    write(tmp_path / "DOC.XML", "<Response><Hangup/></Response>")
    result = flowc("check", "DOC.XML", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout == "", result.stdout


def test_summary_counts_notes_when_there_is_nothing_worse():
    from flowc.cli.render import summary
    from flowc.core.diagnostics import Diagnostic, Severity, Span

    note = Diagnostic("FC406", Severity.INFO, "m", Span("f", 0, 1))
    assert summary([note]) == "no problems found (1 note)"
    assert summary([]) == "no problems found"
    assert summary([note, Diagnostic("FC403", Severity.WARNING, "m", Span("f", 0, 1))]) == "found 1 warning"


def test_a_reader_that_stops_early_is_not_an_error(tmp_path):
    path = write(tmp_path / "many.flow", "".join(f'flow f{i} {{\n    sayy "x"\n}}\n' for i in range(2000)))
    shell = f"{sys.executable} -m flowc check --format json {path} | head -c 10 >/dev/null; echo ${{PIPESTATUS[0]}}"
    result = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, timeout=60)
    assert result.stderr == "" and result.stdout.strip() == "141"
