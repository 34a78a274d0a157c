"""Escalation messages and digests stay valid Block Kit within Slack's limits whatever the
ledger holds (long names, notes and reasons), and ledger text is escaped."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from bot.domain.aging import Bucket
from bot.domain.vocabulary import EscalationStatus, Outcome
from bot.slack.blockkit import validate_message
from bot.views.escalations import (
    AttemptSeen,
    DigestTotals,
    EscalationDetail,
    escalation_digest,
    escalation_message,
)

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
LONG = "Ünïcode <&> *bold* " * 200


def _detail(n: int = 1, **changes: object) -> EscalationDetail:
    detail = EscalationDetail(
        escalation_id=n, customer_name=LONG, external_ref="R" * 64, collector_name=LONG,
        collector_slack_id="not-an-id", reason=LONG[:500], opened_at=NOW,
        past_due=Decimal("123456789.01"), days_past_due=400,
        aging={b: Decimal("1000000.00") for b in Bucket}, days_since_contact=None,
        attempts=9999,
        last_attempts=tuple(AttemptSeen(NOW - timedelta(days=i), Outcome.NO_ANSWER, LONG, LONG)
                            for i in range(5)),
        promises_kept=3, promises_broken=7, zone=ZoneInfo("Asia/Tokyo"),
    )
    return replace(detail, **changes)  # type: ignore[arg-type]


def _mrkdwn(node: object) -> list[str]:
    """Every mrkdwn text object's text, anywhere in the blocks."""
    if isinstance(node, dict):
        found = [node["text"]] if node.get("type") == "mrkdwn" else []
        return found + [t for value in node.values() for t in _mrkdwn(value)]
    if isinstance(node, list):
        return [t for item in node for t in _mrkdwn(item)]
    return []


def test_worst_case_message_is_valid_and_escaped() -> None:
    message = escalation_message(_detail())
    assert validate_message(message.text, message.blocks) == []
    mrkdwn = " ".join(_mrkdwn(message.blocks))
    assert "<&>" not in mrkdwn and "&lt;&amp;&gt;" in mrkdwn
    assert "<&>" not in message.text
    assert "never contacted" in mrkdwn


def test_closed_message_says_why_and_drops_the_buttons() -> None:
    button = {"type": "actions", "elements": [{"type": "button", "action_id": "x",
                                               "text": {"type": "plain_text", "text": "Go"}}]}
    open_one = escalation_message(_detail(), actions=[button])
    assert button in open_one.blocks
    closed = escalation_message(
        _detail(status=EscalationStatus.CLOSED, close_reason="called <today>", closed_at=NOW),
        actions=[button])
    assert button not in closed.blocks
    assert "*Closed by itself* on Tue 24 Nov 00:00: called &lt;today&gt;" in str(closed.blocks)
    assert validate_message(closed.text, closed.blocks) == []


def test_worst_case_digest_is_valid() -> None:
    top = [_detail(n) for n in range(8)]
    message = escalation_digest(top, DigestTotals(count=5000, open_count=4999,
                                                  past_due=Decimal("999999999999.99")))
    assert validate_message(message.text, message.blocks) == []
    assert "…and 4992 more escalations" in " ".join(_mrkdwn(message.blocks))
