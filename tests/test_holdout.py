"""Champion/challenger holdouts: the policy key, the stable draw, who keeps the old treatment."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.db import Database
from bot.domain.accounts import AccountState
from bot.domain.aging import Bucket
from bot.domain.holdout import (
    TreatmentResolver,
    holdout_draw,
    is_held_out,
    strategy_key,
    strategy_versions,
)
from bot.domain.likelihood import default_curve
from bot.domain.policy import (
    PolicyError,
    default_policy,
    default_policy_text,
    parse_policy,
    policy_from_dict,
    policy_to_dict,
)
from bot.domain.priority import build_call_list
from bot.domain.vocabulary import CustomerStatus
from bot.services.policy import save_policy, treatments_for

TODAY = date(2026, 11, 24)
NOW = datetime(2026, 11, 24, 13, 30, tzinfo=UTC)
NEW_YORK = ZoneInfo("America/New_York")
FOCUS_LINE = "    focus: true\n"


def with_holdout(share: str, text: str | None = None) -> str:
    """The default policy with `holdout: share` on its focus segment (61-90 days)."""
    text = text or default_policy_text()
    assert text.count(FOCUS_LINE) == 1
    return text.replace(FOCUS_LINE, f"{FOCUS_LINE}    holdout: {share}\n")


@pytest.mark.parametrize(("written", "share"), [
    ("10%", Decimal("0.1")), ("12.5%", Decimal("0.125")), ("0.25", Decimal("0.25")),
    ("50%", Decimal("0.5")),
])
def test_holdout_is_read_as_a_share(written: str, share: Decimal) -> None:
    policy = parse_policy(with_holdout(written))
    assert policy.segment_named("61-90 days").holdout == share
    assert policy_from_dict(policy_to_dict(policy)) == policy


@pytest.mark.parametrize("written", ["0%", "60%", "10", "true", "ten percent", "-5%"])
def test_bad_holdout_is_refused_with_its_path(written: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(with_holdout(written))
    [problem] = caught.value.problems
    assert problem.startswith("segments[2].holdout: must be a share")


def test_a_policy_without_holdouts_stores_as_before() -> None:
    assert all("holdout" not in s for s in policy_to_dict(default_policy())["segments"])


def test_the_draw_is_a_fixed_function_of_account_and_strategy() -> None:
    # A literal: the same in every process, after restarts (no salted hash()).
    assert holdout_draw("C00001", "61-90 days@v2") == holdout_draw("C00001", "61-90 days@v2")
    assert f"{holdout_draw('C00001', '61-90 days@v2'):.12f}" == "0.901750529028"
    assert holdout_draw("C00001", "61-90 days@v3") != holdout_draw("C00001", "61-90 days@v2")
    assert not is_held_out("C00001", "61-90 days@v2", None)


@settings(max_examples=10, deadline=None)
@given(
    strategy=st.text(min_size=1, max_size=30),
    version=st.integers(min_value=0, max_value=500),
    percent=st.sampled_from([5, 10, 20, 25, 50]),
    prefix=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ-", max_size=6),
)
def test_held_out_share_is_within_two_points_over_10000_accounts(
    strategy: str, version: int, percent: int, prefix: str
) -> None:
    key = strategy_key(strategy, version)
    share = Decimal(percent) / 100
    accounts = [f"{prefix}{n:06d}" for n in range(10_000)]
    held = [a for a in accounts if is_held_out(a, key, share)]
    assert abs(Decimal(len(held)) / 100 - percent) <= 2
    # Stable: drawn again (as after a restart or a re-import of the same customers), the same.
    assert [a for a in accounts if is_held_out(a, key, share)] == held


def test_strategy_version_is_the_oldest_with_the_same_rules() -> None:
    v1 = default_policy()
    v2 = parse_policy(with_holdout("10%"))
    v3 = parse_policy(with_holdout("10%").replace("recontact_days: 7\n", "recontact_days: 6\n", 1))
    versions = strategy_versions([(1, v1), (2, v2), (3, v3)])
    assert versions["61-90 days"] == 2  # changed in v2, untouched in v3
    assert versions["key accounts"] == 1
    assert versions["31-60 days"] == 3  # key accounts' 3 is not 7; 31-60 went 7 -> 6 in v3


def _account(n: int) -> AccountState:
    return AccountState(
        customer_id=n, external_ref=f"C{n:05d}", name=f"Customer {n}", tier="standard",
        status=CustomerStatus.ACTIVE, collector_id=7, past_due=Decimal("5000"),
        disputed=Decimal(0), oldest_due=TODAY - timedelta(days=70),
    )


def test_held_out_accounts_keep_the_previous_treatment_on_the_call_list() -> None:
    champion = parse_policy(default_policy_text().replace(FOCUS_LINE, "    focus: false\n"))
    challenger = parse_policy(with_holdout("20%"))
    treatments = TreatmentResolver(
        challenger, versions={"61-90 days": 4}, champions={"61-90 days": champion}
    )
    accounts = [_account(n) for n in range(1, 201)]
    result = build_call_list(accounts, challenger, default_curve(), today=TODAY, now=NOW,
                             tz=NEW_YORK, target=200, treatments=treatments)
    key = strategy_key("61-90 days", 4)
    held = {a.customer_id for a in accounts if is_held_out(a.external_ref, key, Decimal("0.2"))}
    assert 20 <= len(held) <= 60
    for item in result.items:
        assert ("focus: 61-90 days" in item.reason) == (item.customer_id not in held)
    # The focus boost (x1.5) puts every treated account above every held-out one.
    assert {i.customer_id for i in result.items[-len(held):]} == held
    treatment = treatments.resolve(
        challenger.segment_named("61-90 days"), "C00001", Bucket.DAYS_61_90, Decimal(5000), "x"
    )
    assert treatment.strategy == key


def test_treatments_follow_the_stored_history(db: Database) -> None:
    with db.uow() as uow:
        save_policy(uow, default_policy_text(), "yaml", "U1", now=NOW - timedelta(days=30))
        uow.commit()
    with db.uow() as uow:
        save_policy(uow, with_holdout("10%"), "yaml", "U1", now=NOW - timedelta(days=20))
        uow.commit()
    with db.uow() as uow:
        loosened = with_holdout("10%").replace("recontact_days: 10\n", "recontact_days: 12\n")
        save_policy(uow, loosened, "yaml", "U1", now=NOW - timedelta(days=10))
        uow.commit()
    with db.uow() as uow:
        policy = parse_policy(loosened)
        treatments = treatments_for(uow.session, 3, policy)
    segment = policy.segment_named("61-90 days")
    held = next(
        f"C{n:05d}" for n in range(1, 1000)
        if is_held_out(f"C{n:05d}", strategy_key("61-90 days", 2), Decimal("0.1"))
    )
    treatment = treatments.resolve(segment, held, Bucket.DAYS_61_90, Decimal(5000), "standard")
    # Held out since version 2: worked by version 1's 61-90 segment (the same, with focus).
    assert treatment.held_out and treatment.strategy == "61-90 days@v2"
    assert treatment.segment == default_policy().segment_named("61-90 days")
    names = {s.name for s in treatments.bounding_policy().segments}
    assert names == {s.name for s in policy.segments}
