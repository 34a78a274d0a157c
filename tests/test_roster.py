"""Authorization: who may record on, undo and reassign which account."""

from __future__ import annotations

import pytest

from bot.db import Database
from bot.db.models import Customer, TeamMember
from bot.services import roster
from bot.services.errors import NOT_ON_ROSTER_MESSAGE, NotAllowed, NotFound, NotOnRoster
from tests.service_seed import seed


def test_unknown_and_inactive_users_are_not_on_the_roster(db: Database) -> None:
    ids = seed(db)
    with db.uow() as uow:
        uow.session.get_one(TeamMember, ids.carol).active = False
        uow.session.flush()
        for slack_id in ("UNOBODY", "UCAROL"):
            with pytest.raises(NotOnRoster) as caught:
                roster.member_for(uow.session, slack_id)
            assert caught.value.message == NOT_ON_ROSTER_MESSAGE
        assert roster.member_for(uow.session, "UALICE").id == ids.alice


# (actor, customer attribute, allowed)
MATRIX = [
    ("UALICE", "acme_corp", True),  # own account
    ("UALICE", "beta", False),  # a colleague's
    ("UALICE", "unowned", False),
    ("UBOB", "acme_corp", False),
    ("UMGR", "acme_corp", True),  # manager of alice
    ("UMGR", "beta", True),
    ("UMGR", "gamma", False),  # carol reports to another manager
    ("UMGR", "unowned", True),
    ("UMGR2", "gamma", True),
    ("UMGR2", "acme_corp", False),
    ("UADMIN", "gamma", True),
    ("UADMIN", "unowned", True),
]


@pytest.mark.parametrize(("actor", "account", "allowed"), MATRIX)
def test_authorization_matrix(db: Database, actor: str, account: str, allowed: bool) -> None:
    ids = seed(db)
    with db.uow() as uow:
        member = roster.member_for(uow.session, actor)
        customer = uow.session.get_one(Customer, getattr(ids, account))
        assert roster.can_act_on(member, customer) is allowed
        if allowed:
            roster.require_can_act(member, customer)
        else:
            with pytest.raises(NotAllowed, match=customer.name):
                roster.require_can_act(member, customer)


def test_manager_subcommands_are_for_managers_and_admins(db: Database) -> None:
    seed(db)
    with db.uow() as uow:
        with pytest.raises(NotAllowed, match="managers and admins"):
            roster.require_manager(roster.member_for(uow.session, "UALICE"))
        roster.require_manager(roster.member_for(uow.session, "UMGR"))
        roster.require_manager(roster.member_for(uow.session, "UADMIN"))


def test_assignment_target_must_be_an_active_collector_of_the_managers_team(
    db: Database,
) -> None:
    ids = seed(db)
    with db.uow() as uow:
        s = uow.session
        manager = roster.member_for(s, "UMGR")
        assert roster.collector_for_assignment(s, manager, "UBOB").id == ids.bob
        with pytest.raises(NotAllowed, match="does not report to you"):
            roster.collector_for_assignment(s, manager, "UCAROL")
        with pytest.raises(NotAllowed, match="not a collector"):
            roster.collector_for_assignment(s, manager, "UMGR2")
        with pytest.raises(NotFound, match="UNOBODY"):
            roster.collector_for_assignment(s, manager, "UNOBODY")
        admin = roster.member_for(s, "UADMIN")
        assert roster.collector_for_assignment(s, admin, "UCAROL").id == ids.carol


def test_team_of_a_manager_and_of_an_admin(db: Database) -> None:
    seed(db)
    with db.uow() as uow:
        s = uow.session
        assert [m.name for m in roster.team_of(s, roster.member_for(s, "UMGR"))] == [
            "Alice", "Bob"]
        assert [m.name for m in roster.team_of(s, roster.member_for(s, "UADMIN"))] == [
            "Alice", "Bob", "Carol"]


def test_the_collectors_backup_may_act_only_while_covering(db: Database) -> None:
    from datetime import UTC, datetime

    from bot.db.models import Delivery

    ids = seed(db)
    now = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Monday, 10:00 in New York
    with db.uow() as uow:
        session = uow.session
        alice = session.get_one(TeamMember, ids.alice)
        bob = roster.member_for(session, "UBOB")
        acme = session.get_one(Customer, ids.acme_corp)
        alice.backup_id = bob.id
        session.flush()

        def covering() -> bool:
            return roster.covering_today(session, bob, acme, now=now,
                                         default_tz="America/New_York")

        # Named as backup, but Alice is at work today: Bob may not touch her accounts.
        assert not covering()
        assert not roster.can_act_on(bob, acme, covering=covering())
        # Alice's list for her today went to Bob: he covers, and may record on it.
        session.add(Delivery(key="calllist:UALICE:2026-11-23", kind="call_list",
                             recipient="UBOB"))
        session.flush()
        assert covering()
        assert roster.can_act_on(bob, acme, covering=True)
        # Yesterday's cover does not carry over.
        assert not roster.covering_today(session, bob, acme, now=now.replace(day=24),
                                         default_tz="America/New_York")
        assert roster.can_act_on(bob, acme, covering=covering())
        # Someone who is not the named backup never covers, even if a list reached them.
        carol = session.get_one(TeamMember, ids.carol)
        delivery = session.query(Delivery).filter_by(key="calllist:UALICE:2026-11-23").one()
        delivery.recipient = "UCAROL"
        session.flush()
        assert not roster.covering_today(session, carol, acme, now=now,
                                         default_tz="America/New_York")
        assert not roster.can_act_on(carol, acme, covering=True)
