"""Priority: which accounts a collector calls today, in what order, and the reason for each.

score = past-due balance × likelihood of payment after a contact (by age) × urgency, an estimate
of the money one call recovers. Urgency multiplies together the reasons to call now (values below).
Promises and callbacks due today (in the collector's zone) come first whatever their score, then
broken promises, then the rest by score; ties go to the larger balance, then the lower customer id.

Left off: on hold, with an agency or in legal, closed; nothing past due outside disputes; snoozed
past today; an open promise still ahead or a callback asked for a later day (the customer set the
date); contacted within the segment's re-contact interval, unless a promise or callback is due
today or a promise was broken. A never-contacted account counts as fully overdue.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from bot.domain.accounts import AccountState, CallListItem, PromiseState
from bot.domain.aging import Bucket, bucket_for_days, days_past_due
from bot.domain.calendar import local_date
from bot.domain.holdout import TreatmentResolver
from bot.domain.likelihood import LikelihoodCurve
from bot.domain.money import CENT, format_money
from bot.domain.policy import Policy, Segment, SegmentIndex
from bot.domain.vocabulary import CustomerStatus

# Urgency multipliers. A promise or a callback due today is a commitment the customer made for
# today, so it weighs most; a broken promise needs a follow-up while it is fresh; an account
# overdue for re-contact gains up to half again as it slides past its interval; a focus segment
# is what the team has decided to push.
PROMISE_DUE_TODAY = Decimal("3.0")
CALLBACK_DUE_TODAY = Decimal("3.0")
BROKEN_PROMISE = Decimal("2.0")
OVERDUE_MAX = Decimal("1.5")  # reached at one full interval late, and for never contacted
FOCUS = Decimal("1.5")

# Ordering groups: commitments due today, then broken promises, then everything else.
GROUP_DUE_TODAY = 0
GROUP_BROKEN = 1
GROUP_REST = 2

# Exclusion reasons (keys of CallListResult.excluded).
EXCLUDED_STATUS = {
    CustomerStatus.ON_HOLD: "on_hold",
    CustomerStatus.AGENCY: "agency",
    CustomerStatus.LEGAL: "legal",
    CustomerStatus.CLOSED: "closed",
}
EXCLUDED_DISPUTED = "disputed"
EXCLUDED_NOTHING_PAST_DUE = "nothing_past_due"
EXCLUDED_SNOOZED = "snoozed"
EXCLUDED_PROMISE_PENDING = "promise_pending"
EXCLUDED_CALLBACK_LATER = "callback_later"
EXCLUDED_RECENTLY_CONTACTED = "recently_contacted"

MAX_SEGMENT_NAME = 40
MAX_REASON = 149  # a reason is one short line in a Slack message
_ZERO = Decimal(0)
_ONE = Decimal(1)
_HALF = Decimal("0.5")


@dataclass(frozen=True, slots=True)
class CallListResult:
    """The cut list, what was left off by reason, and how many eligible accounts did not fit."""

    items: list[CallListItem]
    excluded: dict[str, int] = field(default_factory=dict)
    overflow: int = 0

    @property
    def eligible(self) -> int:
        return len(self.items) + self.overflow


@dataclass(frozen=True, slots=True)
class ScoredAccount:
    """One eligible account: its ordering group, score, and what its reason will say."""

    account: AccountState
    group: int
    score: Decimal
    days_past_due: int
    segment: Segment
    promise_due_today: bool
    callback_today: bool
    broken: PromiseState | None  # shown only when nothing is due today
    broken_on: date | None
    days_since_contact: int | None  # None: never contacted

    def sort_key(self) -> tuple[int, Decimal, Decimal, int]:
        return (self.group, -self.score, -self.account.past_due, self.account.customer_id)


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def _ago(n: int) -> str:
    if n <= 0:
        return "today"
    return "yesterday" if n == 1 else f"{n} days ago"


def _left_off(account: AccountState, *, today: date, callback_day: date | None) -> str | None:
    """Why the rules leave the account off before any scoring (status, balance, snooze, a
    promise or callback still ahead), or None."""
    status_reason = EXCLUDED_STATUS.get(account.status)
    if status_reason is not None:
        return status_reason
    if account.past_due <= _ZERO:
        disputed = account.disputed is not None and account.disputed > _ZERO
        return EXCLUDED_DISPUTED if disputed else EXCLUDED_NOTHING_PAST_DUE
    if account.snoozed_until is not None and account.snoozed_until > today:
        return EXCLUDED_SNOOZED
    promise = account.open_promise
    if promise is not None and promise.promised_date > today and callback_day != today:
        return EXCLUDED_PROMISE_PENDING
    if callback_day is not None and callback_day > today:
        return EXCLUDED_CALLBACK_LATER
    return None


def _strategy(
    account: AccountState,
    segments: SegmentIndex,
    bucket: Bucket,
    treatments: TreatmentResolver | None,
) -> Segment:
    """The account's segment, or the previous strategy when it is held out of this one."""
    segment = segments.segment_for(bucket, account.past_due, account.tier)
    if treatments is not None and segment.holdout is not None:
        segment = treatments.resolve(
            segment, account.external_ref, bucket, account.past_due, account.tier
        ).segment
    return segment


def _overdue(since: int | None, interval: int) -> Decimal | None:
    """The re-contact urgency: full when never contacted, None while within the interval."""
    if since is None:
        return OVERDUE_MAX
    if since < interval:
        return None
    late = min(Decimal(since - interval) / interval, _ONE)
    return _ONE + late * _HALF


def score_account(
    account: AccountState,
    segments: SegmentIndex,
    curve: LikelihoodCurve,
    *,
    today: date,
    tz: ZoneInfo,
    treatments: TreatmentResolver | None = None,
) -> ScoredAccount | str:
    """The account scored for today's list, or the reason it is left off.

    With `treatments`, an account held out of its strategy is scored under the previous one.
    """
    promise = account.open_promise
    callback = account.callback_at
    callback_day = None if callback is None else local_date(callback, tz)
    callback_today = callback_day == today
    left_off = _left_off(account, today=today, callback_day=callback_day)
    if left_off is not None:
        return left_off

    days = days_past_due(account.oldest_due, today) if account.oldest_due else 0
    bucket = bucket_for_days(days)
    segment = _strategy(account, segments, bucket, treatments)
    urgency = _ONE
    group = GROUP_REST
    promise_due_today = promise is not None and promise.promised_date == today
    if promise_due_today:
        group = GROUP_DUE_TODAY
        urgency *= PROMISE_DUE_TODAY
    if callback_today:
        group = GROUP_DUE_TODAY
        urgency *= CALLBACK_DUE_TODAY

    # An open promise whose date has passed is broken even before the promise job marks it.
    broken = account.broken_promise
    broken_on = broken.broken_on if broken is not None else None
    if promise is not None and promise.promised_date < today:
        broken, broken_on = promise, promise.promised_date + timedelta(days=1)
    if broken is not None and group == GROUP_REST:
        group = GROUP_BROKEN
        urgency *= BROKEN_PROMISE

    since: int | None = None
    if account.last_attempt_at is not None:
        since = (today - local_date(account.last_attempt_at, tz)).days
    if group == GROUP_REST:
        overdue = _overdue(since, segment.recontact_days)
        if overdue is None:
            return EXCLUDED_RECENTLY_CONTACTED
        urgency *= overdue
    if segment.focus:
        urgency *= FOCUS

    score = (account.past_due * curve.for_bucket(bucket) * urgency).quantize(CENT)
    return ScoredAccount(
        account, group, score, days, segment, promise_due_today, callback_today,
        broken if group == GROUP_BROKEN else None, broken_on, since,
    )


def reason_for(scored: ScoredAccount, *, today: date, now: datetime, tz: ZoneInfo) -> str:
    """One short line: balance, age, then why today (due today, broken, cadence, focus)."""
    account = scored.account
    parts = [f"{format_money(account.past_due)} past due", _days(scored.days_past_due)]
    if scored.promise_due_today and account.open_promise is not None:
        parts.append(f"promise of {format_money(account.open_promise.amount)} due today")
    if scored.callback_today and account.callback_at is not None:
        passed = " (overdue)" if account.callback_at <= now else ""
        parts.append(f"callback asked for {account.callback_at.astimezone(tz):%H:%M}{passed}")
    if scored.broken is not None:
        when = "" if scored.broken_on is None else f" {_ago((today - scored.broken_on).days)}"
        parts.append(f"promise of {format_money(scored.broken.amount)} broken{when}")
    if scored.group == GROUP_REST:
        if scored.days_since_contact is None:
            parts.append("never contacted")
        else:
            parts.append(f"last contact {_ago(scored.days_since_contact)} "
                         f"(every {scored.segment.recontact_days})")
    reason = " · ".join(parts)
    return _with_focus(reason, scored.segment) if scored.segment.focus else reason


def _with_focus(reason: str, segment: Segment) -> str:
    """Append the focus strategy, shortened or left out rather than pass MAX_REASON."""
    name = segment.name[:MAX_SEGMENT_NAME]
    for focus in (f"focus: {name}, every {_days(segment.recontact_days)}", f"focus: {name}",
                  "focus"):
        longer = f"{reason} · {focus}"
        if len(longer) <= MAX_REASON:
            return longer
    return reason


def build_call_list(
    accounts: Iterable[AccountState],
    policy: Policy,
    curve: LikelihoodCurve,
    *,
    today: date,
    now: datetime,
    tz: ZoneInfo,
    target: int,
    treatments: TreatmentResolver | None = None,
) -> CallListResult:
    """Score every account, leave off the ones not to call today, and cut the list at `target`.

    `treatments` resolves the held-out accounts of strategies with a holdout (none without it).
    """
    if target < 0:
        raise ValueError(f"daily call target must be 0 or more, got {target}")
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    segments = SegmentIndex(policy)
    excluded: Counter[str] = Counter()
    eligible: list[ScoredAccount] = []
    for account in accounts:
        scored = score_account(
            account, segments, curve, today=today, tz=tz, treatments=treatments
        )
        if isinstance(scored, str):
            excluded[scored] += 1
        else:
            eligible.append(scored)
    chosen = heapq.nsmallest(target, eligible, key=ScoredAccount.sort_key)
    items = [
        CallListItem(
            position=position,
            customer_id=s.account.customer_id,
            external_ref=s.account.external_ref,
            name=s.account.name,
            past_due=s.account.past_due,
            days_past_due=s.days_past_due,
            score=s.score,
            reason=reason_for(s, today=today, now=now, tz=tz),
            contact_name=s.account.contact_name,
            phone=s.account.phone,
            last_outcome=s.account.last_outcome,
            last_attempt_at=s.account.last_attempt_at,
        )
        for position, s in enumerate(chosen, start=1)
    ]
    return CallListResult(
        items=items, excluded=dict(sorted(excluded.items())), overflow=len(eligible) - len(items)
    )
