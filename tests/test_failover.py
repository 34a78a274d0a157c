"""Leader failover with real processes on PostgreSQL: two `collectbot scheduler`, the leader
killed with SIGKILL, the other leads within a minute and runs nothing its predecessor just ran.
Waits are on log lines; the takeover's one-minute bound is the timeout of its wait."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.db import Database
from bot.db.models import JobRun
from bot.sandbox.web_api import SlackSandbox
from scheduler.runner import RUN_AT_START
from tests.processes import Running, collectbot_env

# The bound: the survivor leads within a minute of the leader's death.
TAKEOVER = 60.0


def _runs(db: Database) -> Counter[str]:
    with db.uow(read_only=True) as uow:
        return Counter(uow.session.scalars(select(JobRun.job)))


@pytest.mark.slow
def test_a_killed_leader_is_replaced_within_a_minute_and_no_job_runs_twice(
    db: Database, db_url: str, slack_sandbox: SlackSandbox, tmp_path: Path
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("two scheduler processes share a leader lock on PostgreSQL")
    env = collectbot_env(db_url, slack_sandbox.url)
    first = Running(["scheduler"], env, tmp_path)
    second: Running | None = None
    try:
        first.wait_for("scheduler: this process is the leader")
        for name in sorted(RUN_AT_START):  # its start-up runs are over (each logs its summary)
            first.wait_for(rf"{name}: ")
        second = Running(["scheduler"], env, tmp_path)
        second.wait_for("another process leads; waiting to take over")
        before = _runs(db)
        assert set(before) == RUN_AT_START and set(before.values()) == {1}

        first.kill()
        second.wait_for("scheduler: this process is the leader", timeout=TAKEOVER)
        for name in sorted(RUN_AT_START):
            second.wait_for(rf"{name} ran less than \d+ minutes ago; not run again at start")
        assert second.terminate() == 0, second.log
        assert _runs(db) == before  # nothing ran twice
        assert "Traceback" not in second.log
    finally:
        first.close()
        if second is not None:
            second.close()
