"""7. Weekly recap: twelve weeks of simulated calls under a focus strategy with a holdout, then
the recap as Monday's post would say it, and its chart as a PNG."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bot.db.models import ContactAttempt, Customer, Invoice, PromiseToPay
from bot.demo.steps import DemoResult, write_banner
from bot.domain.policy import default_policy_text
from bot.domain.vocabulary import InvoiceStatus, Outcome, PromiseStatus
from bot.services.metrics import MetricsConfig
from bot.services.policy import save_policy
from bot.services.promises import run_promises_job
from bot.services.recap import build_recap
from bot.views.recap import recap_terminal
from bot.views.recap_chart import recap_png

WEEKS = 12
FOCUS = "61-90 days"
# What a call ends as, with its weight: about a third reach the right person.
OUTCOMES = ((Outcome.NO_ANSWER, 40), (Outcome.LEFT_VOICEMAIL, 25), (Outcome.REACHED, 20),
            (Outcome.PROMISE_TO_PAY, 15))
CALLS_PER_COLLECTOR_DAY = 20
PNG_NAME = "recap.png"


Owed = dict[int, list[tuple[date, Decimal, date | None]]]  # customer: (due, amount, settled)


def simulate_calls(result: DemoResult, *, seed: int = 7) -> int:
    """Calls on the accounts that had something past due, each working day of the 12 weeks
    (focus accounts called twice as often), inserted in one statement.

    A call that ends in a promise records one, as the modal does: the oldest invoice past due
    that day, to be paid within 3 to 10 days (an account with nothing past due that day was
    just reached). The promises job then judges them day by day against the ledger's own
    payments, so each is kept or broken on the day it would have been.
    """
    rng = random.Random(seed)
    today = result.today
    with result.database.uow() as uow:
        owed, by_collector = _book(uow.session, today)
        rows, promises = [], []
        outcomes = [outcome for outcome, _ in OUTCOMES]
        weights = [weight for _, weight in OUTCOMES]
        for offset in range(WEEKS * 7, 0, -1):
            day = today - timedelta(days=offset)
            if day.weekday() >= 5:
                continue
            for collector, customers in by_collector.items():
                picked = rng.choices([c for c, _ in customers], [w for _, w in customers],
                                     k=min(CALLS_PER_COLLECTOR_DAY, len(customers)))
                for n, customer in enumerate(picked):
                    row = {"customer_id": customer, "collector_id": collector, "source": "demo",
                           "at": datetime.combine(day, time(14, 0), UTC) + timedelta(minutes=7 * n),
                           "outcome": rng.choices(outcomes, weights)[0]}
                    if row["outcome"] is Outcome.PROMISE_TO_PAY:
                        promise = _promise(owed[customer], row, day, rng)
                        if promise is None:
                            row["outcome"] = Outcome.REACHED
                        else:
                            promises.append(promise)
                    rows.append(row)
        uow.session.execute(insert(ContactAttempt), rows)
        if promises:
            uow.session.execute(insert(PromiseToPay), promises)
        uow.commit()
    _judge_promises(result)
    return len(rows)


def _book(session: Session, today: date) -> tuple[Owed, dict[int, list[tuple[int, float]]]]:
    """Each assigned customer's invoices due before today, and each collector's customers with
    their weight (the focus bucket's twice the others')."""
    owed: Owed = {}
    oldest: dict[int, tuple[int, date]] = {}
    for customer, collector, due, amount, settled in session.execute(
        select(Customer.id, Customer.collector_id, Invoice.due_date, Invoice.amount,
               Invoice.settled_date)
        .join(Invoice, Invoice.customer_id == Customer.id)
        .where(Customer.collector_id.is_not(None), Invoice.status != InvoiceStatus.VOID,
               Invoice.due_date < today)
        .order_by(Customer.id, Invoice.due_date, Invoice.id)).tuples():
        owed.setdefault(customer, []).append((due, amount, settled))
        if customer not in oldest and collector is not None:
            oldest[customer] = (collector, due)
    by_collector: dict[int, list[tuple[int, float]]] = {}
    for customer, (collector, due) in sorted(oldest.items()):
        weight = 2.0 if 61 <= (today - due).days <= 90 else 1.0
        by_collector.setdefault(collector, []).append((customer, weight))
    return owed, by_collector


def _promise(invoices: list[tuple[date, Decimal, date | None]], call: dict[str, Any], day: date,
             rng: random.Random) -> dict[str, Any] | None:
    """The promise a call on `day` records: the oldest invoice then past due, in 3-10 days."""
    late = [amount for due, amount, settled in invoices
            if due < day and (settled is None or settled > day)]
    if not late:
        return None
    return {"customer_id": call["customer_id"], "collector_id": call["collector_id"],
            "amount": late[0], "status": PromiseStatus.OPEN, "created_at": call["at"],
            "promised_date": day + timedelta(days=rng.randint(3, 10))}


def _judge_promises(result: DemoResult) -> None:
    """The promises job each evening of the simulated weeks, as the scheduler would run it."""
    zone = result.settings.zone
    for offset in range(WEEKS * 7, 0, -1):
        evening = datetime.combine(result.today - timedelta(days=offset), time(21, 0), zone)
        run_promises_job(result.database, now=evening, default_tz=zone)


def store_focus_policy(result: DemoResult) -> None:
    """The default policy half a year ago; 12 weeks ago, its focus strategy gets a 10% holdout."""
    text = default_policy_text()
    focused = text.replace(f"  - name: {FOCUS}\n", f"  - name: {FOCUS}\n    holdout: 10%\n", 1)
    start = datetime.combine(result.today, time(9, 0), UTC)
    with result.database.uow() as uow:
        save_policy(uow, text, "yaml", "demo", "the default", now=start - timedelta(days=180))
        uow.commit()
    with result.database.uow() as uow:
        save_policy(uow, focused, "yaml", "demo", f"{FOCUS}: 10% holdout",
                    now=start - timedelta(weeks=WEEKS))
        uow.commit()


def step_recap(result: DemoResult, workdir: Path, out: TextIO) -> Path:
    """Simulate the calls, store the strategy, print the recap and write its PNG."""
    write_banner(out, "7. Weekly recap")
    calls = simulate_calls(result)
    store_focus_policy(result)
    out.write(f"Simulated {calls:,} calls over {WEEKS} weeks; policy: {FOCUS!r} with a 10% "
              "holdout since 12 weeks ago.\n\n")
    as_of = result.today - timedelta(days=1)
    with result.database.uow() as uow:
        recap = build_recap(uow.session, as_of, MetricsConfig.from_settings(result.settings))
    out.write(f"$ collectbot recap --as-of {as_of.isoformat()} --png {PNG_NAME}\n")
    out.write(recap_terminal(recap) + "\n")
    path = workdir / PNG_NAME
    path.write_bytes(recap_png(recap))
    out.write(f"\nChart written to {path}\n")
    return path
