"""Application events — sign-in, lockout, payments, mail failures, invoicing runs — one line each on the
« portail.events » logger, with ids and never a secret (no password, token, code or e-mail address).
In production each log line is a JSON object (configure_logging), ready for the commune's log system."""
from __future__ import annotations

import datetime as dt
import json
import logging
import sys

log = logging.getLogger("portail.events")


def emit(event: str, **fields) -> None:
    """One event: its name and its fields (ids, amounts in cents, outcomes); None fields are left out."""
    kept = {key: value for key, value in fields.items() if value is not None}
    log.info("%s %s", event, " ".join(f"{key}={value}" for key, value in kept.items()),
             extra={"event": event, "fields": kept})


class JsonFormatter(logging.Formatter):
    """{"time", "level", "logger", "event" and its fields, or "message"; "error" with the traceback}."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
                "level": record.levelname, "logger": record.name}
        if getattr(record, "event", None):
            line["event"] = record.event
            line.update(record.fields)
        else:
            line["message"] = record.getMessage()
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def stream_handler(style: str) -> logging.Handler:
    """Standard error, as JSON lines (`json`, production's default) or as text (`text`)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if style == "json" else
                         logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    return handler


def configure_logging(style: str) -> None:
    """The « portail » loggers (events, payments, invoicing, jobs) to standard error (stream_handler)."""
    handler = stream_handler(style)
    root = logging.getLogger("portail")
    for old in [h for h in root.handlers if getattr(h, "portail", False)]:
        root.removeHandler(old)
    handler.portail = True
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    root.propagate = False  # one line per event, whatever the host configures on the root logger
