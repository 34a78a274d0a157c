"""The recap from a built ledger: every number is the metrics code's; posted once, always."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from bot.db import Database
from bot.db.models import ContactAttempt, Escalation, Invoice, Payment, PaymentAllocation
from bot.domain.vocabulary import EscalationLevel, EscalationStatus, Outcome
from bot.sandbox.web_api import SlackSandbox
from bot.services.home import publish_home
from bot.services.metrics import MetricsConfig, metrics_as_of
from bot.services.recap import build_recap
from bot.services.recap_post import due_week, latest_recap, run_weekly_recap
from bot.settings import Settings, load_settings
from bot.slack.blockkit import validate_message, validate_view
from bot.slack.client import SlackGateway
from bot.views.recap import recap_thread, recap_top
from tests.service_seed import NOW, TODAY, seed
from tests.slack_fixtures import SANDBOX_TOKEN, TEAM_CHANNEL

AS_OF = TODAY - timedelta(days=1)  # the Sunday before the seed's Monday
POST_AT = NOW  # Monday 15:00 UTC: after 09:00 in the team's zone (UTC)


def _settings(db_url: str = "sqlite://") -> Settings:
    return load_settings(DATABASE_URL=db_url, SLACK_BOT_TOKEN=SANDBOX_TOKEN,
                         COLLECTBOT_TEAM_CHANNEL=TEAM_CHANNEL)


def _activity(db: Database) -> None:
    """Calls over the last weeks, payments with their allocations, an escalation."""
    ids = seed(db)
    with db.uow() as uow:
        s = uow.session
        for n in range(20):
            at = NOW - timedelta(days=2 + n * 3, hours=3)
            s.add(ContactAttempt(customer_id=(ids.acme_corp, ids.beta)[n % 2],
                                 collector_id=(ids.alice, ids.bob)[n % 2], at=at,
                                 outcome=(Outcome.REACHED, Outcome.NO_ANSWER)[n % 3 == 0],
                                 source="button"))
        invoices = list(s.query(Invoice).order_by(Invoice.id))
        for n, invoice in enumerate(invoices[:2] + invoices[3:]):
            paid_on = AS_OF - timedelta(days=3 + 7 * n)
            payment = Payment(external_ref=f"P-{n}", customer_id=invoice.customer_id,
                              invoice_id=invoice.id, amount=Decimal("150.00"), paid_on=paid_on)
            s.add(payment)
            s.flush()
            s.add(PaymentAllocation(payment_id=payment.id, invoice_id=invoice.id,
                                    amount=Decimal("150.00"), applied_on=paid_on))
            invoice.amount_paid += Decimal("150.00")
        s.add(Escalation(customer_id=ids.acme_corp, reason="legal?", level=EscalationLevel.MANAGER,
                         status=EscalationStatus.OPEN, created_at=NOW - timedelta(days=3)))
        uow.commit()


@pytest.fixture
def ledger(db: Database) -> Database:
    _activity(db)
    return db


def test_every_number_is_the_metrics_codes(ledger: Database) -> None:
    config = MetricsConfig.from_settings(_settings())
    with ledger.uow() as uow:
        recap = build_recap(uow.session, AS_OF, config)
        now = metrics_as_of(uow.session, AS_OF, config)
        before = metrics_as_of(uow.session, AS_OF - timedelta(days=7), config)
        week = metrics_as_of(uow.session, AS_OF, config, period_days=7)
        trend = {p.week_ending: metrics_as_of(uow.session, p.week_ending, config).team
                 for p in recap.trend}
    kpis = {k.key: k for k in recap.kpis}
    assert (kpis["dso"].value, kpis["dso"].previous) == (now.team.dso, before.team.dso)
    assert kpis["cei"].value == now.team.cei
    assert kpis["percent_current"].value == now.team.percent_current
    assert kpis["past_due_ar"].value == now.team.total_ar - now.team.current_ar
    assert kpis["cash_collected"].value == week.team.cash_collected > 0
    assert kpis["cost_per_dollar_collected"].value == week.team.cost_per_dollar_collected
    assert (recap.calls.made, recap.calls.planned) == (week.team.calls_made,
                                                       week.team.calls_target)
    assert recap.calls.made > 0
    assert len(recap.trend) == 12
    for point in recap.trend:
        assert point.dso == trend[point.week_ending].dso
        assert dict(point.aging) == dict(trend[point.week_ending].buckets)
    by_name = {line.name: line.metrics for line in week.by_collector}
    for collector in recap.collectors:
        assert collector.calls == by_name[collector.name].calls_made
        assert collector.cash_collected == by_name[collector.name].cash_collected
    assert recap.escalations is not None and recap.escalations.opened == 1
    assert sum(row.calls for row in recap.effort) > 0
    for message in [recap_top(recap), *recap_thread(recap)]:
        assert validate_message(message.text, message.blocks) == []


def test_the_recap_from_the_stored_history_is_the_recap_from_the_ledger(ledger: Database) -> None:
    """The stored days are read (a row changed by hand shows), and they equal the ledger's."""
    from sqlalchemy import select

    from bot.db.models import ARSnapshot
    from bot.services.snapshots import store_snapshots

    config = MetricsConfig.from_settings(_settings())
    with ledger.uow() as uow:
        cold = build_recap(uow.session, AS_OF, config)
    with ledger.uow() as uow:
        store_snapshots(uow.session, AS_OF - timedelta(weeks=12), AS_OF, config)
        uow.commit()
    with ledger.uow() as uow:
        assert build_recap(uow.session, AS_OF, config) == cold
        row = uow.session.scalars(select(ARSnapshot).where(
            ARSnapshot.snapshot_date == AS_OF, ARSnapshot.scope == "team")).one()
        row.metrics = {**row.metrics, "dso": "1.25"}
        uow.commit()
    with ledger.uow() as uow:
        kpis = {k.key: k for k in build_recap(uow.session, AS_OF, config).kpis}
    assert kpis["dso"].value == Decimal("1.25") != cold.kpis[0].value


def test_due_only_on_the_recap_day_from_its_time() -> None:
    settings = _settings()
    assert due_week(NOW, settings) == AS_OF
    assert due_week(NOW.replace(hour=8), settings) is None
    assert due_week(NOW.replace(hour=23, minute=59), settings) == AS_OF
    assert due_week(NOW + timedelta(days=1), settings) is None


def _post(db_url: str, sandbox: SlackSandbox, gateway: SlackGateway) -> str:
    database = Database(db_url)
    try:
        return run_weekly_recap(database, gateway, _settings(db_url), now=POST_AT).summary
    finally:
        database.dispose()


@pytest.mark.slow
def test_posted_once_with_thread_and_chart_even_twice_and_concurrently(
        db_url: str, ledger: Database, slack_sandbox: SlackSandbox,
        slack_gateway: SlackGateway) -> None:
    slack_sandbox.slow("chat.postMessage", 0.1)
    threads = [threading.Thread(target=_post, args=(db_url, slack_sandbox, slack_gateway))
               for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert "already sent" in _post(db_url, slack_sandbox, slack_gateway)
    top = [m for m in slack_sandbox.messages(TEAM_CHANNEL) if "thread_ts" not in m]
    replies = [m for m in slack_sandbox.messages(TEAM_CHANNEL) if "thread_ts" in m]
    assert len(top) == 1
    assert top[0]["text"].startswith("Weekly recap")
    assert replies and all(m["thread_ts"] == top[0]["ts"] for m in replies)
    assert len(slack_sandbox.files()) == 1
    assert slack_sandbox.files()[0].thread_ts == top[0]["ts"]
    with ledger.uow() as uow:
        latest = latest_recap(uow.session)
    assert latest is not None and (latest.week_end, latest.ts) == (AS_OF, top[0]["ts"])
    # The manager's App Home links to the post.
    slack_sandbox.add_user("UMGR")
    assert publish_home(ledger, slack_gateway, "UMGR", now=POST_AT, default_tz="UTC")
    home = slack_sandbox.home_view("UMGR")
    assert home is not None
    assert validate_view(home) == []
    latest_line = [b for b in home["blocks"] if "Latest:" in str(b)]
    assert latest_line and f"/archives/{TEAM_CHANNEL}/p" in str(latest_line[0])
    assert "Weekly recap · Mon 16 Nov – Sun 22 Nov" in str(latest_line[0])


def test_refused_chart_posts_without_it(
        db_url: str, ledger: Database, slack_sandbox: SlackSandbox,
        slack_gateway: SlackGateway) -> None:
    slack_sandbox.refuse_block_type("data_visualization")
    assert "posted" in _post(db_url, slack_sandbox, slack_gateway)
    top = [m for m in slack_sandbox.messages(TEAM_CHANNEL) if "thread_ts" not in m]
    assert len(top) == 1
    assert all(b["type"] != "data_visualization" for b in top[0]["blocks"])
    assert "DSO by week:" in top[0]["text"]


def test_failed_upload_still_sends_the_text_once(
        db_url: str, ledger: Database, slack_sandbox: SlackSandbox,
        slack_gateway: SlackGateway, caplog: pytest.LogCaptureFixture) -> None:
    slack_sandbox.fail_next("files.getUploadURLExternal", status=200, error="not_allowed",
                            times=5)
    summary = _post(db_url, slack_sandbox, slack_gateway)
    assert "chart upload failed" in summary
    assert "chart upload failed" in caplog.text
    assert "already sent" in _post(db_url, slack_sandbox, slack_gateway)
    top = [m for m in slack_sandbox.messages(TEAM_CHANNEL) if "thread_ts" not in m]
    assert len(top) == 1 and slack_sandbox.files() == []


def test_no_channel_posts_nothing(ledger: Database, slack_gateway: SlackGateway,
                                  slack_sandbox: SlackSandbox) -> None:
    settings = load_settings(SLACK_BOT_TOKEN=SANDBOX_TOKEN)
    result = run_weekly_recap(ledger, slack_gateway, settings, now=datetime(2026, 11, 23, 10,
                                                                            tzinfo=UTC))
    assert result.failed == 1 and slack_sandbox.messages() == []


def test_a_focus_strategy_with_a_holdout_is_assessed(ledger: Database) -> None:
    from bot.domain.policy import default_policy_text
    from bot.services.policy import save_policy

    text = default_policy_text()
    focused = text.replace("  - name: 31-60 days\n", "  - name: 31-60 days\n    holdout: 10%\n", 1)
    assert focused != text
    with ledger.uow() as uow:
        save_policy(uow, text, "yaml", "test", now=NOW - timedelta(days=200))
        uow.commit()
    with ledger.uow() as uow:
        save_policy(uow, focused, "yaml", "test", now=NOW - timedelta(days=70))
        uow.commit()
    config = MetricsConfig.from_settings(_settings())
    with ledger.uow() as uow:
        recap = build_recap(uow.session, AS_OF, config)
    by_name = {s.name: s for s in recap.strategies}
    strategy = by_name["31-60 days"]
    assert strategy.changed_on == (NOW - timedelta(days=70)).date()
    assert strategy.did is not None and strategy.holdout is not None
    assert strategy.roll is not None
    # A handful of accounts: the comparison says it has too few to tell.
    assert strategy.holdout.difference is None
    assert "not enough data yet" in strategy.holdout.summary("x")
    assert "61-90 days" in by_name  # the default policy's focus strategy, without a holdout
    assert by_name["61-90 days"].holdout is None


def test_accounts_on_counts_what_was_collected_and_what_rolled_a_bucket_on(db: Database) -> None:
    from bot.db.models import Customer
    from bot.services.recap import accounts_on

    day = TODAY - timedelta(days=40)
    with db.uow() as uow:
        s = uow.session
        customer = Customer(external_ref="C-9", name="Roll Co", tier="standard")
        s.add(customer)
        s.flush()
        due = {"I-10": (10, "100"), "I-100": (100, "200"), "I-150": (150, "300"),
               "I-cur": (-5, "50")}
        invoices = {}
        for number, (late, amount) in due.items():
            invoices[number] = Invoice(number=number, customer_id=customer.id,
                                       issue_date=day - timedelta(days=late + 30),
                                       due_date=day - timedelta(days=late),
                                       amount=Decimal(amount))
        s.add_all(invoices.values())
        s.flush()
        applied = [("I-10", "40", 5), ("I-150", "250", 20), ("I-100", "200", 31)]
        for n, (number, amount, after) in enumerate(applied):
            payment = Payment(external_ref=f"P-R{n}", customer_id=customer.id,
                              amount=Decimal(amount), paid_on=day + timedelta(days=after))
            s.add(payment)
            s.flush()
            s.add(PaymentAllocation(payment_id=payment.id, invoice_id=invoices[number].id,
                                    amount=Decimal(amount), applied_on=payment.paid_on))
            # The ledger's invariant: amount paid is the sum of the allocations.
            invoices[number].amount_paid += Decimal(amount)
        uow.commit()
    with db.uow() as uow:
        [account] = accounts_on(uow.session, day)
    # Past due: 100 + 200 + 300 (the current 50 is not). Collected within 30 days: 40 + 250
    # (the 200 came on day 31). Could roll on: the 1-120 days part, 100 + 200; of it, unpaid
    # 30 days later: 60 + 200 (the 120+ invoice has no older bucket to roll to).
    assert (account.past_due, account.collected, account.rolling, account.rolled) == (
        Decimal(600), Decimal(290), Decimal(300), Decimal(260))
    assert account.oldest_due == day - timedelta(days=150)


def test_the_roll_rate_before_and_after_is_the_segments_and_the_rests_by_hand() -> None:
    from bot.domain.assessment import Window
    from bot.domain.policy import default_policy
    from bot.services.recap import AccountDay, assess

    policy = default_policy()
    segment = next(s for s in policy.segments if s.name == "61-90 days")
    before = Window(date(2026, 1, 1), date(2026, 1, 28))
    after = Window(date(2026, 2, 1), date(2026, 2, 28))

    def account(ref: str, day: date, late: int, rolling: str, rolled: str) -> AccountDay:
        return AccountDay(ref, "standard", Decimal(rolling), day - timedelta(days=late),
                          Decimal(0), Decimal(rolling), Decimal(rolled))

    observed = {  # 70 days late: the 61-90 segment; 40 days late: the rest
        before.start: [account("A", before.start, 70, "1000", "800"),
                       account("B", before.start, 40, "500", "250")],
        after.start: [account("A", after.start, 70, "1000", "400"),
                      account("C", after.start, 40, "500", "200")],
    }
    _did, roll, _holdout = assess(policy, segment, 1, (before, after), observed)
    # Segment 80% -> 40% (-40 points); the rest 50% -> 40% (-10 points): -30 points beyond it.
    assert (roll.segment_before.value, roll.segment_after.value) == (80, 40)
    assert (roll.rest_before.value, roll.rest_after.value) == (50, 40)
    assert roll.estimate == Decimal(-30)


@pytest.mark.parametrize("seed", range(5))
def test_assess_from_segment_sums_equals_every_account_counted_one_by_one(seed: int) -> None:
    """The assessment adds each day's accounts up per segment once (a strategy's rest is all
    less its segment); counting each account's outcome on its own gives the same figures."""
    import random

    from bot.domain.assessment import (
        AccountOutcome,
        Window,
        compare_holdout,
        difference_in_differences,
    )
    from bot.domain.holdout import is_held_out, strategy_key
    from bot.domain.policy import parse_policy
    from bot.services.recap import AccountDay, assess, segments_of

    policy = parse_policy("""
segments:
  - name: big late ones
    match: {buckets: [61-90, 91-120, 120+], min_past_due: 5000}
    holdout: 20%
    recontact_days: 3
    max_attempts: 5
  - name: key tier
    match: {tiers: [key]}
    recontact_days: 5
    max_attempts: 5
  - name: everyone else
    recontact_days: 9
    max_attempts: 5
""", "yaml")
    rng = random.Random(seed)
    before = Window(date(2026, 1, 1), date(2026, 2, 25))
    after = Window(date(2026, 3, 1), date(2026, 4, 25))

    def share(of: Decimal) -> Decimal:
        return (of * Decimal(rng.randrange(0, 101)) / 100).quantize(Decimal("0.01"))

    def account(n: int, day: date) -> AccountDay:
        past_due = Decimal(rng.randrange(100, 2_000_000)) / 100
        rolling = share(past_due) if rng.random() < 0.7 else past_due
        return AccountDay(f"R{n}", rng.choice(["key", "standard"]), past_due,
                          day - timedelta(days=rng.randrange(1, 200)), share(past_due),
                          rolling, share(rolling))

    days = [w.start + timedelta(days=n) for w in (before, after) for n in (0, 28)]
    observed = {day: [account(n, day) for n in range(rng.randrange(0, 400))] for day in days}
    for segment in policy.segments:
        did, roll, holdout = assess(policy, segment, 2, (before, after), observed)
        outcomes, rolls, treated, held = [], [], [], []
        for day in days:
            names = segments_of(policy, day, observed[day])
            for one, name in zip(observed[day], names, strict=True):
                inside, later = name == segment.name, day >= after.start
                outcomes.append(AccountOutcome(inside, later, one.collected, one.past_due))
                rolls.append(AccountOutcome(inside, later, one.rolled, one.rolling))
                if later and inside and segment.holdout is not None:
                    arm = held if is_held_out(one.external_ref, strategy_key(segment.name, 2),
                                              segment.holdout) else treated
                    arm.append(min(one.collected / one.past_due, Decimal(1)))
        assert did == difference_in_differences(outcomes)
        assert roll == difference_in_differences(rolls)
        assert holdout == (None if segment.holdout is None else compare_holdout(treated, held))
