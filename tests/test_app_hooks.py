"""The user's hooks module: created once with typed stubs, never overwritten; rebuilds report missing (FC701),
unused (FC702) and unreadable (FC704) hooks. Also the dedicated tests of FC701-FC704 (see test_check_codes)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from flowc.cli.commands import main as flowc

# The application's callback credentials: every route requires them, so no route is reported open (FC711).
DECLARED = "application auth env(BANDWIDTH_CALLBACK_USER) env(BANDWIDTH_CALLBACK_PASSWORD)\n\n"

V1 = DECLARED + '''conference room "room-{to|safe}" {
    on member join {
        say hook(welcome)
    }
}

flow main {
    say hook(greeting)
    join room as coach of hook(coached)
}
'''

V2 = DECLARED + '''conference room "room-{to|safe}" {
    on member join {
        say hook(welcome)
    }
}

flow main {
    say hook(salutation)
    join room
}
'''

EDITED = '''"""My hooks."""
from flowc.bxml.webhooks import CallEvent, ConferenceMemberJoin

JOINS = []  # my own comment, kept


def _helper() -> str:
    return "Hello"


async def greeting(payload: CallEvent) -> str:
    return _helper() + " " + (payload.from_ or "")


def coached(payload: CallEvent) -> list[str]:
    return ["c-1234"]


def welcome(payload: ConferenceMemberJoin) -> str:
    return "Welcome"


def on_conference_member_join(payload: ConferenceMemberJoin) -> None:
    JOINS.append(payload.call_id)
'''


def compile_json(src: Path, out: Path, capsys) -> tuple[int, list[dict]]:
    status = flowc(["compile", str(src), "-o", str(out), "--format", "json"])
    return status, json.loads(capsys.readouterr().out)


@pytest.fixture()
def project(tmp_path):
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "main.flow").write_text(V1)
    return tmp_path


def test_first_build_creates_typed_stubs(project, capsys):
    status, diagnostics = compile_json(project / "flows", project / "build", capsys)
    assert status == 0
    assert [d["code"] for d in diagnostics] == ["FC703"]
    hooks = project / "hooks.py"  # beside OUT, so cleaning OUT never loses it
    text = hooks.read_text()
    tree = ast.parse(text)
    functions = {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)}
    expected = {"greeting", "coached", "welcome", "on_conference_member_join", "on_conference_completed"}
    assert expected <= set(functions)
    assert ast.unparse(functions["welcome"].args.args[0].annotation) == "ConferenceMemberJoin"
    assert ast.unparse(functions["greeting"].args.args[0].annotation) == "CallEvent"  # initiate or answer
    assert ast.unparse(functions["coached"].returns) == "str | list[str]"
    assert isinstance(functions["on_conference_member_join"], ast.AsyncFunctionDef)  # no thread hop per event
    assert "hooks.py" not in json.loads((project / "build" / "manifest.json").read_text())["generated"]
    namespace: dict = {}
    exec(compile(text, "hooks.py", "exec"), namespace)  # the stubs import and run
    with pytest.raises(NotImplementedError):
        namespace["greeting"](None)


def test_user_code_survives_a_rebuild_with_changed_flows(project, capsys):
    assert compile_json(project / "flows", project / "build", capsys)[0] == 0
    hooks = project / "hooks.py"
    hooks.write_text(EDITED)
    app_before = (project / "build" / "app.py").read_text()
    (project / "flows" / "main.flow").write_text(V2)

    status, diagnostics = compile_json(project / "flows", project / "build", capsys)

    assert status == 0  # warnings only
    assert hooks.read_text() == EDITED  # byte for byte
    by_code = {}
    for d in diagnostics:
        by_code.setdefault(d["code"], []).append(d)
    assert set(by_code) == {"FC701", "FC702"}
    [missing] = by_code["FC701"]
    assert "salutation" in missing["message"] and missing["filename"].endswith("main.flow")
    assert missing["location"]["row"] == 10  # where hook(salutation) is used
    assert "def salutation(payload: " in missing["help"]
    stale = sorted(d["message"].split("`")[1] for d in by_code["FC702"])
    assert stale == ["coached", "greeting"]  # _helper, welcome and the observer are still in use
    assert all(d["filename"].endswith("hooks.py") for d in by_code["FC702"])
    app_after = (project / "build" / "app.py").read_text()
    assert app_after != app_before and "'salutation'" in app_after and "'greeting'" not in app_after


def test_a_stale_async_hook_is_located_on_its_definition(project, capsys):
    compile_json(project / "flows", project / "build", capsys)
    (project / "hooks.py").write_text(EDITED + "\n\nasync def leftover(payload):\n    return 'x'\n")
    _, diagnostics = compile_json(project / "flows", project / "build", capsys)
    [stale] = [d for d in diagnostics if d["code"] == "FC702"]
    assert "leftover" in stale["message"]
    assert stale["location"]["row"] == EDITED.count("\n") + 3


def test_missing_hooks_are_reported_in_text_output(project, capsys):
    flowc(["compile", str(project / "flows"), "-o", str(project / "build")])
    (project / "hooks.py").write_text("def greeting(payload):\n    return 'hi'\n")
    capsys.readouterr()
    assert flowc(["compile", str(project / "flows"), "-o", str(project / "build")]) == 0
    output = capsys.readouterr().out
    assert "warning[FC701]" in output and "`coached`" in output and "`welcome`" in output


def test_unreadable_hooks_module_is_fc704(project, capsys):
    compile_json(project / "flows", project / "build", capsys)
    (project / "hooks.py").write_text("def greeting(payload:\n")
    status, diagnostics = compile_json(project / "flows", project / "build", capsys)
    assert status == 0
    assert [d["code"] for d in diagnostics] == ["FC704"]
    assert (project / "hooks.py").read_text() == "def greeting(payload:\n"


def test_flows_without_hooks_or_events_create_no_module(tmp_path, capsys):
    (tmp_path / "main.flow").write_text(DECLARED + 'flow main {\n    say "Hi"\n}\n')
    status, diagnostics = compile_json(tmp_path / "main.flow", tmp_path / "out", capsys)
    assert (status, diagnostics) == (0, [])
    assert not (tmp_path / "hooks.py").exists()


def test_flowc_hooks_names_another_module(project, capsys, monkeypatch):
    target = project / "app_code" / "my_hooks.py"
    target.parent.mkdir()
    monkeypatch.setenv("FLOWC_HOOKS", str(target))
    status, diagnostics = compile_json(project / "flows", project / "build", capsys)
    assert status == 0 and [d["code"] for d in diagnostics] == ["FC703"]
    assert target.exists() and not (project / "hooks.py").exists()


def test_errors_write_nothing_and_create_no_module(tmp_path, capsys):
    (tmp_path / "main.flow").write_text("flow main {\n    say hook(x)\n    bogus\n}\n")
    status, _ = compile_json(tmp_path / "main.flow", tmp_path / "out", capsys)
    assert status == 1
    assert not (tmp_path / "hooks.py").exists()


def test_hook_names_that_are_not_python_names(tmp_path, capsys):
    (tmp_path / "src").mkdir()
    source = DECLARED + "flow main {\n    say hook(agent-id)\n    say hook(class)\n}\n"
    (tmp_path / "src" / "main.flow").write_text(source)
    status, diagnostics = compile_json(tmp_path / "src", tmp_path / "out", capsys)
    assert status == 0 and [d["code"] for d in diagnostics] == ["FC703"]
    stubs = (tmp_path / "hooks.py").read_text()
    names = {f.name for f in ast.parse(stubs).body if isinstance(f, ast.FunctionDef)}
    assert {"agent_id", "class_"} <= names and "hook(agent-id)" in stubs
    (tmp_path / "hooks.py").write_text("def agent_id(p):\n    return 'A'\n\n\ndef class_(p):\n    return 'B'\n")
    status, diagnostics = compile_json(tmp_path / "src", tmp_path / "out", capsys)
    assert (status, diagnostics) == (0, [])


def test_credentials_computed_per_request_are_fc705(tmp_path, capsys):
    # The app cannot know a password a hook computed for an earlier request: the route is open, so say so.
    # (`next` serves no secret: an open route serving one would be FC712, an error.)
    source = (DECLARED + 'flow main {\n    gather then next auth hook(user) env(PW) { say "Hi" }\n'
              '    record on recording "/hooks/rec" auth "rec" "{callId}"\n}\n'
              'flow next {\n    hangup\n}\n')
    (tmp_path / "main.flow").write_text(source)
    status, diagnostics = compile_json(tmp_path / "main.flow", tmp_path / "out", capsys)
    assert status == 0
    lines = source.splitlines()

    def text(d: dict) -> str:  # the source the diagnostic points at (one line)
        start, end = d["location"], d["end_location"]
        return lines[start["row"] - 1][start["column"] - 1:end["column"] - 1]

    found = sorted((d["message"].split("`")[1], text(d)) for d in diagnostics if d["code"] == "FC705")
    assert [path for path, _ in found] == ["/flows/next", "/hooks/rec"]
    assert "hook(user)" in found[0][1] and "{callId}" in found[1][1]  # located on the credential
    assert all("accepts requests without them" in d["message"] for d in diagnostics if d["code"] == "FC705")
    # Another statement reaching /flows/next with checkable credentials: the route then refuses these.
    (tmp_path / "main.flow").write_text(source + 'flow other {\n    gather then next auth "ann" env(PW)\n}\n')
    _, diagnostics = compile_json(tmp_path / "main.flow", tmp_path / "out", capsys)
    [mixed] = [d for d in diagnostics if d["code"] == "FC705" and "/flows/next" in d["message"]]
    assert "requests carrying these are refused" in mixed["message"]


def test_hooks_bound_by_an_import_or_an_assignment_are_present(project, capsys):
    # Larger apps keep their code elsewhere and import it into the hooks module: not "missing" (FC701).
    compile_json(project / "flows", project / "build", capsys)
    (project / "hooks.py").write_text("from os.path import basename as greeting\nimport json as _json\n\n"
                                      "coached = _json.loads\nwelcome: object = str\n")
    status, diagnostics = compile_json(project / "flows", project / "build", capsys)
    assert (status, diagnostics) == (0, [])
    (project / "hooks.py").write_text("from os.path import basename as greeting\n")
    _, diagnostics = compile_json(project / "flows", project / "build", capsys)
    assert sorted(d["message"].split("`")[1] for d in diagnostics) == ["coached", "welcome"]


def test_a_statement_reaching_a_protected_flow_without_credentials_is_fc706(tmp_path, capsys):
    # No application credentials, so `redirect to next` sends none (the entry flows declare their own).
    source = ('flow main on initiate auth "bw" env(BW) {\n    gather then next auth "bob" env(PW) { say "Hi" }\n}\n'
              'flow other on answer auth "bw" env(BW) {\n    redirect to next\n}\nflow next {\n    hangup\n}\n')
    (tmp_path / "main.flow").write_text(source)
    _, diagnostics = compile_json(tmp_path / "main.flow", tmp_path / "out", capsys)
    [found] = [d for d in diagnostics if d["code"] == "FC706"]
    assert "`/flows/next`" in found["message"] and "401" in found["message"]
    assert found["location"]["row"] == 5  # on `redirect to next`
    (tmp_path / "main.flow").write_text(source.replace("redirect to next", 'redirect to next auth "bob" env(PW)'))
    status, diagnostics = compile_json(tmp_path / "main.flow", tmp_path / "out", capsys)
    assert status == 0 and "FC706" not in [d["code"] for d in diagnostics]
    # The same for a URL given for webhooks that take no BXML.
    (tmp_path / "main.flow").write_text('flow main on initiate auth "bw" env(BW) {\n'
                                        '    record on recording "/hooks/rec" auth "r" env(P)\n'
                                        '    record on recording "/hooks/rec"\n}\n')
    _, diagnostics = compile_json(tmp_path / "main.flow", tmp_path / "out", capsys)
    [found] = [d for d in diagnostics if d["code"] == "FC706"]
    assert "`/hooks/rec`" in found["message"] and found["location"]["row"] == 3


def test_a_relative_bxml_url_the_app_does_not_serve_is_fc707(tmp_path, capsys):
    (tmp_path / "main.flow").write_text('flow main on initiate {\n    gather then "/custom/menu" { say "Hi" }\n'
                                        '    join conference "room" events "/flows/main"\n}\n')
    status, diagnostics = compile_json(tmp_path / "main.flow", tmp_path / "out", capsys)
    assert status == 0
    [found] = [d for d in diagnostics if d["code"] == "FC707"]  # /flows/main is served: not reported
    assert "`/custom/menu`" in found["message"] and found["severity"] == "info"
    assert (found["location"]["row"], found["location"]["column"]) == (2, 17)
