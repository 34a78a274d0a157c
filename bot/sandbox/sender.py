"""Requests as Slack sends them to a running collectbot: for the demo, tests, benches.

Slack signs every request with the app's signing secret (v0:timestamp:body, HMAC-SHA256); the
app refuses anything else. This sender builds the same payloads Slack does for slash commands,
button clicks, overflow choices, modal submissions and events, and posts them signed; its
SocketModeSender twin sends the same payloads as Socket Mode envelopes instead.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from bot.sandbox.socket_mode import Ack, SocketModeServer
from bot.sandbox.web_api import SlackSandbox


@dataclass
class Reply:
    status: int
    body: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8")) if self.body else None


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Slack's request signature: v0=HMAC-SHA256(secret, "v0:{timestamp}:{body}")."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def http_request(
    base_url: str, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> Reply:
    """One HTTP request on a fresh connection."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return Reply(response.status, response.read(), dict(response.getheaders()))
    finally:
        connection.close()


@dataclass
class SlackSender:
    """Sends what Slack sends: signed slash commands, interactivity payloads and events."""

    base_url: str
    sandbox: SlackSandbox
    secret: str
    sent: int = 0
    _ids: int = field(default=0)

    def post(
        self,
        body: bytes,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> Reply:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature or sign(self.secret, stamp, body),
            **(extra_headers or {}),
        }
        self.sent += 1
        return http_request(self.base_url, "POST", "/slack/events", body, headers)

    def next_id(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}{self._ids:06d}"

    def command_body(self, user_id: str, text: str, response_url: str) -> bytes:
        return urlencode(self.command_fields(user_id, text, response_url)).encode()

    def command_fields(self, user_id: str, text: str, response_url: str) -> dict[str, str]:
        """The fields of a /collect command, as Slack fills them in."""
        return {
            "token": "legacy-verification-token",
            "team_id": "T0SANDBOX",
            "team_domain": "sandbox",
            "channel_id": "D0COMMAND",
            "channel_name": "directmessage",
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": "/collect",
            "text": text,
            "api_app_id": "A0COLLECTBOT",
            "response_url": response_url,
            "trigger_id": self.next_id("trigger-"),
        }

    def command(self, user_id: str, text: str) -> tuple[Reply, str]:
        """/collect TEXT as `user_id`; returns the reply and the response_url given to the app."""
        url = self.sandbox.response_url()
        return self.send_command(self.command_fields(user_id, text, url)), url

    def send_command(self, fields: dict[str, str]) -> Reply:
        return self.post(urlencode(fields).encode(), "application/x-www-form-urlencoded")

    def interaction(self, payload: dict[str, Any], **options: Any) -> Reply:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self.post(body, "application/x-www-form-urlencoded", **options)

    def action_payload(
        self,
        user_id: str,
        action: dict[str, Any],
        *,
        message: dict[str, Any] | None = None,
        channel: str | None = None,
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "type": "block_actions",
            "team": {"id": "T0SANDBOX", "domain": "sandbox"},
            "user": {"id": user_id, "username": user_id.lower(), "team_id": "T0SANDBOX"},
            "api_app_id": "A0COLLECTBOT",
            "token": "legacy-verification-token",
            "trigger_id": self.next_id("trigger-"),
            "actions": [{"block_id": "b", "action_ts": f"{time.time():.6f}", **action}],
        }
        if message is not None and channel is not None:
            payload["container"] = {
                "type": "message",
                "message_ts": message["ts"],
                "channel_id": channel,
                "is_ephemeral": False,
            }
            payload["channel"] = {"id": channel, "name": "directmessage"}
            payload["message"] = message
            payload["response_url"] = self.sandbox.response_url()
        else:
            payload["container"] = {"type": "view", "view_id": "V0HOME"}
            payload["view"] = {"id": "V0HOME", "type": "home"}
        return payload

    def click(
        self,
        user_id: str,
        action_id: str,
        value: str,
        *,
        message: dict[str, Any] | None = None,
        channel: str | None = None,
        **options: Any,
    ) -> Reply:
        action = {"type": "button", "action_id": action_id, "value": value}
        payload = self.action_payload(user_id, action, message=message, channel=channel)
        return self.interaction(payload, **options)

    def choose(
        self,
        user_id: str,
        value: str,
        *,
        message: dict[str, Any] | None = None,
        channel: str | None = None,
    ) -> Reply:
        action = {"type": "overflow", "action_id": "more", "selected_option": {"value": value}}
        return self.interaction(
            self.action_payload(user_id, action, message=message, channel=channel)
        )

    def submit(self, user_id: str, view: dict[str, Any], values: dict[str, Any]) -> Reply:
        """Submit an opened modal (as the sandbox stored it) with state `values`."""
        payload = {
            "type": "view_submission",
            "team": {"id": "T0SANDBOX", "domain": "sandbox"},
            "user": {"id": user_id, "username": user_id.lower(), "team_id": "T0SANDBOX"},
            "api_app_id": "A0COLLECTBOT",
            "token": "legacy-verification-token",
            "trigger_id": self.next_id("trigger-"),
            "view": {**view, "state": {"values": values}},
        }
        return self.interaction(payload)

    def event(
        self, event: dict[str, Any], *, event_id: str | None = None, retry_num: int | None = None
    ) -> Reply:
        callback = {
            "token": "legacy-verification-token",
            "team_id": "T0SANDBOX",
            "api_app_id": "A0COLLECTBOT",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or self.next_id("Ev"),
            "event_time": int(time.time()),
            "authorizations": [
                {"team_id": "T0SANDBOX", "user_id": "U0COLLECTBOT", "is_bot": True}
            ],
        }
        return self.send_event(callback, retry_num)

    def send_event(self, callback: dict[str, Any], retry_num: int | None) -> Reply:
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        return self.post(json.dumps(callback).encode(), "application/json", extra_headers=headers)


@dataclass
class SocketModeSender(SlackSender):
    """The same payloads as SlackSender, as Socket Mode envelopes; a Reply is the app's ack.

    The reply's body is the ack's payload as JSON (empty when the ack has none), so a test reads
    a modal's field errors the same way whichever way the app is reached. Nothing is signed.
    """

    server: SocketModeServer | None = field(default=None, kw_only=True)

    def _request(self, kind: str, payload: dict[str, Any], **options: Any) -> Reply:
        if self.server is None:
            raise RuntimeError("SocketModeSender needs the sandbox's SocketModeServer")
        self.sent += 1
        return _ack_reply(self.server.request(kind, payload, **options))

    def post(self, body: bytes, content_type: str, **options: Any) -> Reply:
        raise TypeError("a raw HTTP body has no Socket Mode equivalent; send a payload")

    def send_command(self, fields: dict[str, str]) -> Reply:
        return self._request("slash_commands", dict(fields))

    def interaction(self, payload: dict[str, Any], **options: Any) -> Reply:
        if options:
            raise TypeError(f"HTTP-only options over Socket Mode: {sorted(options)}")
        # Slack takes a response only where HTTP would (a form's errors), not for a click.
        accepts = payload.get("type") != "block_actions"
        return self._request("interactive", payload, accepts_response_payload=accepts)

    def send_event(self, callback: dict[str, Any], retry_num: int | None) -> Reply:
        retry = {} if retry_num is None else {
            "retry_attempt": retry_num, "retry_reason": "timeout"
        }
        return self._request("events_api", callback, accepts_response_payload=False, **retry)


def _ack_reply(ack: Ack) -> Reply:
    if ack.payload is None:
        return Reply(200, b"", {})
    body = json.dumps(ack.payload).encode("utf-8")
    return Reply(200, body, {"Content-Type": "application/json"})
