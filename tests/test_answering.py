"""Deferred work lets the requests in hand be answered first, for a bounded time."""

from __future__ import annotations

import threading
import time

from bot.app import Answering, PendingWork, WorkPool


def _pool(answering: Answering) -> tuple[WorkPool, PendingWork]:
    pending = PendingWork()
    return WorkPool(pending, 1, "test-work", answering=answering), pending


def test_work_waits_until_the_request_in_hand_is_answered() -> None:
    answering = Answering(lull=0.0, max_wait=60)
    pool, pending = _pool(answering)
    ran = threading.Event()
    try:
        with answering.request():
            pool.submit(ran.set)
            assert not ran.wait(0.3)  # the request is still being answered
        assert ran.wait(10)
    finally:
        pool.shutdown()
    assert pending.wait_idle(10)


def test_work_waits_for_a_lull_after_the_last_answer() -> None:
    answering = Answering(lull=60, max_wait=120)
    pool, _pending = _pool(answering)
    ran = threading.Event()
    with answering.request():
        pass
    pool.submit(ran.set)
    assert not ran.wait(0.3)  # a request was answered less than the lull ago
    # The lull, like the wait, is counted from the last answer: a later one resets it.
    answering._last_answered = time.monotonic() - 61  # noqa: SLF001 - as if a minute passed
    with answering._changed:  # noqa: SLF001
        answering._changed.notify_all()  # noqa: SLF001
    assert ran.wait(10)
    pool.shutdown()


def test_work_runs_after_the_longest_wait_even_while_requests_keep_coming() -> None:
    answering = Answering(lull=0.0, max_wait=0.2)
    pool, _pending = _pool(answering)
    ran = threading.Event()
    with answering.request():
        pool.submit(ran.set)
        assert ran.wait(10)  # not starved by a request that never ends
    pool.shutdown()


def test_work_runs_at_once_when_nothing_is_being_answered() -> None:
    answering = Answering(lull=60, max_wait=120)
    pool, _pending = _pool(answering)
    ran = threading.Event()
    pool.submit(ran.set)
    assert ran.wait(10)  # never answered anything: no lull to wait for
    pool.shutdown()
