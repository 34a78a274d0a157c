"""7. Weekly recap: twelve weeks of simulated calls under a focus strategy with a holdout, then
the recap as Monday's post would say it, and its chart as a PNG."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TextIO

from sqlalchemy import insert, select

from bot.db.models import ContactAttempt, Customer, Invoice
from bot.demo.steps import DemoResult, write_banner
from bot.domain.policy import default_policy_text
from bot.domain.vocabulary import InvoiceStatus, Outcome
from bot.services.metrics import MetricsConfig
from bot.services.policy import save_policy
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


def simulate_calls(result: DemoResult, *, seed: int = 7) -> int:
    """Calls on the accounts that had something past due, each working day of the 12 weeks
    (focus accounts called twice as often), inserted in one statement."""
    rng = random.Random(seed)
    today = result.today
    with result.database.uow() as uow:
        s = uow.session
        accounts = s.execute(
            select(Customer.id, Customer.collector_id, Invoice.due_date)
            .join(Invoice, Invoice.customer_id == Customer.id)
            .where(Customer.collector_id.is_not(None), Invoice.status != InvoiceStatus.VOID,
                   Invoice.due_date < today)).tuples().all()
        oldest: dict[int, tuple[int, date]] = {}
        for customer, collector, due in accounts:
            if collector is not None and (customer not in oldest or due < oldest[customer][1]):
                oldest[customer] = (collector, due)
        by_collector: dict[int, list[tuple[int, float]]] = {}
        for customer, (collector, due) in sorted(oldest.items()):
            weight = 2.0 if 61 <= (today - due).days <= 90 else 1.0
            by_collector.setdefault(collector, []).append((customer, weight))
        rows = []
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
                    at = datetime.combine(day, time(14, 0), UTC) + timedelta(minutes=7 * n)
                    rows.append({"customer_id": customer, "collector_id": collector, "at": at,
                                 "outcome": rng.choices(outcomes, weights)[0], "source": "demo"})
        if rows:
            s.execute(insert(ContactAttempt), rows)
        uow.commit()
    return len(rows)


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
