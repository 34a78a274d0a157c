"""The team's metrics as of a date, from plain facts about the ledger and the calls.

Conventions (the README's "Metrics" section says the same to users):

- the period is the N days ending on the as-of date, inclusive; "beginning" is the end of the
  day before it; credit sales are the amounts of non-void invoices issued in the period;
- AR on a date follows the as-of rule of the aging report;
- every ratio is None when its denominator is zero (no sales, no AR, no calls), never an error;
- percentages are 0-100; figures are rounded half-up to 2 places.

Every fact is a sum, so a team's facts are the sum of its collectors' facts (`LedgerFacts.plus`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from itertools import zip_longest

from bot.domain.aging import BUCKETS, Bucket

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
HUNDRED = Decimal(100)
COUNTBACK_MONTHS = 24
ROLL_MONTH_DAYS = 30
# Past-due buckets whose roll rate is reported, each with the next bucket it rolls into. An
# invoice 1-30 days past due a month ago is 31-60 today if still open, so each rate is the share
# of a bucket's balance a month ago that is still open one bucket older (91-120 rolls into
# 121-150 days, the first month of 120+).
ROLLS: tuple[tuple[Bucket, Bucket], ...] = (
    (Bucket.DAYS_1_30, Bucket.DAYS_31_60),
    (Bucket.DAYS_31_60, Bucket.DAYS_61_90),
    (Bucket.DAYS_61_90, Bucket.DAYS_91_120),
    (Bucket.DAYS_91_120, Bucket.DAYS_120_PLUS),
)
ROLL_BUCKETS: tuple[Bucket, ...] = tuple(source for source, _ in ROLLS)


def _zero_buckets() -> dict[Bucket, Decimal]:
    return dict.fromkeys(BUCKETS, ZERO)


def _zero_rolls() -> dict[Bucket, Decimal]:
    return dict.fromkeys(ROLL_BUCKETS, ZERO)


def _add(a: Mapping[Bucket, Decimal], b: Mapping[Bucket, Decimal]) -> dict[Bucket, Decimal]:
    return {k: a.get(k, ZERO) + b.get(k, ZERO) for k in a.keys() | b.keys()}


@dataclass(frozen=True, slots=True)
class LedgerFacts:
    """What the ledger metrics need for one as-of date and one scope (team or collector)."""

    ending: Mapping[Bucket, Decimal] = field(default_factory=_zero_buckets)
    beginning: Mapping[Bucket, Decimal] = field(default_factory=_zero_buckets)
    credit_sales: Decimal = ZERO
    # Countback periods, newest first: (credit sales, days) per calendar month.
    monthly_sales: Sequence[tuple[Decimal, int]] = ()
    cash_collected: Decimal = ZERO
    # Of the AR past due at the beginning, what is still open on the as-of date.
    past_due_still_open: Decimal = ZERO
    # Per past-due bucket: its balance a month ago, and what of it is open one bucket older now.
    roll_from: Mapping[Bucket, Decimal] = field(default_factory=_zero_rolls)
    roll_to: Mapping[Bucket, Decimal] = field(default_factory=_zero_rolls)

    def plus(self, other: LedgerFacts) -> LedgerFacts:
        """The facts of two disjoint books together."""
        months = max(len(self.monthly_sales), len(other.monthly_sales))
        mine = list(self.monthly_sales) + [(ZERO, 0)] * (months - len(self.monthly_sales))
        theirs = list(other.monthly_sales) + [(ZERO, 0)] * (months - len(other.monthly_sales))
        return LedgerFacts(
            ending=_add(self.ending, other.ending),
            beginning=_add(self.beginning, other.beginning),
            credit_sales=self.credit_sales + other.credit_sales,
            monthly_sales=[(a[0] + b[0], max(a[1], b[1])) for a, b in zip(mine, theirs,
                                                                            strict=True)],
            cash_collected=self.cash_collected + other.cash_collected,
            past_due_still_open=self.past_due_still_open + other.past_due_still_open,
            roll_from=_add(self.roll_from, other.roll_from),
            roll_to=_add(self.roll_to, other.roll_to),
        )

    @staticmethod
    def total(parts: Iterable[LedgerFacts]) -> LedgerFacts:
        """The facts of disjoint books together, in one pass (what folding `plus` gives)."""
        parts = list(parts)
        ending, beginning = _zero_buckets(), _zero_buckets()
        roll_from, roll_to = _zero_rolls(), _zero_rolls()
        credit_sales = cash = still_open = ZERO
        for part in parts:
            for into, add in ((ending, part.ending), (beginning, part.beginning),
                              (roll_from, part.roll_from), (roll_to, part.roll_to)):
                for key, amount in add.items():
                    into[key] = into.get(key, ZERO) + amount
            credit_sales += part.credit_sales
            cash += part.cash_collected
            still_open += part.past_due_still_open
        months = [(sum((sales for sales, _ in month), ZERO), max(days for _, days in month))
                  for month in zip_longest(*(p.monthly_sales for p in parts),
                                           fillvalue=(ZERO, 0))]
        return LedgerFacts(ending=ending, beginning=beginning, credit_sales=credit_sales,
                           monthly_sales=months, cash_collected=cash,
                           past_due_still_open=still_open, roll_from=roll_from, roll_to=roll_to)


@dataclass(frozen=True, slots=True)
class ActivityFacts:
    """What the activity metrics need for one period and one scope."""

    calls_made: int = 0
    calls_target: int = 0
    right_party_contacts: int = 0
    # Promises resolved in the period: kept ones count 1, partly kept ones received/amount.
    promises_resolved: int = 0
    promises_kept_weight: Decimal = ZERO
    collector_days: int = 0

    def plus(self, other: ActivityFacts) -> ActivityFacts:
        return ActivityFacts(
            calls_made=self.calls_made + other.calls_made,
            calls_target=self.calls_target + other.calls_target,
            right_party_contacts=self.right_party_contacts + other.right_party_contacts,
            promises_resolved=self.promises_resolved + other.promises_resolved,
            promises_kept_weight=self.promises_kept_weight + other.promises_kept_weight,
            collector_days=self.collector_days + other.collector_days,
        )


@dataclass(frozen=True, slots=True)
class Metrics:
    """Every metric of one scope as of a date (None where undefined)."""

    period_days: int
    buckets: Mapping[Bucket, Decimal]
    total_ar: Decimal
    current_ar: Decimal
    credit_sales: Decimal
    dso: Decimal | None
    dso_countback: Decimal | None
    best_possible_dso: Decimal | None
    add: Decimal | None
    cei: Decimal | None
    percent_current: Decimal | None
    past_due_collected_pct: Decimal | None
    roll_rates: Mapping[Bucket, Decimal | None]
    promise_kept_rate: Decimal | None
    right_party_contact_rate: Decimal | None
    calls_made: int
    calls_target: int
    cash_collected: Decimal
    cost_of_collecting: Decimal | None
    cost_per_call: Decimal | None
    cost_per_dollar_collected: Decimal | None

    def value(self, name: str) -> Decimal | None:
        """A metric by its stable key, as a Decimal (None where undefined)."""
        raw = getattr(self, name)
        return None if raw is None else Decimal(raw)


def round2(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def ratio(part: Decimal, whole: Decimal, scale: Decimal = Decimal(1)) -> Decimal | None:
    """part / whole × scale, rounded to 2 places; None when whole is zero."""
    if not whole:
        return None
    return round2(part / whole * scale)


def dso(ending_ar: Decimal, credit_sales: Decimal, days: int) -> Decimal | None:
    """Standard DSO: AR ÷ credit sales × days in the period."""
    return ratio(ending_ar, credit_sales, Decimal(days))


def countback_dso(ending_ar: Decimal, periods: Sequence[tuple[Decimal, int]]) -> Decimal | None:
    """Countback DSO: consume each period's sales (newest first) whole while AR remains, the last
    one pro rata; a period without sales adds its days. None when no period had sales."""
    if not any(sales for sales, _ in periods):
        return None
    remaining = ending_ar
    days = Decimal(0)
    for sales, period_days in periods:
        if remaining <= 0:
            break
        if sales <= 0:
            days += period_days
        elif remaining >= sales:
            days += period_days
            remaining -= sales
        else:
            days += remaining / sales * period_days
            remaining = ZERO
    return round2(days)


def cei(beginning_ar: Decimal, credit_sales: Decimal, ending_ar: Decimal,
        ending_current_ar: Decimal) -> Decimal | None:
    """Collection effectiveness index, 0-100 on a consistent ledger."""
    collectible = beginning_ar + credit_sales
    return ratio(collectible - ending_ar, collectible - ending_current_ar, HUNDRED)


@lru_cache(maxsize=1024)
def countback_months(as_of: date, months: int = COUNTBACK_MONTHS) -> tuple[tuple[date, date], ...]:
    """Calendar months ending on the as-of date, newest first: the as-of month from its first
    day to the as-of date, then whole previous months. Each is (first day, last day)."""
    spans: list[tuple[date, date]] = []
    last = as_of
    for _ in range(months):
        first = last.replace(day=1)
        spans.append((first, last))
        last = first - timedelta(days=1)
    return tuple(spans)


def compute_metrics(
    ledger: LedgerFacts,
    activity: ActivityFacts,
    *,
    period_days: int,
    collector_day_cost: Decimal | None = None,
) -> Metrics:
    """Every metric from the facts; see the module docstring for the conventions."""
    if period_days < 1:
        raise ValueError(f"the period must be at least 1 day, got {period_days}")
    ending = sum(ledger.ending.values(), ZERO)
    current = ledger.ending.get(Bucket.CURRENT, ZERO)
    beginning = sum(ledger.beginning.values(), ZERO)
    past_due_start = beginning - ledger.beginning.get(Bucket.CURRENT, ZERO)
    sales = ledger.credit_sales
    standard = dso(ending, sales, period_days)
    best = dso(current, sales, period_days)
    cost = None if collector_day_cost is None else round2(collector_day_cost
                                                          * activity.collector_days)
    return Metrics(
        period_days=period_days,
        buckets={b: round2(ledger.ending.get(b, ZERO)) for b in BUCKETS},
        total_ar=round2(ending),
        current_ar=round2(current),
        credit_sales=round2(sales),
        dso=standard,
        dso_countback=countback_dso(ending, ledger.monthly_sales),
        best_possible_dso=best,
        add=None if standard is None or best is None else standard - best,
        cei=cei(beginning, sales, ending, current),
        percent_current=ratio(current, ending, HUNDRED),
        past_due_collected_pct=ratio(past_due_start - ledger.past_due_still_open,
                                     past_due_start, HUNDRED),
        roll_rates={b: ratio(ledger.roll_to.get(b, ZERO), ledger.roll_from.get(b, ZERO), HUNDRED)
                    for b in ROLL_BUCKETS},
        promise_kept_rate=ratio(activity.promises_kept_weight,
                                Decimal(activity.promises_resolved), HUNDRED),
        right_party_contact_rate=ratio(Decimal(activity.right_party_contacts),
                                       Decimal(activity.calls_made), HUNDRED),
        calls_made=activity.calls_made,
        calls_target=activity.calls_target,
        cash_collected=round2(ledger.cash_collected),
        cost_of_collecting=cost,
        cost_per_call=None if cost is None else ratio(cost, Decimal(activity.calls_made)),
        cost_per_dollar_collected=None if cost is None else ratio(cost, ledger.cash_collected),
    )


@dataclass(frozen=True, slots=True)
class ScopeMetrics:
    """One collector's metrics (slack_user_id None: the unassigned accounts)."""

    collector_id: int | None
    slack_user_id: str | None
    name: str
    metrics: Metrics


@dataclass(frozen=True, slots=True)
class MetricsReport:
    as_of: date
    period_days: int
    team: Metrics
    by_collector: list[ScopeMetrics] = field(default_factory=list)

    def json(self) -> dict[str, object]:
        """The stable `metrics` object of `report --json`, with a `collectors` list."""
        return {
            **metrics_json(self.team),
            "collectors": [
                {"slack_user_id": line.slack_user_id, "name": line.name,
                 **metrics_json(line.metrics)}
                for line in self.by_collector
            ],
        }


def period_first(as_of: date, period_days: int) -> date:
    return as_of - timedelta(days=period_days - 1)


def metrics_json(metrics: Metrics) -> dict[str, object]:
    """The stable `metrics` object of `collectbot report --json` (decimals as strings)."""

    def text(value: Decimal | None) -> str | None:
        return None if value is None else f"{value:.2f}"

    return {
        "period_days": metrics.period_days,
        "credit_sales": text(metrics.credit_sales),
        "dso": text(metrics.dso),
        "dso_countback": text(metrics.dso_countback),
        "best_possible_dso": text(metrics.best_possible_dso),
        "add": text(metrics.add),
        "cei": text(metrics.cei),
        "percent_current": text(metrics.percent_current),
        "past_due_collected_pct": text(metrics.past_due_collected_pct),
        "roll_rates": {b.value: text(rate) for b, rate in metrics.roll_rates.items()},
        "promise_kept_rate": text(metrics.promise_kept_rate),
        "right_party_contact_rate": text(metrics.right_party_contact_rate),
        "calls_made": metrics.calls_made,
        "calls_target": metrics.calls_target,
        "cash_collected": text(metrics.cash_collected),
        "cost_of_collecting": text(metrics.cost_of_collecting),
        "cost_per_call": text(metrics.cost_per_call),
        "cost_per_dollar_collected": text(metrics.cost_per_dollar_collected),
    }
