"""Odd paths never hang the CLI or end in a traceback (issue 9, items 4 and 7): a FIFO, a device, a socket, a
directory named as a file, a dangling symlink, a name that is not UTF-8, an unreadable file, an empty name, and the
same for the hooks module. Also the dedicated tests of FC901, FC905, FC906 and FC908 (see test_check_codes)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from flowc.cli.commands import main as flowc_main

OK = "flow main {\n    hangup\n}\n"
HOOKED = "flow main {\n    say hook(greeting)\n}\n"
NOT_UTF8 = os.fsdecode(b"caf\xe9.flow")  # as Python hands such a name over from argv


def flowc(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flowc", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "NO_COLOR": "1", **(env or {})}, timeout=30)


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def unreadable(tmp_path: Path) -> str:
    """A file this process cannot read: mode 000, or for root (which reads anything) a file whose read fails."""
    if os.geteuid() == 0:
        return "/proc/self/mem"
    path = write(tmp_path / "secret.flow", OK)
    path.chmod(0)
    return str(path)


@pytest.fixture
def odd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "ok.flow", OK)
    os.mkfifo(tmp_path / "fifo.flow")
    (tmp_path / "dir.flow").mkdir()
    (tmp_path / "dangling.flow").symlink_to("nowhere.flow")
    with open(os.path.join(os.fsencode(tmp_path), b"caf\xe9.flow"), "wb") as handle:
        handle.write(OK.encode())
    listener = socket.socket(socket.AF_UNIX)
    listener.bind("socket.flow")  # relative: a socket's path is limited to about 100 bytes
    yield {"socket": "socket.flow", "empty": "", "directory": "dir.flow", "fifo": "fifo.flow",
           "dangling symlink": "dangling.flow", "not UTF-8": NOT_UTF8, "unreadable": unreadable(tmp_path),
           "device": "/dev/zero"}
    listener.close()


COMMANDS = {
    "check": lambda p: ["check", p], "check --fix": lambda p: ["check", "--fix", p],
    "compile SRC": lambda p: ["compile", p, "-o", "out"], "compile -o": lambda p: ["compile", "ok.flow", "-o", p],
    "ir": lambda p: ["ir", p], "fmt": lambda p: ["fmt", p], "fmt --check": lambda p: ["fmt", "--check", p],
    "import": lambda p: ["import", p], "serve": lambda p: ["serve", p], "graph": lambda p: ["graph", p],
    "sim": lambda p: ["sim", p, "--call", "main"],
}


def test_every_command_that_takes_a_path_is_attacked_here():
    from flowc.cli.commands import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction").choices
    assert set(commands) - {"explain", "lsp"} <= {name.split()[0] for name in COMMANDS}


def _hung(signum, frame):
    raise TimeoutError("the command hung")


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_on_every_odd_path_exits_1_or_2_with_a_message(odd, command, capsys):
    """In-process (fast) with an alarm: a hang fails the test instead of the suite, and any exception that
    escapes main() is the traceback a user would have seen."""
    previous = signal.signal(signal.SIGALRM, _hung)
    try:
        for kind, path in odd.items():
            if command == "compile -o" and kind == "directory":
                continue  # an (empty) directory is a fine OUT
            signal.alarm(10)
            try:
                status = flowc_main(COMMANDS[command](path))
            finally:
                signal.alarm(0)
            captured = capsys.readouterr()
            assert status in (1, 2), (kind, status, captured.err)
            assert captured.err.strip(), (kind, "no message")
    finally:
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("args", [["check", "fifo.flow"], ["compile", "fifo.flow", "-o", "out"], ["fmt", "fifo.flow"],
                                  ["ir", "fifo.flow"], ["import", "fifo.xml"], ["check", "--fix", "fifo.flow"]])
def test_a_fifo_never_hangs_a_command(tmp_path, args):
    os.mkfifo(tmp_path / args[-1] if args[0] != "compile" else tmp_path / "fifo.flow")
    result = flowc(*args, cwd=tmp_path)  # the timeout of 30 s fails the test if it hangs
    assert result.returncode == 2 and "error[FC901]" in result.stderr and "named pipe" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()


def test_a_directory_given_as_the_file_to_import_is_refused(tmp_path):
    (tmp_path / "doc.xml").mkdir()
    result = flowc("import", "doc.xml", cwd=tmp_path)
    assert result.returncode == 2 and "FC901" in result.stderr and "a directory" in result.stderr


def test_ir_of_a_directory_holding_a_name_that_is_not_utf8(tmp_path):
    with open(os.path.join(os.fsencode(tmp_path), b"caf\xe9.flow"), "wb") as handle:
        handle.write(OK.encode())
    for command in (["ir", "."], ["check", "."], ["compile", ".", "-o", "out"], ["fmt", "."]):
        result = flowc(*command, cwd=tmp_path)
        assert result.returncode == 2 and "error[FC908]" in result.stderr, (command, result.stderr)
        assert "caf\\xe9.flow" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_a_hooks_module_that_is_not_a_regular_file_stops_the_build_before_out_is_written(tmp_path, kind):
    write(tmp_path / "main.flow", HOOKED)
    hooks = tmp_path / "hooks.py"
    os.mkfifo(hooks) if kind == "fifo" else hooks.mkdir()
    result = flowc("compile", "main.flow", "-o", "out", cwd=tmp_path)
    assert result.returncode == 1 and "error[FC905]" in result.stderr + result.stdout
    assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()


def test_a_hooks_module_named_by_flowc_hooks_that_is_a_fifo(tmp_path):
    write(tmp_path / "main.flow", HOOKED)
    os.mkfifo(tmp_path / "mine.py")
    result = flowc("compile", "main.flow", "-o", "out", cwd=tmp_path, env={"FLOWC_HOOKS": str(tmp_path / "mine.py")})
    assert result.returncode == 1 and "FC905" in result.stdout and not (tmp_path / "out").exists()


def test_a_dangling_symlink_hooks_module_is_never_replaced_by_a_stub(tmp_path):
    write(tmp_path / "main.flow", HOOKED)
    (tmp_path / "hooks.py").symlink_to("src/hooks.py")
    result = flowc("compile", "main.flow", "-o", "out", cwd=tmp_path)
    assert result.returncode == 0 and "warning[FC906]" in result.stdout and "src/hooks.py" in result.stdout
    assert (tmp_path / "hooks.py").is_symlink() and not (tmp_path / "src").exists()
    assert "FC703" not in result.stdout


def test_a_hooks_module_starting_with_a_byte_order_mark_is_read(tmp_path):
    write(tmp_path / "main.flow", HOOKED)
    write(tmp_path / "hooks.py", b'\xef\xbb\xbfdef greeting(payload) -> str:\n    return "hi"\n')
    result = flowc("compile", "main.flow", "-o", "out", cwd=tmp_path, env={})
    assert result.returncode == 0 and "FC704" not in result.stdout and "FC701" not in result.stdout, result.stdout


def test_the_hooks_stub_is_created_whole_and_leaves_nothing_beside_out(tmp_path):
    write(tmp_path / "main.flow", HOOKED)
    result = flowc("compile", "main.flow", "-o", "out", cwd=tmp_path)
    assert result.returncode == 0 and "FC703" in result.stdout
    assert "def greeting" in (tmp_path / "hooks.py").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.flowc-lock", "hooks.py", "main.flow", "out"]
