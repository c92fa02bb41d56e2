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


def test_slow_checks_wait_for_longer_pauses_in_typing():
    from flowc.lsp.diagnostics import MAX_EDIT_DELAY, Publisher

    publisher = Publisher.__new__(Publisher)  # only the timing state matters here
    publisher.last_check_seconds = 0.1
    assert publisher.edit_delay(0.15) == 0.15  # a 5,000-line project: the debounce alone
    publisher.last_check_seconds = 0.8
    assert publisher.edit_delay(0.15) == 1.6  # a huge file: typing is not held up behind a check per keystroke
    publisher.last_check_seconds = 9.0
    assert publisher.edit_delay(0.15) == MAX_EDIT_DELAY
