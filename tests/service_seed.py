"""A small roster and ledger for the service tests: who is who, and a few accounts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from bot.db import Database
from bot.db.models import Customer, Invoice, Payment, PaymentAllocation, TeamMember
from bot.domain.vocabulary import Role

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # a Monday
TODAY = NOW.date()


@dataclass(frozen=True)
class Seed:
    """Ids of the seeded rows, by role in the tests."""

    admin: int
    manager: int
    other_manager: int
    alice: int  # collector reporting to manager
    bob: int  # collector reporting to manager
    carol: int  # collector reporting to other_manager
    acme_corp: int  # alice's
    acme_ltd: int  # alice's
    beta: int  # bob's
    gamma: int  # carol's
    unowned: int  # nobody's
    acme_invoices: tuple[int, int, int]  # 60 days late, 10 days late, not yet due


def _member(slack_id: str, name: str, role: Role, manager: TeamMember | None = None,
            **extra: object) -> TeamMember:
    return TeamMember(slack_user_id=slack_id, name=name, role=role,
                      manager_id=manager.id if manager else None, **extra)


def seed(db: Database) -> Seed:
    """Admin, two managers, three collectors, five customers, three invoices on Acme Corp
    (INV-2 partly paid: a payment allocated to it)."""
    with db.uow() as uow:
        s = uow.session
        admin = _member("UADMIN", "Ada Admin", Role.ADMIN)
        manager = _member("UMGR", "Max Manager", Role.MANAGER)
        other = _member("UMGR2", "Olga Manager", Role.MANAGER)
        s.add_all([admin, manager, other])
        s.flush()
        alice = _member("UALICE", "Alice", Role.COLLECTOR, manager, daily_call_target=10)
        bob = _member("UBOB", "Bob", Role.COLLECTOR, manager, timezone="America/Los_Angeles")
        carol = _member("UCAROL", "Carol", Role.COLLECTOR, other)
        s.add_all([alice, bob, carol])
        s.flush()
        customers = [
            Customer(external_ref="C-1001", name="Acme Corp", collector_id=alice.id),
            Customer(external_ref="C-1002", name="Acme Ltd", collector_id=alice.id),
            Customer(external_ref="C-2001", name="Beta LLC", collector_id=bob.id),
            Customer(external_ref="C-3001", name="Gamma", collector_id=carol.id),
            Customer(external_ref="C-4001", name="Unowned Inc", collector_id=None),
        ]
        s.add_all(customers)
        s.flush()
        acme = customers[0].id
        invoices = [
            Invoice(number="INV-1", customer_id=acme, issue_date=TODAY - timedelta(days=90),
                    due_date=TODAY - timedelta(days=60), amount=Decimal("1000.00")),
            Invoice(number="INV-2", customer_id=acme, issue_date=TODAY - timedelta(days=40),
                    due_date=TODAY - timedelta(days=10), amount=Decimal("500.00"),
                    amount_paid=Decimal("100.00")),
            Invoice(number="INV-3", customer_id=acme, issue_date=TODAY,
                    due_date=TODAY + timedelta(days=30), amount=Decimal("300.00")),
            Invoice(number="INV-B1", customer_id=customers[2].id,
                    issue_date=TODAY - timedelta(days=50), due_date=TODAY - timedelta(days=20),
                    amount=Decimal("2500.00")),
        ]
        s.add_all(invoices)
        s.flush()
        # INV-2's 100.00 paid: a payment and its allocation (amount_paid is their sum).
        paid = Payment(external_ref="P-INV-2", customer_id=acme, invoice_id=invoices[1].id,
                       amount=Decimal("100.00"), paid_on=TODAY - timedelta(days=20))
        s.add(paid)
        s.flush()
        s.add(PaymentAllocation(payment_id=paid.id, invoice_id=invoices[1].id,
                                amount=paid.amount, applied_on=paid.paid_on))
        result = Seed(
            admin.id, manager.id, other.id, alice.id, bob.id, carol.id,
            *(c.id for c in customers),
            acme_invoices=(invoices[0].id, invoices[1].id, invoices[2].id),
        )
        uow.commit()
    return result


def day(offset: int) -> date:
    return TODAY + timedelta(days=offset)
