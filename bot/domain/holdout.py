"""Champion/challenger: which accounts of a strategy keep the previous treatment.

A segment may declare `holdout: 10%`. Whether an account is held out is a pure function of the
account's key in the source system (its external reference, which a re-import keeps) and the
strategy's key (segment name and the policy version its rules date from): no stored state, the
same answer after a restart, a re-import or on another process, and a fresh draw when the
strategy's rules change. The draw is the first 8 bytes of a SHA-256, read as a number in [0, 1).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from bot.domain.aging import Bucket
from bot.domain.policy import Policy, Segment

_SCALE = Decimal(2**64)


def strategy_key(segment_name: str, version: int | None) -> str:
    """The key a strategy's holdout draw uses: its name and the version its rules date from."""
    return f"{segment_name}@v{version if version is not None else 0}"


def holdout_draw(account_key: str, strategy: str) -> Decimal:
    """A stable pseudo-random number in [0, 1) for this account under this strategy."""
    digest = hashlib.sha256(f"{strategy}\x1f{account_key}".encode()).digest()
    return Decimal(int.from_bytes(digest[:8], "big")) / _SCALE


def is_held_out(account_key: str, strategy: str, share: Decimal | None) -> bool:
    """Whether the account is in the strategy's held-out share (never when share is None)."""
    return share is not None and holdout_draw(account_key, strategy) < share


def strategy_versions(history: Sequence[tuple[int, Policy]]) -> dict[str, int]:
    """For each segment of the newest version, the oldest version since which it is unchanged.

    `history` is every stored version, oldest first. A segment with the same name and the same
    rules in consecutive versions keeps its strategy version (and so its holdout draw).
    """
    if not history:
        return {}
    ordered = sorted(history, key=lambda entry: entry[0])
    newest_version, newest = ordered[-1]
    versions: dict[str, int] = {}
    for segment in newest.segments:
        since = newest_version
        for version, policy in reversed(ordered[:-1]):
            earlier = next((s for s in policy.segments if s.name == segment.name), None)
            if earlier != segment:
                break
            since = version
        versions[segment.name] = since
    return versions


@dataclass(frozen=True, slots=True)
class Treatment:
    """The segment an account is worked by, and whether it is held out of its strategy."""

    segment: Segment
    held_out: bool = False
    strategy: str | None = None  # the strategy key when the segment declares a holdout


class TreatmentResolver:
    """Resolves an account's segment under the policy, held-out accounts under the champion.

    `champion` is the policy version in force before the one that introduced each strategy,
    looked up per segment in `champions` (a segment without an entry has no champion: its
    held-out accounts fall back to the same segment without its focus boost).
    """

    def __init__(
        self,
        policy: Policy,
        *,
        versions: Mapping[str, int] | None = None,
        champions: Mapping[str, Policy] | None = None,
    ) -> None:
        self.policy = policy
        self._versions = dict(versions or {})
        self._champions = dict(champions or {})

    @property
    def has_holdout(self) -> bool:
        return any(segment.holdout is not None for segment in self.policy.segments)

    def bounding_policy(self) -> Policy:
        """The policy with its champions' segments added: what bounds any account's treatment.

        Candidate pruning (score bounds, re-contact cut-offs) must hold for held-out accounts
        too, so it is computed over every segment an account may be worked by.
        """
        if not self._champions:
            return self.policy
        extra = tuple(s for champion in self._champions.values() for s in champion.segments)
        return replace(self.policy, segments=self.policy.segments + extra)

    def resolve(
        self, segment: Segment, account_key: str, bucket: Bucket, past_due: Decimal, tier: str
    ) -> Treatment:
        """The treatment for an account whose policy segment is `segment`."""
        if segment.holdout is None:
            return Treatment(segment)
        key = strategy_key(segment.name, self._versions.get(segment.name))
        if not is_held_out(account_key, key, segment.holdout):
            return Treatment(segment, strategy=key)
        champion = self._champions.get(segment.name)
        previous = (
            champion.segment_for(bucket, past_due, tier)
            if champion is not None
            else _without_focus(segment)
        )
        return Treatment(previous, held_out=True, strategy=key)


def _without_focus(segment: Segment) -> Segment:
    return replace(segment, focus=False, holdout=None)
