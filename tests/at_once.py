"""Run the same work in several threads released together: two job runs, two senders."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def run_at_once(run: Callable[[], T], times: int = 2, timeout: float = 60) -> list[T]:
    """`run` in `times` threads started together; what each returned, in the order they ended.

    Fails if one never ends within `timeout` (it would otherwise hold the test's worker) or
    raised (the first error is raised here).
    """
    barrier = threading.Barrier(times)
    results: list[T] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            results.append(run())
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a run never ended"
    if errors:
        raise errors[0]
    return results
