"""app_home_opened over HTTP: collector, manager and stranger Homes; Slack's retries do nothing."""

from __future__ import annotations

from tests.e2e.conftest import ADMIN, ANA, E2E, MANAGER, STRANGER


def _open_home(e2e: E2E, user: str, **options: object) -> None:
    reply = e2e.sender.event({"type": "app_home_opened", "user": user, "tab": "home"}, **options)
    assert reply.status == 200
    e2e.settle()


def test_collector_home_shows_progress_and_the_list(e2e: E2E) -> None:
    _open_home(e2e, ANA)
    home = e2e.sandbox.home_view(ANA)
    assert home is not None
    text = str(home["blocks"])
    assert "0 of 10 calls" in text
    assert "Still to call" in text
    first = e2e.entries(ANA)[0]
    assert f"{first.call_list_id}:{first.customer_id}" in text  # the rows carry their buttons


def test_manager_and_admin_homes_show_the_team(e2e: E2E) -> None:
    _open_home(e2e, MANAGER)
    home = e2e.sandbox.home_view(MANAGER)
    assert home is not None
    text = str(home["blocks"])
    assert "<@U0ANA>" in text and "<@U0BEN>" in text and "<@U0CARL>" not in text
    assert "Open escalations (0)" in text
    _open_home(e2e, ADMIN)
    admin_home = e2e.sandbox.home_view(ADMIN)
    assert admin_home is not None and "<@U0CARL>" in str(admin_home["blocks"])


def test_stranger_home_says_how_to_get_on_the_roster(e2e: E2E) -> None:
    _open_home(e2e, STRANGER)
    home = e2e.sandbox.home_view(STRANGER)
    assert home is not None
    assert "collectbot import team" in str(home["blocks"])


def test_slack_retries_of_an_event_publish_once(e2e: E2E) -> None:
    _open_home(e2e, ANA, event_id="Ev0HOME1")
    for retry in (1, 2, 3):
        _open_home(e2e, ANA, event_id="Ev0HOME1", retry_num=retry)
    assert len(e2e.sandbox.calls_to("views.publish")) == 1
    _open_home(e2e, ANA, event_id="Ev0HOME2")
    assert len(e2e.sandbox.calls_to("views.publish")) == 2


def test_messages_tab_publishes_nothing(e2e: E2E) -> None:
    reply = e2e.sender.event({"type": "app_home_opened", "user": ANA, "tab": "messages"})
    assert reply.status == 200
    e2e.settle()
    assert e2e.sandbox.calls_to("views.publish") == []
