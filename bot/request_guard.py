"""Slack's HTTP requests checked before anything parses them: size, timestamp, signature, shape.

Slack signs every request: v0=HMAC-SHA256(signing secret, "v0:{timestamp}:{raw body}"), with
the timestamp in X-Slack-Request-Timestamp; a request more than five minutes from our clock may
be a replay. Nothing here logs or returns the body of a request: a refusal names its reason only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

# Slack's requests are a few kilobytes; a view submission with every field full stays far under.
MAX_BODY_BYTES = 1024 * 1024
MAX_AGE_SECONDS = 5 * 60
_TIMESTAMP_RE = re.compile(r"[0-9]{1,12}")
_SIGNATURE_RE = re.compile(r"v0=[0-9a-f]{64}")
_LENGTH_RE = re.compile(r"[0-9]{1,12}")
# Slack's ids: users U…/W…, views V…; uppercase letters and digits. A user id that is anything
# else did not come from Slack, and must not reach a log line or a query.
_USER_ID_RE = re.compile(r"[UW][A-Z0-9]{1,30}")
_VIEW_ID_RE = re.compile(r"V[A-Z0-9]{1,30}")


@dataclass(frozen=True, slots=True)
class Refused:
    """A request answered without being parsed: the HTTP status and a reason for the log."""

    status: int
    reason: str


def _header(environ: Mapping[str, Any], name: str) -> str:
    value = environ.get(name)
    return value if isinstance(value, str) else ""


# One refusal per check, in the order they must run: nothing is read before the cheap ones pass.
def read_signed_body(  # noqa: PLR0911
    environ: Mapping[str, Any], secret: str, now: Callable[[], float]
) -> bytes | Refused:
    """The raw body of a request Slack signed, or why it is refused (read only when it may pass).

    Length, timestamp and the signature header's form are checked before a byte is read, so an
    oversize or unsigned request costs nothing; then the body, then its HMAC.
    """
    length_text = _header(environ, "CONTENT_LENGTH").strip()
    if not length_text:
        return Refused(411, "no Content-Length")
    if not _LENGTH_RE.fullmatch(length_text):
        return Refused(400, "malformed Content-Length")
    length = int(length_text)
    if length > MAX_BODY_BYTES:
        return Refused(413, f"body of {length} bytes is over {MAX_BODY_BYTES}")
    timestamp = _header(environ, "HTTP_X_SLACK_REQUEST_TIMESTAMP").strip()
    if not _TIMESTAMP_RE.fullmatch(timestamp):
        return Refused(401, "missing or malformed X-Slack-Request-Timestamp")
    skew = now() - int(timestamp)
    if abs(skew) > MAX_AGE_SECONDS:
        return Refused(401, f"timestamp {int(skew)} s from now (over {MAX_AGE_SECONDS} s)")
    signature = _header(environ, "HTTP_X_SLACK_SIGNATURE").strip()
    if not _SIGNATURE_RE.fullmatch(signature):
        return Refused(401, "missing or malformed X-Slack-Signature")
    stream = environ.get("wsgi.input")
    body = stream.read(length) if stream is not None and length else b""
    if len(body) != length:
        return Refused(400, f"body shorter than its Content-Length ({len(body)} of {length})")
    if not hmac.compare_digest(slack_signature(secret, timestamp, body), signature):
        return Refused(401, "signature does not match")
    return body


def slack_signature(secret: str, timestamp: str, body: bytes) -> str:
    """v0=HMAC-SHA256(secret, "v0:{timestamp}:{body}"), as Slack signs a request."""
    base = b"v0:" + timestamp.encode("ascii") + b":" + body
    return "v0=" + hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()


class MalformedPayload(ValueError):
    """A signed request whose body is not a payload the app can act on."""


def _user_id(payload: Mapping[str, Any]) -> object:
    user = payload.get("user")
    return user.get("id") if isinstance(user, Mapping) else None


def _require_str(value: object, what: str, pattern: re.Pattern[str] | None = None) -> None:
    if not isinstance(value, str) or not value:
        raise MalformedPayload(f"{what} missing")
    if pattern is not None and not pattern.fullmatch(value):
        raise MalformedPayload(f"{what} malformed")


def _check_interaction(payload: Mapping[str, Any]) -> None:
    kind = payload.get("type")
    _require_str(kind, "type")
    _require_str(_user_id(payload), "user.id", _USER_ID_RE)
    if kind == "block_actions":
        actions = payload.get("actions")
        if not isinstance(actions, list) or not actions:
            raise MalformedPayload("block_actions without actions")
        if not all(isinstance(a, Mapping) and isinstance(a.get("action_id"), str)
                   for a in actions):
            raise MalformedPayload("an action without an action_id")
    elif kind in ("view_submission", "view_closed"):
        view = payload.get("view")
        if not isinstance(view, Mapping):
            raise MalformedPayload(f"{kind} without a view")
        _require_str(view.get("callback_id"), "view.callback_id")
        _require_str(view.get("id"), "view.id", _VIEW_ID_RE)


def _check_event(payload: Mapping[str, Any]) -> None:
    kind = payload.get("type")
    _require_str(kind, "type")
    if kind == "url_verification":
        _require_str(payload.get("challenge"), "challenge")
    elif kind == "event_callback":
        event = payload.get("event")
        if not isinstance(event, Mapping):
            raise MalformedPayload("event_callback without an event")
        _require_str(event.get("type"), "event.type")


def _check_command(fields: Mapping[str, Any]) -> None:
    for name in ("command", "response_url"):
        _require_str(fields.get(name), name)
    _require_str(fields.get("user_id"), "user_id", _USER_ID_RE)


def check_payload(body: bytes, content_type: str) -> dict[str, Any]:
    """The payload a signed body carries, parsed once; MalformedPayload unless it is sound.

    JSON (events), a form whose `payload` field is JSON (interactions), or a plain form (slash
    commands: a form with no `payload` field, whatever its text says), with the fields every
    listener relies on, so nothing after this point meets a body it cannot use. Bolt is handed
    this dict as it is (as Socket Mode hands it an envelope's): it never parses the body again.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedPayload("body is not UTF-8") from None
    if not text:
        raise MalformedPayload("empty body")
    media_type = content_type.split(";", maxsplit=1)[0].strip()
    if media_type == "application/json" or text.startswith("{"):
        event = _json_object(text, "body")
        _check_event(event)
        return event
    form = dict(parse_qsl(text, keep_blank_values=True))
    raw = form.get("payload")
    if raw is not None:
        interaction = _json_object(raw, "payload")
        _check_interaction(interaction)
        return interaction
    _check_command(form)
    return form


def check_envelope(kind: object, payload: object) -> None:
    """Raise MalformedPayload unless a Socket Mode envelope carries what its listeners rely on.

    The same checks as check_payload, by the envelope's type: Slack sends over the WebSocket the
    payload it would have posted, already parsed.
    """
    if not isinstance(payload, Mapping):
        raise MalformedPayload("envelope payload is not an object")
    checks: dict[object, Callable[[Mapping[str, Any]], None]] = {
        "slash_commands": _check_command,
        "interactive": _check_interaction,
        "events_api": _check_event,
    }
    check = checks.get(kind)
    if check is None:
        raise MalformedPayload(f"envelope type {loggable(kind, 30)} unknown")
    check(payload)


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise MalformedPayload(f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise MalformedPayload(f"{what} is not a JSON object")
    return value


def loggable(value: object, limit: int = 80) -> str:
    """A value from a request made safe for a log line: no line breaks or control chars; short."""
    text = value if isinstance(value, str) else repr(value)
    escaped = text.encode("unicode_escape").decode("ascii")
    return escaped if len(escaped) <= limit else escaped[: limit - 3] + "..."
