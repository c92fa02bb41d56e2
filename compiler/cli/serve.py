"""`flowc serve OUT [--workers N]`: run the generated web app with uvicorn.

In production run OUT/app.py with any ASGI server and as many workers as needed (see README, "Serving the
webhooks"); the app keeps no state in memory, except a stateful app's store (flowc.runtime.store), which
must be Redis for more than one worker. `--workers N` starts N uvicorn worker processes on one socket and
sets FLOWC_WORKERS=N, by which the app refuses SQLite (before any worker starts: the app is loaded once here
first, so a configuration error is one line and exit status 1).
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import Any

OUT_VARIABLE = "FLOWC_SERVE_OUT"  # tells each worker process which OUT to load (app_factory)


def serve(out: str, host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> int:
    import uvicorn
    from flowc.runtime import load_app

    if not (Path(out) / "app.py").is_file():
        print(f"flowc: error: {out}/app.py does not exist; run `flowc compile SOURCES -o {out}` first",
              file=sys.stderr)
        return 2
    if workers < 1:
        print("flowc: error: --workers must be at least 1", file=sys.stderr)
        return 2
    os.environ["FLOWC_WORKERS"] = str(workers)
    try:
        app = load_app(out)
    except Exception as error:  # the user's hooks module or the configuration: one line, not a traceback
        print(f"flowc: error: the app cannot start: {_describe(error)}", file=sys.stderr)
        return 1
    if workers == 1:
        uvicorn.run(app, host=host, port=port, log_level="info", server_header=False)
        return 0
    os.environ[OUT_VARIABLE] = str(Path(out).resolve())
    uvicorn.run("flowc.cli.serve:app_factory", factory=True, host=host, port=port, workers=workers, log_level="info",
                server_header=False)
    return 0


def app_factory() -> Any:
    """The app of the OUT that `flowc serve --workers` names, loaded in each worker process."""
    from flowc.runtime import load_app

    return load_app(os.environ[OUT_VARIABLE])


def _describe(error: Exception) -> str:
    if isinstance(error, SyntaxError):
        return f"{error.filename}:{error.lineno}: {error.msg}"
    frames = traceback.extract_tb(error.__traceback__)
    where = f" ({frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    return f"{type(error).__name__}: {error}{where}"
