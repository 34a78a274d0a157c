"""Memory management around bulk passes (an import's batches, the escalation job's book)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the cyclic collector less often while a bulk pass allocates.

    Such a pass allocates rows and small objects by the hundred thousand, none in a cycle: they
    die by reference counting or live until the pass ends. At the default generation-0
    threshold (700) the collector rescans the live ones hundreds of times: a fifth of a large
    import's time, a quarter of the escalation job's.
    """
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], 50_000), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
