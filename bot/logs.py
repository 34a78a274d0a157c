"""Log records an operator can use: the ids of what happened, as text or one JSON object a line.

Ids travel two ways, never parsed out of messages: `extra={"delivery_key": ...}` on one call,
or `log_ids(job="call-lists", job_run=12)` around a piece of work (a contextvar, so every
record inside it, from any module, carries them). A filter on the handler copies the context's
ids onto each record; an `extra=` id on the call wins.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Final

# Every id a record may carry, in the order the JSON line lists them.
LOG_IDS: Final = (
    "job", "job_run", "collector", "account", "delivery_key", "slack_request_id",
)
LOG_FORMATS: Final = ("text", "json")
TEXT_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_NO_IDS: Mapping[str, str] = MappingProxyType({})
_ids: ContextVar[Mapping[str, str]] = ContextVar("collectbot_log_ids", default=_NO_IDS)


@contextmanager
def log_ids(**ids: object) -> Iterator[None]:
    """Every record logged inside the block carries these ids (None values are left out)."""
    unknown = set(ids) - set(LOG_IDS)
    if unknown:
        raise ValueError(f"unknown log id(s): {', '.join(sorted(unknown))}")
    merged = {**_ids.get(), **{k: str(v) for k, v in ids.items() if v is not None}}
    token = _ids.set(merged)
    try:
        yield
    finally:
        _ids.reset(token)


def current_ids() -> Mapping[str, str]:
    """The ids bound by the enclosing `log_ids` blocks."""
    return _ids.get()


class ContextIdsFilter(logging.Filter):
    """Copies the context's ids onto each record (an id given with `extra=` is kept)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in _ids.get().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


class OneLineFormatter(logging.Formatter):
    """One log line per record: line breaks in the message (from anyone's input) are escaped.

    A traceback, which is ours, keeps its lines; a value a user sent cannot forge a record.
    """

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        line = super().formatMessage(record)
        return line.replace("\r", "\\r").replace("\n", "\\n")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, event (the message) and its ids."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
        }
        for name in LOG_IDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value if isinstance(value, int | float) else str(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        # json.dumps escapes every line break: one record is always one line.
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: int, log_format: str = "text") -> None:
    """Log to stderr in `log_format` (text or json), ids attached, replacing earlier handlers."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}, not {log_format!r}")
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ContextIdsFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else OneLineFormatter(TEXT_FORMAT))
    logging.basicConfig(level=level, handlers=[handler])
