"""Stored policy versions: the one in force, saving a new one, and which was in force when."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db import models
from bot.db.uow import UnitOfWork
from bot.domain.holdout import TreatmentResolver, strategy_versions
from bot.domain.policy import (
    Policy,
    PolicyFormat,
    default_policy,
    parse_policy,
    policy_from_dict,
    policy_to_dict,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    """One stored version as the history lists it."""

    version: int
    created_at: datetime
    created_by: str | None
    note: str | None
    segments: int


@dataclass(frozen=True, slots=True)
class StoredPolicy:
    """A stored version with its policy and the text the team wrote."""

    version: int
    policy: Policy
    source: str | None
    note: str | None
    created_by: str | None
    created_at: datetime


def _latest_row(session: Session, when: datetime | None = None) -> models.Policy | None:
    query = select(models.Policy)
    if when is not None:
        if when.tzinfo is None:
            raise ValueError("when must be timezone-aware")
        query = query.where(models.Policy.created_at <= when)
    return session.scalars(query.order_by(models.Policy.version.desc()).limit(1)).first()


def current_policy(session: Session) -> tuple[int | None, Policy]:
    """The newest stored version, or (None, the built-in default) when none is stored."""
    row = _latest_row(session)
    if row is None:
        return None, default_policy()
    return row.version, policy_from_dict(row.body)


def policy_at(session: Session, when: datetime) -> tuple[int | None, Policy]:
    """The version in force at `when` (the newest saved at or before it); None = the default."""
    row = _latest_row(session, when)
    if row is None:
        return None, default_policy()
    return row.version, policy_from_dict(row.body)


def treatments_for(session: Session, version: int | None, policy: Policy) -> TreatmentResolver:
    """Who keeps the previous treatment under `policy` (stored as `version`; None = default).

    A strategy's version is the oldest stored version since which its rules are unchanged; its
    held-out accounts are worked by the version in force before that one (the built-in default
    before version 1).
    """
    if version is None or not any(s.holdout is not None for s in policy.segments):
        return TreatmentResolver(policy)
    query = select(models.Policy).where(models.Policy.version <= version)
    rows = session.scalars(query.order_by(models.Policy.version)).all()
    history = [(row.version, policy_from_dict(row.body)) for row in rows]
    history = [(v, p) for v, p in history if v != version] + [(version, policy)]
    versions = strategy_versions(history)
    by_version = dict(history)
    champions = {}
    for segment in policy.segments:
        if segment.holdout is None:
            continue
        previous = versions.get(segment.name, version) - 1
        champions[segment.name] = by_version.get(previous) or default_policy()
    return TreatmentResolver(policy, versions=versions, champions=champions)


def stored_policy(session: Session, version: int) -> StoredPolicy | None:
    """One stored version by number, or None if there is no such version."""
    row = session.scalars(select(models.Policy).where(models.Policy.version == version)).first()
    if row is None:
        return None
    return StoredPolicy(
        version=row.version,
        policy=policy_from_dict(row.body),
        source=row.source,
        note=row.note,
        created_by=row.created_by,
        created_at=row.created_at,
    )


def policy_history(session: Session) -> list[PolicyVersion]:
    """Every stored version, oldest first."""
    rows = session.scalars(select(models.Policy).order_by(models.Policy.version)).all()
    return [
        PolicyVersion(
            version=row.version,
            created_at=row.created_at,
            created_by=row.created_by,
            note=row.note,
            segments=len(row.body.get("segments", [])),
        )
        for row in rows
    ]


def save_policy(
    uow: UnitOfWork,
    source_text: str,
    fmt: PolicyFormat,
    actor: str,
    note: str | None = None,
    *,
    now: datetime | None = None,
) -> int:
    """Validate and store a new version (audited) in the caller's unit of work, which commits
    it; an unchanged policy keeps its version.

    Raises PolicyError, with nothing stored, when the text is not a valid policy.
    """
    policy = parse_policy(source_text, fmt)
    body = policy_to_dict(policy)
    session = uow.session
    current = _latest_row(session)
    if current is not None and current.body == body:
        logger.info("policy unchanged: version %s kept (actor %s)", current.version, actor)
        return current.version
    newest = session.scalar(select(func.max(models.Policy.version))) or 0
    version = newest + 1
    row = models.Policy(
        version=version,
        body=body,
        source=source_text,
        note=(note or None) and note[:200],
        created_by=actor[:64],
    )
    if now is not None:
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        row.created_at = now
    session.add(row)
    uow.audit(
        actor,
        "policy.saved",
        "policy",
        version,
        previous=None if current is None else current.version,
        segments=[segment.name for segment in policy.segments],
        note=note,
    )
    logger.info("policy version %s stored by %s", version, actor)
    return version
