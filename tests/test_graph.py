"""`flowc graph`: golden diagrams per example, each rendered by a real renderer, and the command end to end.

Every Mermaid diagram is parsed by Mermaid's own parser (tools/mermaid/parse.mjs, under Node), every DOT diagram
drawn by Graphviz (`dot -Tsvg`), so a syntax error in generated output fails the suite. Both come from
tools/install-test-deps.sh (the README's test command runs it first). Under CI (CI=true) a missing renderer is a
failure; locally the tests that need one are skipped, saying how to install it.

`pytest --update-golden tests/test_graph.py` rewrites the golden files from the current output.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest
from flowc.backend.graph import dot_string, mermaid_text, project_graph, render
from flowc.semantics.project import find_flow_files, read_files

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden_graph"
NAMES = GOLDEN / "names"  # a project whose names are keywords of both formats, with dashes, quotes, dots
MERMAID = ROOT / "tools" / "mermaid"
EXAMPLES = sorted(p.name for p in (ROOT / "examples").iterdir() if p.is_dir())
PROJECTS = {**{name: ROOT / "examples" / name for name in EXAMPLES}, "names": NAMES}
SUFFIXES = {"mermaid": "mmd", "dot": "dot"}
MERMAID_BLOCK = re.compile(r"```mermaid\n(.*?)```", re.DOTALL)
INSTALL = "run `bash tools/install-test-deps.sh`"


def needs(tool: str) -> None:
    """A renderer is missing: a failure under CI, a skip (saying how to install it) elsewhere."""
    message = f"{tool} is not installed: {INSTALL}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def dot() -> str:
    found = shutil.which("dot")
    if found is None:
        needs("Graphviz (dot)")
    return found


@pytest.fixture(scope="session")
def mermaid_parse():
    """parse(files) -> {file: "ok ..." | error}, by Mermaid's own parser."""
    node = shutil.which("node")
    if node is None or not (MERMAID / "node_modules" / "mermaid" / "package.json").is_file():
        needs("Mermaid's parser (node and tools/mermaid/node_modules)")

    def parse(files: list[Path]) -> dict[str, str]:
        done = subprocess.run([node, str(MERMAID / "parse.mjs"), *map(str, files)], capture_output=True, text=True,
                              timeout=120, check=False)
        assert done.stdout, done.stderr
        return json.loads(done.stdout)

    return parse


def graph_of(project: Path, fmt: str, flow: str | None = None) -> str:
    graph, _, _ = project_graph(read_files(find_flow_files([str(project)])), flow)
    return render(graph, fmt)


def golden_path(name: str, fmt: str) -> Path:
    return GOLDEN / f"{name}.{SUFFIXES[fmt]}"


def flowc(*args: str, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flowc", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env=env, check=False)


# -- golden files, rendered ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_golden(name, fmt, update_golden):
    text = graph_of(PROJECTS[name], fmt)
    if update_golden:
        golden_path(name, fmt).write_text(text)
    assert text == golden_path(name, fmt).read_text(), f"run pytest --update-golden {__file__} if intended"


def test_every_example_has_golden_diagrams_and_none_is_stale():
    expected = {f"{name}.{suffix}" for name in PROJECTS for suffix in SUFFIXES.values()}
    assert {p.name for p in GOLDEN.iterdir() if p.is_file()} == expected


def test_mermaid_parser_accepts_every_golden_diagram(mermaid_parse):
    files = sorted(GOLDEN.glob("*.mmd"))
    results = mermaid_parse(files)
    assert results == {str(f): "ok flowchart-v2" for f in files}


def test_mermaid_parser_rejects_broken_diagrams(mermaid_parse, tmp_path):
    """The check can fail: what an unescaped keyword, parenthesis or pipe would produce is refused."""
    broken = {"keyword-id": 'flowchart TD\n    end --> f_a\n',
              "parenthesis": 'flowchart TD\n    f_a[say (hi)]\n',
              "pipe": 'flowchart TD\n    f_a -->|a|b| f_b\n'}
    for name, text in broken.items():
        (tmp_path / f"{name}.mmd").write_text(text)
    results = mermaid_parse(sorted(tmp_path.glob("*.mmd")))
    assert not any(r.startswith("ok") for r in results.values()), results


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_graphviz_draws_every_golden_diagram(name, dot):
    source = golden_path(name, "dot").read_text()
    done = subprocess.run([dot, "-Tsvg"], input=source, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 and not done.stderr, done.stderr
    svg = ElementTree.fromstring(done.stdout)
    titles = {t.text for t in svg.iter("{http://www.w3.org/2000/svg}title")}
    node_ids = set(re.findall(r'^\s+"(\w+)" \[label=', source, re.MULTILINE))
    assert node_ids and node_ids <= titles  # every node was drawn, under its id


# -- what the diagram says -------------------------------------------------------------------------------


def test_edges_are_labelled_with_the_webhook_and_the_branch():
    text = graph_of(ROOT / "examples" / "ivr-menu", "mermaid")
    assert 'f_main -->|"gather"| f_menu' in text
    assert 'f_menu -->|"digits #34;1#34;: redirect"| f_billing' in text
    assert 'f_menu -->|"digits #34;0#34;: referComplete"| f_front_desk_result' in text
    assert 'f_menu -->|"otherwise: redirect"| f_main' in text
    assert 'start -->|"initiate"| f_main' in text  # the entry point, with the webhook that enters it
    assert "class f_main entry" in text


def test_transfers_records_and_bridges():
    text = graph_of(ROOT / "examples" / "transfer-announce", "mermaid")
    assert text.count('f_inbound -.->|"transferAnswer"| f_announce') == 1  # number and sip: one arrow
    assert 'f_inbound -->|"transferComplete"| f_after_transfer' in text
    assert "whisper: runs on the transferred call" in text and "class f_dial_extension,f_announce whisper" in text
    assert 'f_agent_pickup -->|"bridgeTargetComplete"| f_caller_after_call' in text
    voicemail = graph_of(ROOT / "examples" / "voicemail", "mermaid")
    assert 'f_voicemail -->|"recordComplete"| f_review' in voicemail


def test_conferences_their_handlers_replies_and_continuation():
    text = graph_of(NAMES, "mermaid")
    assert 'f_subgraph -->|"join"| c_room_1' in text
    assert 'c_room_1 -->|"after subgraph: redirect"| f_end' in text  # the call continues after the conference
    assert 'c_room_1 -.->|"conference events"| f_edge' in text  # `events edge` in the declaration
    assert 'c_room_1 -->|"on member join: gather"| f_node_a' in text
    assert "conference reply of room-1" in text and "on member join" in text
    support = graph_of(ROOT / "examples" / "support-line", "mermaid")  # a room: roles on the joins, the overflow
    assert 'f_supervise -->|"join as supervisor"| c_case_room' in support
    assert 'f_customer_case -->|"otherwise: join as customer"| c_case_room' in support
    assert 'c_case_room -->|"over max 3: redirect"| f_case_busy' in support
    assert "on created, member exit, redirect" in support
    assert 'f_coach -->|"join as coach"| r_my_conference_name' in graph_of(ROOT / "examples" / "seed", "mermaid")


def test_an_overflow_flow_that_does_not_exist_is_drawn_missing(tmp_path):
    (tmp_path / "room.flow").write_text('conference desk "desk" {\n    max 2 else nowhere\n}\n'
                                        'flow main {\n    join desk as host\n}\n')
    text = graph_of(tmp_path, "mermaid")
    assert 'c_desk -.->|"over max 2: redirect"| mf_nowhere' in text and "FC401" in text


def test_unused_flows_and_unresolved_names_are_shown_as_the_checker_reports_them():
    text = graph_of(NAMES, "mermaid")
    assert "FC403 flow #96;style#96; is never used" in text
    assert "class f_class,f_style,f_digraph unused" in text
    assert 'f_graph -.->|"otherwise: redirect"| mf_missing_flow' in text
    assert "FC401 no flow named #96;missing-flow#96;" in text
    assert "FC402 no conference named #96;nowhere#96;" in text
    assert "class mf_missing_flow,mf_node,mc_nowhere missing" in text


def test_keywords_dashes_dots_and_quotes_are_escaped():
    mermaid, dot = graph_of(NAMES, "mermaid"), graph_of(NAMES, "dot")
    for name in ("end", "graph", "subgraph", "node_a", "classDef", "click", "linkStyle", "default", "flowchart"):
        assert re.search(rf"^\s+f_{name}\[\"", mermaid, re.MULTILINE), name  # ids are prefixed, never a keyword
    assert 'subgraph file_2["my.dir/end.flow"]' in mermaid
    assert '"f_node_a" [label="node-a\\n' in dot and '"mf_node" [label="node\\n' in dot  # every DOT id is quoted
    assert 'subgraph "cluster_2" {' in dot and 'label="my.dir/end.flow"' in dot
    assert 'room \\"room \\\\\\"x\\\\\\" {from|safe}\\"' in dot  # the room as written, escaped once more for DOT
    assert mermaid_text('a "b" | `c` #d <e> & {f}\n') == \
        "a #34;b#34; #124; #96;c#96; #35;d #60;e#62; #38; #123;f#125;<br/>"
    assert dot_string('a "b" \\l\nc') == '"a \\"b\\" \\\\l\\nc"'


def test_ids_stay_distinct_when_names_differ_only_in_punctuation(tmp_path):
    (tmp_path / "a.flow").write_text("flow a-b on answer {\n    redirect to a_b\n}\n\nflow a_b {\n    hangup\n}\n")
    text = graph_of(tmp_path, "mermaid")
    assert 'f_a_b -->|"redirect"| f_a_b_2' in text


def test_a_name_defined_twice_is_one_node(tmp_path, mermaid_parse):
    (tmp_path / "a.flow").write_text('flow main on answer {\n    redirect to Main\n}\n\nconference main "r" {\n'
                                     '    timeout 5s\n}\n')
    (tmp_path / "b.flow").write_text('flow main {\n    hangup\n}\n\nflow Main {\n    join main\n}\n\n'
                                     'conference main "r" {\n    timeout 5s\n}\n')
    text = graph_of(tmp_path, "mermaid")
    assert len(re.findall(r"^\s+f_main\[", text, re.MULTILINE)) == 1
    assert len(re.findall(r"^\s+c_main\{", text, re.MULTILINE)) == 1
    assert 'f_main -->|"redirect"| f_Main' in text and 'f_Main -->|"join"| c_main' in text
    (tmp_path / "twice.mmd").write_text(text)
    assert mermaid_parse([tmp_path / "twice.mmd"]) == {str(tmp_path / "twice.mmd"): "ok flowchart-v2"}


def test_flow_option_keeps_what_one_flow_reaches():
    text = graph_of(ROOT / "examples" / "ivr-menu", "mermaid", flow="billing")
    assert "f_billing_choice" in text and "f_card_entered" in text and "f_main" in text  # billing_choice -> main
    full = graph_of(ROOT / "examples" / "ivr-menu", "mermaid")
    reached = graph_of(ROOT / "examples" / "ivr-menu", "mermaid", flow="card_entered")
    assert "f_card_entered" in reached and "f_billing[" not in reached and "file_2" not in reached
    assert len(reached) < len(full)


def test_continuations_count_only_for_the_flows_reached(tmp_path):
    text = graph_of(NAMES, "mermaid", flow="node-a")
    assert "f_node_a" in text and "f_conf_reply" in text
    assert "f_subgraph" not in text
    # `late` reaches the room before `joiner` (whose continuation it is): the continuation still counts.
    (tmp_path / "a.flow").write_text(
        'conference room "r" {\n    timeout 5s\n}\n\nflow late on answer {\n    gather then second {\n'
        '        say "x"\n    }\n    join room\n}\n\nflow second {\n    redirect to joiner\n}\n\n'
        'flow joiner {\n    join room\n    redirect to after\n}\n\nflow after {\n    hangup\n}\n\n'
        'flow other on answer {\n    join room\n}\n')
    reached = graph_of(tmp_path, "mermaid", flow="late")
    assert 'c_room -->|"after joiner: redirect"| f_after' in reached
    from_other = graph_of(tmp_path, "mermaid", flow="other")
    assert "f_after" not in from_other and "after joiner" not in from_other


# -- the command -----------------------------------------------------------------------------------------


def test_command_prints_the_golden_diagram_from_any_directory(tmp_path):
    done = flowc("graph", "examples/ivr-menu")
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert done.stdout == golden_path("ivr-menu", "mermaid").read_text()
    elsewhere = flowc("graph", str(ROOT / "examples" / "ivr-menu"), "--format", "dot", cwd=tmp_path)
    assert elsewhere.stdout == golden_path("ivr-menu", "dot").read_text()
    assert flowc("graph", "examples/ivr-menu").stdout == done.stdout  # deterministic


def test_command_writes_the_file_in_the_format_of_its_suffix(tmp_path):
    out = tmp_path / "flows.dot"
    done = flowc("graph", "examples/voicemail", "-o", str(out))
    assert done.returncode == 0 and done.stdout == ""
    assert out.read_text() == golden_path("voicemail", "dot").read_text()


def test_svg_through_graphviz(tmp_path, dot):
    out = tmp_path / "flows.svg"
    done = flowc("graph", "examples/support-line", "-o", str(out))
    assert done.returncode == 0, done.stderr
    svg = ElementTree.parse(out).getroot()
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert "conference case_room" in out.read_text()


def test_svg_without_graphviz_is_a_clear_error_and_writes_nothing(tmp_path):
    out = tmp_path / "flows.svg"
    done = flowc("graph", "examples/support-line", "--format", "svg", "-o", str(out),
                 env={"PATH": str(tmp_path), "NO_COLOR": "1"})
    assert done.returncode == 2
    assert "error[FC801]" in done.stderr and "apt-get install graphviz" in done.stderr
    assert "Traceback" not in done.stderr and not out.exists()


def test_output_never_overwrites_a_source(tmp_path):
    source = tmp_path / "main.flow"
    source.write_text("flow main on answer {\n    hangup\n}\n")
    before = source.read_bytes()
    done = flowc("graph", str(tmp_path), "-o", str(source))
    assert done.returncode == 2 and "one of the sources" in done.stderr
    assert source.read_bytes() == before


def test_unknown_flow_and_bad_paths_are_usage_errors(tmp_path):
    unknown = flowc("graph", "examples/ivr-menu", "--flow", "nope")
    assert unknown.returncode == 2 and "no flow or conference named `nope`" in unknown.stderr
    missing = flowc("graph", str(tmp_path / "absent.flow"))
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    directory = flowc("graph", "examples/ivr-menu", "-o", str(tmp_path))
    assert directory.returncode == 2 and "is a directory" in directory.stderr


def test_a_project_with_errors_is_drawn_and_its_errors_reported():
    done = flowc("graph", str(NAMES), env={**os.environ, "NO_COLOR": "1"})
    assert done.returncode == 1
    assert done.stdout == golden_path("names", "mermaid").read_text()
    assert "error[FC401]: no flow named `missing-flow`" in done.stderr


def test_broken_input_is_diagnosed_not_a_traceback(tmp_path):
    (tmp_path / "bad.flow").write_bytes(b"flow main on answer {\n    gather then \x00\n")
    done = flowc("graph", str(tmp_path))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stdout.startswith("flowchart TD\n")


# -- the documentation shows a current diagram ----------------------------------------------------------


@pytest.mark.parametrize("page", ["README.md", "docs/language.md"])
def test_documented_diagram_is_current(page, mermaid_parse, tmp_path):
    blocks = MERMAID_BLOCK.findall((ROOT / page).read_text())
    assert blocks, f"{page} shows no diagram"
    assert blocks[0] == graph_of(ROOT / "examples" / "ivr-menu", "mermaid"), \
        f"regenerate the diagram in {page} with `flowc graph examples/ivr-menu`"
    (tmp_path / "doc.mmd").write_text(blocks[0])
    assert mermaid_parse([tmp_path / "doc.mmd"]) == {str(tmp_path / "doc.mmd"): "ok flowchart-v2"}


# -- large projects --------------------------------------------------------------------------------------


def large_project(folder: Path, files: int = 20, flows: int = 10) -> Path:
    """`files` files of `flows` menus each, every menu branching to three others: 3 * files * flows arrows."""
    total = files * flows
    for f in range(files):
        lines = []
        for i in range(f * flows, (f + 1) * flows):
            entry = " on initiate, answer" if i == 0 else ""
            lines.append(f"flow menu-{i}{entry} {{\n    gather max 1 then choice-{i} {{\n        say \"Menu {i}.\"\n"
                         f"    }}\n}}\n\nflow choice-{i} {{\n    when digits \"1\" {{\n        redirect to menu-"
                         f"{(i + 1) % total}\n    }}\n    redirect to menu-{(i * 7 + 3) % total}\n}}\n")
        (folder / f"part-{f:02d}.flow").write_text("\n".join(lines))
    return folder


def test_a_diagram_too_large_for_mermaid_says_so(tmp_path, mermaid_parse):
    project = large_project(tmp_path)
    done = flowc("graph", str(project))
    assert done.returncode == 0
    assert "warning[FC802]: the diagram has 601 arrows" in done.stderr and "--flow NAME" in done.stderr
    (tmp_path / "big.mmd").write_text(done.stdout)
    [refused] = mermaid_parse([tmp_path / "big.mmd"]).values()
    assert "edge" in refused.lower() and not refused.startswith("ok")  # true: Mermaid's own limit refuses it


def test_graphviz_draws_a_large_project_with_a_cluster_per_file(tmp_path, dot):
    project = large_project(tmp_path)
    source = graph_of(project, "dot")
    assert source.count("subgraph \"cluster_") == 20
    done = subprocess.run([dot, "-Tsvg"], input=source, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count('class="cluster"') == 20


def test_small_diagrams_have_no_size_warning():
    done = flowc("graph", "examples/support-line")
    assert "FC802" not in done.stderr


# -- the test tools' installer ---------------------------------------------------------------------------


def test_install_script_lists_the_renderers_and_pins_mermaid():
    script = (ROOT / "tools" / "install-test-deps.sh").read_text()
    assert '"dot:graphviz"' in script and '"node:nodejs"' in script and "apt-get update" in script
    manifest = json.loads((MERMAID / "package.json").read_text())
    lock = json.loads((MERMAID / "package-lock.json").read_text())
    for name, version in manifest["dependencies"].items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} must be pinned exactly"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version


def test_install_script_is_idempotent_and_quiet_once_installed(dot, mermaid_parse):
    """With everything present it changes nothing and says nothing (it runs before every CI test run)."""
    marker = MERMAID / "node_modules" / ".package-lock.json"
    before = marker.stat().st_mtime_ns
    done = subprocess.run(["bash", str(ROOT / "tools" / "install-test-deps.sh")], capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0 and done.stdout == "" and done.stderr == "", done.stderr
    assert marker.stat().st_mtime_ns == before
