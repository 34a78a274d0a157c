"""Action ids, button values and modal metadata round-trip, and reject what the network may send."""

from __future__ import annotations

import pytest

from bot.domain.vocabulary import Outcome
from bot.views import actions as a


def test_row_round_trip() -> None:
    ref = a.RowRef(12, 3456)
    assert a.encode_row(ref) == "12:3456"
    assert a.decode_row("12:3456") == ref


def test_undo_round_trip() -> None:
    ref = a.UndoRef(a.RowRef(1, 2), 99)
    assert a.encode_undo(ref) == "1:2:99"
    assert a.decode_undo("1:2:99") == ref


def test_more_round_trip() -> None:
    ref = a.RowRef(7, 8)
    for choice in a.MORE_CHOICES:
        assert a.decode_more(a.encode_more(choice, ref)) == (choice, ref)


def test_largest_id_fits_and_values_stay_short() -> None:
    big = 2**63 - 1
    ref = a.RowRef(big, big)
    assert a.decode_row(a.encode_row(ref)) == ref
    # Overflow option values are limited to 150 characters; the longest is far below.
    assert len(a.encode_more(a.MORE_CALLBACK, ref)) < 60
    with pytest.raises(ValueError, match="out of range"):
        a.decode_row(f"{big + 1}:1")


@pytest.mark.parametrize(
    "value",
    [
        "",
        "12",
        "12:",
        ":12",
        "0:5",
        "05:5",
        "-1:5",
        "+1:5",
        " 1:5",
        "1:5 ",
        "1:5:6",
        "1;5",
        "a:b",
        "１:２",  # fullwidth digits: int() would accept them, we must not
        "1" * 30 + ":1",
        None,
        12,
    ],
)
def test_decode_row_rejects_malformed(value: object) -> None:
    with pytest.raises(ValueError):
        a.decode_row(value)


@pytest.mark.parametrize("value", ["1:2", "1:2:0", "1:2:3:4", "x:1:2", "1:2:-3", ""])
def test_decode_undo_rejects_malformed(value: str) -> None:
    with pytest.raises(ValueError):
        a.decode_undo(value)


@pytest.mark.parametrize("value", ["1:2", "explode:1:2", "Details:1:2", "snooze:1", "snooze:0:2"])
def test_decode_more_rejects_malformed(value: str) -> None:
    with pytest.raises(ValueError):
        a.decode_more(value)


def test_error_messages_do_not_echo_long_values() -> None:
    with pytest.raises(ValueError) as caught:
        a.decode_row("x" * 5000)
    assert len(str(caught.value)) < 80


def test_outcome_for_action() -> None:
    assert a.outcome_for_action(a.ACTION_REACHED) is Outcome.REACHED
    assert a.outcome_for_action(a.ACTION_PAID) is Outcome.PAID
    with pytest.raises(ValueError, match="not a one-click"):
        a.outcome_for_action(a.ACTION_OPEN_PROMISE)


def test_encode_more_rejects_unknown_choice() -> None:
    with pytest.raises(ValueError):
        a.encode_more("explode", a.RowRef(1, 2))


def test_ids_must_be_positive_ints() -> None:
    with pytest.raises(ValueError):
        a.RowRef(0, 1)
    with pytest.raises(ValueError):
        a.RowRef(True, 1)
    with pytest.raises(ValueError):
        a.UndoRef(a.RowRef(1, 1), -4)


def test_metadata_round_trip() -> None:
    full = a.ModalMetadata(a.RowRef(3, 4), channel_id="D0123ABC", message_ts="1700000000.000100")
    assert a.decode_metadata(a.encode_metadata(full)) == full
    bare = a.ModalMetadata(a.RowRef(3, 4))
    assert a.encode_metadata(bare) == '{"l":3,"c":4}'
    assert a.decode_metadata('{"l":3,"c":4}') == bare


@pytest.mark.parametrize(
    "value",
    [
        "",
        "not json",
        "[1,2]",
        '{"l":3}',
        '{"l":3,"c":4,"x":1}',
        '{"l":"3","c":4}',
        '{"l":3.0,"c":4}',
        '{"l":true,"c":4}',
        '{"l":3,"c":4,"ch":5}',
        '{"l":3,"c":4,"ch":"#general"}',
        '{"l":3,"c":4,"ts":"yesterday"}',
        '{"l":3,"c":' + "9" * 3000 + "}",
        None,
    ],
)
def test_decode_metadata_rejects_malformed(value: object) -> None:
    with pytest.raises(ValueError):
        a.decode_metadata(value)


def test_callback_ids_are_distinct() -> None:
    assert len(a.MODAL_CALLBACK_IDS) == 5
    assert a.CALLBACK_PROMISE_MODAL == "promise_modal"
