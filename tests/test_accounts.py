"""Account lookups: reference or name prefix, candidates when ambiguous, context and summary."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from bot.db import Database
from bot.db.models import ContactAttempt, Customer, Invoice, PromiseToPay
from bot.domain.aging import Bucket
from bot.domain.vocabulary import Outcome, PromiseStatus
from bot.services.accounts import (
    AmbiguousAccount,
    account_context,
    account_summary,
    find_accounts,
    resolve_account,
)
from bot.services.errors import InvalidInput, NotFound
from tests.service_seed import NOW, TODAY, day, seed


def test_reference_and_unambiguous_prefix_resolve(db: Database) -> None:
    ids = seed(db)
    with db.uow() as uow:
        s = uow.session
        assert resolve_account(s, "c-2001").id == ids.beta
        assert resolve_account(s, "beta").id == ids.beta
        assert resolve_account(s, "  ACME   corp ").id == ids.acme_corp
        assert resolve_account(s, "Unowned").id == ids.unowned


def test_ambiguous_prefix_lists_candidates(db: Database) -> None:
    seed(db)
    with db.uow() as uow:
        with pytest.raises(AmbiguousAccount) as caught:
            resolve_account(uow.session, "ac")
        assert [c.external_ref for c in caught.value.candidates] == ["C-1001", "C-1002"]
        assert "C-1001 · Acme Corp" in caught.value.message
        assert "C-1002 · Acme Ltd" in caught.value.message


def test_exact_name_wins_over_longer_names_and_candidates_are_capped(db: Database) -> None:
    seed(db)
    with db.uow() as uow:
        s = uow.session
        s.add_all(
            [Customer(external_ref=f"Z-{n:02}", name=f"Zeta {n:02}") for n in range(12)]
            + [Customer(external_ref="Z-XX", name="Zeta")]
        )
        s.flush()
        assert resolve_account(s, "zeta").external_ref == "Z-XX"
        with pytest.raises(AmbiguousAccount) as caught:
            resolve_account(s, "Zeta 0")
        assert caught.value.total == 10
        with pytest.raises(AmbiguousAccount) as caught:
            resolve_account(s, "Zet")
        assert caught.value.total == 13 and len(caught.value.candidates) == 10
        assert "…and 3 more" in caught.value.message


def test_like_wildcards_are_literal(db: Database) -> None:
    seed(db)
    with db.uow() as uow:
        with pytest.raises(NotFound, match="No account matches '%'"):
            resolve_account(uow.session, "%")
        with pytest.raises(NotFound):
            resolve_account(uow.session, "_cme")
        with pytest.raises(InvalidInput):
            resolve_account(uow.session, "   ")


def test_find_matches_name_or_reference_anywhere(db: Database) -> None:
    seed(db)
    with db.uow() as uow:
        found = find_accounts(uow.session, "L")
        assert [m.name for m in found] == ["Acme Ltd", "Beta LLC"]
        assert found[0].collector_name == "Alice"
        assert [m.name for m in find_accounts(uow.session, "4001")] == ["Unowned Inc"]
        assert find_accounts(uow.session, "nothing like this") == []


def test_account_context_for_the_modals(db: Database) -> None:
    ids = seed(db)
    with db.uow() as uow:
        context = account_context(uow.session, ids.acme_corp, today=TODAY)
        assert context.name == "Acme Corp"
        assert context.past_due == Decimal("1400.00")
        assert context.undisputed_balance == Decimal("1700.00")
        assert [(i.number, i.balance) for i in context.open_invoices] == [
            ("INV-1", Decimal("1000.00")), ("INV-2", Decimal("400.00")),
            ("INV-3", Decimal("300.00"))]
        assert context.promise_horizon_days > 0
        uow.session.get_one(Invoice, ids.acme_invoices[0]).disputed = True
        uow.session.flush()
        context = account_context(uow.session, ids.acme_corp, today=TODAY)
        assert context.past_due == Decimal("400.00")
        assert [i.number for i in context.open_invoices] == ["INV-2", "INV-3"]
        with pytest.raises(NotFound):
            account_context(uow.session, 999_999, today=TODAY)


def test_account_summary(db: Database) -> None:
    ids = seed(db)
    with db.uow() as uow:
        s = uow.session
        for n in range(12):
            s.add(ContactAttempt(customer_id=ids.acme_corp, collector_id=ids.alice,
                                 at=NOW - timedelta(days=n), outcome=Outcome.NO_ANSWER,
                                 source="command", note=f"try {n}"))
        s.add(PromiseToPay(customer_id=ids.acme_corp, collector_id=ids.alice,
                           amount=Decimal("200.00"), promised_date=day(3)))
        s.add(PromiseToPay(customer_id=ids.acme_corp, collector_id=ids.alice,
                           amount=Decimal("50.00"), promised_date=day(-3),
                           status=PromiseStatus.BROKEN))
        s.get_one(Invoice, ids.acme_invoices[1]).disputed = True
        s.flush()
        summary = account_summary(s, ids.acme_corp, today=TODAY)
        assert summary.open_balance == Decimal("1700.00")
        assert summary.past_due == Decimal("1000.00")
        assert summary.disputed == Decimal("400.00")
        assert summary.days_past_due == 60
        assert summary.aging[Bucket.DAYS_31_60] == Decimal("1000.00")
        assert summary.aging[Bucket.DAYS_1_30] == Decimal("400.00")
        assert summary.aging[Bucket.CURRENT] == Decimal("300.00")
        assert [p.amount for p in summary.open_promises] == [Decimal("200.00")]
        assert len(summary.recent_attempts) == 10
        assert [a.note for a in summary.recent_attempts[:2]] == ["try 0", "try 1"]
        assert summary.recent_attempts[0].collector_name == "Alice"
