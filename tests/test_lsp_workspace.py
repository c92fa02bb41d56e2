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
