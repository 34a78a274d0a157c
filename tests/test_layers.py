"""The layering check itself: it finds what it claims to find (the repository is checked by
`make layers`, part of `make test`)."""

from __future__ import annotations

from tests.check_layers import cycles


def test_cycles_are_found_even_through_three_modules() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]


def test_no_cycle_in_a_chain() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []
