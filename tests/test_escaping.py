"""Ledger text never turns into a link or a mention: every reply, refusal and confirmation escapes
it with the one escaping function, and echoed user input comes back cut short."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from bot.db import Database
from bot.db.models import Customer, Invoice
from bot.domain.vocabulary import Outcome
from bot.services.errors import AlreadyRecorded
from bot.services.outcomes import record_outcome
from bot.views.modals import CallbackInput, DisputeInput, NoteInput, PromiseInput
from bot.views.replies import saved_form_text, snoozed_text
from handlers.commands.collect import run_collect
from tests.service_seed import NOW, TODAY, seed

LINK = "0558 <https://evil.example|click>"
HERE = "<!here>"
CHANNEL = "0558 <!channel> two"


def _unsafe(text: str) -> list[str]:
    """Raw markup from the hostile names that would render as a link or a mention."""
    return [bit for bit in ("<https://evil", "<!here>", "<!channel>", "|click>") if bit in text]


@pytest.fixture
def hostile(db: Database) -> Database:
    ids = seed(db)
    with db.uow() as uow:
        for ref, name in (("C-EVIL1", LINK), ("C-EVIL2", HERE), ("C-EVIL3", CHANNEL)):
            customer = Customer(external_ref=ref, name=name, collector_id=ids.alice)
            uow.session.add(customer)
            uow.session.flush()
            uow.session.add(Invoice(
                number=f"INV-{ref}", customer_id=customer.id,
                issue_date=TODAY - timedelta(days=60), due_date=TODAY - timedelta(days=30),
                amount=Decimal("500.00")))
        uow.commit()
    return db


def _run(db: Database, text: str, user: str = "UALICE") -> str:
    return run_collect(db, user_id=user, text=text, now=NOW, default_tz="UTC").text


@pytest.mark.parametrize(
    ("text", "user", "expected"),
    [
        ("log C-EVIL1 vm", "UALICE", "Recorded *Left voicemail* on"),
        ("note C-EVIL2 called", "UALICE", "Noted on"),
        ("promise C-EVIL1 100 +3", "UALICE", "Recorded a promise of $100"),
        ("dispute C-EVIL2 pricing", "UALICE", "Opened a dispute (Pricing)"),
        ("account C-EVIL1", "UALICE", "Open $500"),
        ("find 0558", "UALICE", "C-EVIL3"),
        ("find here", "UALICE", "C-EVIL2"),
        ("log 0558 vm", "UALICE", "matches 2 accounts"),  # the ambiguous-account list
        ("log C-EVIL1 vm", "UBOB", "is Alice's account"),  # a refusal naming the account
        ("assign C-EVIL2 <@UALICE>", "UMGR", "already Alice's account"),
    ],
)
def test_hostile_names_are_escaped_in_replies_and_refusals(
    hostile: Database, text: str, user: str, expected: str
) -> None:
    reply = _run(hostile, text, user)
    assert expected in reply
    assert _unsafe(reply) == []
    assert "&lt;" in reply and "&gt;" in reply  # the name is there, as text


def test_already_recorded_escapes_the_name(hostile: Database) -> None:
    with hostile.uow() as uow:
        evil = uow.session.query(Customer).filter_by(external_ref="C-EVIL1").one()
        for _ in range(2):
            try:
                record_outcome(uow, actor_slack_id="UALICE", customer_id=evil.id,
                               outcome=Outcome.REACHED, source="button", now=NOW,
                               idempotency_key="row:1:1")
            except AlreadyRecorded as error:
                message = error.message
    assert "Already recorded for 0558 &lt;https://evil.example|click&gt;" in message
    assert _unsafe(message) == []


@pytest.mark.parametrize(
    "details",
    [
        PromiseInput(Decimal("10.00"), TODAY),
        DisputeInput("pricing", (1,), None),
        CallbackInput(NOW),
        NoteInput("x"),
    ],
)
def test_form_confirmations_escape_the_name(details: object) -> None:
    for name in (LINK, HERE):
        assert _unsafe(saved_form_text(name, details)) == []  # type: ignore[arg-type]
        assert _unsafe(snoozed_text(name, TODAY)) == []


def test_echoed_input_is_escaped_and_cut(hostile: Database) -> None:
    long = "<!here>" + "x" * 500
    for text in (f"find {long}", f"log {long} vm", f"account {long}"):
        reply = _run(hostile, text)
        assert _unsafe(reply) == [], text
        assert len(reply) < 400, text
