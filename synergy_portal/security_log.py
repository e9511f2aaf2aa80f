"""The security event log: sign-ins, failures, permission denials, exports, as JSON in UTC.

Call :func:`security_event`; never pass tokens, passwords or free text typed by a user.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

logger = logging.getLogger("synergy.security")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "event": getattr(record, "event", record.getMessage()),
        }
        body.update(getattr(record, "fields", {}))
        return json.dumps(body, default=str, sort_keys=True)


def security_event(event: str, *, request: Any = None, outcome: str = "ok", **fields: Any) -> None:
    """Record one security event. ``fields`` must be identifiers, not personal free text."""
    data: dict[str, Any] = {"outcome": outcome, **fields}
    if request is not None:
        user = getattr(request, "user", None)
        if user is not None and getattr(user, "is_authenticated", False):
            data.setdefault("user_id", user.pk)
        data.setdefault("path", request.path)
        data.setdefault("method", request.method)
        data.setdefault("ip", request.META.get("REMOTE_ADDR", ""))
    level = logging.INFO if outcome == "ok" else logging.WARNING
    logger.log(level, event, extra={"event": event, "fields": data})
