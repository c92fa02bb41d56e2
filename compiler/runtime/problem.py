"""A request the app refuses (an HTTP status and a short explanation), and the app's logger."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("flowc.app")


class Problem(Exception):
    """A request the app refuses: an HTTP status and a short explanation (JSON body)."""

    def __init__(self, status: int, message: str, detail: Any = None) -> None:
        super().__init__(message)
        self.status, self.message, self.detail = status, message, detail
        self.context: Any = None  # the request's RequestContext, when hooks had run (its side effects are dropped)
