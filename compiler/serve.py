"""`flowc serve OUT`: run the generated web app with uvicorn, for local development.

In production run OUT/app.py with any ASGI server and as many workers as needed (see README, "Serving the
webhooks"); the app keeps no state in memory.
"""

from __future__ import annotations

import sys
from pathlib import Path


def serve(out: str, host: str = "127.0.0.1", port: int = 8000) -> int:
    import uvicorn
    from flowc.runtime import load_app

    if not (Path(out) / "app.py").is_file():
        print(f"flowc: error: {out}/app.py does not exist; run `flowc compile SOURCES -o {out}` first",
              file=sys.stderr)
        return 2
    uvicorn.run(load_app(out), host=host, port=port, log_level="info", server_header=False)
    return 0
