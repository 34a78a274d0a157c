"""SlackSandbox: a local stand-in for the Slack Web API, real HTTP on loopback.

It answers the methods collectbot uses with Slack-shaped responses, checks the bearer token and
Block Kit limits, records every call, and injects rate limits, server errors, lost responses and
slowness on request. `collectbot demo` and the tests run the real SlackGateway against it.
"""

from __future__ import annotations

import copy
import itertools
import json
import logging
import math
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, NamedTuple, Self
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.sandbox.socket_mode import DEFAULT_APP_TOKEN, SocketModeServer
from bot.slack.blockkit import MAX_MESSAGE_TEXT, validate_blocks, validate_view

logger = logging.getLogger(__name__)

DEFAULT_TOKEN = "xoxb-sandbox-token"
TEAM_ID = "T0SANDBOX"
BOT_USER_ID = "U0COLLECTBOT"
BOT_ID = "B0COLLECTBOT"

# Parameters Slack takes as JSON even when the rest of the body is form-encoded.
_JSON_PARAMS = ("blocks", "view", "metadata", "files", "attachments")
_UPLOAD_PREFIX = "/upload/v1/"
_RESPONSE_PREFIX = "/response/"
# Methods Slack answers only for an app-level token (xapp-), never for the bot token.
_APP_TOKEN_METHODS = frozenset({"apps.connections.open"})


class SandboxCall(NamedTuple):
    """One request the sandbox received: API method, its parameters, and when (epoch seconds)."""

    method: str
    params: dict[str, Any]
    at: float


@dataclass
class _Failure:
    status: int
    error: str
    retry_after: int | None


@dataclass
class _RateLimit:
    """Slack's pace for one method: per channel (one call every `channel_seconds`) and for the
    whole workspace (a token bucket of `burst` calls refilled at `per_minute`)."""

    channel_seconds: float | None
    per_minute: int | None
    burst: int
    tokens: float = 0.0
    refilled_at: float = 0.0
    last_by_channel: dict[str, float] = field(default_factory=dict)

    def wait(self, channel: str | None, now: float) -> float:
        """0 when a call now is within the limits (and counts it), else the seconds to wait."""
        waits = [0.0]
        if self.per_minute is not None:
            rate = self.per_minute / 60
            self.tokens = min(self.burst, self.tokens + (now - self.refilled_at) * rate)
            self.refilled_at = now
            if self.tokens < 1:
                waits.append((1 - self.tokens) / rate)
        if self.channel_seconds is not None and channel is not None:
            last = self.last_by_channel.get(channel)
            # A millisecond of slack: clocks read a hair apart on either side of a socket.
            if last is not None and now - last < self.channel_seconds - 0.001:
                waits.append(self.channel_seconds - (now - last))
        wait = max(waits)
        if wait == 0:
            if self.per_minute is not None:
                self.tokens -= 1
            if channel is not None:
                self.last_by_channel[channel] = now
        return wait


@dataclass
class SandboxUser:
    """A seeded Slack user."""

    id: str
    name: str
    tz: str
    status_text: str = ""
    status_emoji: str = ""
    real_name: str = ""
    email: str | None = None
    deleted: bool = False


@dataclass
class SandboxFile:
    """A file uploaded through files.getUploadURLExternal and the upload URL."""

    id: str
    filename: str
    length: int
    content: bytes | None = None
    title: str | None = None
    channel: str | None = None
    alt_txt: str | None = None
    thread_ts: str | None = None


@dataclass
class _State:
    users: dict[str, SandboxUser] = field(default_factory=dict)
    channels: dict[str, str] = field(default_factory=dict)  # id -> name
    dm_by_user: dict[str, str] = field(default_factory=dict)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    ephemerals: list[dict[str, Any]] = field(default_factory=list)
    views: dict[str, dict[str, Any]] = field(default_factory=dict)
    home_views: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, SandboxFile] = field(default_factory=dict)
    responses: list[dict[str, Any]] = field(default_factory=list)
    calls: list[SandboxCall] = field(default_factory=list)
    failures: dict[str, deque[_Failure]] = field(default_factory=dict)
    lost_responses: dict[str, int] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)
    holds: dict[str, threading.Event] = field(default_factory=dict)
    refused_blocks: set[str] = field(default_factory=set)
    rate_limits: dict[str, _RateLimit] = field(default_factory=dict)
    last_ts: Decimal = Decimal(0)


class _Reply(NamedTuple):
    status: int
    body: dict[str, Any] | str
    headers: dict[str, str]


class SandboxError(Exception):
    """An API method answers {"ok": false, "error": code, ...}."""

    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra


def _truthy(value: Any) -> bool:
    return str(value).lower() in {"1", "true", "yes"}


class SlackSandbox:
    """A threaded fake Web API on 127.0.0.1 (random port); use as a context manager."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.token = token
        self._clock = clock
        self._lock = threading.RLock()
        self._state = _State()
        self._ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.socket_mode: SocketModeServer | None = None

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> Self:
        """Listen on a free loopback port and serve in a background thread."""
        if self._server is not None:
            raise RuntimeError("sandbox already started")
        handler = type("SandboxHandler", (_Handler,), {"owner": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="slack-sandbox",
            daemon=True,
        )
        self._thread.start()
        logger.info("slack sandbox listening at %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving and close the socket (and the Socket Mode links, if enabled)."""
        with self._lock:
            holds = list(self._state.holds.values())
        for hold in holds:
            hold.set()
        if self.socket_mode is not None:
            self.socket_mode.stop()
            self.socket_mode = None
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def root(self) -> str:
        """http://127.0.0.1:PORT/ (upload URLs live here, outside /api/)."""
        if self._server is None:
            raise RuntimeError("sandbox not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/"

    @property
    def url(self) -> str:
        """The Web API base URL to give SlackGateway / SLACK_API_URL (ends with /api/)."""
        return self.root + "api/"

    def response_url(self) -> str:
        """A fresh response_url (as Slack puts in a command or action payload) served here."""
        return f"{self.root}{_RESPONSE_PREFIX.lstrip('/')}{self._new_id('R')}"

    def enable_socket_mode(self, app_token: str = DEFAULT_APP_TOKEN) -> SocketModeServer:
        """Start Slack's Socket Mode side; apps.connections.open with `app_token` opens links."""
        if self.socket_mode is None:
            self.socket_mode = SocketModeServer(app_token).start()
        return self.socket_mode

    # --- seeding ---------------------------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        *,
        name: str | None = None,
        tz: str = "America/New_York",
        status_text: str = "",
        status_emoji: str = "",
        real_name: str | None = None,
        email: str | None = None,
        deleted: bool = False,
    ) -> SandboxUser:
        """Seed a user that users.info, users.profile.get and conversations.open know."""
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {tz!r}") from None
        user = SandboxUser(
            id=user_id,
            name=name or user_id.lower(),
            tz=tz,
            status_text=status_text,
            status_emoji=status_emoji,
            real_name=real_name or name or user_id,
            email=email,
            deleted=deleted,
        )
        with self._lock:
            self._state.users[user_id] = user
        return user

    def set_status(self, user_id: str, text: str, emoji: str = "") -> None:
        """Change a seeded user's Slack status."""
        with self._lock:
            user = self._state.users[user_id]
            user.status_text, user.status_emoji = text, emoji

    def add_channel(self, channel_id: str, name: str) -> None:
        """Seed a public channel the bot is a member of."""
        with self._lock:
            self._state.channels[channel_id] = name
            self._state.messages.setdefault(channel_id, [])

    # --- injection -------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int = 1,
        times: int = 1,
        error: str | None = None,
    ) -> None:
        """Answer the next `times` calls to `method` with an error instead of acting.

        429 sends Retry-After; 5xx sends a server error; 200 with `error` answers ok=false.
        """
        if status == 200 and not error:
            raise ValueError("fail_next with status 200 needs an error code")
        if times < 1:
            raise ValueError("times must be at least 1")
        code = error or ("ratelimited" if status == 429 else "internal_error")
        failure = _Failure(status, code, retry_after if status == 429 else None)
        with self._lock:
            self._state.failures.setdefault(method, deque()).extend([failure] * times)

    def limit_rate(
        self, method: str, *, channel_seconds: float | None = None,
        per_minute: int | None = None, burst: int = 1,
    ) -> None:
        """Answer 429 (Retry-After in whole seconds, as Slack) to calls to `method` beyond a
        pace: one call per channel every `channel_seconds` (chat.postMessage's "1 a second"),
        and `per_minute` in the workspace with bursts of `burst` calls."""
        if channel_seconds is None and per_minute is None:
            raise ValueError("limit_rate needs channel_seconds, per_minute or both")
        if burst < 1 or (per_minute is not None and per_minute < 1):
            raise ValueError("burst and per_minute are at least 1")
        with self._lock:
            self._state.rate_limits[method] = _RateLimit(
                channel_seconds, per_minute, burst, tokens=float(burst),
                refilled_at=self._clock())

    def lose_response_next(self, method: str, *, times: int = 1) -> None:
        """Act on the next `times` calls to `method`, then drop the connection unanswered."""
        with self._lock:
            self._state.lost_responses[method] = self._state.lost_responses.get(method, 0) + times

    def slow(self, method: str, seconds: float) -> None:
        """Delay every answer to `method` by `seconds` (0 to stop)."""
        with self._lock:
            if seconds > 0:
                self._state.delays[method] = seconds
            else:
                self._state.delays.pop(method, None)

    def hold(self, method: str) -> Callable[[], None]:
        """Withhold every answer to `method` until the returned function is called.

        The call is recorded at once and acted on only after the release, so a test can tell
        what the app did while Slack had not answered yet (stop() releases, too).
        """
        gate = threading.Event()
        with self._lock:
            self._state.holds[method] = gate

        def release() -> None:
            with self._lock:
                if self._state.holds.get(method) is gate:
                    del self._state.holds[method]
            gate.set()

        return release

    def refuse_block_type(self, block_type: str) -> None:
        """From now on, answer invalid_blocks to any message holding a block of this type.

        As a workspace whose Slack does not know a newer block (e.g. data_visualization) would.
        """
        with self._lock:
            self._state.refused_blocks.add(block_type)

    # --- inspection ------------------------------------------------------------------------

    @property
    def calls(self) -> list[SandboxCall]:
        """Every request received so far, in order."""
        with self._lock:
            return list(self._state.calls)

    def calls_to(self, method: str) -> list[SandboxCall]:
        """The requests to one API method."""
        return [c for c in self.calls if c.method == method]

    def messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Messages posted (as they are now), in one channel or everywhere, oldest first."""
        with self._lock:
            if channel is not None:
                found = list(self._state.messages.get(channel, []))
            else:
                found = [m for msgs in self._state.messages.values() for m in msgs]
            found.sort(key=lambda m: Decimal(m["ts"]))
            return copy.deepcopy(found)

    def dm_channel(self, user_id: str) -> str | None:
        """The DM channel id opened with a user, if any."""
        with self._lock:
            return self._state.dm_by_user.get(user_id)

    def dms(self, user_id: str) -> list[dict[str, Any]]:
        """Messages the bot posted in its DM with a user, oldest first."""
        channel = self.dm_channel(user_id)
        return [] if channel is None else self.messages(channel)

    def ephemerals(self, user_id: str | None = None) -> list[dict[str, Any]]:
        """Ephemeral messages shown, to one user or to anyone."""
        with self._lock:
            found = [e for e in self._state.ephemerals if user_id in (None, e["user"])]
            return copy.deepcopy(found)

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        """The App Home view last published for a user."""
        with self._lock:
            view = self._state.home_views.get(user_id)
            return copy.deepcopy(view)

    def modals(self) -> list[dict[str, Any]]:
        """Every modal opened through views.open (as last updated), oldest first."""
        with self._lock:
            return copy.deepcopy(list(self._state.views.values()))

    def view(self, view_id: str) -> dict[str, Any] | None:
        """A modal opened or updated through views.open / views.update."""
        with self._lock:
            return copy.deepcopy(self._state.views.get(view_id))

    def responses(self, url: str | None = None) -> list[dict[str, Any]]:
        """JSON bodies posted to response_urls (to one of them, or to any), oldest first."""
        with self._lock:
            return [
                copy.deepcopy(r["body"]) for r in self._state.responses if url in (None, r["url"])
            ]

    def files(self) -> list[SandboxFile]:
        """Files uploaded so far."""
        with self._lock:
            return [copy.copy(f) for f in self._state.files.values()]

    # --- request handling (called from server threads) -------------------------------------

    def _record(self, method: str, params: dict[str, Any]) -> None:
        with self._lock:
            self._state.calls.append(SandboxCall(method, copy.deepcopy(params), self._clock()))

    def _injected(self, method: str) -> tuple[_Failure | None, float, bool]:
        with self._lock:
            gate = self._state.holds.get(method)
        if gate is not None:
            gate.wait(60)
        with self._lock:
            queue = self._state.failures.get(method)
            failure = queue.popleft() if queue else None
            delay = self._state.delays.get(method, 0.0)
            lose = False
            if failure is None and self._state.lost_responses.get(method, 0) > 0:
                self._state.lost_responses[method] -= 1
                lose = True
            return failure, delay, lose

    def _auth_error(self, method: str, authorization: str | None) -> str | None:
        if not authorization or not authorization.startswith("Bearer "):
            return "not_authed"
        token = authorization.removeprefix("Bearer ")
        app_token = None if self.socket_mode is None else self.socket_mode.app_token
        wanted = app_token if method in _APP_TOKEN_METHODS else self.token
        if token == wanted:
            return None
        if token in (self.token, app_token):
            return "not_allowed_token_type"
        return "invalid_auth"

    def _dispatch(
        self, method: str, params: dict[str, Any], authorization: str | None
    ) -> tuple[_Reply, bool]:
        """The reply to one API call and whether to drop the connection instead of sending it."""
        self._record(method, params)
        failure, delay, lose = self._injected(method)
        if delay:
            time.sleep(delay)
        if failure is None:
            failure = self._over_limit(method, params)
        if failure is not None:
            headers = {}
            if failure.retry_after is not None:
                headers["Retry-After"] = str(failure.retry_after)
            return _Reply(failure.status, {"ok": False, "error": failure.error}, headers), False
        refused = self._auth_error(method, authorization)
        if refused is not None:
            return _Reply(200, {"ok": False, "error": refused}, {}), False
        handler = _METHODS.get(method)
        if handler is None:
            return _Reply(404, {"ok": False, "error": "unknown_method"}, {}), False
        try:
            with self._lock:
                body = handler(self, params)
        except SandboxError as exc:
            return _Reply(200, {"ok": False, "error": exc.code, **exc.extra}, {}), lose
        except (KeyError, TypeError, ValueError) as exc:
            logger.info("slack sandbox %s: invalid_arguments (%s)", method, exc)
            return _Reply(200, {"ok": False, "error": "invalid_arguments"}, {}), lose
        return _Reply(200, {"ok": True, **body}, {}), lose

    def _over_limit(self, method: str, params: dict[str, Any]) -> _Failure | None:
        with self._lock:
            limit = self._state.rate_limits.get(method)
            if limit is None:
                return None
            name = str(params.get("channel") or params.get("channel_id") or "") or None
            channel = self._state.dm_by_user.get(name, name) if name else None
            wait = limit.wait(channel, self._clock())
        if wait == 0:
            return None
        return _Failure(429, "ratelimited", max(1, math.ceil(wait)))

    def _respond(self, path: str, body: bytes) -> _Reply:
        try:
            payload = json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return _Reply(400, "invalid_payload", {})
        if not isinstance(payload, dict) or not (payload.get("text") or payload.get("blocks")):
            return _Reply(400, "no_text", {})
        url = self.root + path.lstrip("/")
        self._record("response_url", {"url": url, **payload})
        with self._lock:
            self._state.responses.append({"url": url, "body": payload})
        return _Reply(200, "ok", {})

    def _upload(self, file_id: str, content: bytes) -> _Reply:
        self._record("upload", {"file_id": file_id, "length": len(content)})
        with self._lock:
            upload = self._state.files.get(file_id)
            if upload is None:
                return _Reply(404, "Not Found", {})
            upload.content = content
        return _Reply(200, f"OK - {len(content)}", {})

    # --- helpers used by the method table (lock held) --------------------------------------

    def _next_ts(self) -> str:
        ts = Decimal(f"{self._clock():.6f}")
        if ts <= self._state.last_ts:
            ts = self._state.last_ts + Decimal("0.000001")
        self._state.last_ts = ts
        return f"{ts:.6f}"

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}"

    def _user(self, user_id: Any) -> SandboxUser:
        user = self._state.users.get(str(user_id or ""))
        if user is None:
            raise SandboxError("user_not_found")
        return user

    def _dm_for(self, user_id: str) -> str:
        channel = self._state.dm_by_user.get(user_id)
        if channel is None:
            channel = self._new_id("D")
            self._state.dm_by_user[user_id] = channel
            self._state.messages[channel] = []
        return channel

    def _channel(self, channel: Any) -> str:
        """A known channel id; a user id means the bot's DM with that user, as in Slack."""
        name = str(channel or "")
        if not name:
            raise SandboxError("channel_not_found")
        if name in self._state.users:
            return self._dm_for(name)
        if name not in self._state.messages:
            raise SandboxError("channel_not_found")
        return name

    def _check_message(self, params: dict[str, Any]) -> tuple[str, list[dict[str, Any]] | None]:
        text = params.get("text")
        text = "" if text is None else str(text)
        blocks = params.get("blocks")
        if blocks is not None and not isinstance(blocks, list):
            raise SandboxError("invalid_blocks_format")
        if not text and not blocks:
            raise SandboxError("no_text")
        if len(text) > MAX_MESSAGE_TEXT:
            raise SandboxError("msg_too_long")
        if blocks:
            errors = validate_blocks(blocks, surface="message") + _refused(self._state, blocks)
            if errors:
                raise SandboxError(
                    "invalid_blocks",
                    errors=errors,
                    response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
                )
        return text, blocks

    def _check_view(self, view: Any) -> dict[str, Any]:
        if not isinstance(view, dict):
            raise SandboxError("invalid_arguments")
        errors = validate_view(view)
        if errors:
            raise SandboxError(
                "invalid_arguments",
                response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
            )
        return view

    def _store_view(self, view_id: str, view: dict[str, Any], **extra: Any) -> dict[str, Any]:
        stored = {
            **copy.deepcopy(view),
            "id": view_id,
            "team_id": TEAM_ID,
            "hash": f"{self._clock():.6f}.{next(self._ids)}",
            "app_id": "A0COLLECTBOT",
            "bot_id": BOT_ID,
            **extra,
        }
        return stored


# --- the API methods -------------------------------------------------------------------------


def _auth_test(sb: SlackSandbox, params: dict[str, Any]) -> dict[str, Any]:
    return {
        "url": "https://sandbox.slack.com/",
        "team": "Sandbox",
        "user": "collectbot",
        "team_id": TEAM_ID,
        "user_id": BOT_USER_ID,
        "bot_id": BOT_ID,
        "is_enterprise_install": False,
    }


def _users_info(sb: SlackSandbox, params: dict[str, Any]) -> dict[str, Any]:
    user = sb._user(params.get("user"))
    now = datetime.fromtimestamp(sb._clock(), UTC).astimezone(ZoneInfo(user.tz))
    offset = now.utcoffset()
    return {
        "user": {
            "id": user.id,
            "team_id": TEAM_ID,
            "name": user.name,
            "real_name": user.real_name,
            "deleted": user.deleted,
            "is_bot": False,
            "tz": user.tz,
            "tz_label": now.tzname(),
            "tz_offset": int(offset.total_seconds()) if offset is not None else 0,
            "profile": _profile(user),
        }
    }


def _profile(user: SandboxUser) -> dict[str, Any]:
    return {
        "real_name": user.real_name,
        "display_name": user.name,
        "email": user.email,
        "status_text": user.status_text,
        "status_emoji": user.status_emoji,
        "status_expiration": 0,
    }


def _users_profile_get(sb: SlackSandbox, params: dict[str, Any]) -> dict[str, Any]:
    return {"profile": _profile(sb._user(params.get("user")))}


def _conversations_open(sb: SlackSandbox, params: dict[str, Any]) -> dict[str, Any]:
    users = [u for u in str(params.get("users") or "").split(",") if u]
    if len(users) != 1:
        raise SandboxError("users_list_not_supplied" if not users else "not_supported")
    user = sb._user(users[0])
    channel = sb._dm_for(user.id)
    return {"channel": {"id": channel, "is_im": True, "user": user.id}}


def _is_reply(message: dict[str, Any]) -> bool:
    return "thread_ts" in message and message["thread_ts"] != message["ts"]


def _bounds(params: dict[str, Any]) -> tuple[Decimal, Decimal | None, bool]:
    oldest = Decimal(str(params.get("oldest") or 0))
    latest = Decimal(str(params["latest"])) if params.get("latest") else None
    return oldest, latest, _truthy(params.get("inclusive", "0"))


def _within(message: dict[str, Any], bounds: tuple[Decimal, Decimal | None, bool]) -> bool:
    oldest, latest, inclusive = bounds
    ts = Decimal(message["ts"])
    if inclusive:
        return ts >= oldest and (latest is None or ts <= latest)
    return ts > oldest and (latest is None or ts < latest)


def _page(found: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    limit = max(1, min(int(params.get("limit") or 100), 999))
    offset = int(params.get("cursor") or 0)
    with_metadata = _truthy(params.get("include_all_metadata", "0"))
    page = found[offset : offset + limit]
    more = offset + limit < len(found)
    messages = []
    for message in page:
        shown = copy.deepcopy(message)
        shown.pop("channel", None)
        if not with_metadata:
            shown.pop("metadata", None)
        messages.append(shown)
    return {
        "messages": messages,
        "has_more": more,
        "response_metadata": {"next_cursor": str(offset + limit) if more else ""},
    }


def _conversations_history(sb: SlackSandbox, params: dict[str, Any]) -> dict[str, Any]:
    # As Slack's: the channel's top-level messages, newest first; replies stay in their thread.
    channel = sb._channel(params.get("channel"))
    bounds = _bounds(params)
    found = [m for m in reversed(sb._state.messages[channel])
             if not _is_reply(m) and _within(m, bounds)]
    return _page(found, params)


def _conversations_replies(sb: SlackSandbox, params: dict[str, Any]) -> dict[str, Any]:
    # As Slack's: the thread's parent first (whatever the bounds), then its replies oldest
    # first; a reply's ts names its whole thread.
    channel = sb._channel(params.get("channel"))
    ts = str(params.get("ts") or "")
    if not ts:
        raise SandboxError("invalid_arguments")
    messages = sb._state.messages[channel]
    target = next((m for m in messages if m["ts"] == ts), None)
    if target is None:
        raise SandboxError("thread_not_found")
    parent_ts = target.get("thread_ts", ts)
    parent = next(m for m in messages if m["ts"] == parent_ts)
    bounds = _bounds(params)
    replies = [m for m in messages if _is_reply(m) and m["thread_ts"] == parent_ts
               and _within(m, bounds)]
    return _page([parent, *replies], params)


def _chat_post_message(sb: SlackSandbox, params: dict[str, Any]) -> dict[str, Any]:
    channel = sb._channel(params.get("channel"))
    text, blocks = sb._check_message(params)
    message: dict[str, Any] = {
        "type": "message",
        "ts": sb._next_ts(),
        "user": BOT_USER_ID,
        "bot_id": BOT_ID,
        "app_id": "A0COLLECTBOT",
        "text": text,
        "channel": channel,
    }
    if blocks:
        message["blocks"] = copy.deepcopy(blocks)
    thread_ts = _thread_of(sb, channel, params.get("thread_ts"))
    if thread_ts is not None:
        message["thread_ts"] = thread_ts
    metadata = params.get("metadata")
    if metadata:
        if not isinstance(metadata, dict) or not metadata.get("event_type"):
            raise SandboxError("invalid_metadata_format")
        message["metadata"] = {
            "event_type": metadata["event_type"],
            "event_payload": copy.deepcopy(metadata.get("event_payload") or {}),
        }
    sb._state.messages[channel].append(message)
    shown = {k: v for k, v in message.items() if k != "channel"}
    return {"channel": channel, "ts": message["ts"], "message": copy.deepcopy(shown)}


def _chat_get_permalink(sb: SlackSandbox, params: dict[str, Any]) -> dict[str, Any]:
    channel = sb._channel(params.get("channel"))
    ts = str(params.get("message_ts") or "")
    if not any(m["ts"] == ts for m in sb._state.messages[channel]):
        raise SandboxError("message_not_found")
    return {"channel": channel,
            "permalink": f"https://sandbox.slack.com/archives/{channel}/p{ts.replace('.', '')}"}


def _chat_update(sb: SlackSandbox, params: dict[str, Any]) -> dict[str, Any]:
    channel = sb._channel(params.get("channel"))
    ts = str(params.get("ts") or "")
    for message in sb._state.messages[channel]:
        if message["ts"] == ts:
            break
    else:
        raise SandboxError("message_not_found")
    if message.get("user") != BOT_USER_ID:
        raise SandboxError("cant_update_message")
    text, blocks = sb._check_message(params)
    message["text"] = text
    if blocks is not None:
        message["blocks"] = copy.deepcopy(blocks)
    message["edited"] = {"user": BOT_USER_ID, "ts": sb._next_ts()}
    return {"channel": channel, "ts": ts, "text": text}


def _chat_post_ephemeral(sb: SlackSandbox, params: dict[str, Any]) -> dict[str, Any]:
    channel = sb._channel(params.get("channel"))
    user = sb._user(params.get("user"))
    text, blocks = sb._check_message(params)
    ts = sb._next_ts()
    sb._state.ephemerals.append(
        {"channel": channel, "user": user.id, "text": text, "blocks": blocks, "ts": ts}
    )
    return {"message_ts": ts}


def _views_open(sb: SlackSandbox, params: dict[str, Any]) -> dict[str, Any]:
    if not params.get("trigger_id"):
        raise SandboxError("invalid_trigger_id")
    view = sb._check_view(params.get("view"))
    if view.get("type") != "modal":
        raise SandboxError("invalid_arguments")
    stored = sb._store_view(sb._new_id("V"), view)
    sb._state.views[stored["id"]] = stored
    return {"view": copy.deepcopy(stored)}


def _views_update(sb: SlackSandbox, params: dict[str, Any]) -> dict[str, Any]:
    view_id = str(params.get("view_id") or "")
    current = sb._state.views.get(view_id)
    if current is None:
        raise SandboxError("not_found")
    given_hash = params.get("hash")
    if given_hash and given_hash != current["hash"]:
        raise SandboxError("hash_conflict")
    view = sb._check_view(params.get("view"))
    stored = sb._store_view(view_id, view)
    sb._state.views[view_id] = stored
    return {"view": copy.deepcopy(stored)}


def _views_publish(sb: SlackSandbox, params: dict[str, Any]) -> dict[str, Any]:
    user = sb._user(params.get("user_id"))
    view = sb._check_view(params.get("view"))
    if view.get("type") != "home":
        raise SandboxError("invalid_arguments")
    previous = sb._state.home_views.get(user.id)
    view_id = previous["id"] if previous else sb._new_id("V")
    stored = sb._store_view(view_id, view)
    sb._state.home_views[user.id] = stored
    return {"view": copy.deepcopy(stored)}


def _files_get_upload_url(sb: SlackSandbox, params: dict[str, Any]) -> dict[str, Any]:
    filename = str(params.get("filename") or "")
    length = int(params.get("length") or 0)
    if not filename or length <= 0:
        raise SandboxError("invalid_arguments")
    file_id = sb._new_id("F")
    sb._state.files[file_id] = SandboxFile(
        id=file_id, filename=filename, length=length,
        alt_txt=str(params["alt_txt"]) if params.get("alt_txt") else None,
    )
    return {"upload_url": f"{sb.root}{_UPLOAD_PREFIX.lstrip('/')}{file_id}", "file_id": file_id}


def _files_complete_upload(sb: SlackSandbox, params: dict[str, Any]) -> dict[str, Any]:
    entries = params.get("files")
    if not isinstance(entries, list) or not entries:
        raise SandboxError("invalid_arguments")
    channel = sb._channel(params["channel_id"]) if params.get("channel_id") else None
    thread_ts = None if channel is None else _thread_of(sb, channel, params.get("thread_ts"))
    shared = []
    for entry in entries:
        upload = sb._state.files.get(str(entry.get("id")))
        if upload is None or upload.content is None:
            raise SandboxError("file_not_found")
        if len(upload.content) != upload.length:
            raise SandboxError("file_upload_size_mismatch")
        upload.title = entry.get("title") or upload.filename
        upload.channel = channel
        upload.thread_ts = thread_ts
        shared.append(
            {
                "id": upload.id,
                "name": upload.filename,
                "title": upload.title,
                "size": upload.length,
                "channels": [channel] if channel else [],
            }
        )
    if channel is not None:
        message: dict[str, Any] = {
            "type": "message",
            "ts": sb._next_ts(),
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "text": str(params.get("initial_comment") or ""),
            "files": copy.deepcopy(shared),
            "channel": channel,
        }
        if thread_ts is not None:
            message["thread_ts"] = thread_ts
        sb._state.messages[channel].append(message)
    return {"files": shared}


def _apps_connections_open(sb: SlackSandbox, params: dict[str, Any]) -> dict[str, Any]:
    assert sb.socket_mode is not None  # the app token was checked against it
    return {"url": sb.socket_mode.open_url()}


# --- threads and refused blocks (used by chat.postMessage and the upload flow) ---------------


def _thread_of(sb: SlackSandbox, channel: str, thread_ts: Any) -> str | None:
    """The thread a reply goes to: None, or the ts of a message already in `channel`."""
    if not thread_ts:
        return None
    ts = str(thread_ts)
    target = next((m for m in sb._state.messages[channel] if m["ts"] == ts), None)
    if target is None:
        raise SandboxError("thread_not_found")
    # A reply to a reply joins its parent's thread, as in Slack.
    return str(target.get("thread_ts", ts))


def _refused(state: _State, blocks: list[Any]) -> list[str]:
    return [
        f"block {index} ({block.get('type')}): unsupported block type"
        for index, block in enumerate(blocks, start=1)
        if isinstance(block, dict) and block.get("type") in state.refused_blocks
    ]


_METHODS: dict[str, Callable[[SlackSandbox, dict[str, Any]], dict[str, Any]]] = {
    "auth.test": _auth_test,
    "apps.connections.open": _apps_connections_open,
    "users.info": _users_info,
    "users.profile.get": _users_profile_get,
    "conversations.open": _conversations_open,
    "conversations.history": _conversations_history,
    "conversations.replies": _conversations_replies,
    "chat.postMessage": _chat_post_message,
    "chat.update": _chat_update,
    "chat.getPermalink": _chat_get_permalink,
    "chat.postEphemeral": _chat_post_ephemeral,
    "views.open": _views_open,
    "views.update": _views_update,
    "views.publish": _views_publish,
    "files.getUploadURLExternal": _files_get_upload_url,
    "files.completeUploadExternal": _files_complete_upload,
}


def _parse_params(query: str, content_type: str, body: bytes) -> dict[str, Any]:
    params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    if body:
        if content_type.startswith("application/json"):
            parsed = json.loads(body.decode("utf-8"))
            if not isinstance(parsed, dict):
                raise ValueError("JSON body is not an object")
            params.update(parsed)
        elif content_type.startswith("application/x-www-form-urlencoded"):
            params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    for name in _JSON_PARAMS:
        if isinstance(params.get(name), str) and params[name]:
            params[name] = json.loads(params[name])
    return params


class _Handler(BaseHTTPRequestHandler):
    owner: SlackSandbox
    server_version = "SlackSandbox/1"

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if parts.path.startswith(_UPLOAD_PREFIX):
            self._send(self.owner._upload(parts.path[len(_UPLOAD_PREFIX) :], body))
            return
        if parts.path.startswith(_RESPONSE_PREFIX) and self.command == "POST":
            self._send(self.owner._respond(parts.path, body))
            return
        if not parts.path.startswith("/api/"):
            self._send(_Reply(404, "Not Found", {}))
            return
        method = parts.path[len("/api/") :]
        try:
            params = _parse_params(parts.query, self.headers.get("Content-Type") or "", body)
        except (ValueError, UnicodeDecodeError):
            self._send(_Reply(200, {"ok": False, "error": "invalid_json"}, {}))
            return
        reply, lose = self.owner._dispatch(method, params, self.headers.get("Authorization"))
        if lose:
            # As if the network failed after Slack acted: the client gets no answer at all.
            self.close_connection = True
            return
        self._send(reply)

    def _send(self, reply: _Reply) -> None:
        if isinstance(reply.body, str):
            payload = reply.body.encode("utf-8")
            content_type = "text/plain; charset=utf-8"
        else:
            payload = json.dumps(reply.body).encode("utf-8")
            content_type = "application/json; charset=utf-8"
        self.send_response(reply.status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        # As Slack does: an id per request, for logs and support tickets.
        self.send_header("X-Slack-Req-Id", f"sandbox-{uuid.uuid4().hex[:12]}")
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        # Request lines carry no secrets, but the default handler writes them to stderr.
        logger.debug("slack sandbox: " + format, *args)

