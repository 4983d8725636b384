"""Logging: plain lines or one JSON object per line; never message text, tokens or addresses."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

QUIET = ("httpx", "httpcore", "telegram.ext.Updater", "apscheduler", "alembic")
# aiohttp's access log, without visitors' addresses and browsers: the request line, status, time.
ACCESS_LOG_FORMAT = '"%r" %s %Tfs'


class JsonLines(logging.Formatter):
    """One JSON object per record, for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as JSON: time, level, logger, message, and the exception's type if any."""
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__
            entry["trace"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str, form: str = "text") -> None:
    """Logs at a level, as text or JSON lines; HTTP client logs (whose URLs carry the token)
    kept quiet."""
    handler = logging.StreamHandler()
    if form == "json":
        handler.setFormatter(JsonLines())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(getattr(logging, level, logging.INFO))
    for noisy in QUIET:
        logging.getLogger(noisy).setLevel(logging.WARNING)
