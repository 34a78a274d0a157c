"""The promises job: broken when the date passed unpaid, idempotent, and broken tops the list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from bot.db import Database
from bot.db.models import AuditEvent, Customer, Payment, PromiseToPay
from bot.domain.accounts import AccountState, PromiseState
from bot.domain.likelihood import default_curve
from bot.domain.policy import default_policy
from bot.domain.priority import build_call_list
from bot.domain.vocabulary import CustomerStatus, PromiseStatus
from bot.importer import import_file
from bot.services.promises import run_promises_job
from tests.service_seed import NOW, TODAY, day, seed

MADE = NOW - timedelta(days=5)


def _promise(db: Database, customer_id: int, collector_id: int, amount: str,
             promised: int, *, made: datetime = MADE) -> int:
    with db.uow() as uow:
        row = PromiseToPay(customer_id=customer_id, collector_id=collector_id,
                           amount=Decimal(amount), promised_date=day(promised), created_at=made)
        uow.session.add(row)
        uow.session.flush()
        uow.commit()
        return row.id


def _pay(db: Database, customer_id: int, ref: str, amount: str, paid: int) -> None:
    with db.uow() as uow:
        uow.session.add(Payment(external_ref=ref, customer_id=customer_id,
                                amount=Decimal(amount), paid_on=day(paid)))
        uow.commit()


def _statuses(db: Database) -> dict[int, tuple[PromiseStatus, Decimal]]:
    with db.uow() as uow:
        return {p.id: (p.status, p.amount_received)
                for p in uow.session.scalars(select(PromiseToPay))}


def test_job_marks_broken_kept_and_partial_once(db: Database) -> None:
    ids = seed(db)
    broken = _promise(db, ids.acme_corp, ids.alice, "500.00", -1)
    due_today = _promise(db, ids.acme_ltd, ids.alice, "100.00", 0)
    kept = _promise(db, ids.beta, ids.bob, "200.00", -2)
    partial = _promise(db, ids.gamma, ids.carol, "300.00", -2)
    _pay(db, ids.beta, "P-1", "200.00", -3)
    _pay(db, ids.gamma, "P-2", "50.00", -2)
    _pay(db, ids.acme_corp, "P-3", "500.00", -10)  # before the promise was made: not toward it
    result = run_promises_job(db, now=NOW, default_tz="UTC")
    assert (result.checked, result.broken, result.kept, result.partially_kept) == (4, 1, 1, 1)
    statuses = _statuses(db)
    assert statuses[broken] == (PromiseStatus.BROKEN, Decimal("0.00"))
    assert statuses[due_today][0] is PromiseStatus.OPEN
    assert statuses[kept] == (PromiseStatus.KEPT, Decimal("200.00"))
    assert statuses[partial] == (PromiseStatus.PARTIALLY_KEPT, Decimal("50.00"))
    with db.uow() as uow:
        row = uow.session.get_one(PromiseToPay, broken)
        assert row.resolved_on == TODAY  # it broke today: the day after its date
        audit = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "promise.broken")).one()
        assert (audit.actor, audit.entity_id) == ("scheduler", str(broken))

    again = run_promises_job(db, now=NOW, default_tz="UTC")
    assert (again.broken, again.kept, again.partially_kept) == (0, 0, 0)
    assert _statuses(db) == statuses
    # The next day, the promise due today breaks too.
    later = run_promises_job(db, now=NOW + timedelta(days=1), default_tz="UTC")
    assert later.broken == 1
    assert _statuses(db)[due_today][0] is PromiseStatus.BROKEN


def test_promise_is_judged_on_the_collectors_local_day(db: Database) -> None:
    ids = seed(db)
    # Bob works in Los Angeles: at 03:00 UTC on the 24th it is still the 23rd there.
    promise = _promise(db, ids.beta, ids.bob, "100.00", 0)
    early = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
    assert run_promises_job(db, now=early, default_tz="UTC").broken == 0
    assert run_promises_job(db, now=early + timedelta(hours=6), default_tz="UTC").broken == 1
    assert _statuses(db)[promise][0] is PromiseStatus.BROKEN


def test_the_import_and_the_job_read_a_late_evening_promise_alike(
    db: Database, tmp_path: Path
) -> None:
    """A promise Bob took at 22:30 in Los Angeles (06:30 UTC the next day) was made on his
    local day: a payment that day counts toward it, one the day before does not, whether the
    import or the promises job judges it."""
    ids = seed(db)
    with db.uow() as uow:  # Unowned Inc becomes Bob's too, for the import's half
        uow.session.execute(
            update(Customer).where(Customer.id == ids.unowned).values(collector_id=ids.bob))
        uow.commit()
    late_evening = datetime(2026, 11, 20, 22, 30, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert late_evening.astimezone(UTC).date() == day(-2)  # the UTC date is the next one
    by_job = _promise(db, ids.beta, ids.bob, "100.00", -1, made=late_evening)
    by_import = _promise(db, ids.unowned, ids.bob, "100.00", -1, made=late_evening)
    _pay(db, ids.beta, "J-1", "100.00", -4)  # the day before the promise: not toward it
    _pay(db, ids.beta, "J-2", "40.00", -3)  # the evening's own day: toward it
    payments = tmp_path / "payments.csv"
    payments.write_text("external_ref,customer_ref,amount,paid_on\n"
                        f"I-1,C-4001,100.00,{day(-4)}\nI-2,C-4001,40.00,{day(-3)}\n",
                        encoding="utf-8")
    report = import_file(db, "payments", payments, today=TODAY, default_tz="UTC", assign=False)
    assert report.committed, report.render()
    assert (report.promises_kept, report.promises_partially_kept) == (0, 1)
    # The job then judges the one it has not seen (the import's is no longer open).
    assert run_promises_job(db, now=NOW, default_tz="UTC").partially_kept == 1
    statuses = _statuses(db)
    assert statuses[by_job] == statuses[by_import] == (
        PromiseStatus.PARTIALLY_KEPT, Decimal("40.00"))


def _state(customer_id: int, past_due: str, **extra: object) -> AccountState:
    return AccountState(
        customer_id=customer_id, external_ref=f"C-{customer_id}", name=f"Customer {customer_id}",
        tier="standard", status=CustomerStatus.ACTIVE, collector_id=1,
        past_due=Decimal(past_due), disputed=Decimal(0),
        oldest_due=TODAY - timedelta(days=45), **extra,  # type: ignore[arg-type]
    )


def test_a_broken_promise_tops_the_next_list_among_accounts_not_due_today(db: Database) -> None:
    ids = seed(db)
    promise_id = _promise(db, ids.acme_corp, ids.alice, "500.00", -1)
    run_promises_job(db, now=NOW, default_tz="UTC")
    with db.uow() as uow:
        row = uow.session.get_one(PromiseToPay, promise_id)
        assert row.status is PromiseStatus.BROKEN
        broken = PromiseState(row.amount, row.promised_date, broken_on=row.resolved_on)
    tomorrow = TODAY + timedelta(days=1)
    accounts = [
        _state(1, "90000.00"),  # far bigger balance, never contacted
        _state(2, "50000.00", last_attempt_at=NOW - timedelta(days=60)),
        _state(3, "1000.00", broken_promise=broken, last_attempt_at=NOW - timedelta(days=6)),
        _state(4, "800.00", open_promise=PromiseState(Decimal("100"), tomorrow)),  # due today
    ]
    policy = default_policy()
    result = build_call_list(
        accounts, policy, default_curve(policy.likelihood), today=tomorrow,
        now=NOW + timedelta(days=1), tz=ZoneInfo("UTC"), target=10,
    )
    order = [item.customer_id for item in result.items]
    assert order[:2] == [4, 3]
    assert "broken" in result.items[1].reason
