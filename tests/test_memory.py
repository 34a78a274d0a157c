"""fewer_collections and collector_paused: the collector changed during bulk passes, put back
when the last one ends."""

from __future__ import annotations

import gc

from bot.memory import BULK_THRESHOLD, collector_paused, fewer_collections


def test_overlapping_passes_put_the_thresholds_back_once_all_end() -> None:
    before = gc.get_threshold()
    first, second = fewer_collections(), fewer_collections()
    first.__enter__()
    assert gc.get_threshold()[0] == max(before[0], BULK_THRESHOLD)
    second.__enter__()
    first.__exit__(None, None, None)  # a pass in another thread ends first: still raised
    assert gc.get_threshold()[0] == max(before[0], BULK_THRESHOLD)
    second.__exit__(None, None, None)
    assert gc.get_threshold() == before


def test_thresholds_come_back_when_a_pass_fails() -> None:
    before = gc.get_threshold()
    try:
        with fewer_collections():
            raise RuntimeError("the import failed")
    except RuntimeError:
        pass
    assert gc.get_threshold() == before


def test_pauses_start_the_collector_again_once_all_end() -> None:
    assert gc.isenabled()
    first, second = collector_paused(), collector_paused()
    first.__enter__()
    second.__enter__()
    assert not gc.isenabled()
    first.__exit__(None, None, None)  # a run in another thread ends first: still paused
    assert not gc.isenabled()
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_a_collector_stopped_before_stays_stopped() -> None:
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
