"""The modals behind `/collect goals`' manager buttons, and the readers of their submissions.

A reader returns the typed input or {block_id: message}; the rules that need more than the form
(the target's syntax, the dates) are the objective service's, which names the field at fault.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.domain.call_targets import MAX_DAILY_CALLS
from bot.domain.objectives import GOAL_CHARS, MAX_GOALS, OBJECTIVE_METRICS
from bot.slack.blockkit import MAX_BLOCKS_VIEW, MAX_PRIVATE_METADATA
from bot.views.modals import Errors, _date_value, _state, _text_value
from bot.views.text import Block, plain, truncate

CALLBACK_ADD_OBJECTIVE = "goals_add_objective_modal"
CALLBACK_EDIT_OBJECTIVE = "goals_edit_objective_modal"
CALLBACK_GOALS = "goals_goals_modal"
CALLBACK_CALL_TARGETS = "goals_call_targets_modal"
CALLBACK_IDS = frozenset(
    {CALLBACK_ADD_OBJECTIVE, CALLBACK_EDIT_OBJECTIVE, CALLBACK_GOALS, CALLBACK_CALL_TARGETS})

# Block ids double as the keys of the errors dict; action ids match them.
METRIC = "objective_metric"
TARGET = "objective_target"
START = "objective_start"
END = "objective_end"
NAME = "objective_name"
NOTE = "objective_note"
CLOSE = "objective_close"
GOALS = "objective_goals"
CALL_TARGET_PREFIX = "call_target_"
# The objective service's field names -> the block showing them.
FIELD_BLOCKS = {"metric": METRIC, "target": TARGET, "start": START, "end": END, "goals": GOALS}
MAX_COLLECTORS = MAX_BLOCKS_VIEW - 2
NOTE_CHARS = 300
NAME_CHARS = 200


@dataclass(frozen=True, slots=True)
class GoalsMetadata:
    """What a goals modal carries: the objective it edits, and the `/collect goals` message
    (its response_url) to re-render once saved."""

    objective_id: int | None = None
    response_url: str | None = None


def encode_goals_metadata(metadata: GoalsMetadata) -> str:
    payload: dict[str, Any] = {}
    if metadata.objective_id is not None:
        payload["o"] = metadata.objective_id
    if metadata.response_url is not None and len(metadata.response_url) < 2000:
        payload["r"] = metadata.response_url
    return json.dumps(payload, separators=(",", ":"))


def decode_goals_metadata(value: object) -> GoalsMetadata:
    """ValueError unless it is what encode_goals_metadata wrote."""
    if not isinstance(value, str) or len(value) > MAX_PRIVATE_METADATA:
        raise ValueError("private_metadata is missing or too long")
    try:
        payload = json.loads(value or "{}")
    except json.JSONDecodeError:
        raise ValueError("private_metadata is not JSON") from None
    if not isinstance(payload, dict) or not payload.keys() <= {"o", "r"}:
        raise ValueError("private_metadata has the wrong keys")
    objective_id, url = payload.get("o"), payload.get("r")
    if objective_id is not None and (type(objective_id) is not int or objective_id <= 0):
        raise ValueError("private_metadata objective is not an id")
    if url is not None and (not isinstance(url, str) or not url.startswith("https://")
                            and not url.startswith("http://")):
        raise ValueError("private_metadata response_url is not a URL")
    return GoalsMetadata(objective_id, url)


@dataclass(frozen=True, slots=True)
class ObjectiveForm:
    """An open objective as its edit forms show it."""

    objective_id: int
    name: str
    metric: str
    target: str  # as `objective add --target` reads it
    start: date
    end: date
    note: str | None
    goals: str | None


@dataclass(frozen=True, slots=True)
class CollectorTarget:
    member_id: int
    name: str
    daily_call_target: int


@dataclass(frozen=True, slots=True)
class AddObjectiveInput:
    metric: str
    target: str
    start: date
    end: date
    name: str | None
    note: str | None


@dataclass(frozen=True, slots=True)
class EditObjectiveInput:
    target: str
    end: date
    note: str | None
    close: bool


@dataclass(frozen=True, slots=True)
class GoalsInput:
    text: str


@dataclass(frozen=True, slots=True)
class CallTargetsInput:
    texts: dict[int, str]  # member id -> what was typed ("" keeps the target)


def _modal(callback_id: str, title: str, metadata: GoalsMetadata, blocks: list[Block],
           submit: str = "Save") -> dict[str, Any]:
    return {"type": "modal", "callback_id": callback_id, "title": plain(title),
            "submit": plain(submit), "close": plain("Cancel"),
            "private_metadata": encode_goals_metadata(metadata), "blocks": blocks}


def _input(block_id: str, label: str, element: dict[str, Any], **extra: Any) -> Block:
    return {"type": "input", "block_id": block_id, "label": plain(label),
            "element": {"action_id": block_id, **element}, **extra}


def _objective_context(form: ObjectiveForm) -> Block:
    # plain_text: a name typed by a manager never renders as markup.
    spec = OBJECTIVE_METRICS.get(form.metric)
    label = spec.label if spec is not None else form.metric
    text = (f"{' '.join(form.name.split())} · {label} · {form.start:%b %d, %Y} to "
            f"{form.end:%b %d, %Y}")
    return {"type": "context", "elements": [plain(truncate(text, 300))]}


def add_objective_modal(metadata: GoalsMetadata, *, today: date,
                        spend_cap_available: bool) -> dict[str, Any]:
    """Metric, target (-5% or a value), from/to dates, a name and a note."""
    options = [{"text": plain(spec.label), "value": key}
               for key, spec in OBJECTIVE_METRICS.items()
               if key != "cost_of_collecting" or spend_cap_available]
    hint = "A change from the baseline measured on the start date (-5%), or a value (45, " \
           "250000). Cash collected and the spend cap are amounts summed from the start."
    blocks: list[Block] = [
        _input(METRIC, "Metric", {"type": "static_select", "placeholder": plain("Pick a metric"),
                                   "options": options}),
        _input(TARGET, "Target", {"type": "plain_text_input", "max_length": 30,
                                   "placeholder": plain("e.g. -5% or 45")},
               hint=plain(hint)),
        _input(START, "From", {"type": "datepicker", "initial_date": today.isoformat()}),
        _input(END, "To", {"type": "datepicker"}),
        _input(NAME, "Name", {"type": "plain_text_input", "max_length": NAME_CHARS,
                               "placeholder": plain("default: the metric and the target")},
               optional=True),
        _input(NOTE, "Note", {"type": "plain_text_input", "multiline": True,
                               "max_length": NOTE_CHARS}, optional=True),
    ]
    if not spend_cap_available:
        blocks.append({"type": "context", "elements": [plain(
            "A spend cap needs the cost of a collector-day (COLLECTBOT_COLLECTOR_DAY_COST).")]})
    return _modal(CALLBACK_ADD_OBJECTIVE, "Add an objective", metadata, blocks, submit="Add")


def edit_objective_modal(metadata: GoalsMetadata, form: ObjectiveForm) -> dict[str, Any]:
    """Target, end date and note of an open objective, or close it."""
    target: dict[str, Any] = {"type": "plain_text_input", "max_length": 30}
    if form.target:
        target["initial_value"] = form.target
    note: dict[str, Any] = {"type": "plain_text_input", "multiline": True,
                            "max_length": NOTE_CHARS}
    if form.note:
        note["initial_value"] = form.note[:NOTE_CHARS]
    close_option = {"text": plain("Close this objective (it stays in the history)"),
                    "value": "close"}
    return _modal(CALLBACK_EDIT_OBJECTIVE, "Edit objective", metadata, [
        _objective_context(form),
        _input(TARGET, "Target", target, hint=plain("-5% for a change from the baseline, or a "
                                                    "value")),
        _input(END, "To", {"type": "datepicker", "initial_date": form.end.isoformat()}),
        _input(NOTE, "Note", note, optional=True),
        _input(CLOSE, "Close", {"type": "checkboxes", "options": [close_option]}, optional=True),
    ])


def goals_modal(metadata: GoalsMetadata, form: ObjectiveForm) -> dict[str, Any]:
    """The goals under an objective: short lines, one a line."""
    element: dict[str, Any] = {"type": "plain_text_input", "multiline": True,
                               "max_length": MAX_GOALS * (GOAL_CHARS + 1),
                               "placeholder": plain("e.g. More calls on 60+ days past due")}
    if form.goals:
        element["initial_value"] = form.goals
    return _modal(CALLBACK_GOALS, "Goals", metadata, [
        _objective_context(form),
        _input(GOALS, "Goals, one a line", element, optional=True,
               hint=plain(f"Up to {MAX_GOALS}, each under {GOAL_CHARS + 1} characters. Empty "
                          "clears them.")),
    ])


def call_target_block(member_id: int) -> str:
    return f"{CALL_TARGET_PREFIX}{member_id}"


def call_targets_modal(metadata: GoalsMetadata,
                       collectors: Sequence[CollectorTarget]) -> dict[str, Any]:
    """One number per active collector: calls a day, 1-500; the morning list is cut at it."""
    blocks: list[Block] = [{"type": "context", "elements": [plain(
        f"Calls a day, 1-{MAX_DAILY_CALLS}: each morning list is cut at its collector's target."
        " A blank keeps it.")]}]
    if not collectors:
        blocks.append({"type": "section", "text": plain("No active collectors on your team.")})
    for collector in collectors[:MAX_COLLECTORS]:
        blocks.append(_input(call_target_block(collector.member_id),
                             truncate(" ".join(collector.name.split()), 150),
                             {"type": "number_input", "is_decimal_allowed": False,
                              "initial_value": str(collector.daily_call_target),
                              "min_value": "0", "max_value": str(MAX_DAILY_CALLS)},
                             optional=True))
    if len(collectors) > MAX_COLLECTORS:
        blocks.append({"type": "context", "elements": [plain(
            f"{len(collectors) - MAX_COLLECTORS} more: `collectbot import team`.")]})
    return _modal(CALLBACK_CALL_TARGETS, "Daily call targets", metadata, blocks)


def _selected(state_values: Mapping[str, Any], block_id: str) -> str:
    action = _state(state_values, block_id)
    option = action.get("selected_option") if action is not None else None
    value = option.get("value") if isinstance(option, Mapping) else None
    return value if isinstance(value, str) else ""


def _checked(state_values: Mapping[str, Any], block_id: str) -> set[str]:
    action = _state(state_values, block_id)
    options = action.get("selected_options") if action is not None else None
    if not isinstance(options, list):
        return set()
    return {o["value"] for o in options
            if isinstance(o, Mapping) and isinstance(o.get("value"), str)}


def read_add_objective(state_values: Mapping[str, Any]) -> AddObjectiveInput | Errors:
    """What was filled in; errors for the inputs left empty."""
    errors: Errors = {}
    metric = _selected(state_values, METRIC)
    if metric not in OBJECTIVE_METRICS:
        errors[METRIC] = "Pick a metric."
    target = _text_value(state_values, TARGET)
    if not target:
        errors[TARGET] = "Enter a target: -5% for a change from the baseline, or a value."
    start = _date_value(state_values, START)
    if start is None:
        errors[START] = "Pick the first day."
    end = _date_value(state_values, END)
    if end is None:
        errors[END] = "Pick the last day."
    if errors or start is None or end is None:
        return errors
    return AddObjectiveInput(metric, target, start, end,
                             _text_value(state_values, NAME)[:NAME_CHARS] or None,
                             _text_value(state_values, NOTE)[:NOTE_CHARS] or None)


def read_edit_objective(state_values: Mapping[str, Any]) -> EditObjectiveInput | Errors:
    errors: Errors = {}
    close = "close" in _checked(state_values, CLOSE)
    target = _text_value(state_values, TARGET)
    if not target and not close:
        errors[TARGET] = "Enter a target: -5% for a change from the baseline, or a value."
    end = _date_value(state_values, END)
    if end is None:
        errors[END] = "Pick the last day."
    if errors or end is None:
        return errors
    return EditObjectiveInput(target, end, _text_value(state_values, NOTE)[:NOTE_CHARS] or None,
                              close)


def read_goals(state_values: Mapping[str, Any]) -> GoalsInput:
    action = _state(state_values, GOALS)
    value = action.get("value") if action is not None else None
    return GoalsInput(value if isinstance(value, str) else "")


def read_call_targets(state_values: Mapping[str, Any]) -> CallTargetsInput:
    """Every collector's input by member id (malformed block ids are ignored)."""
    texts: dict[int, str] = {}
    for block_id in state_values:
        suffix = str(block_id).removeprefix(CALL_TARGET_PREFIX)
        if suffix != block_id and suffix.isdigit():
            texts[int(suffix)] = _text_value(state_values, block_id)
    return CallTargetsInput(texts)
