"""Requests as Slack sends them, signed, to a running collectbot: for the demo, tests, benches.

Slack signs every request with the app's signing secret (v0:timestamp:body, HMAC-SHA256); the
app refuses anything else. This sender builds the same payloads Slack does for slash commands,
button clicks, overflow choices, modal submissions and events.
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
        return urlencode(
            {
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
        ).encode()

    def command(self, user_id: str, text: str) -> tuple[Reply, str]:
        """/collect TEXT as `user_id`; returns the reply and the response_url given to the app."""
        url = self.sandbox.response_url()
        reply = self.post(
            self.command_body(user_id, text, url), "application/x-www-form-urlencoded"
        )
        return reply, url

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
        body = json.dumps(
            {
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
        ).encode()
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        return self.post(body, "application/json", extra_headers=headers)
