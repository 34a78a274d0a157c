"""Both app manifests create the app with every command, event, action, view and scope it uses.

Nothing here is a list of what the code does: the listeners are read from a real Bolt app that
`register_handlers` filled, the scopes from the gateway's METHOD_SCOPES and the methods its
source calls, and the ids the views emit from the constants in bot/views (action ids are named
ACTION_*, modal callback ids CALLBACK_*_MODAL). A listener, method or id added anywhere shows
up here.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from slack_bolt import App
from slack_sdk import WebClient

import bot.views
from bot.db import Database
from bot.settings import load_settings
from bot.slack.client import METHOD_SCOPES, SlackGateway
from handlers import register_handlers
from handlers.context import HandlerContext
from handlers.fallback import ANY

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ("manifest.yml", "manifest.socket.yml")
# slack_sdk helpers the gateway calls directly, and the Web API methods each one calls.
SDK_HELPERS = {"files_upload_v2": ("files.getUploadURLExternal", "files.completeUploadExternal")}
# The bot scope each event subscription needs (Slack's event reference); none for App Home.
EVENT_SCOPES: dict[str, tuple[str, ...]] = {
    "app_home_opened": (),
    "app_mention": ("app_mentions:read",),
    "message.im": ("im:history",),
    "message.channels": ("channels:history",),
    "member_joined_channel": ("channels:read",),
}
KINDS = ("command", "action", "view", "view_submission", "view_closed", "event", "options",
         "shortcut", "message")


class RecordingApp(App):  # type: ignore[misc]
    """A real Bolt app that also remembers what each listener was registered for."""

    def __init__(self) -> None:
        super().__init__(signing_secret="manifest-test", client=WebClient(token="xoxb-test"),
                         token_verification_enabled=False)
        self.registered: list[tuple[str, Any]] = []


def _recording(kind: str) -> Any:
    def register(self: RecordingApp, constraints: Any, *args: Any, **kwargs: Any) -> Any:
        self.registered.append((kind, constraints))
        return getattr(App, kind)(self, constraints, *args, **kwargs)

    return register


for _kind in KINDS:
    setattr(RecordingApp, _kind, _recording(_kind))


@pytest.fixture(scope="module")
def listeners() -> list[tuple[str, Any]]:
    """(kind, constraint) of every listener but the catch-all fallback."""
    app = RecordingApp()
    settings = load_settings(SLACK_API_URL="http://127.0.0.1:9/api/")
    gateway = SlackGateway(load_settings(SLACK_BOT_TOKEN="xoxb-test").slack_bot_token,  # type: ignore[arg-type]
                           settings.slack_api_url)
    database = Database("sqlite://")
    context = HandlerContext(settings=settings, database=database, gateway=gateway,
                             defer=lambda task: None, defer_urgent=lambda task: None)
    register_handlers(app, context)
    database.dispose()
    assert len(app._listeners) >= len(app.registered)  # every registration reached Bolt
    return [(kind, c) for kind, c in app.registered if c is not ANY]


def _manifest(name: str) -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _of(listeners: list[tuple[str, Any]], *kinds: str) -> list[Any]:
    return [constraint for kind, constraint in listeners if kind in kinds]


def _handled(constraints: list[Any], value: str) -> bool:
    for constraint in constraints:
        if isinstance(constraint, str) and constraint == value:
            return True
        if isinstance(constraint, re.Pattern) and constraint.search(value):
            return True
        if isinstance(constraint, dict) and value in constraint.values():
            return True
    return False


def _gateway_methods() -> set[str]:
    source = (ROOT / "bot" / "slack" / "client.py").read_text(encoding="utf-8")
    called = set(re.findall(r'_call\(\s*"([a-z]+\.[a-zA-Z.]+)"', source))
    for helper in set(re.findall(r"self\._client\.([a-z_0-9]+)\(", source)) - {"api_call"}:
        assert helper in SDK_HELPERS, f"gateway calls slack_sdk's {helper}: map its methods"
        called |= set(SDK_HELPERS[helper])
    return called


def _view_constants(pattern: str) -> dict[str, str]:
    """Every string constant of every bot.views module whose name matches, by name."""
    found: dict[str, str] = {}
    for info in pkgutil.iter_modules(bot.views.__path__, "bot.views."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if re.fullmatch(pattern, name) and isinstance(value, str):
                found[f"{info.name}.{name}"] = value
    return found


def test_the_gateway_knows_the_scope_of_every_method_it_calls() -> None:
    missing = _gateway_methods() - METHOD_SCOPES.keys()
    assert not missing, f"add these methods to METHOD_SCOPES in bot/slack/client.py: {missing}"


@pytest.mark.parametrize("name", MANIFESTS)
def test_every_scope_the_code_needs_is_requested(
    name: str, listeners: list[tuple[str, Any]]
) -> None:
    scopes = set(_manifest(name)["oauth_config"]["scopes"]["bot"])
    needed = {scope for method in _gateway_methods() for scope in METHOD_SCOPES[method]}
    if _of(listeners, "command"):
        needed.add("commands")
    for event in _of(listeners, "event"):
        assert event in EVENT_SCOPES, f"event {event!r}: add its scopes to EVENT_SCOPES"
        needed |= set(EVENT_SCOPES[event])
    assert needed - scopes == set(), f"{name} lacks scopes"
    # ... and nothing the code does not use: a scope is a permission an admin must approve.
    assert scopes - needed == set(), f"{name} asks for scopes no code uses"


@pytest.mark.parametrize("name", MANIFESTS)
def test_commands_and_events_match_the_listeners(
    name: str, listeners: list[tuple[str, Any]]
) -> None:
    manifest = _manifest(name)
    features, settings = manifest["features"], manifest["settings"]
    declared = {c["command"] for c in features.get("slash_commands", [])}
    assert declared == set(_of(listeners, "command"))
    for command in features["slash_commands"]:
        assert command["should_escape"] is True  # mentions arrive as <@U123|name> for `assign`
    events = set(settings["event_subscriptions"]["bot_events"])
    assert events == {e for e in _of(listeners, "event") if isinstance(e, str)}
    assert features["app_home"]["home_tab_enabled"] is ("app_home_opened" in events)
    assert features["bot_user"]["display_name"]
    shortcuts = {s["callback_id"] for s in features.get("shortcuts", [])}
    assert shortcuts == set(_of(listeners, "shortcut"))


@pytest.mark.parametrize("name", MANIFESTS)
def test_interactivity_is_on_for_actions_views_and_options(
    name: str, listeners: list[tuple[str, Any]]
) -> None:
    interactivity = _manifest(name)["settings"]["interactivity"]
    assert _of(listeners, "action", "view", "view_submission")
    assert interactivity["is_enabled"] is True
    if _of(listeners, "options"):
        assert "message_menu_options_url" in interactivity or name == "manifest.socket.yml"


def test_every_action_and_modal_the_views_emit_has_its_listener(
    listeners: list[tuple[str, Any]]
) -> None:
    actions = _view_constants(r"ACTION_\w+")
    callbacks = _view_constants(r"CALLBACK_\w+_MODAL")
    assert actions and callbacks
    unhandled = {name: value for name, value in actions.items()
                 if not _handled(_of(listeners, "action"), value)}
    assert unhandled == {}, "buttons no listener takes (only the fallback would ack them)"
    unhandled = {name: value for name, value in callbacks.items()
                 if not _handled(_of(listeners, "view", "view_submission"), value)}
    assert unhandled == {}, "modals no listener takes"


def test_http_points_everything_at_slack_events_and_socket_mode_at_nothing() -> None:
    http, socket = _manifest("manifest.yml"), _manifest("manifest.socket.yml")
    urls = [c["url"] for c in http["features"]["slash_commands"]]
    urls += [http["settings"]["event_subscriptions"]["request_url"],
             http["settings"]["interactivity"]["request_url"]]
    assert all(url.endswith("/slack/events") for url in urls)
    assert http["settings"]["socket_mode_enabled"] is False
    assert socket["settings"]["socket_mode_enabled"] is True
    assert "/slack/events" not in (ROOT / "manifest.socket.yml").read_text(encoding="utf-8")


def test_the_two_manifests_differ_only_in_transport() -> None:
    def without_transport(manifest: dict[str, Any]) -> dict[str, Any]:
        for command in manifest["features"]["slash_commands"]:
            command.pop("url", None)
        manifest["settings"]["event_subscriptions"].pop("request_url", None)
        manifest["settings"]["interactivity"].pop("request_url", None)
        manifest["settings"].pop("socket_mode_enabled")
        return manifest

    assert without_transport(_manifest("manifest.yml")) == without_transport(
        _manifest("manifest.socket.yml"))
