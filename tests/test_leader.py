"""One scheduler leads: a second process waits until the first lets go."""

from __future__ import annotations

from datetime import timedelta

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.db import Database
from scheduler.leader import Leadership


def test_only_one_leader_at_a_time(db: Database) -> None:
    other = Database(db.engine.url)
    try:
        first, second = Leadership(db.engine), Leadership(other.engine)
        assert first.try_acquire()
        assert first.alive()
        assert not second.try_acquire()
        assert not second.wait(should_stop=lambda: True)  # a stop while waiting returns False
        first.release()
        assert second.try_acquire()
        assert not first.try_acquire()
        second.release()
    finally:
        other.dispose()


def test_waiting_process_takes_over(db: Database) -> None:
    other = Database(db.engine.url)
    try:
        leader = Leadership(db.engine)
        assert leader.try_acquire()
        polls: list[float] = []

        def sleep(seconds: float) -> None:
            polls.append(seconds)
            if len(polls) == 2:
                leader.release()  # the leader goes away while the other waits

        follower = Leadership(other.engine, poll_seconds=0.01, sleep=sleep)
        assert follower.wait()
        assert len(polls) == 2
        follower.release()
    finally:
        other.dispose()


def test_scheduler_has_every_job(db: Database, slack_gateway: object) -> None:
    from bot.settings import load_settings
    from scheduler.jobs import JOBS, JobContext
    from scheduler.runner import build_scheduler

    context = JobContext(  # type: ignore[arg-type]
        db, slack_gateway, load_settings(COLLECTBOT_TIMEZONE="America/New_York"))
    scheduler = build_scheduler(context)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == set(JOBS)
    # call-lists every 5 minutes (each collector's morning comes in their own zone); the daily
    # jobs at 06:00 in the team's zone.
    every = jobs["call-lists"].trigger
    assert isinstance(every, IntervalTrigger)
    assert every.interval == timedelta(minutes=5)
    # snapshots: yesterday's figures soon after midnight in the team's zone.
    snapshots = jobs["snapshots"].trigger
    assert isinstance(snapshots, CronTrigger)
    fields = {f.name: str(f) for f in snapshots.fields}
    assert (fields["hour"], fields["minute"]) == ("0", "15")
    assert snapshots.timezone == context.settings.zone
    # weekly-recap: Mondays from 09:00, hourly until midnight (catch-up), in the team's zone.
    recap = jobs["weekly-recap"].trigger
    assert isinstance(recap, CronTrigger)
    fields = {f.name: str(f) for f in recap.fields}
    assert (fields["day_of_week"], fields["hour"], fields["minute"]) == ("mon", "9-23", "0")
    assert recap.timezone == context.settings.zone
    # escalations: every hour, 7 minutes past.
    hourly = jobs["escalations"].trigger
    assert isinstance(hourly, CronTrigger)
    fields = {f.name: str(f) for f in hourly.fields}
    assert (fields["hour"], fields["minute"]) == ("*", "7")
    for name in set(JOBS) - {"call-lists", "snapshots", "weekly-recap", "escalations"}:
        daily = jobs[name].trigger
        assert isinstance(daily, CronTrigger), name
        fields = {f.name: str(f) for f in daily.fields}
        assert (fields["hour"], fields["minute"], fields["day"]) == ("6", "0", "*"), name
        assert daily.timezone == context.settings.zone, name
