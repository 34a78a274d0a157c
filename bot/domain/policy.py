"""The team's strategies: segments of the book and the rules each one is worked by.

A policy is written by people (YAML or TOML), so parsing reports every problem at once, each
with its path, and an unknown key is an error: a typo must never silently do nothing.
"""

from __future__ import annotations

import difflib
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml

from bot.domain.aging import BUCKETS, Bucket
from bot.domain.vocabulary import EscalationLevel

PolicyFormat = Literal["yaml", "toml"]

# The order an escalation climbs; a segment's path is an ordered subset of it.
ESCALATION_ORDER: tuple[EscalationLevel, ...] = (
    EscalationLevel.MANAGER,
    EscalationLevel.AGENCY,
    EscalationLevel.LEGAL,
)
DEFAULT_PROMISE_HORIZON_DAYS = 30
DEFAULT_MIN_HISTORY = 30
MAX_DAYS = 365

_TOP_KEYS = ("segments", "likelihood", "min_history")
_SEGMENT_KEYS = (
    "name",
    "match",
    "recontact_days",
    "max_attempts",
    "escalation_path",
    "handoff_after",
    "focus",
    "promise_horizon_days",
    "holdout",
    "escalate",
)
# A holdout is a share of the segment's accounts; more than half would make the new treatment
# the exception rather than the rule.
MAX_HOLDOUT = Decimal("0.5")
_MATCH_KEYS = ("buckets", "min_past_due", "max_past_due", "tiers")
_ESCALATE_KEYS = (
    "no_contact_days",
    "broken_promises",
    "broken_promise_days",
    "past_due_over",
    "past_due_days",
    "dispute_days",
    "min_balance",
)
# Days past due an account can reach (about ten years): bounds `past_due_days`.
MAX_PAST_DUE_DAYS = 3650


class PolicyError(ValueError):
    """A policy that cannot be used; `problems` holds one "path: what is wrong" line each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True, slots=True)
class SegmentMatch:
    """Which accounts a segment covers; an empty field matches anything."""

    buckets: frozenset[Bucket] = frozenset()
    min_past_due: Decimal | None = None  # inclusive
    max_past_due: Decimal | None = None  # exclusive, so ranges can share a boundary
    tiers: frozenset[str] = frozenset()  # lower-case

    @property
    def is_catch_all(self) -> bool:
        return (
            not self.buckets
            and not self.tiers
            and self.min_past_due is None
            and self.max_past_due is None
        )

    def covers(self, bucket: Bucket, past_due: Decimal, tier: str) -> bool:
        """Whether an account in this bucket, with this balance and tier, is in the segment."""
        return self.covers_kind(bucket, tier) and self.covers_balance(past_due)

    def covers_kind(self, bucket: Bucket, tier: str) -> bool:
        """Whether the bucket and the tier are the segment's (whatever the balance)."""
        return (not self.buckets or bucket in self.buckets) and (
            not self.tiers or tier.strip().lower() in self.tiers)

    def covers_balance(self, past_due: Decimal) -> bool:
        """Whether the balance is within the segment's bounds (whatever the bucket and tier)."""
        low, high = self.min_past_due, self.max_past_due
        return (low is None or past_due >= low) and (high is None or past_due < high)


@dataclass(frozen=True, slots=True)
class EscalationRules:
    """When a segment's accounts go to a manager (besides `max_attempts`); None turns a rule off.

    The defaults are what a segment without an `escalate` mapping gets (default_policy.yml
    documents them).
    """

    no_contact_days: int | None = 14  # past due and nobody called for this many days
    broken_promises: int | None = 2  # this many promises broken ...
    broken_promise_days: int = 60  # ... within this many days
    past_due_over: Decimal | None = Decimal(50000)  # past due at least this much ...
    past_due_days: int = 90  # ... with the oldest past-due invoice this many days late
    dispute_days: int | None = 30  # a dispute open longer than this many days
    min_balance: Decimal = Decimal(100)  # owing less past due (disputes included): never


DEFAULT_ESCALATION_RULES = EscalationRules()


@dataclass(frozen=True, slots=True)
class Segment:
    """One strategy: how often to re-contact, when to escalate and where, who keeps the account."""

    name: str
    match: SegmentMatch
    recontact_days: int
    max_attempts: int
    escalation_path: tuple[EscalationLevel, ...] = (EscalationLevel.MANAGER,)
    handoff_after: int | None = None  # None: the account stays with one collector
    focus: bool = False  # a strategy the team is pushing: boosts priority
    promise_horizon_days: int = DEFAULT_PROMISE_HORIZON_DAYS
    # Champion/challenger: this share of the segment's accounts keeps the previous treatment.
    holdout: Decimal | None = None
    escalate: EscalationRules = DEFAULT_ESCALATION_RULES


@dataclass(frozen=True, slots=True)
class Policy:
    """Segments in order (first match wins, the last is a catch-all) and the likelihood knobs."""

    segments: tuple[Segment, ...]
    # Overrides of the default likelihood curve, per aging bucket (a probability in (0, 1]).
    likelihood: Mapping[Bucket, Decimal] = field(default_factory=dict)
    # Outcomes a bucket needs before the learned likelihood replaces the default.
    min_history: int = DEFAULT_MIN_HISTORY

    def segment_for(self, bucket: Bucket, past_due: Decimal, tier: str) -> Segment:
        """The first segment that covers the account (the catch-all if none before it)."""
        for segment in self.segments:
            if segment.match.covers(bucket, past_due, tier):
                return segment
        raise LookupError("policy has no catch-all segment")  # parse_policy rules this out

    def segment_named(self, name: str) -> Segment:
        for segment in self.segments:
            if segment.name == name:
                return segment
        raise LookupError(f"no segment named {name!r}")


class SegmentIndex:
    """`Policy.segment_for` over a whole book: the segments a (bucket, tier) can be in are
    narrowed once, so each account checks only balance bounds."""

    def __init__(self, policy: Policy) -> None:
        self._segments = policy.segments
        self._candidates: dict[tuple[Bucket, str], tuple[Segment, ...]] = {}

    def segment_for(self, bucket: Bucket, past_due: Decimal, tier: str) -> Segment:
        """The first segment that covers the account, as `Policy.segment_for` finds it."""
        key = (bucket, tier)
        candidates = self._candidates.get(key)
        if candidates is None:
            candidates = tuple(s for s in self._segments if s.match.covers_kind(bucket, tier))
            self._candidates[key] = candidates
        for segment in candidates:
            if segment.match.covers_balance(past_due):
                return segment
        raise LookupError("policy has no catch-all segment")


# --- parsing -------------------------------------------------------------------------------


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that rejects a key written twice (PyYAML would keep the last silently)."""


def _construct_unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} appears twice", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping
)


def parse_policy(text: str, fmt: PolicyFormat = "yaml") -> Policy:
    """Read a policy file's text; PolicyError lists every problem with its path."""
    data: Any
    if fmt == "yaml":
        try:
            data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
            problem = getattr(exc, "problem", None) or str(exc)
            raise PolicyError([f"{where}not valid YAML: {problem}"]) from None
    elif fmt == "toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise PolicyError([f"not valid TOML: {exc}"]) from None
    else:
        raise PolicyError([f"unknown policy format {fmt!r} (yaml or toml)"])
    return policy_from_dict(data)


def policy_from_dict(data: Any) -> Policy:
    """Build a policy from plain data (a parsed file or a stored JSON body)."""
    problems: list[str] = []
    if not isinstance(data, Mapping):
        raise PolicyError(
            [f"policy: must be a mapping with a 'segments' list (got {_shown(data)})"]
        )
    _check_keys(data, _TOP_KEYS, "", problems)

    likelihood = _likelihood(data.get("likelihood"), problems)
    min_history = DEFAULT_MIN_HISTORY
    if "min_history" in data:
        min_history = _whole(
            data["min_history"], "min_history", problems,
            "must be a whole number of outcomes >= 1", minimum=1,
        ) or DEFAULT_MIN_HISTORY

    raw_segments = data.get("segments")
    segments: list[Segment] = []
    if raw_segments is None:
        problems.append("segments: missing (a list of segments, the last one a catch-all)")
    elif not isinstance(raw_segments, list) or not raw_segments:
        problems.append(f"segments: must be a non-empty list (got {_shown(raw_segments)})")
    else:
        for index, raw in enumerate(raw_segments):
            segment = _segment(raw, f"segments[{index}]", problems)
            if segment is not None:
                segments.append(segment)
        if len(segments) == len(raw_segments):
            _check_segment_order(segments, problems)

    if problems:
        raise PolicyError(problems)
    return Policy(segments=tuple(segments), likelihood=likelihood, min_history=min_history)


def _check_segment_order(segments: list[Segment], problems: list[str]) -> None:
    seen: dict[str, int] = {}
    for index, segment in enumerate(segments):
        if segment.name in seen:
            problems.append(
                f"segments[{index}].name: {segment.name!r} is already the name of "
                f"segments[{seen[segment.name]}]"
            )
        seen.setdefault(segment.name, index)
        if segment.match.is_catch_all and index < len(segments) - 1:
            problems.append(
                f"segments[{index}].match: matches every account, so segments after it "
                "never apply (only the last segment may be a catch-all)"
            )
    if not segments[-1].match.is_catch_all:
        problems.append(
            f"segments[{len(segments) - 1}].match: the last segment must be a catch-all "
            "(no match conditions) so every account has a strategy"
        )


def _segment(raw: Any, path: str, problems: list[str]) -> Segment | None:
    if not isinstance(raw, Mapping):
        problems.append(f"{path}: must be a mapping (got {_shown(raw)})")
        return None
    before = len(problems)
    _check_keys(raw, _SEGMENT_KEYS, path + ".", problems)

    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{path}.name: must be a non-empty text (got {_shown(name)})")
        name = ""
    match = _match(raw.get("match", {}), f"{path}.match", problems)
    recontact_days = _required_whole(
        raw, "recontact_days", path, problems, "must be a whole number of days >= 1"
    )
    max_attempts = _required_whole(
        raw, "max_attempts", path, problems, "must be a whole number of attempts >= 1"
    )
    escalation_path = _escalation_path(raw.get("escalation_path", ["manager"]), path, problems)
    handoff_after: int | None = None
    if raw.get("handoff_after") is not None:
        handoff_after = _whole(
            raw["handoff_after"], f"{path}.handoff_after", problems,
            "must be a whole number of attempts >= 1, or null to keep one collector", minimum=1,
        )
    focus = raw.get("focus", False)
    if not isinstance(focus, bool):
        problems.append(f"{path}.focus: must be true or false (got {_shown(focus)})")
        focus = False
    horizon = DEFAULT_PROMISE_HORIZON_DAYS
    if "promise_horizon_days" in raw:
        horizon = _whole(
            raw["promise_horizon_days"], f"{path}.promise_horizon_days", problems,
            f"must be a whole number of days from 1 to {MAX_DAYS}", minimum=1, maximum=MAX_DAYS,
        ) or horizon

    holdout = _holdout(raw.get("holdout"), f"{path}.holdout", problems)
    escalate = _escalate(raw.get("escalate"), f"{path}.escalate", problems)

    if len(problems) > before or match is None or recontact_days is None or max_attempts is None:
        return None
    return Segment(
        name=name.strip(),
        match=match,
        recontact_days=recontact_days,
        max_attempts=max_attempts,
        escalation_path=escalation_path,
        handoff_after=handoff_after,
        focus=focus,
        promise_horizon_days=horizon,
        holdout=holdout,
        escalate=escalate,
    )


def _off_or_whole(
    raw: Mapping[str, Any], key: str, where: str, problems: list[str], unit: str,
    *, default: int | None, minimum: int = 1, maximum: int = MAX_DAYS,
) -> int | None:
    """A whole number in range, or null (the rule is off); absent: the default."""
    if key not in raw:
        return default
    if raw[key] is None:
        return None
    return _whole(
        raw[key], f"{where}.{key}", problems,
        f"must be a whole number of {unit} from {minimum} to {maximum}, or null to turn the "
        "rule off", minimum=minimum, maximum=maximum,
    )


def _escalate(raw: Any, where: str, problems: list[str]) -> EscalationRules:
    """A segment's escalation rules; every rule left out keeps its documented default."""
    if raw is None:
        return DEFAULT_ESCALATION_RULES
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: must be a mapping of escalation rules (got {_shown(raw)})")
        return DEFAULT_ESCALATION_RULES
    before = len(problems)
    _check_keys(raw, _ESCALATE_KEYS, where + ".", problems)
    base = DEFAULT_ESCALATION_RULES
    no_contact = _off_or_whole(raw, "no_contact_days", where, problems, "days",
                               default=base.no_contact_days)
    broken = _off_or_whole(raw, "broken_promises", where, problems, "promises",
                           default=base.broken_promises, maximum=100)
    window = _off_or_whole(raw, "broken_promise_days", where, problems, "days",
                           default=base.broken_promise_days)
    over = base.past_due_over
    if "past_due_over" in raw:
        over = _amount(raw["past_due_over"], f"{where}.past_due_over", problems)
    days = _off_or_whole(raw, "past_due_days", where, problems, "days past due",
                         default=base.past_due_days, minimum=0, maximum=MAX_PAST_DUE_DAYS)
    dispute = _off_or_whole(raw, "dispute_days", where, problems, "days",
                            default=base.dispute_days)
    floor = base.min_balance
    if raw.get("min_balance") is not None:
        floor = _amount(raw["min_balance"], f"{where}.min_balance", problems) or Decimal(0)
    for key in ("broken_promise_days", "past_due_days"):
        if key in raw and raw[key] is None:
            problems.append(f"{where}.{key}: must be a number of days (turn the rule off "
                            f"with {'broken_promises' if key[0] == 'b' else 'past_due_over'}: "
                            "null)")
    if over is not None and over < floor:
        problems.append(f"{where}.past_due_over: must be at least min_balance ({over} < "
                        f"{floor}); below min_balance nothing escalates")
    if len(problems) > before:
        return base
    return EscalationRules(
        no_contact_days=no_contact, broken_promises=broken,
        broken_promise_days=window or base.broken_promise_days, past_due_over=over,
        past_due_days=base.past_due_days if days is None else days, dispute_days=dispute,
        min_balance=floor,
    )


def _holdout(value: Any, where: str, problems: list[str]) -> Decimal | None:
    """`10%` (or the fraction 0.1) of the segment's accounts; null or absent for none."""
    if value is None:
        return None
    text = value.strip() if isinstance(value, str) else None
    share: Decimal | None
    if text is not None and text.endswith("%"):
        percent = _decimal(text[:-1])
        share = None if percent is None else percent / 100
    elif isinstance(value, float | Decimal) or (text is not None and "." in text):
        share = _decimal(value)
    else:
        share = None  # a bare whole number is ambiguous: 10 could mean 10% or 1000%
    if share is None or not Decimal(0) < share <= MAX_HOLDOUT:
        problems.append(
            f"{where}: must be a share of the segment's accounts above 0% and at most "
            f"{MAX_HOLDOUT:.0%}, written like 10% (got {_shown(value)})"
        )
        return None
    return share.normalize()


def _match_buckets(raw_buckets: Any, path: str, problems: list[str]) -> set[Bucket]:
    buckets: set[Bucket] = set()
    if not isinstance(raw_buckets, list):
        problems.append(
            f"{path}.buckets: must be a list of aging buckets (got {_shown(raw_buckets)})"
        )
        raw_buckets = []
    allowed = ", ".join(b.value for b in BUCKETS)
    for index, value in enumerate(raw_buckets):
        try:
            buckets.add(Bucket(str(value).strip()))
        except ValueError:
            problems.append(
                f"{path}.buckets[{index}]: not an aging bucket (got {_shown(value)}; "
                f"one of {allowed})"
            )
    return buckets


def _match_tiers(raw_tiers: Any, path: str, problems: list[str]) -> set[str]:
    tiers: set[str] = set()
    if not isinstance(raw_tiers, list):
        problems.append(f"{path}.tiers: must be a list of customer tiers (got {_shown(raw_tiers)})")
        raw_tiers = []
    for index, value in enumerate(raw_tiers):
        if not isinstance(value, str) or not value.strip():
            problems.append(
                f"{path}.tiers[{index}]: must be a non-empty text (got {_shown(value)})"
            )
        else:
            tiers.add(value.strip().lower())
    return tiers


def _match(raw: Any, path: str, problems: list[str]) -> SegmentMatch | None:
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        problems.append(f"{path}: must be a mapping of conditions (got {_shown(raw)})")
        return None
    before = len(problems)
    _check_keys(raw, _MATCH_KEYS, path + ".", problems)

    buckets = _match_buckets(raw.get("buckets", []), path, problems)
    tiers = _match_tiers(raw.get("tiers", []), path, problems)
    low = _amount(raw.get("min_past_due"), f"{path}.min_past_due", problems)
    high = _amount(raw.get("max_past_due"), f"{path}.max_past_due", problems)
    if low is not None and high is not None and high <= low:
        problems.append(
            f"{path}.max_past_due: must be more than min_past_due ({high} <= {low}); "
            "min is inclusive, max exclusive"
        )
    if len(problems) > before:
        return None
    return SegmentMatch(
        buckets=frozenset(buckets), min_past_due=low, max_past_due=high, tiers=frozenset(tiers)
    )


def _escalation_path(
    raw: Any, path: str, problems: list[str]
) -> tuple[EscalationLevel, ...]:
    where = f"{path}.escalation_path"
    order = " -> ".join(level.value for level in ESCALATION_ORDER)
    if not isinstance(raw, list):
        problems.append(
            f"{where}: must be a list, an ordered subset of {order} (got {_shown(raw)})"
        )
        return ()
    levels: list[EscalationLevel] = []
    for index, value in enumerate(raw):
        try:
            levels.append(EscalationLevel(str(value).strip().lower()))
        except ValueError:
            problems.append(
                f"{where}[{index}]: not an escalation level (got {_shown(value)}; one of "
                f"{', '.join(level.value for level in ESCALATION_ORDER)})"
            )
            return ()
    ranks = [ESCALATION_ORDER.index(level) for level in levels]
    if ranks != sorted(set(ranks)):
        problems.append(
            f"{where}: must climb in the order {order} without repeats "
            f"(got {' -> '.join(level.value for level in levels)})"
        )
        return ()
    return tuple(levels)


def _likelihood(raw: Any, problems: list[str]) -> dict[Bucket, Decimal]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        problems.append(
            f"likelihood: must map aging buckets to a probability (got {_shown(raw)})"
        )
        return {}
    curve: dict[Bucket, Decimal] = {}
    allowed = ", ".join(b.value for b in BUCKETS)
    for key, value in raw.items():
        try:
            bucket = Bucket(str(key).strip())
        except ValueError:
            problems.append(f"likelihood.{key}: not an aging bucket (one of {allowed})")
            continue
        probability = _decimal(value)
        if probability is None or not Decimal(0) < probability <= Decimal(1):
            problems.append(
                f"likelihood.{key}: must be a probability above 0 and at most 1 "
                f"(got {_shown(value)})"
            )
            continue
        curve[bucket] = probability
    return curve


def _required_whole(
    raw: Mapping[str, Any], key: str, path: str, problems: list[str], message: str
) -> int | None:
    if key not in raw:
        problems.append(f"{path}.{key}: missing ({message.removeprefix('must be ')})")
        return None
    return _whole(raw[key], f"{path}.{key}", problems, message)


def _whole(
    value: Any, where: str, problems: list[str], message: str,
    *, minimum: int = 1, maximum: int | None = None,
) -> int | None:
    # bool is an int in Python; `focus: true` in the wrong place must not read as 1.
    if (
        isinstance(value, int)
        and not isinstance(value, bool)
        and value >= minimum
        and (maximum is None or value <= maximum)
    ):
        return value
    problems.append(f"{where}: {message} (got {_shown(value)})")
    return None


def _amount(value: Any, where: str, problems: list[str]) -> Decimal | None:
    if value is None:
        return None
    amount = _decimal(value)
    if amount is None or amount < 0:
        problems.append(f"{where}: must be an amount in dollars >= 0 (got {_shown(value)})")
        return None
    return amount


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        value = repr(value)  # the number as written in the file, not its binary expansion
    if isinstance(value, int | str | Decimal):
        try:
            number = Decimal(str(value).strip().replace("_", ""))
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def _check_keys(
    raw: Mapping[Any, Any], allowed: tuple[str, ...], prefix: str, problems: list[str]
) -> None:
    for key in raw:
        if key in allowed:
            continue
        close = difflib.get_close_matches(str(key), allowed, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"expected one of {', '.join(allowed)}"
        problems.append(f"{prefix}{key}: unknown key ({hint})")


def _shown(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return str(value)


# --- storage -------------------------------------------------------------------------------


def policy_to_dict(policy: Policy) -> dict[str, Any]:
    """Plain JSON-safe data (amounts as text) that `policy_from_dict` reads back unchanged."""
    return {
        "segments": [_segment_to_dict(segment) for segment in policy.segments],
        "likelihood": {
            bucket.value: str(policy.likelihood[bucket])
            for bucket in BUCKETS
            if bucket in policy.likelihood
        },
        "min_history": policy.min_history,
    }


def _segment_to_dict(segment: Segment) -> dict[str, Any]:
    match: dict[str, Any] = {}
    if segment.match.buckets:
        match["buckets"] = [b.value for b in BUCKETS if b in segment.match.buckets]
    if segment.match.min_past_due is not None:
        match["min_past_due"] = str(segment.match.min_past_due)
    if segment.match.max_past_due is not None:
        match["max_past_due"] = str(segment.match.max_past_due)
    if segment.match.tiers:
        match["tiers"] = sorted(segment.match.tiers)
    return {
        "name": segment.name,
        "match": match,
        "recontact_days": segment.recontact_days,
        "max_attempts": segment.max_attempts,
        "escalation_path": [level.value for level in segment.escalation_path],
        "handoff_after": segment.handoff_after,
        "focus": segment.focus,
        "promise_horizon_days": segment.promise_horizon_days,
        # Only when set, so policies stored before holdouts existed still compare equal.
        **({} if segment.holdout is None else {"holdout": _percent(segment.holdout)}),
        # Only when not the default, for the same reason.
        **({} if segment.escalate == DEFAULT_ESCALATION_RULES
           else {"escalate": _escalate_to_dict(segment.escalate)}),
    }


def _escalate_to_dict(rules: EscalationRules) -> dict[str, Any]:
    return {
        "no_contact_days": rules.no_contact_days,
        "broken_promises": rules.broken_promises,
        "broken_promise_days": rules.broken_promise_days,
        "past_due_over": None if rules.past_due_over is None else str(rules.past_due_over),
        "past_due_days": rules.past_due_days,
        "dispute_days": rules.dispute_days,
        "min_balance": str(rules.min_balance),
    }


def _percent(share: Decimal) -> str:
    return f"{(share * 100).normalize():f}%"


# --- the shipped default -------------------------------------------------------------------


@cache
def default_policy_text() -> str:
    """The shipped default policy file, comments included."""
    return resources.files("bot.domain").joinpath("default_policy.yml").read_text("utf-8")


@cache
def default_policy() -> Policy:
    """The policy in force before the team stores one of its own."""
    return parse_policy(default_policy_text(), "yaml")


def policy_format_for(filename: str) -> PolicyFormat:
    """The format a policy file's name implies: .toml is TOML, anything else YAML."""
    return "toml" if filename.lower().endswith(".toml") else "yaml"

