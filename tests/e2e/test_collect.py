"""/collect through signed HTTP (and Socket Mode where marked): every subcommand, answered.

The parser is tested exhaustively in tests/test_collect_command.py; this proves the wiring: the
ack is immediate and empty, the answer goes to the command's response_url, writes land.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.db.models import Customer, PromiseToPay
from bot.domain.vocabulary import Outcome
from tests.e2e.conftest import ANA, BEN, E2E, MANAGER, STRANGER, over_both_transports


def _collect(e2e: E2E, user: str, text: str) -> dict[str, Any]:
    reply, url = e2e.sender.command(user, text)
    assert reply.status == 200
    assert reply.body == b""
    e2e.settle()
    [answer] = e2e.sandbox.responses(url)
    assert answer["response_type"] == "ephemeral"
    assert "Traceback" not in answer["text"]
    return answer


def _ref(e2e: E2E, user: str, index: int = 0) -> str:
    entry = e2e.entries(user)[index]
    with e2e.database.uow() as uow:
        customer = uow.session.get(Customer, entry.customer_id)
        assert customer is not None
        return customer.external_ref


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("help", "subcommands"),
        ("", "subcommands"),
        ("help promise", "Usage: `/collect promise ACCOUNT AMOUNT DATE`"),
        ("frobnicate", "Unknown subcommand 'frobnicate'"),
        ("log", "Usage: `/collect log ACCOUNT OUTCOME [note]`"),
        ("log C0001", "Usage: `/collect log"),
        ("log C0001 danced", "Usage: `/collect log"),
        ("promise C0001 lots friday", "Usage: `/collect promise"),
        ("promise C0001 100", "Usage: `/collect promise"),
        ("dispute", "Usage: `/collect dispute"),
        ("note C0001", "Usage: `/collect note"),
        ("find", "Usage: `/collect find"),
        ("account", "Usage: `/collect account"),
        ("account NOPE-999", "NOPE-999"),
        ("stats extra", "Usage: `/collect stats`"),
        ("list extra", "Usage: `/collect list`"),
    ],
)
def test_help_and_bad_arguments_get_usage(e2e: E2E, text: str, expected: str) -> None:
    answer = _collect(e2e, ANA, text)
    assert expected in answer["text"]
    e2e.settle()
    assert e2e.attempts() == []


@over_both_transports
def test_log_promise_dispute_note_write_through(e2e: E2E) -> None:
    first, second, third, fourth = (_ref(e2e, ANA, i) for i in range(4))
    logged = _collect(e2e, ANA, f"log {first} reached spoke to AP")
    assert "reached" in logged["text"].lower(), logged["text"]
    _collect(e2e, ANA, f"promise {second} $300 2026-03-20")
    _collect(e2e, ANA, f"dispute {third} pricing wrong unit rate")
    _collect(e2e, ANA, f"note {fourth} asked for a statement")
    outcomes = sorted(a.outcome.value for a in e2e.attempts())
    assert outcomes == sorted(
        [Outcome.REACHED, Outcome.PROMISE_TO_PAY, Outcome.DISPUTE, Outcome.NOTE]
    )
    assert all(a.source == "command" and a.idempotency_key is None for a in e2e.attempts())
    with e2e.database.uow() as uow:
        [promise] = uow.session.scalars(select(PromiseToPay)).all()
        assert str(promise.amount) == "300.00"


@over_both_transports
def test_list_find_account_stats(e2e: E2E) -> None:
    ref = _ref(e2e, ANA)
    listed = _collect(e2e, ANA, "list")
    assert listed.get("blocks"), listed
    assert ref in str(listed["blocks"])
    found = _collect(e2e, ANA, "find ana account")
    assert ref in found["text"]
    account = _collect(e2e, ANA, f"account {ref}")
    assert ref in account["text"]
    stats = _collect(e2e, ANA, "stats")
    assert stats["text"].startswith("*Today* ░░░░░░░░░░ 0 of 10 calls · 0 reached · 0 promises")


@over_both_transports
def test_answers_stay_out_of_the_debug_log(
    e2e: E2E, caplog: pytest.LogCaptureFixture
) -> None:
    # `collectbot -v` puts the root logger at DEBUG; respond()'s WebhookClient must not log
    # the answer (customer data) nor the response_url it posts to.
    caplog.set_level(logging.DEBUG)
    ref = _ref(e2e, ANA)
    reply, url = e2e.sender.command(ANA, f"account {ref}")
    assert reply.status == 200
    e2e.settle()
    [answer] = e2e.sandbox.responses(url)
    assert ref in answer["text"]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert url not in logged
    assert answer["text"] not in logged


def test_a_collector_cannot_log_on_someone_elses_account(e2e: E2E) -> None:
    answer = _collect(e2e, BEN, f"log {_ref(e2e, ANA)} reached")
    assert "Ana Alvarez" in answer["text"]
    assert e2e.attempts() == []


def test_manager_subcommands(e2e: E2E) -> None:
    ref = _ref(e2e, ANA)
    refused = _collect(e2e, ANA, f"assign {ref} <@{BEN}|ben>")
    assert "managers" in refused["text"]
    team = _collect(e2e, MANAGER, "team")
    assert f"<@{ANA}>" in team["text"] and f"<@{BEN}>" in team["text"]
    assert "U0CARL" not in team["text"]  # Carl reports to another manager
    escalations = _collect(e2e, MANAGER, "escalations")
    assert escalations["text"] == "No open escalations."
    _collect(e2e, MANAGER, f"assign {ref} <@{BEN}|ben>")
    with e2e.database.uow() as uow:
        customer = uow.session.scalar(select(Customer).where(Customer.external_ref == ref))
        assert customer is not None
        assert customer.collector_id == e2e.members[BEN]
    # The manager can also record on the account now that it is Ben's (he reports to her).
    _collect(e2e, MANAGER, f"log {ref} voicemail")
    assert [a.outcome for a in e2e.attempts()] == [Outcome.LEFT_VOICEMAIL]


def test_someone_not_on_the_roster_is_told_so(e2e: E2E) -> None:
    answer = _collect(e2e, STRANGER, f"log {_ref(e2e, ANA)} reached")
    assert "not on the collections roster" in answer["text"]
    assert e2e.attempts() == []


@over_both_transports
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    text=st.one_of(
        st.text(max_size=80),
        st.builds(
            " ".join,
            st.lists(
                st.sampled_from(
                    ["log", "promise", "dispute", "note", "find", "account", "assign", "C0001",
                     "reached", "$1,200", "tomorrow", "+3", '"Ana', "<@U0BEN|ben>", "&amp;",
                     "-1", "99999999999999999999", "\x00", "🙂"]
                ),
                max_size=5,
            ),
        ),
    )
)
def test_arbitrary_command_text_always_gets_one_answer(e2e: E2E, text: str) -> None:
    answer = _collect(e2e, ANA, text)
    assert answer["text"].strip()
    assert "Something went wrong" not in answer["text"]
