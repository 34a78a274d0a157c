"""Block Kit limits: each one checked just inside and just outside its boundary."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bot.slack import blockkit as bk

Block = dict[str, Any]


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def section(text: str = "hello", **extra: Any) -> Block:
    return {"type": "section", "text": mrkdwn(text), **extra}


def button(text: str = "Go", action_id: str = "go", **extra: Any) -> dict[str, Any]:
    return {"type": "button", "text": plain(text), "action_id": action_id, **extra}


def option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain(text), "value": value}


def options(count: int) -> list[dict[str, Any]]:
    return [option(f"Option {n}", f"v{n}") for n in range(count)]


def actions(*elements: dict[str, Any]) -> Block:
    return {"type": "actions", "elements": list(elements)}


def select(count: int, kind: str = "static_select") -> dict[str, Any]:
    return {"type": kind, "action_id": "pick", "options": options(count)}


# Each case: (name, builder(n) -> blocks, the largest valid n, surface).
BoundaryCase = tuple[str, Callable[[int], list[Block]], int, bk.Surface]

CASES: list[BoundaryCase] = [
    ("message block count", lambda n: [section() for _ in range(n)], 50, "message"),
    ("modal block count", lambda n: [section() for _ in range(n)], 100, "modal"),
    ("home block count", lambda n: [section() for _ in range(n)], 100, "home"),
    ("block_id length", lambda n: [section(block_id="b" * n)], 255, "message"),
    ("section text", lambda n: [section("x" * n)], 3000, "message"),
    (
        "section field count",
        lambda n: [{"type": "section", "fields": [mrkdwn("f")] * n}],
        10,
        "message",
    ),
    (
        "section field text",
        lambda n: [{"type": "section", "fields": [mrkdwn("f" * n)]}],
        2000,
        "message",
    ),
    ("header text", lambda n: [{"type": "header", "text": plain("h" * n)}], 150, "message"),
    (
        "context elements",
        lambda n: [{"type": "context", "elements": [mrkdwn("c")] * n}],
        10,
        "message",
    ),
    (
        "actions elements",
        lambda n: [actions(*(button(action_id=f"a{i}") for i in range(n)))],
        25,
        "message",
    ),
    ("button text", lambda n: [actions(button("t" * n))], 75, "message"),
    ("button action_id", lambda n: [actions(button(action_id="a" * n))], 255, "message"),
    ("button value", lambda n: [actions(button(value="v" * n))], 2000, "message"),
    (
        "button url",
        lambda n: [actions(button(url="https://x.test/" + "u" * (n - 15)))],
        3000,
        "message",
    ),
    (
        "overflow max options",
        lambda n: [actions({"type": "overflow", "action_id": "more", "options": options(n)})],
        5,
        "message",
    ),
    ("static_select options", lambda n: [actions(select(n))], 100, "message"),
    (
        "multi_static_select options",
        lambda n: [actions(select(n, "multi_static_select"))],
        100,
        "message",
    ),
    (
        "option text",
        lambda n: [actions({**select(0), "options": [option("o" * n, "v")]})],
        75,
        "message",
    ),
    (
        "option value",
        lambda n: [actions({**select(0), "options": [option("o", "v" * n)]})],
        150,
        "message",
    ),
    (
        "plain_text_input max_length",
        lambda n: [
            {
                "type": "input",
                "block_id": "note",
                "label": plain("Note"),
                "element": {"type": "plain_text_input", "action_id": "note", "max_length": n},
            }
        ],
        3000,
        "modal",
    ),
]


@pytest.mark.parametrize(("name", "build", "limit", "surface"), CASES, ids=[c[0] for c in CASES])
def test_limit_boundary(
    name: str, build: Callable[[int], list[Block]], limit: int, surface: bk.Surface
) -> None:
    assert bk.validate_blocks(build(limit), surface=surface) == []
    errors = bk.validate_blocks(build(limit + 1), surface=surface)
    assert len(errors) == 1, errors
    assert str(limit) in errors[0]


def test_overflow_needs_two_options() -> None:
    def overflow(count: int) -> list[Block]:
        return [actions({"type": "overflow", "action_id": "more", "options": options(count)})]

    assert bk.validate_blocks(overflow(2)) == []
    [error] = bk.validate_blocks(overflow(1))
    assert "1 options" in error and "2 to 5" in error


def test_header_must_be_plain_text() -> None:
    [error] = bk.validate_blocks([{"type": "header", "text": mrkdwn("*bold*")}])
    assert "plain_text" in error


def test_button_text_must_be_plain_text() -> None:
    [error] = bk.validate_blocks([actions({**button(), "text": mrkdwn("Go")})])
    assert "plain_text" in error


def test_duplicate_block_id_names_both_blocks() -> None:
    errors = bk.validate_blocks([section(block_id="row"), section(block_id="row")])
    assert errors == ["block 2 (section 'row'): block_id 'row' repeats block 1"]


def test_duplicate_action_id_within_one_block() -> None:
    [error] = bk.validate_blocks([actions(button(action_id="go"), button(action_id="go"))])
    assert "'go' is used twice" in error


def test_same_action_id_in_different_blocks_is_fine() -> None:
    assert bk.validate_blocks([actions(button()), actions(button())]) == []


def test_empty_text_and_missing_parts_are_reported() -> None:
    errors = bk.validate_blocks(
        [
            section(""),
            {"type": "section"},
            {"type": "actions", "elements": []},
            {"type": "context", "elements": []},
            {"type": "mystery"},
        ]
    )
    assert len(errors) == 5
    assert "text is empty" in errors[0]
    assert "needs text or fields" in errors[1]
    assert "unknown block type 'mystery'" in errors[4]


def test_section_accessory_is_checked() -> None:
    [error] = bk.validate_blocks([section(accessory=button("t" * 76))])
    assert "76 characters" in error


def test_every_error_is_reported_not_just_the_first() -> None:
    blocks = [section("x" * 3001), {"type": "header", "text": plain("h" * 151)}]
    assert len(bk.validate_blocks(blocks)) == 2


def test_validate_message_text() -> None:
    blocks = [section()]
    assert bk.validate_message("ok", blocks) == []
    assert bk.validate_message("x" * 40_000, blocks) == []
    [error] = bk.validate_message("x" * 40_001, blocks)
    assert "40001 characters" in error
    assert "fallback text is missing" in bk.validate_message("", blocks)[0]
    assert "fallback text is missing" in bk.validate_message("  ", blocks)[0]
    assert "fallback text is missing" in bk.validate_message(None, blocks)[0]


def test_validate_message_counts_blocks_as_a_message() -> None:
    [error] = bk.validate_message("ok", [section() for _ in range(51)])
    assert "51 blocks" in error and "50" in error


def modal(**extra: Any) -> dict[str, Any]:
    return {"type": "modal", "title": plain("Promise"), "blocks": [section()], **extra}


@pytest.mark.parametrize(
    ("field", "build", "limit"),
    [
        ("title", lambda n: {"title": plain("t" * n)}, 24),
        ("submit", lambda n: {"submit": plain("s" * n)}, 24),
        ("close", lambda n: {"close": plain("c" * n)}, 24),
        ("callback_id", lambda n: {"callback_id": "c" * n}, 255),
        ("private_metadata", lambda n: {"private_metadata": "m" * n}, 3000),
        ("blocks", lambda n: {"blocks": [section() for _ in range(n)]}, 100),
    ],
)
def test_view_limit_boundary(
    field: str, build: Callable[[int], dict[str, Any]], limit: int
) -> None:
    assert bk.validate_view(modal(**build(limit))) == []
    [error] = bk.validate_view(modal(**build(limit + 1)))
    assert str(limit) in error


def test_view_type_and_title() -> None:
    assert "type must be" in bk.validate_view({"type": "message", "blocks": []})[0]
    assert "needs a title" in bk.validate_view({"type": "modal", "blocks": []})[0]
    assert bk.validate_view({"type": "home", "blocks": [section()]}) == []
    [error] = bk.validate_view(modal(title=mrkdwn("Title")))
    assert "plain_text" in error


def test_modal_with_inputs_needs_submit() -> None:
    input_block = {
        "type": "input",
        "block_id": "note",
        "label": plain("Note"),
        "element": {"type": "plain_text_input", "action_id": "note"},
    }
    [error] = bk.validate_view(modal(blocks=[input_block]))
    assert "submit" in error
    assert bk.validate_view(modal(blocks=[input_block], submit=plain("Save"))) == []


# --- data visualization (chart) blocks -------------------------------------------------------


def chart(
    *, title: str = "DSO", series: int = 1, points: int = 12, name: str = "S",
    label: str = "W", kind: str = "line",
) -> Block:
    labels = [f"{label}{n}" for n in range(points)]
    return {
        "type": "data_visualization",
        "title": title,
        "chart": {
            "type": kind,
            "axis_config": {"categories": labels, "x_label": "Week", "y_label": "Days"},
            "series": [
                {"name": f"{name}{s}", "data": [{"label": lb, "value": 1.5} for lb in labels]}
                for s in range(series)
            ],
        },
    }


CHART_CASES: list[tuple[str, Callable[[int], Block], int]] = [
    ("chart title", lambda n: chart(title="t" * n), 50),
    ("chart series", lambda n: chart(series=n), 6),
    ("chart points", lambda n: chart(points=n), 20),
    ("chart series name", lambda n: chart(name="s" * (n - 1)), 20),
]


@pytest.mark.parametrize(("name", "build", "limit"), CHART_CASES, ids=[c[0] for c in CHART_CASES])
def test_chart_limit_boundary(name: str, build: Callable[[int], Block], limit: int) -> None:
    assert bk.validate_blocks([build(limit)]) == []
    errors = bk.validate_blocks([build(limit + 1)])
    assert len(errors) == 1, errors
    assert str(limit) in errors[0]


def test_chart_needs_a_series_a_known_type_and_matching_labels() -> None:
    empty = chart()
    empty["chart"]["series"] = []
    assert bk.validate_blocks([empty]) == [
        "block 1 (data_visualization): 0 series; a line chart holds 1 to 6"]
    scatter = chart(kind="scatter")
    assert "not one of pie, bar, area, line" in bk.validate_blocks([scatter])[0]
    stray = chart(points=2)
    stray["chart"]["series"][0]["data"][1]["label"] = "Week 9"
    assert bk.validate_blocks([stray]) == [
        "block 1 (data_visualization) series 1: data label 'Week 9' is not an axis category"]
    twice = chart(series=2)
    twice["chart"]["series"][1]["name"] = twice["chart"]["series"][0]["name"]
    assert "used twice" in bk.validate_blocks([twice])[0]
    text_value = chart(points=1)
    text_value["chart"]["series"][0]["data"][0]["value"] = "52"
    assert "needs a number value" in bk.validate_blocks([text_value])[0]
    untitled = chart(title=" ")
    assert bk.validate_blocks([untitled]) == ["block 1 (data_visualization): a chart needs a title"]


def test_pie_chart_segments() -> None:
    pie = {"type": "data_visualization", "title": "Aging",
           "chart": {"type": "pie", "segments": [{"label": "Current", "value": 40}] * 7}}
    assert bk.validate_blocks([pie]) == [
        "block 1 (data_visualization): 7 segments; a pie chart holds 1 to 6"]
