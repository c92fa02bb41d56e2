"""`flowc serve OUT`: run the generated web app with uvicorn, for local development.

In production run OUT/app.py with any ASGI server and as many workers as needed (see README, "Serving the
webhooks"); the app keeps no state in memory.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path


def serve(out: str, host: str = "127.0.0.1", port: int = 8000) -> int:
    import uvicorn
    from flowc.runtime import load_app

    if not (Path(out) / "app.py").is_file():
        print(f"flowc: error: {out}/app.py does not exist; run `flowc compile SOURCES -o {out}` first",
              file=sys.stderr)
        return 2
    try:
        app = load_app(out)
    except Exception as error:  # the user's hooks module or the configuration: one line, not a traceback
        print(f"flowc: error: the app cannot start: {_describe(error)}", file=sys.stderr)
        return 1
    uvicorn.run(app, host=host, port=port, log_level="info", server_header=False)
    return 0


def _describe(error: Exception) -> str:
    if isinstance(error, SyntaxError):
        return f"{error.filename}:{error.lineno}: {error.msg}"
    frames = traceback.extract_tb(error.__traceback__)
    where = f" ({frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    return f"{type(error).__name__}: {error}{where}"
