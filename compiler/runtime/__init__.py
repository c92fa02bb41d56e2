"""What the generated web app runs: answer Bandwidth's webhooks with the precompiled BXML documents.

The generated OUT/app.py is only data (documents as pre-serialised XML segments, routes, credentials), written
by flowc.backend.emit_app from these types; this package turns it into an ASGI app. Per request it checks credentials,
reads and validates the payload, calls the user's hooks (with a time budget), picks the document (branch or
conference event), fills the runtime values in (escaped), re-checks what the compiler could not know
(conference names, call ids, lengths) and answers `application/xml`. It keeps no state between requests, so
any number of workers can serve the same OUT. It never imports the compiler.

- flowc.runtime.values     slots and filters (shared with the compiler, which writes them)
- flowc.runtime.documents  compiled documents, rendering, escaping, runtime checks
- flowc.runtime.routes     routes as types (flow, conference, event) and their credentials
- flowc.runtime.hooks      the user's hooks module, the request context, the app state
- flowc.runtime.payloads   reading and validating payloads (pydantic)
- flowc.runtime.app        the ASGI app, its lifespan, and loading OUT/app.py

Starlette rather than FastAPI: routes are fixed at compile time and payloads are validated by our own pydantic
models, so FastAPI's dependency injection and OpenAPI generation would only add per-request work and a
dependency. Names are loaded on first use, so importing the light parts (values, documents) costs nothing else.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "FILTERS": "values", "Filter": "values", "SlotRef": "values", "placeholder": "values",
    "Check": "documents", "Document": "documents", "Template": "documents", "escape": "documents",
    "text_of": "documents", "environment": "documents",
    "Choice": "routes", "Retry": "routes", "Credential": "routes", "Secret": "routes", "Route": "routes",
    "FlowRoute": "routes",
    "ConferenceRoute": "routes", "EventRoute": "routes", "request_host": "routes",
    "AppState": "hooks", "Hooks": "hooks", "RequestContext": "hooks", "after_reply": "hooks",
    "observer_name": "hooks", "python_name": "hooks",
    "is_flat": "payloads", "parse_body": "payloads", "query_fields": "payloads", "validate": "payloads",
    "Problem": "problem",
    "RoomSpec": "rooms", "SiteSpec": "rooms", "LobbyRoute": "rooms", "KeysRoute": "rooms", "Rooms": "rooms",
    "WebhookApp": "app", "create_app": "app", "load_app": "app", "DEFAULT_BODY_LIMIT": "app",
    "DEFAULT_HOOK_TIMEOUT": "app",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
