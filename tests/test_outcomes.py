"""Recording outcomes: one attempt per key (also under concurrency), promises, disputes, undo."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from bot.db import Database
from bot.db.models import (
    AuditEvent,
    ContactAttempt,
    Customer,
    Dispute,
    DisputeInvoice,
    Invoice,
    PromiseToPay,
)
from bot.domain.vocabulary import Outcome, PromiseStatus
from bot.services.accounts import undisputed_balance
from bot.services.errors import (
    AlreadyRecorded,
    InvalidInput,
    NotAllowed,
    NotFound,
    NotOnRoster,
    ServiceError,
)
from bot.services.outcomes import (
    DuplicateAttempt,
    RecordedAttempt,
    assign,
    record_outcome,
    snooze,
    undo_outcome,
)
from bot.views.modals import DisputeInput, PromiseInput
from tests.service_seed import NOW, Seed, day, seed


def _count(db: Database, model: type) -> int:
    with db.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(model)) or 0


def _record(db: Database, ids: Seed, actor: str = "UALICE", **kwargs: object) -> RecordedAttempt:
    kwargs.setdefault("customer_id", ids.acme_corp)
    kwargs.setdefault("outcome", Outcome.REACHED)
    kwargs.setdefault("source", "button")
    kwargs.setdefault("now", NOW)
    with db.uow() as uow:
        recorded = record_outcome(uow, actor_slack_id=actor, **kwargs)  # type: ignore[arg-type]
        uow.commit()
    return recorded


def test_a_click_records_one_attempt_and_its_audit(db: Database) -> None:
    ids = seed(db)
    recorded = _record(db, ids, idempotency_key="row:1:1", note="  spoke to AP  ")
    assert recorded.created and recorded.customer_name == "Acme Corp"
    with db.uow() as uow:
        attempt = uow.session.get_one(ContactAttempt, recorded.attempt_id)
        stored = (attempt.collector_id, attempt.outcome, attempt.source, attempt.note, attempt.at)
        assert stored == (ids.alice, Outcome.REACHED, "button", "spoke to AP", NOW)
        audit = uow.session.scalars(select(AuditEvent)).one()
        assert (audit.actor, audit.action, audit.entity, audit.entity_id) == (
            "UALICE", "attempt.recorded", "customer", str(ids.acme_corp))
        assert audit.detail is not None and audit.detail["attempt_id"] == recorded.attempt_id


def test_same_key_again_records_nothing_and_says_already_recorded(db: Database) -> None:
    ids = seed(db)
    first = _record(db, ids, idempotency_key="row:1:1")
    with pytest.raises(AlreadyRecorded, match="Undo to change it") as caught:
        _record(db, ids, idempotency_key="row:1:1", outcome=Outcome.NO_ANSWER)
    assert isinstance(caught.value, DuplicateAttempt)
    assert caught.value.existing.attempt_id == first.attempt_id
    assert caught.value.existing.outcome is Outcome.REACHED
    assert not caught.value.existing.created
    assert _count(db, ContactAttempt) == 1
    assert _count(db, AuditEvent) == 1


def test_concurrent_clicks_with_one_key_record_one_attempt(db: Database) -> None:
    ids = seed(db)
    results: list[str] = []
    barrier = threading.Barrier(6)

    def click(outcome: Outcome) -> None:
        barrier.wait()
        try:
            _record(db, ids, idempotency_key="row:7:7", outcome=outcome)
            results.append("created")
        except AlreadyRecorded:
            results.append("already")

    outcomes = [Outcome.REACHED, Outcome.NO_ANSWER, Outcome.PAID] * 2
    threads = [threading.Thread(target=click, args=(o,)) for o in outcomes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == ["already"] * 5 + ["created"]
    assert _count(db, ContactAttempt) == 1


def test_promise_creates_an_open_promise(db: Database) -> None:
    ids = seed(db)
    recorded = _record(db, ids, outcome=Outcome.PROMISE_TO_PAY, source="modal",
                       promise=PromiseInput(Decimal("400.00"), day(5)))
    with db.uow() as uow:
        promise = uow.session.get_one(PromiseToPay, recorded.promise_id)
        assert (promise.amount, promise.promised_date, promise.status, promise.attempt_id) == (
            Decimal("400.00"), day(5), PromiseStatus.OPEN, recorded.attempt_id)


@pytest.mark.parametrize(
    ("promise", "message"),
    [
        (PromiseInput(Decimal("5000.00"), day(5)),
         r"more than the balance not in dispute \(\$1,700\)"),
        (PromiseInput(Decimal("100.00"), day(-1)), "in the past"),
        (PromiseInput(Decimal("100.00"), day(400)), "within 30 days"),
        (PromiseInput(Decimal("0"), day(1)), "more than \\$0"),
    ],
)
def test_bad_promise_is_refused_and_nothing_written(
    db: Database, promise: PromiseInput, message: str
) -> None:
    ids = seed(db)
    with pytest.raises(InvalidInput, match=message):
        _record(db, ids, outcome=Outcome.PROMISE_TO_PAY, promise=promise)
    assert _count(db, ContactAttempt) == 0


def test_outcome_details_must_fit_the_outcome(db: Database) -> None:
    ids = seed(db)
    with pytest.raises(InvalidInput, match="needs an amount"):
        _record(db, ids, outcome=Outcome.PROMISE_TO_PAY)
    with pytest.raises(InvalidInput, match="needs a reason"):
        _record(db, ids, outcome=Outcome.DISPUTE)
    with pytest.raises(InvalidInput, match="Only a callback"):
        _record(db, ids, callback_at=NOW + timedelta(hours=2))
    with pytest.raises(InvalidInput, match="Write the note"):
        _record(db, ids, outcome=Outcome.NOTE, note="   ")
    assert _count(db, ContactAttempt) == 0


def test_callback_is_stored_on_the_attempt(db: Database) -> None:
    ids = seed(db)
    at = NOW + timedelta(days=1)
    recorded = _record(db, ids, outcome=Outcome.CALLBACK_REQUESTED, callback_at=at)
    with db.uow() as uow:
        assert uow.session.get_one(ContactAttempt, recorded.attempt_id).callback_at == at


def test_dispute_flags_its_invoices_and_undo_restores_them(db: Database) -> None:
    ids = seed(db)
    inv1, inv2, inv3 = ids.acme_invoices
    recorded = _record(db, ids, outcome=Outcome.DISPUTE, source="modal",
                       dispute=DisputeInput("pricing", (inv1,), "wrong rate"))
    with db.uow() as uow:
        s = uow.session
        assert s.get_one(Invoice, inv1).disputed and not s.get_one(Invoice, inv2).disputed
        dispute = s.get_one(Dispute, recorded.dispute_id)
        assert (dispute.reason, dispute.note, dispute.opened_by_id) == (
            "pricing", "wrong rate", ids.alice)
    # A second dispute without invoices covers every open invoice not yet disputed.
    second = _record(db, ids, outcome=Outcome.DISPUTE, dispute=DisputeInput("other", (), "x"))
    with db.uow() as uow:
        assert _count(db, DisputeInvoice) == 3
        undo_outcome(uow, actor_slack_id="UALICE", attempt_id=recorded.attempt_id,
                     now=NOW + timedelta(minutes=5))
        uow.commit()
    with db.uow() as uow:
        s = uow.session
        # inv1 is no longer disputed: the second dispute does not name it, so it is restored...
        assert not s.get_one(Invoice, inv1).disputed
        # ...while the second dispute's invoices stay flagged.
        assert s.get_one(Invoice, inv2).disputed and s.get_one(Invoice, inv3).disputed
        assert s.get(Dispute, recorded.dispute_id) is None
        assert s.get(Dispute, second.dispute_id) is not None
    assert _count(db, DisputeInvoice) == 2


def test_dispute_on_an_invoice_of_another_account_is_refused(db: Database) -> None:
    ids = seed(db)
    with db.uow() as uow:
        other = uow.session.scalars(select(Invoice).where(Invoice.number == "INV-B1")).one()
        other_id = other.id
    with pytest.raises(InvalidInput, match="not open on this account"):
        _record(db, ids, outcome=Outcome.DISPUTE, dispute=DisputeInput("pricing", (other_id,),
                                                                        None))
    assert _count(db, Dispute) == 0


def test_authorization_on_recording(db: Database) -> None:
    ids = seed(db)
    with pytest.raises(NotAllowed, match="Alice's account"):
        _record(db, ids, actor="UBOB")
    with pytest.raises(NotAllowed):
        _record(db, ids, actor="UMGR2")
    with pytest.raises(NotOnRoster, match="not on the collections roster"):
        _record(db, ids, actor="USTRANGER")
    with pytest.raises(NotFound):
        _record(db, ids, customer_id=999_999)
    assert _count(db, ContactAttempt) == 0
    assert _record(db, ids, actor="UMGR").created
    assert _record(db, ids, actor="UADMIN", customer_id=ids.gamma).created


def test_undo_removes_the_attempt_and_its_promise_and_frees_the_key(db: Database) -> None:
    ids = seed(db)
    recorded = _record(db, ids, outcome=Outcome.PROMISE_TO_PAY, idempotency_key="view:V1",
                       promise=PromiseInput(Decimal("100.00"), day(2)))
    with db.uow() as uow:
        result = undo_outcome(uow, actor_slack_id="UALICE", attempt_id=recorded.attempt_id,
                              now=NOW + timedelta(minutes=9, seconds=59))
        uow.commit()
    assert (result.promises_removed, result.idempotency_key) == (1, "view:V1")
    assert _count(db, ContactAttempt) == 0 and _count(db, PromiseToPay) == 0
    with db.uow() as uow:
        actions = uow.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert actions == ["attempt.recorded", "attempt.undone"]
    with db.uow() as uow, pytest.raises(NotFound, match="already undone"):
        undo_outcome(uow, actor_slack_id="UALICE", attempt_id=recorded.attempt_id, now=NOW)
    assert _record(db, ids, idempotency_key="view:V1").created


def test_undo_window_and_who_may_undo(db: Database) -> None:
    ids = seed(db)
    recorded = _record(db, ids)
    for actor, now, error in [
        ("UALICE", NOW + timedelta(minutes=10, seconds=1), "10 minutes"),
        ("UBOB", NOW, "Only the person who recorded it"),
        ("UMGR2", NOW, "Only the person who recorded it"),
    ]:
        with db.uow() as uow, pytest.raises(NotAllowed, match=error):
            undo_outcome(uow, actor_slack_id=actor, attempt_id=recorded.attempt_id, now=now)
    with db.uow() as uow:
        undo_outcome(uow, actor_slack_id="UMGR", attempt_id=recorded.attempt_id, now=NOW)
        uow.commit()
    assert _count(db, ContactAttempt) == 0


def test_snooze(db: Database) -> None:
    ids = seed(db)
    with db.uow() as uow:
        change = snooze(uow, actor_slack_id="UALICE", customer_id=ids.acme_corp, until=day(7),
                        now=NOW)
        uow.commit()
    assert change.snoozed_until == day(7)
    with db.uow() as uow:
        assert uow.session.get_one(Customer, ids.acme_corp).snoozed_until == day(7)
        for until, message in [(day(0), "after today"), (day(91), "at most 90")]:
            with pytest.raises(InvalidInput, match=message):
                snooze(uow, actor_slack_id="UALICE", customer_id=ids.acme_corp, until=until,
                       now=NOW)
        with pytest.raises(NotAllowed):
            snooze(uow, actor_slack_id="UBOB", customer_id=ids.acme_corp, until=day(3), now=NOW)


def test_assign(db: Database) -> None:
    ids = seed(db)
    with db.uow() as uow:
        change = assign(uow, actor_slack_id="UMGR", customer_id=ids.acme_corp,
                        collector_slack_id="UBOB", now=NOW)
        uow.commit()
    assert (change.previous_collector_name, change.collector_name) == ("Alice", "Bob")
    with db.uow() as uow:
        assert uow.session.get_one(Customer, ids.acme_corp).collector_id == ids.bob
        audit = uow.session.scalars(select(AuditEvent)).one()
        assert audit.action == "customer.assigned"
    cases: list[tuple[str, int, str, type[ServiceError], str]] = [
        ("UALICE", ids.acme_ltd, "UBOB", NotAllowed, "managers and admins"),
        ("UMGR", ids.gamma, "UBOB", NotAllowed, "Carol's account"),
        ("UMGR", ids.acme_ltd, "UCAROL", NotAllowed, "does not report to you"),
        ("UMGR", ids.acme_corp, "UBOB", InvalidInput, "already Bob's"),
    ]
    for actor, customer_id, target, error, message in cases:
        with db.uow() as uow, pytest.raises(error, match=message):
            assign(uow, actor_slack_id=actor, customer_id=customer_id,
                   collector_slack_id=target, now=NOW)
    with db.uow() as uow:
        assign(uow, actor_slack_id="UADMIN", customer_id=ids.unowned,
               collector_slack_id="UCAROL", now=NOW)
        uow.commit()
    with db.uow() as uow:
        assert uow.session.get_one(Customer, ids.unowned).collector_id == ids.carol


def test_a_promise_covers_only_what_is_not_in_dispute(db: Database) -> None:
    ids = seed(db)
    with db.uow() as uow:  # INV-1's $1,000 in dispute: $700 left to promise of the $1,700
        uow.session.get_one(Invoice, ids.acme_invoices[0]).disputed = True
        uow.commit()
    with pytest.raises(InvalidInput, match=r"\$700\.01 is more than the balance not in dispute "
                                           r"\(\$700\)"):
        _record(db, ids, outcome=Outcome.PROMISE_TO_PAY,
                promise=PromiseInput(Decimal("700.01"), day(5)))
    assert _count(db, ContactAttempt) == 0
    _record(db, ids, outcome=Outcome.PROMISE_TO_PAY,
            promise=PromiseInput(Decimal("700.00"), day(5)))
    with db.uow() as uow:
        assert undisputed_balance(uow.session, ids.acme_corp) == Decimal("700.00")
