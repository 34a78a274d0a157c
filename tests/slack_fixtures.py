"""Slack fixtures for every test: a started sandbox and a gateway on it with fast retries."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from bot.sandbox.web_api import SlackSandbox
from bot.slack.client import SlackGateway

SANDBOX_TOKEN = "xoxb-test-sandbox"
TEAM_CHANNEL = "C0TEAM"


@pytest.fixture
def slack_sandbox() -> Iterator[SlackSandbox]:
    """A running sandbox with token SANDBOX_TOKEN and the team channel C0TEAM (#collections)."""
    with SlackSandbox(SANDBOX_TOKEN) as sandbox:
        sandbox.add_channel(TEAM_CHANNEL, "collections")
        yield sandbox


def fast_gateway(url: str, token: str = SANDBOX_TOKEN) -> SlackGateway:
    """A gateway whose backoff is milliseconds (429 still waits Retry-After)."""
    return SlackGateway(SecretStr(token), url, max_retries=3, backoff=0.005, timeout=10)


@pytest.fixture
def slack_gateway(slack_sandbox: SlackSandbox) -> SlackGateway:
    """A SlackGateway talking to `slack_sandbox`."""
    return fast_gateway(slack_sandbox.url)
