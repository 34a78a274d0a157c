"""The escalation rules over a whole book: each segment's thresholds read once.

`BookJudge(policy).judge(facts, today)` answers what `segment_of` and `escalation_reasons`
(bot.domain.escalations) answer for one account, with the same words (the same functions write
them). The hourly job judges every past-due account of the book, where those make about twenty
calls an account (the bucket, the segment's bounds, `standing`, the five rules and their
helpers): here each segment's thresholds are one flat tuple, the segments a (bucket, tier) can
be in are narrowed once, the rules run inline, and words many accounts share (a no-contact
reason, the policy's part of a past-due one) are written once per run.
tests/test_escalation_judge.py holds both equal on random accounts and policies.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import NamedTuple

from bot.domain.aging import Bucket, bucket_for_days
from bot.domain.escalations import (
    NEVER_ESCALATE,
    EscalationFacts,
    Reason,
    attempts_reason,
    broken_promises_reason,
    dispute_reason,
    no_contact_reason,
    past_due_reason,
    past_due_tail,
)
from bot.domain.policy import Policy, Segment


class _Rules(NamedTuple):
    """A segment's balance bounds and escalation thresholds, flat."""

    low: Decimal | None  # the segment covers past due >= low ...
    high: Decimal | None  # ... and < high
    segment: Segment
    escalates: bool  # the segment has an escalation path
    min_balance: Decimal
    no_contact_days: int | None
    max_attempts: int
    broken_promises: int | None
    broken_promise_days: int
    past_due_over: Decimal | None
    past_due_days: int
    dispute_days: int | None


def _rules(segment: Segment) -> _Rules:
    match, rules = segment.match, segment.escalate
    return _Rules(match.min_past_due, match.max_past_due, segment, bool(segment.escalation_path),
                  rules.min_balance, rules.no_contact_days, segment.max_attempts,
                  rules.broken_promises, rules.broken_promise_days, rules.past_due_over,
                  rules.past_due_days, rules.dispute_days)


class BookJudge:
    """`segment_of` and `escalation_reasons` for many accounts under one policy."""

    def __init__(self, policy: Policy) -> None:
        self._segments = policy.segments
        self._rules = tuple(_rules(segment) for segment in policy.segments)
        self._candidates: dict[tuple[Bucket, str], tuple[_Rules, ...]] = {}
        # Words many accounts share, each written once: keyed by everything they are made of.
        self._no_contact: dict[tuple[int, int, date], Reason] = {}
        self._tails: dict[tuple[int, Decimal, int], str] = {}
        self._iso: dict[date, str] = {}

    def _narrow(self, bucket: Bucket, tier: str) -> tuple[_Rules, ...]:
        candidates = tuple(rules for segment, rules in zip(self._segments, self._rules, strict=True)
                           if segment.match.covers_kind(bucket, tier))
        self._candidates[bucket, tier] = candidates
        return candidates

    def judge(  # noqa: C901, PLR0912, PLR0915 (the five rules, inline on purpose)
        self, facts: EscalationFacts, today: date
    ) -> tuple[Segment, list[Reason]]:
        """The account's segment today, and every rule of it that holds, in the rules' order."""
        oldest = facts.oldest_due
        late = 0 if oldest is None else (today - oldest).days
        bucket = bucket_for_days(late)
        candidates = self._candidates.get((bucket, facts.tier))
        if candidates is None:
            candidates = self._narrow(bucket, facts.tier)
        past_due = facts.past_due
        for rules in candidates:
            low, high = rules.low, rules.high
            if (low is None or past_due >= low) and (high is None or past_due < high):
                break
        else:
            raise LookupError("policy has no catch-all segment")
        reasons: list[Reason] = []
        if not rules.escalates or facts.status in NEVER_ESCALATE:
            return rules.segment, reasons
        owed = past_due + facts.disputed
        if owed <= 0 or owed < rules.min_balance:
            return rules.segment, reasons
        if past_due > 0:
            limit = rules.no_contact_days
            if limit is not None:
                since = oldest
                for day in (facts.last_contact_on, facts.last_paid_on):
                    if day is not None and (since is None or day > since):
                        since = day
                if since is not None:
                    silent = (today - since).days
                    if silent >= limit:
                        key = (silent, limit, since)
                        reason = self._no_contact.get(key)
                        if reason is None:
                            reason = self._no_contact[key] = no_contact_reason(*key)
                        reasons.append(reason)
            count, limit = facts.unreached_attempts, rules.max_attempts
            if count >= limit:
                reached, paid = facts.last_reached_on, facts.last_paid_on
                if reached is None or (paid is not None and paid > reached):
                    reached = paid
                reasons.append(attempts_reason(count, limit, reached))
            limit = rules.broken_promises
            if limit is not None and len(facts.broken_on) >= limit:
                window = rules.broken_promise_days
                recent = sorted(d for d in facts.broken_on if (today - d).days < window)
                if len(recent) >= limit:
                    last = recent[-1]
                    promised, paid = facts.last_promise_on, facts.last_paid_on
                    if not ((promised is not None and promised >= last)
                            or (paid is not None and paid >= last)):
                        reasons.append(broken_promises_reason(len(recent), window, limit,
                                                              facts.latest_broken_id))
        over = rules.past_due_over
        if over is not None and oldest is not None and past_due >= over:
            late = max(late, 0)
            days = rules.past_due_days
            if late > days:
                tail = self._tails.get((late, over, days))
                if tail is None:
                    tail = self._tails[late, over, days] = past_due_tail(late, over, days)
                iso = self._iso.get(oldest)
                if iso is None:
                    iso = self._iso[oldest] = oldest.isoformat()
                reasons.append(past_due_reason(past_due, tail, iso))
        limit = rules.dispute_days
        opened = facts.dispute_opened_on
        if limit is not None and opened is not None:
            open_for = (today - opened).days
            if open_for > limit:
                reasons.append(dispute_reason(open_for, limit, facts.dispute_id))
        return rules.segment, reasons
