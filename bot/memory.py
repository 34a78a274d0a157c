"""Memory management around bulk passes (an import's batches, the escalation job's book)."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

BULK_THRESHOLD = 50_000  # generation-0 allocations between collections during a bulk pass

_lock = threading.Lock()
_passes = 0  # bulk passes running (threads of one process share the collector)
_saved: tuple[int, ...] = ()


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the cyclic collector less often while a bulk pass allocates.

    Such a pass (an import's stream of batches) allocates rows and small objects by the hundred
    thousand, none in a cycle: nearly all die by reference counting. At the default
    generation-0 threshold (700) the collector rescans the live batches hundreds of times per
    batch, a fifth of a large import's time. The thresholds are the process's: the first pass
    in raises them, the last one out puts them back.
    """
    global _passes, _saved  # noqa: PLW0603 (one collector per process)
    with _lock:
        if _passes == 0:
            _saved = gc.get_threshold()
            gc.set_threshold(max(_saved[0], BULK_THRESHOLD), *_saved[1:])
        _passes += 1
    try:
        yield
    finally:
        with _lock:
            _passes -= 1
            if _passes == 0:
                gc.set_threshold(*_saved)


_pause_lock = threading.Lock()
_pauses = 0
_was_enabled = True


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection during a bounded pass that keeps what it allocates until it ends.

    The escalation job's run holds the whole book's facts: even at fewer_collections'
    threshold the collector rescans them, a tenth of the run, and finds nothing. The few cycles
    a run makes are collected after it. Threads of one process share the collector: the first
    pause in stops it, the last one out starts it again (if it was running).
    """
    global _pauses, _was_enabled  # noqa: PLW0603 (one collector per process)
    with _pause_lock:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pauses -= 1
            if _pauses == 0 and _was_enabled:
                gc.enable()
