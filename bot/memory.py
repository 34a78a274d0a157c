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

    Such a pass allocates rows and small objects by the hundred thousand, none in a cycle: they
    die by reference counting or live until the pass ends. At the default generation-0
    threshold (700) the collector rescans the live ones hundreds of times: a fifth of a large
    import's time, a quarter of the escalation job's. The thresholds are the process's: the
    first pass in raises them, the last one out puts them back.
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
