"""SlackGateway: the only code that calls the Slack Web API (retries, rate limits, error codes)."""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from http.client import HTTPException
from typing import Any
from urllib.error import URLError

from pydantic import SecretStr
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.http_retry import (
    BackoffRetryIntervalCalculator,
    HttpRequest,
    HttpResponse,
    Jitter,
    RetryHandler,
    RetryIntervalCalculator,
    RetryState,
)
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.webhook import WebhookClient

from bot.settings import Settings
from bot.slack.blockkit import validate_message, validate_view

logger = logging.getLogger(__name__)

# slack_sdk logs whole request bodies whenever its logger's own level is DEBUG or NOTSET; giving it
# a logger pinned at INFO keeps payloads out of the log even under `collectbot -v`.
_sdk_logger = logging.getLogger("bot.slack.sdk")
_sdk_logger.setLevel(logging.INFO)
# The webhook client logs the response_url (a bearer credential for the reply) at INFO on a retry.
_webhook_logger = logging.getLogger("bot.slack.webhook")
_webhook_logger.setLevel(logging.WARNING)

# Bolt's own client logs request bodies at DEBUG; this logger stays at INFO, as the gateway's.
_bolt_client_logger = logging.getLogger("bot.slack.bolt_client")
_bolt_client_logger.setLevel(logging.INFO)

# The bot scopes each Web API method the gateway calls needs (Slack's method reference). Both
# app manifests are checked against it (tests/e2e/test_manifest.py): a method the gateway starts
# calling needs its line here, and its scope in the manifests, or that test fails.
METHOD_SCOPES: Mapping[str, tuple[str, ...]] = {
    "auth.test": (),
    "chat.postMessage": ("chat:write",),
    "chat.update": ("chat:write",),
    "chat.postEphemeral": ("chat:write",),
    # the App Home's link to the weekly recap's post
    "chat.getPermalink": (),
    "conversations.open": ("im:write",),
    # a DM's history before a resend; the team channel's (public or private) for the recap
    "conversations.history": ("im:history", "channels:history", "groups:history"),
    # a reply's thread before a resend (the same scopes as the history)
    "conversations.replies": ("im:history", "channels:history", "groups:history"),
    "users.info": ("users:read",),
    "users.profile.get": ("users.profile:read",),
    # views.* act on a trigger id or the bot's own Home tab: no scope
    "views.open": (),
    "views.update": (),
    "views.publish": (),
    "files.getUploadURLExternal": ("files:write",),
    "files.completeUploadExternal": ("files:write",),
}

_ERROR_CODE = re.compile(r"^[a-z0-9_]{1,80}$")

Sleep = Callable[[float], None]


class SlackError(Exception):
    """A Web API call failed after its retries; `code` is Slack's error code (e.g. invalid_auth)."""

    def __init__(
        self, method: str, code: str, *, status: int | None = None, details: Sequence[str] = (),
        retry_after: float | None = None,
    ) -> None:
        self.method = method
        self.code = code
        self.status = status
        self.details = list(details)
        # A 429's Retry-After (seconds): how long this method must wait.
        self.retry_after = retry_after
        super().__init__(f"Slack {method} failed: {code}")

    @classmethod
    def from_api_error(cls, method: str, error: SlackApiError) -> SlackError:
        """Slack's error code from an SDK error (HTTP status when the body carries none)."""
        response = error.response
        status = int(response.status_code)
        data = response.data if isinstance(response.data, dict) else {}
        code = str(data.get("error") or "")
        if not _ERROR_CODE.match(code):
            code = f"http_{status}"
        details = [str(e) for e in data.get("errors") or ()]
        details += [str(m) for m in (data.get("response_metadata") or {}).get("messages") or ()]
        retry_after = _retry_after(response.headers) if status == 429 else None
        return cls(method, code, status=status, details=details, retry_after=retry_after)


def _retry_after(headers: Mapping[str, Any] | None) -> float:
    """Seconds from a Retry-After header (a value or a list of them); 1 when absent or odd."""
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after" and value:
            first = value[0] if isinstance(value, list | tuple) else value
            try:
                return max(0.0, float(first))
            except (TypeError, ValueError):
                return 1.0
    return 1.0


class _SleepMixin:
    """Retry handlers share an injectable sleep so tests wait milliseconds, not seconds."""

    sleep: Sleep = time.sleep


class _RetryAfterHandler(_SleepMixin, RateLimitErrorRetryHandler):
    """429: wait exactly the Retry-After seconds Slack asks for, then retry."""

    def __init__(self, max_retry_count: int, sleep: Sleep) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.sleep = sleep

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        self.sleep(_retry_after(response.headers if response is not None else None))
        state.increment_current_attempt()


class _ProportionalJitter(Jitter):
    """Jitter up to the interval itself (the SDK's adds up to a whole second, even to 10 ms)."""

    def recalculate(self, duration: float) -> float:
        return duration * (1 + random.random())


def _backoff(factor: float) -> BackoffRetryIntervalCalculator:
    return BackoffRetryIntervalCalculator(backoff_factor=factor, jitter=_ProportionalJitter())


class _BackoffMixin(_SleepMixin):
    interval_calculator: RetryIntervalCalculator

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        self.sleep(self.interval_calculator.calculate_sleep_duration(state.current_attempt))
        state.increment_current_attempt()


class _ConnectionRetryHandler(_BackoffMixin, ConnectionErrorRetryHandler):
    """Retry only failures to connect or send (urllib wraps those in URLError).

    A connection dropped while waiting for the answer (RemoteDisconnected, reset, read timeout) may
    come after Slack already posted the message; retrying it blindly could post twice, so it is
    left to the delivery layer, which looks for the earlier message before sending again.
    """

    def __init__(self, max_retry_count: int, backoff: float, sleep: Sleep) -> None:
        super().__init__(
            max_retry_count=max_retry_count,
            interval_calculator=_backoff(backoff),
            error_types=[URLError],
        )
        self.sleep = sleep


class _ServerErrorHandler(_BackoffMixin, ServerErrorRetryHandler):
    """Retry 500, 502, 503 and 504 with exponential backoff."""

    def __init__(self, max_retry_count: int, backoff: float, sleep: Sleep) -> None:
        super().__init__(
            max_retry_count=max_retry_count,
            interval_calculator=_backoff(backoff),
        )
        self.sleep = sleep

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code in (500, 502, 503, 504)


def retry_handlers(
    *, max_retries: int = 4, backoff: float = 0.5, sleep: Sleep = time.sleep,
    wait_rate_limits: bool = True,
) -> list[RetryHandler]:
    """The retry policy: 429 after Retry-After, connect failures and 5xx with backoff.

    Without `wait_rate_limits` a 429 is raised at once (SlackError.retry_after says how long
    the method must wait): the delivery pool's senders then pace that method for every sender
    instead of one thread sleeping on it.
    """
    return [
        _RetryAfterHandler(max_retries if wait_rate_limits else 0, sleep),
        _ConnectionRetryHandler(max_retries, backoff, sleep),
        _ServerErrorHandler(max_retries, backoff, sleep),
    ]


def _transport_error(method: str, exc: OSError | HTTPException) -> SlackError:
    """A failure to connect (URLError: nothing was sent) or a connection lost after sending
    (whether Slack acted on it is unknown), logged and as a SlackError."""
    if isinstance(exc, URLError):
        logger.warning("slack %s failed: cannot connect (%s)", method, exc.reason)
        return SlackError(method, "connection_failed")
    logger.warning("slack %s failed: connection lost (%s)", method, type(exc).__name__)
    return SlackError(method, "connection_lost")


def bolt_web_client(token: SecretStr, base_url: str) -> WebClient:
    """The client Bolt holds for itself (auth.test at start); our calls go through SlackGateway."""
    return WebClient(
        token=token.get_secret_value(), base_url=base_url, logger=_bolt_client_logger
    )


@dataclass(frozen=True)
class MetadataMessage:
    """A message found in a channel's history with its metadata payload."""

    ts: str
    event_type: str
    payload: dict[str, Any]


def slack_ts(moment: datetime) -> str:
    """A Slack timestamp string for an aware datetime (for `oldest`/`latest`)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given where a Slack timestamp is needed")
    return f"{moment.timestamp():.6f}"


class SlackGateway:
    """Typed calls to the Web API returning plain data; failures raise SlackError."""

    def __init__(
        self,
        token: SecretStr,
        base_url: str,
        *,
        max_retries: int = 4,
        backoff: float = 0.5,
        sleep: Sleep = time.sleep,
        timeout: int = 30,
        wait_rate_limits: bool = True,
    ) -> None:
        if not base_url.endswith("/"):
            raise ValueError(f"Slack API base URL must end with '/': {base_url!r}")
        self.base_url = base_url
        self._timeout = timeout
        self._retry_handlers = retry_handlers(max_retries=max_retries, backoff=backoff, sleep=sleep,
                                              wait_rate_limits=wait_rate_limits)
        self._client = WebClient(
            token=token.get_secret_value(),
            base_url=base_url,
            timeout=timeout,
            logger=_sdk_logger,
            retry_handlers=self._retry_handlers,
        )
        self._dm_channels: dict[str, str] = {}
        self._dm_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> SlackGateway:
        """A gateway for SLACK_BOT_TOKEN at SLACK_API_URL."""
        if settings.slack_bot_token is None:
            raise ValueError("SLACK_BOT_TOKEN is not set")
        return cls(settings.slack_bot_token, settings.slack_api_url, **options)

    def _call(self, method: str, **arguments: Any) -> dict[str, Any]:
        try:
            response = self._client.api_call(method, **arguments)
        except SlackApiError as exc:
            error = SlackError.from_api_error(method, exc)
            # Slack's id for this request (x-slack-req-id): what Slack's support asks for.
            headers = {k.lower(): v for k, v in (exc.response.headers or {}).items()}
            request_id = headers.get("x-slack-req-id")
            logger.warning("slack %s failed: %s (HTTP %s)", method, error.code, error.status,
                           extra={"slack_request_id": request_id})
            raise error from exc
        except (OSError, HTTPException) as exc:
            raise _transport_error(method, exc) from exc
        data = response.data
        if not isinstance(data, dict):
            raise SlackError(method, "unexpected_response", status=response.status_code)
        return data

    @staticmethod
    def _refuse_invalid(method: str, errors: list[str]) -> None:
        """Slack would refuse it: say so in the log and raise, before anything is sent."""
        if errors:
            logger.warning("slack %s not sent: %d Block Kit error(s): %s", method, len(errors),
                           "; ".join(errors[:3]))
            raise SlackError(method, "invalid_blocks", details=errors)

    def _check_message(
        self, method: str, text: str, blocks: Sequence[Mapping[str, Any]] | None
    ) -> None:
        self._refuse_invalid(method, validate_message(text, blocks or []))

    def _check_view(self, method: str, view: Mapping[str, Any]) -> None:
        self._refuse_invalid(method, validate_view(view))

    def auth_test(self) -> dict[str, Any]:
        """Who the token belongs to: team_id, user_id, bot_id, url."""
        return self._call("auth.test")

    def permalink(self, channel: str, ts: str) -> str:
        """A message's link (chat.getPermalink)."""
        return str(self._call("chat.getPermalink", params={"channel": channel,
                                                           "message_ts": ts})["permalink"])

    def user_info(self, user_id: str) -> dict[str, Any]:
        """The Slack user object (id, name, real_name, tz, tz_offset, deleted, profile)."""
        user: dict[str, Any] = self._call("users.info", params={"user": user_id})["user"]
        return user

    def user_status(self, user_id: str) -> tuple[str, str]:
        """The user's status (text, emoji), empty strings when none is set."""
        data = self._call("users.profile.get", params={"user": user_id})
        profile = data.get("profile") or {}
        return str(profile.get("status_text") or ""), str(profile.get("status_emoji") or "")

    def open_dm(self, user_id: str) -> str:
        """The id of the bot's DM channel with a user (cached for this process)."""
        with self._dm_lock:
            channel = self._dm_channels.get(user_id)
        if channel is not None:
            return channel
        data = self._call("conversations.open", params={"users": user_id})
        channel = str(data["channel"]["id"])
        with self._dm_lock:
            self._dm_channels[user_id] = channel
        return channel

    def post_message(
        self,
        channel: str,
        text: str,
        blocks: Sequence[Mapping[str, Any]] | None = None,
        metadata: Mapping[str, Any] | None = None,
        *,
        thread_ts: str | None = None,
    ) -> str:
        """Post a message (a reply in a thread when `thread_ts` is given); returns its ts."""
        self._check_message("chat.postMessage", text, blocks)
        body: dict[str, Any] = {"channel": channel, "text": text}
        if thread_ts is not None:
            body["thread_ts"] = thread_ts
        if blocks is not None:
            body["blocks"] = [dict(b) for b in blocks]
        if metadata is not None:
            body["metadata"] = dict(metadata)
        data = self._call("chat.postMessage", json=body)
        logger.debug("slack message posted channel=%s ts=%s", data.get("channel"), data.get("ts"))
        return str(data["ts"])

    def update_message(
        self,
        channel: str,
        ts: str,
        text: str,
        blocks: Sequence[Mapping[str, Any]] | None = None,
    ) -> str:
        """Replace a message's text and blocks; returns its ts."""
        self._check_message("chat.update", text, blocks)
        body: dict[str, Any] = {"channel": channel, "ts": ts, "text": text}
        if blocks is not None:
            body["blocks"] = [dict(b) for b in blocks]
        return str(self._call("chat.update", json=body)["ts"])

    def post_ephemeral(
        self,
        channel: str,
        user: str,
        text: str,
        blocks: Sequence[Mapping[str, Any]] | None = None,
    ) -> str:
        """Show a message only `user` sees in `channel`; returns its message_ts."""
        self._check_message("chat.postEphemeral", text, blocks)
        body: dict[str, Any] = {"channel": channel, "user": user, "text": text}
        if blocks is not None:
            body["blocks"] = [dict(b) for b in blocks]
        return str(self._call("chat.postEphemeral", json=body)["message_ts"])

    def open_view(self, trigger_id: str, view: Mapping[str, Any]) -> str:
        """Open a modal; returns the view id."""
        self._check_view("views.open", view)
        data = self._call("views.open", json={"trigger_id": trigger_id, "view": dict(view)})
        return str(data["view"]["id"])

    def update_view(self, view_id: str, view: Mapping[str, Any], hash: str | None = None) -> str:
        """Replace an open modal (hash guards against a lost race); returns the view id."""
        self._check_view("views.update", view)
        body: dict[str, Any] = {"view_id": view_id, "view": dict(view)}
        if hash is not None:
            body["hash"] = hash
        return str(self._call("views.update", json=body)["view"]["id"])

    def publish_home(self, user_id: str, view: Mapping[str, Any]) -> str:
        """Publish a user's App Home tab; returns the view id."""
        self._check_view("views.publish", view)
        data = self._call("views.publish", json={"user_id": user_id, "view": dict(view)})
        return str(data["view"]["id"])

    def respond(
        self,
        response_url: str,
        text: str,
        blocks: Sequence[Mapping[str, Any]] | None = None,
        *,
        replace_original: bool = False,
    ) -> None:
        """Answer a slash command or an action ephemerally through its response_url
        (`replace_original`: in place of the message the action came from).

        The same checks and retries as every Web API call; the URL itself is never logged.
        """
        method = "response_url"
        self._check_message(method, text, blocks)
        if not response_url.startswith(("https://", "http://")):
            raise SlackError(method, "invalid_response_url")
        client = WebhookClient(
            url=response_url, timeout=self._timeout, logger=_webhook_logger,
            retry_handlers=self._retry_handlers,
        )
        try:
            response = client.send(
                text=text,
                blocks=[dict(b) for b in blocks] if blocks is not None else None,
                response_type="ephemeral",
                replace_original=replace_original or None,
            )
        except (OSError, HTTPException) as exc:
            raise _transport_error(method, exc) from exc
        if response.status_code != 200:
            body = str(response.body or "")
            code = body if _ERROR_CODE.match(body) else f"http_{response.status_code}"
            logger.warning("slack %s failed: %s (HTTP %s)", method, code, response.status_code)
            raise SlackError(method, code, status=response.status_code)

    def upload_file(
        self,
        channel: str,
        filename: str,
        content: bytes,
        title: str,
        initial_comment: str | None = None,
        *,
        thread_ts: str | None = None,
        alt_txt: str | None = None,
    ) -> str:
        """Upload a file and share it in `channel` (files_upload_v2's 3 steps); returns its id.

        files.getUploadURLExternal (with the alt text), the POST of the bytes to the URL it
        returns, then files.completeUploadExternal with channel_id and, for a reply, thread_ts.
        """
        try:
            data = self._client.files_upload_v2(
                channel=channel,
                filename=filename,
                content=content,
                title=title,
                initial_comment=initial_comment,
                thread_ts=thread_ts,
                alt_txt=alt_txt,
            ).data
        except SlackApiError as exc:
            raise SlackError.from_api_error("files.upload", exc) from exc
        except SlackRequestError as exc:
            raise SlackError("files.upload", "upload_failed") from exc
        except URLError as exc:
            raise SlackError("files.upload", "connection_failed") from exc
        except (OSError, HTTPException) as exc:
            raise SlackError("files.upload", "connection_lost") from exc
        if not isinstance(data, dict):
            raise SlackError("files.upload", "unexpected_response")
        file_id = str(data["files"][0]["id"])
        logger.info("slack file uploaded channel=%s file=%s", channel, file_id)
        return file_id

    def metadata_messages(
        self, channel: str, event_type: str, oldest: datetime
    ) -> list[MetadataMessage]:
        """Messages in `channel` since `oldest` whose metadata has `event_type`, oldest first
        (conversations.history: top-level messages, not the replies in their threads)."""
        return self._metadata_pages(
            lambda params: self._call("conversations.history", params=params),
            {"channel": channel, "oldest": slack_ts(oldest), "include_all_metadata": "true",
             "limit": 200}, event_type)

    def thread_metadata_messages(
        self, channel: str, thread_ts: str, event_type: str, oldest: datetime
    ) -> list[MetadataMessage]:
        """Replies in the thread of `thread_ts` since `oldest` whose metadata has `event_type`,
        oldest first (conversations.replies; the parent itself is left out)."""
        found = self._metadata_pages(
            lambda params: self._call("conversations.replies", params=params),
            {"channel": channel, "ts": thread_ts, "oldest": slack_ts(oldest),
             "include_all_metadata": "true", "limit": 200}, event_type)
        return [m for m in found if m.ts != thread_ts]

    @staticmethod
    def _metadata_pages(
        page: Callable[[dict[str, Any]], dict[str, Any]], first: dict[str, Any], event_type: str
    ) -> list[MetadataMessage]:
        found: list[MetadataMessage] = []
        cursor: str | None = None
        while True:
            params = dict(first)
            if cursor:
                params["cursor"] = cursor
            data = page(params)
            for message in data.get("messages") or ():
                metadata = message.get("metadata") or {}
                if metadata.get("event_type") == event_type:
                    payload = metadata.get("event_payload") or {}
                    found.append(MetadataMessage(str(message["ts"]), event_type, dict(payload)))
            cursor = (data.get("response_metadata") or {}).get("next_cursor") or None
            if not data.get("has_more") or not cursor:
                break
        found.sort(key=lambda m: float(m.ts))
        return found

    def find_messages_with_metadata(
        self, channel: str, event_type: str, key: str, oldest: datetime
    ) -> list[str]:
        """The ts of messages since `oldest` with metadata `event_type` and payload key `key`."""
        return [
            m.ts
            for m in self.metadata_messages(channel, event_type, oldest)
            if m.payload.get("key") == key
        ]
