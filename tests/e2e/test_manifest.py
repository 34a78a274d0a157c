"""manifest.yml creates the app with every scope, command and event the code uses."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]

# The bot scope each Web API method the gateway calls needs (Slack's method reference).
METHOD_SCOPES = {
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.postEphemeral": "chat:write",
    "conversations.open": "im:write",
    "conversations.history": "im:history",
    "users.info": "users:read",
    "users.profile.get": "users.profile:read",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
}
# Methods Slack allows any bot token (views.* act on a trigger or the bot's own Home).
NO_SCOPE = {"auth.test", "views.open", "views.update", "views.publish"}


def _manifest() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_every_method_the_gateway_calls_has_its_scope() -> None:
    source = (ROOT / "bot" / "slack" / "client.py").read_text(encoding="utf-8")
    called = set(re.findall(r'_call\(\s*"([a-z]+\.[a-zA-Z.]+)"', source))
    called |= {"files.getUploadURLExternal", "files.completeUploadExternal"}  # files_upload_v2
    called -= NO_SCOPE
    assert called <= METHOD_SCOPES.keys(), called - METHOD_SCOPES.keys()
    scopes = set(_manifest()["oauth_config"]["scopes"]["bot"])
    missing = {METHOD_SCOPES[m] for m in called} - scopes
    assert not missing
    assert "commands" in scopes


def test_command_events_interactivity_and_home_point_at_slack_events() -> None:
    manifest = _manifest()
    features, settings = manifest["features"], manifest["settings"]
    [command] = features["slash_commands"]
    assert command["command"] == "/collect"
    assert command["should_escape"] is True  # mentions arrive as <@U123|name> for `assign`
    assert features["app_home"]["home_tab_enabled"] is True
    assert features["bot_user"]["display_name"]
    assert settings["event_subscriptions"]["bot_events"] == ["app_home_opened"]
    assert settings["interactivity"]["is_enabled"] is True
    for url in (
        command["url"],
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
    ):
        assert url.endswith("/slack/events")
