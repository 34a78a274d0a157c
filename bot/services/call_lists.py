"""Call lists: made once per collector and local day, stored, and rendered from the database."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db import Database
from bot.db.models import (
    CallList,
    CallListEntry,
    ContactAttempt,
    Customer,
    Delivery,
    TeamMember,
)
from bot.domain.accounts import CallListItem
from bot.domain.aging import Bucket
from bot.domain.calendar import local_date
from bot.domain.escalation_decisions import OFF_LISTS
from bot.domain.handoff import SHOW_DAYS, handed_from
from bot.domain.likelihood import LikelihoodCurve, default_curve, learn_curve
from bot.domain.policy import Policy
from bot.domain.priority import FOCUS, OVERDUE_MAX, CallListResult, build_call_list
from bot.domain.vocabulary import CALL_OUTCOMES
from bot.services.call_list_queries import (
    LoadedAccounts,
    Pruning,
    RecontactCutoff,
    learning_observations,
    load_account_states,
)
from bot.services.deliveries import call_list_key
from bot.services.outcomes import UNDO_WINDOW
from bot.services.policy import current_policy, treatments_for
from bot.slack.client import SlackError, SlackGateway
from bot.views.call_list import (
    CallListView,
    RecordedOutcome,
    render_backup_notice,
    render_call_list,
)
from bot.views.text import Message

logger = logging.getLogger(__name__)

REASON_MAX = 300  # call_list_entries.reason

UNDOABLE_SOURCES = frozenset({"button", "modal"})
ZERO = Decimal("0.00")


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The start and end of a local day, as aware datetimes."""
    start = datetime.combine(day, time.min, tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)


@dataclass(frozen=True)
class Planned:
    """A collector whose list is to be made: who, in which zone, for which local day."""

    member: TeamMember
    tz: ZoneInfo
    list_date: date


@dataclass(frozen=True)
class ComputedList:
    planned: Planned
    result: CallListResult
    past_due_book: Decimal


def likelihood_for(session: Session, policy: Policy, *, today: date) -> LikelihoodCurve:
    """The default curve, replaced bucket by bucket by what the team's own history shows."""
    prior = default_curve(policy.likelihood)
    observations = learning_observations(session, today=today)
    if not observations:
        return prior
    return learn_curve(observations, policy.min_history, prior=prior)


def compute_lists(
    session: Session, planned: Sequence[Planned], *, now: datetime, full: bool = False
) -> tuple[int | None, list[ComputedList]]:
    """Every planned collector's list from one bulk load of the ledger (nothing is written).

    The load holds each collector's best candidates, so a result's `overflow` and `excluded`
    count those only; `full` loads and scores every account instead, for callers that show
    those counts (the lists are the same either way).
    """
    if not planned:
        return None, []
    version, policy = current_policy(session)
    curve = likelihood_for(session, policy, today=max(p.list_date for p in planned))
    treatments = treatments_for(session, version, policy)
    bounding = treatments.bounding_policy()
    bound = score_bounds(bounding, curve)
    computed: list[ComputedList] = []
    # Collectors' local dates differ by at most a day: one bulk load per distinct date.
    for day in sorted({p.list_date for p in planned}):
        todays = [p for p in planned if p.list_date == day]

        def build(plan: Planned, loaded: LoadedAccounts, today: date = day) -> CallListResult:
            return build_call_list(
                loaded.by_collector.get(plan.member.id, []), policy, curve, today=today,
                now=now, tz=plan.tz, target=plan.member.daily_call_target,
                treatments=treatments,
            )

        prune = None if full else Pruning(
            top=CANDIDATES_PER_CALL * max(p.member.daily_call_target for p in todays),
            bound=bound,
            recontact=recontact_cutoffs(bounding, day, {p.tz for p in todays}),
        )
        zones = {p.member.id: p.tz for p in todays}
        loaded = load_account_states(
            session, collector_ids=list(zones), today=day, now=now, prune=prune, zones=zones,
        )
        results = {plan.member.id: build(plan, loaded) for plan in todays}
        inconclusive = [
            plan for plan in todays
            if (cut := loaded.cut_at.get(plan.member.id)) is not None
            and not _complete(results[plan.member.id], cut, plan.member.daily_call_target)
        ]
        if inconclusive:
            # Something left out might have made these lists: load those collectors in full.
            logger.info("call lists for %s: candidates inconclusive, full load",
                        ", ".join(p.member.slack_user_id for p in inconclusive))
            everything = load_account_states(
                session, collector_ids=[p.member.id for p in inconclusive], today=day, now=now,
                zones=zones,
            )
            results.update((plan.member.id, build(plan, everything)) for plan in inconclusive)
        computed.extend(
            ComputedList(plan, results[plan.member.id], loaded.books.get(plan.member.id, ZERO))
            for plan in todays
        )
    return version, computed


# Candidates loaded per call of the target. Accounts the rules surely leave off never take a
# candidate's place; this leaves room for those a strategy's longer interval keeps off.
CANDIDATES_PER_CALL = 2


def score_bounds(policy: Policy, curve: LikelihoodCurve) -> dict[Bucket, Decimal]:
    """Per aging bucket, the most a dollar past due can score outside promises and callbacks.

    Likelihood x the overdue maximum x the focus boost when some focus segment can cover the
    bucket: an upper bound of the priority score that SQL can rank by.
    """
    bounds = {}
    for bucket in Bucket:
        focus = any(
            segment.focus and (not segment.match.buckets or bucket in segment.match.buckets)
            for segment in policy.segments
        )
        bounds[bucket] = curve.for_bucket(bucket) * OVERDUE_MAX * (FOCUS if focus else 1)
    return bounds


def recontact_cutoffs(
    policy: Policy, today: date, zones: Iterable[ZoneInfo]
) -> dict[Bucket, list[RecontactCutoff]]:
    """Per aging bucket, the re-contact cutoff of each strategy that may cover it.

    Shortest interval first, ending with the shortest among those that cover any balance.
    Tiers and the segments' order are ignored: whichever strategy the rules pick for an
    account, its interval is at least the first of these whose range holds the balance. An
    interval of N days keeps off an account called on one of the last N-1 local days or
    today: a call on or after the start of that first local day, in whichever of `zones`
    starts it last, is too recent for every one of them.
    """
    zones = list(zones)

    def since(days: int) -> datetime:
        first_day = today - timedelta(days=days - 1)
        return max(day_bounds(first_day, tz)[0] for tz in zones)

    cutoffs: dict[Bucket, list[RecontactCutoff]] = {}
    for bucket in Bucket:
        if bucket is Bucket.CURRENT:
            continue  # never loaded: nothing is past due
        covering = sorted(
            (s for s in policy.segments if not s.match.buckets or bucket in s.match.buckets),
            key=lambda s: s.recontact_days,
        )
        bucket_cutoffs = []
        for segment in covering:
            low, high = segment.match.min_past_due, segment.match.max_past_due
            bucket_cutoffs.append(RecontactCutoff(low, high, since(segment.recontact_days)))
            if low is None and high is None:
                break  # covers any balance: no longer interval can be the shortest
        cutoffs[bucket] = bucket_cutoffs
    return cutoffs


def _complete(result: CallListResult, cut: Decimal, target: int) -> bool:
    """True when no account left out of the load could have displaced one on the list.

    Every account left out either is surely left off by the rules or had an upper bound of
    at most `cut`, and accounts with promises or callbacks are always loaded, so one left out
    could only enter the score-ordered tail of the list: it must beat the last item (scores
    are rounded to cents).
    """
    if len(result.items) < target:
        return False
    return result.items[-1].score > cut + Decimal("0.01")


def store_list(session: Session, computed: ComputedList, *, policy_version: int | None) -> CallList:
    """Persist a computed list; if another process stored this collector's day first, use theirs."""
    plan = computed.planned
    existing = find_list(session, plan.member.id, plan.list_date)
    if existing is not None:
        return existing
    handed = handover_reasons(session, [item.customer_id for item in computed.result.items],
                              list_date=plan.list_date)
    call_list = CallList(
        collector_id=plan.member.id,
        list_date=plan.list_date,
        timezone=plan.tz.key,
        policy_version=policy_version,
        past_due_book=computed.past_due_book,
        entries=[
            CallListEntry(
                position=item.position,
                customer_id=item.customer_id,
                score=item.score.quantize(Decimal("0.01")),
                reason=_with_handover(item.reason, handed.get(item.customer_id)),
                past_due=item.past_due,
                days_past_due=item.days_past_due,
            )
            for item in computed.result.items
        ],
    )
    try:
        with session.begin_nested():
            session.add(call_list)
    except IntegrityError:
        stored = find_list(session, plan.member.id, plan.list_date)
        if stored is None:
            raise
        return stored
    return call_list


def handover_reasons(session: Session, customer_ids: list[int], *, list_date: date
                     ) -> dict[int, str]:
    """Where each account handed over in the week before `list_date` came from, in words
    ("handed over from Ben after 6 attempts")."""
    if not customer_ids:
        return {}
    rows = session.execute(
        select(Customer.id, TeamMember.name, Customer.handover_attempts, Customer.handed_over_at)
        .join(TeamMember, TeamMember.id == Customer.handed_over_from_id)
        .where(Customer.id.in_(customer_ids), Customer.handed_over_at.is_not(None))).all()
    earliest = list_date - timedelta(days=SHOW_DAYS)
    return {customer: handed_from(name, attempts or 0) for customer, name, attempts, at in rows
            if at is not None and at.date() >= earliest}


def _with_handover(reason: str, handed: str | None) -> str:
    return reason if handed is None else f"{handed} · {reason}"[:REASON_MAX]


def find_list(session: Session, collector_id: int, list_date: date) -> CallList | None:
    return session.scalar(
        select(CallList).where(
            CallList.collector_id == collector_id, CallList.list_date == list_date
        )
    )


def todays_call_list_for(
    session: Session, member: TeamMember, *, now: datetime, tz: ZoneInfo
) -> CallList | None:
    """The list made for the member's local today, if any."""
    return find_list(session, member.id, local_date(now, tz))


def call_list_view(session: Session, call_list_id: int, *, now: datetime) -> CallListView:
    """The list as it reads now: its rows, and what was recorded on each since the day began."""
    call_list = session.get(CallList, call_list_id)
    if call_list is None:
        raise LookupError(f"call list {call_list_id} does not exist")
    collector = session.get(TeamMember, call_list.collector_id)
    assert collector is not None  # enforced by the foreign key
    tz = ZoneInfo(call_list.timezone)
    start, end = day_bounds(call_list.list_date, tz)
    rows = session.execute(
        select(CallListEntry, Customer)
        .join(Customer, Customer.id == CallListEntry.customer_id)
        # An account sent to an agency or legal (or closed) since the list was made leaves it.
        .where(CallListEntry.call_list_id == call_list_id,
               Customer.status.not_in(sorted(OFF_LISTS)))
        .order_by(CallListEntry.position)
    ).all()
    customer_ids = [entry.customer_id for entry, _ in rows]
    attempts = session.execute(
        select(ContactAttempt, TeamMember.name)
        .join(TeamMember, TeamMember.id == ContactAttempt.collector_id)
        .where(
            ContactAttempt.customer_id.in_(customer_ids),
            ContactAttempt.at >= start - timedelta(days=120),
            ContactAttempt.at < end,
        )
        .order_by(ContactAttempt.at, ContactAttempt.id)
    ).all()
    before: dict[int, ContactAttempt] = {}
    recorded: dict[int, RecordedOutcome] = {}
    for attempt, by_name in attempts:
        if attempt.outcome not in CALL_OUTCOMES:
            continue
        if attempt.at < start:
            before[attempt.customer_id] = attempt
            continue
        undoable = attempt.source in UNDOABLE_SOURCES
        recorded[attempt.customer_id] = RecordedOutcome(
            outcome=attempt.outcome,
            by_name=by_name,
            at=attempt.at,
            attempt_id=attempt.id,
            undo_until=attempt.at + UNDO_WINDOW if undoable else attempt.at,
        )
    items = []
    for entry, customer in rows:
        last = before.get(customer.id)
        items.append(
            CallListItem(
                position=entry.position,
                customer_id=customer.id,
                external_ref=customer.external_ref,
                name=customer.name,
                past_due=entry.past_due,
                days_past_due=entry.days_past_due,
                score=entry.score,
                reason=entry.reason,
                contact_name=customer.contact_name,
                phone=customer.phone,
                last_outcome=last.outcome if last else None,
                last_attempt_at=last.at if last else None,
            )
        )
    return CallListView(
        collector_name=collector.name,
        collector_slack_id=collector.slack_user_id,
        tz=call_list.timezone,
        list_date=call_list.list_date,
        call_list_id=call_list.id,
        past_due_book=call_list.past_due_book,
        items=items,
        recorded=recorded,
    )


def list_recipient(session: Session, call_list: CallList) -> str:
    """Who works the list today: its collector, or the backup it went to while they are out."""
    collector = session.get(TeamMember, call_list.collector_id)
    assert collector is not None
    delivery = session.scalar(
        select(Delivery).where(
            Delivery.key == call_list_key(collector.slack_user_id, call_list.list_date)
        )
    )
    return delivery.recipient if delivery is not None else collector.slack_user_id


def may_work_list(session: Session, call_list_id: int, slack_user_id: str) -> bool:
    """True when the user is the list's collector or the backup covering for them today."""
    call_list = session.get(CallList, call_list_id)
    if call_list is None:
        return False
    collector = session.get(TeamMember, call_list.collector_id)
    if collector is not None and collector.slack_user_id == slack_user_id:
        return True
    return list_recipient(session, call_list) == slack_user_id


def render_list_messages(
    session: Session, call_list_id: int, *, now: datetime
) -> list[Message]:
    """The list's messages as they should read now, for whoever receives it."""
    view = call_list_view(session, call_list_id, now=now)
    call_list = session.get(CallList, call_list_id)
    assert call_list is not None
    recipient = list_recipient(session, call_list)
    if recipient == view.collector_slack_id:
        return render_call_list(view, now=now)
    backup = session.scalar(select(TeamMember).where(TeamMember.slack_user_id == recipient))
    return render_backup_notice(view, backup_name=backup.name if backup else recipient, now=now)


# Renders a refresh may send before it stops chasing later changes (each one after a change
# that committed while the previous render was on its way to Slack).
REFRESH_ROUNDS = 3


def refresh_call_list_messages(
    database: Database, gateway: SlackGateway, call_list_id: int, *, now: datetime
) -> int:
    """Re-render the list from the database and update every message it was sent as.

    Called after a change. The render runs in a writer's transaction on purpose: renders then
    queue behind each other and behind the changes. But the update reaches Slack after that
    transaction: a render of an older state can arrive after a newer one. So, once Slack has
    it, the list is rendered again; if a change committed in between, that render goes too
    (up to REFRESH_ROUNDS). The refresh that updates Slack last has then seen the list as it
    stands.
    """
    updated, sent = 0, None
    for _ in range(REFRESH_ROUNDS):
        messages, refs = _list_messages(database, call_list_id, now=now)
        shown = [(m.text, m.blocks) for m in messages]
        if shown == sent:
            break
        if len(refs) != len(messages):
            logger.warning("call list %s: %d message(s) sent, %d rendered; updating the common "
                           "ones", call_list_id, len(refs), len(messages))
        for ref, message in zip(refs, messages, strict=False):
            try:
                gateway.update_message(ref["channel"], ref["ts"], message.text, message.blocks)
                updated += 1
            except SlackError as exc:
                # The database already holds the outcome; the next refresh shows it.
                logger.warning("call list %s: chat.update failed: %s", call_list_id, exc.code)
        sent = shown
    return updated


def _list_messages(
    database: Database, call_list_id: int, *, now: datetime
) -> tuple[list[Message], list[dict[str, str]]]:
    """The list's messages as they read now, and the Slack messages it was sent as."""
    with database.uow() as uow:
        messages = render_list_messages(uow.session, call_list_id, now=now)
        call_list = uow.session.get(CallList, call_list_id)
        assert call_list is not None
        collector = uow.session.get(TeamMember, call_list.collector_id)
        assert collector is not None
        delivery = uow.session.scalar(
            select(Delivery).where(
                Delivery.key == call_list_key(collector.slack_user_id, call_list.list_date)
            )
        )
        refs = list(delivery.messages or []) if delivery is not None else []
    return messages, refs
