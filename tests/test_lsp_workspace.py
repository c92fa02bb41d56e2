"""The server's view of the project on disk (lsp/workspace.py), with real files."""

from __future__ import annotations

import os
import threading

from flowc.lsp.workspace import Workspace


def test_a_fifo_named_like_a_flow_file_does_not_block_the_workspace_scan(tmp_path):
    """Reading a FIFO blocks until someone writes to it: the server would never answer `initialize`."""
    (tmp_path / "main.flow").write_text("flow main {\n    hangup\n}\n")
    fifo = tmp_path / "pipe.flow"
    os.mkfifo(fifo)
    workspace = Workspace()
    scan = threading.Thread(target=workspace.load_folders, args=([str(tmp_path)],), daemon=True)
    scan.start()
    scan.join(5)
    if scan.is_alive():  # unblock the reader before failing, so no thread is left hanging
        with open(fifo, "wb"):
            pass
    assert not scan.is_alive()
    assert list(workspace.disk) == [str(tmp_path / "main.flow")]


def test_a_newer_snapshot_stops_a_running_check_between_files(tmp_path):
    for n in range(12):
        (tmp_path / f"f{n:02d}.flow").write_text(f"flow f{n} on answer {{\n    say \"{n}\"\n}}\n")
    workspace = Workspace()
    workspace.load_folders([str(tmp_path)])
    asked = []

    def cancelled() -> bool:  # a newer edit arrives while the third file is analysed
        asked.append(True)
        return len(asked) > 3

    assert workspace.analyser.check(workspace.snapshot(), cancelled) is None
    assert len(workspace.analyser.cache) == 3 and workspace.analyser.last is None  # stopped, nothing published
    result = workspace.check()
    assert len(result.analyses) == 12 and not any(result.diagnostics.values())
