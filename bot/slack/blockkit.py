"""Slack Block Kit limits and a validator that names every broken one before Slack does.

Limits, as documented by Slack (docs.slack.dev / api.slack.com, Block Kit reference):
- Blocks per surface: "up to 50 blocks in each message, and 100 blocks in modals or Home tabs"
  (reference/block-kit/blocks); view objects: "blocks ... Max of 100 blocks" (reference/views).
- block_id: "Maximum length for this field is 255 characters" and should be unique per message.
- Section block: text "Maximum length ... 3000 characters"; fields "Maximum number of items is 10.
  Maximum length for the text in each item is 2000 characters".
- Header block: text "in the form of a plain_text text object. Maximum length ... 150 characters".
- Context block: elements "image elements and text objects. Maximum number of items is 10".
- Actions block: "There is a maximum of 25 elements in each action block".
- Button element: text plain_text "Maximum length ... 75 characters"; action_id "Maximum length ...
  255 characters" and "unique among all other action_ids in the containing block"; url "Maximum
  length ... 3000 characters"; value "Maximum length ... 2000 characters".
- Overflow menu: "Maximum number of options is 5, minimum is 2" (the current page says "up to
  five"; we keep the older, stricter minimum so a one-option overflow is caught).
- Static / multi static select: options "Maximum number of options is 100"; option object text
  "Maximum length ... 75 characters", value "Maximum length ... 150 characters".
- Plain-text input: max_length "Maximum value is 3000"; input block label 2000, hint 2000;
  placeholder 150 characters.
- Modal view: title plain_text "max length of 24 characters", submit and close "Max length of 24
  characters", private_metadata "Max length of 3000 characters", callback_id "Max length of 255
  characters"; Home tab: blocks, private_metadata and callback_id as for modals.
- chat.postMessage text: Slack truncates messages over 40,000 characters (changelog
  2018-04-truncating-really-long-messages) and recommends keeping text under 4,000; when blocks
  are sent, text is the notification / accessibility fallback and should always be present.
- Data visualization block (reference/block-kit/blocks/data-visualization-block): title "Maximum
  50 characters", required; chart one of pie, bar, area, line; pie segments and bar/area/line
  series "Min 1, max 6"; a data series has a name and 1 to 20 data points (label, number), series
  names unique; axis_config categories are the data points' labels, 20 characters at most each,
  x_label / y_label 50 characters at most.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

Surface = Literal["message", "modal", "home"]

MAX_BLOCKS_MESSAGE = 50
MAX_BLOCKS_VIEW = 100
MAX_BLOCKS: dict[str, int] = {
    "message": MAX_BLOCKS_MESSAGE,
    "modal": MAX_BLOCKS_VIEW,
    "home": MAX_BLOCKS_VIEW,
}
MAX_BLOCK_ID = 255
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELDS = 10
MAX_SECTION_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_BUTTON_TEXT = 75
MAX_ACTION_ID = 255
MAX_BUTTON_VALUE = 2000
MAX_URL = 3000
MIN_OVERFLOW_OPTIONS = 2
MAX_OVERFLOW_OPTIONS = 5
MAX_SELECT_OPTIONS = 100
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_PLACEHOLDER = 150
MAX_INPUT_LABEL = 2000
MAX_INPUT_HINT = 2000
MAX_TEXT_INPUT_LENGTH = 3000
MAX_MESSAGE_TEXT = 40_000
RECOMMENDED_MESSAGE_TEXT = 4_000
MAX_VIEW_TITLE = 24
MAX_VIEW_BUTTON = 24
MAX_CALLBACK_ID = 255
MAX_PRIVATE_METADATA = 3000

BLOCK_TYPES = frozenset(
    {
        "section", "header", "context", "actions", "divider", "input", "image", "rich_text",
        "data_visualization",
    }
)
TEXT_TYPES = frozenset({"plain_text", "mrkdwn"})
SELECT_TYPES = frozenset({"static_select", "multi_static_select"})
INTERACTIVE_TYPES = frozenset(
    {
        "button",
        "overflow",
        "static_select",
        "multi_static_select",
        "datepicker",
        "timepicker",
        "plain_text_input",
        "checkboxes",
        "radio_buttons",
        "users_select",
        "conversations_select",
        "channels_select",
        "number_input",
    }
)


def validate_blocks(
    blocks: Sequence[Mapping[str, Any]], *, surface: Surface = "message"
) -> list[str]:
    """Every Block Kit limit the blocks break, as readable sentences; empty when they are valid."""
    errors: list[str] = []
    if surface not in MAX_BLOCKS:
        return [f"unknown surface {surface!r} (message, modal or home)"]
    limit = MAX_BLOCKS[surface]
    if len(blocks) > limit:
        errors.append(f"{len(blocks)} blocks; a {surface} holds at most {limit}")
    seen_block_ids: dict[str, int] = {}
    for index, block in enumerate(blocks, start=1):
        where = _block_label(index, block)
        if not isinstance(block, Mapping):
            errors.append(f"block {index}: not an object")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if not isinstance(block_id, str) or not block_id:
                errors.append(f"{where}: block_id must be a non-empty string")
            else:
                if len(block_id) > MAX_BLOCK_ID:
                    errors.append(_too_long(where, "block_id", block_id, MAX_BLOCK_ID))
                if block_id in seen_block_ids:
                    errors.append(
                        f"{where}: block_id {block_id!r} repeats block {seen_block_ids[block_id]}"
                    )
                else:
                    seen_block_ids[block_id] = index
        errors.extend(_check_block(where, block))
    return errors


def validate_message(text: str | None, blocks: Sequence[Mapping[str, Any]]) -> list[str]:
    """Limits of one chat.postMessage or chat.update: fallback text present, valid blocks."""
    errors: list[str] = []
    if text is None or not text.strip():
        errors.append("message: fallback text is missing (notifications and screen readers use it)")
    elif len(text) > MAX_MESSAGE_TEXT:
        errors.append(_too_long("message", "text", text, MAX_MESSAGE_TEXT))
    errors.extend(validate_blocks(blocks, surface="message"))
    return errors


def validate_view(view: Mapping[str, Any]) -> list[str]:
    """Limits of a modal or Home tab view object, its blocks included."""
    errors: list[str] = []
    kind = view.get("type")
    if kind not in ("modal", "home"):
        return [f"view: type must be 'modal' or 'home', not {kind!r}"]
    if kind == "modal":
        if "title" not in view:
            errors.append("view: a modal needs a title")
        else:
            errors.extend(_check_text("view", "title", view["title"], MAX_VIEW_TITLE, plain=True))
    for key in ("submit", "close"):
        if key in view:
            errors.extend(_check_text("view", key, view[key], MAX_VIEW_BUTTON, plain=True))
    callback_id = view.get("callback_id")
    if callback_id is not None:
        errors.extend(_check_str("view", "callback_id", callback_id, MAX_CALLBACK_ID))
    metadata = view.get("private_metadata")
    if metadata is not None:
        errors.extend(_check_str("view", "private_metadata", metadata, MAX_PRIVATE_METADATA))
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        errors.append("view: blocks must be a list")
        return errors
    if (
        kind == "modal"
        and "submit" not in view
        and any(isinstance(block, Mapping) and block.get("type") == "input" for block in blocks)
    ):
        errors.append("view: a modal with input blocks needs a submit button")
    errors.extend(validate_blocks(blocks, surface=kind))
    return errors


def _block_label(index: int, block: Any) -> str:
    if not isinstance(block, Mapping):
        return f"block {index}"
    kind = block.get("type", "?")
    block_id = block.get("block_id")
    suffix = f" {block_id!r}" if isinstance(block_id, str) and len(block_id) <= 40 else ""
    return f"block {index} ({kind}{suffix})"


def _too_long(where: str, field: str, value: str, limit: int) -> str:
    return f"{where}: {field} is {len(value)} characters; the limit is {limit}"


def _check_str(where: str, field: str, value: Any, limit: int) -> list[str]:
    if not isinstance(value, str):
        return [f"{where}: {field} must be a string"]
    if len(value) > limit:
        return [_too_long(where, field, value, limit)]
    return []


def _check_text(where: str, field: str, obj: Any, limit: int, *, plain: bool = False) -> list[str]:
    """A text object: the right type, non-empty, within its limit."""
    if not isinstance(obj, Mapping):
        return [f"{where}: {field} must be a text object"]
    kind = obj.get("type")
    if kind not in TEXT_TYPES:
        return [f"{where}: {field} has text type {kind!r} (plain_text or mrkdwn)"]
    if plain and kind != "plain_text":
        return [f"{where}: {field} must be plain_text, not {kind}"]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [f"{where}: {field} text is empty"]
    if len(text) > limit:
        return [_too_long(where, field, text, limit)]
    return []


def _check_block(where: str, block: Mapping[str, Any]) -> list[str]:
    kind = block.get("type")
    if kind not in BLOCK_TYPES:
        return [f"{where}: unknown block type {kind!r}"]
    check = _BLOCK_CHECKS.get(kind)
    return check(where, block) if check is not None else []


def _check_section(where: str, block: Mapping[str, Any]) -> list[str]:
    errors: list[str] = []
    text = block.get("text")
    fields = block.get("fields")
    if text is None and not fields:
        errors.append(f"{where}: a section needs text or fields")
    if text is not None:
        errors.extend(_check_text(where, "text", text, MAX_SECTION_TEXT))
    if fields is not None:
        errors.extend(_check_fields(where, fields))
    accessory = block.get("accessory")
    if accessory is not None:
        errors.extend(_check_element(where, accessory))
    return errors


def _check_fields(where: str, fields: Any) -> list[str]:
    if not isinstance(fields, list):
        return [f"{where}: fields must be a list"]
    errors: list[str] = []
    if len(fields) > MAX_SECTION_FIELDS:
        errors.append(f"{where}: {len(fields)} fields; the limit is {MAX_SECTION_FIELDS}")
    for number, field in enumerate(fields, start=1):
        errors.extend(_check_text(where, f"field {number}", field, MAX_SECTION_FIELD_TEXT))
    return errors


def _check_header(where: str, block: Mapping[str, Any]) -> list[str]:
    return _check_text(where, "text", block.get("text"), MAX_HEADER_TEXT, plain=True)


def _check_context(where: str, block: Mapping[str, Any]) -> list[str]:
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements:
        return [f"{where}: a context needs at least one element"]
    errors: list[str] = []
    if len(elements) > MAX_CONTEXT_ELEMENTS:
        errors.append(f"{where}: {len(elements)} elements; the limit is {MAX_CONTEXT_ELEMENTS}")
    for number, element in enumerate(elements, start=1):
        if isinstance(element, Mapping) and element.get("type") == "image":
            continue
        errors.extend(_check_text(where, f"element {number}", element, MAX_SECTION_TEXT))
    return errors


def _check_actions(where: str, block: Mapping[str, Any]) -> list[str]:
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements:
        return [f"{where}: an actions block needs at least one element"]
    errors: list[str] = []
    if len(elements) > MAX_ACTIONS_ELEMENTS:
        errors.append(f"{where}: {len(elements)} elements; the limit is {MAX_ACTIONS_ELEMENTS}")
    seen: set[str] = set()
    for element in elements:
        errors.extend(_check_element(where, element))
        action_id = element.get("action_id") if isinstance(element, Mapping) else None
        if isinstance(action_id, str):
            if action_id in seen:
                errors.append(f"{where}: action_id {action_id!r} is used twice")
            seen.add(action_id)
    return errors


def _check_input(where: str, block: Mapping[str, Any]) -> list[str]:
    errors = _check_text(where, "label", block.get("label"), MAX_INPUT_LABEL, plain=True)
    if "hint" in block:
        errors.extend(_check_text(where, "hint", block["hint"], MAX_INPUT_HINT, plain=True))
    element = block.get("element")
    if element is None:
        errors.append(f"{where}: an input block needs an element")
    else:
        errors.extend(_check_element(where, element))
    return errors


def _check_element(where: str, element: Any) -> list[str]:
    if not isinstance(element, Mapping):
        return [f"{where}: element is not an object"]
    kind = element.get("type")
    if kind == "image":
        return []
    if kind not in INTERACTIVE_TYPES:
        return [f"{where}: unknown element type {kind!r}"]
    action_id = element.get("action_id")
    label = f"{where} {kind}" + (f" {action_id!r}" if isinstance(action_id, str) else "")
    errors: list[str] = []
    if action_id is not None:
        errors.extend(_check_str(label, "action_id", action_id, MAX_ACTION_ID))
    if "placeholder" in element:
        errors.extend(
            _check_text(label, "placeholder", element["placeholder"], MAX_PLACEHOLDER, plain=True)
        )
    check = _ELEMENT_CHECKS.get(kind)
    if check is not None:
        errors.extend(check(label, element))
    return errors


def _check_button(label: str, element: Mapping[str, Any]) -> list[str]:
    errors = _check_text(label, "text", element.get("text"), MAX_BUTTON_TEXT, plain=True)
    if "value" in element:
        errors.extend(_check_str(label, "value", element["value"], MAX_BUTTON_VALUE))
    if "url" in element:
        errors.extend(_check_str(label, "url", element["url"], MAX_URL))
    return errors


def _check_overflow(label: str, element: Mapping[str, Any]) -> list[str]:
    options = element.get("options")
    errors: list[str] = []
    count = len(options) if isinstance(options, list) else 0
    if not MIN_OVERFLOW_OPTIONS <= count <= MAX_OVERFLOW_OPTIONS:
        errors.append(
            f"{label}: {count} options; an overflow holds "
            f"{MIN_OVERFLOW_OPTIONS} to {MAX_OVERFLOW_OPTIONS}"
        )
    errors.extend(_check_options(label, options if isinstance(options, list) else []))
    return errors


def _check_select(label: str, element: Mapping[str, Any]) -> list[str]:
    options = element.get("options")
    if options is None and "option_groups" not in element:
        return [f"{label}: a static select needs options"]
    if not isinstance(options, list):
        return []
    errors: list[str] = []
    if not options:
        errors.append(f"{label}: a static select needs at least one option")
    if len(options) > MAX_SELECT_OPTIONS:
        errors.append(f"{label}: {len(options)} options; the limit is {MAX_SELECT_OPTIONS}")
    errors.extend(_check_options(label, options))
    values = [o.get("value") for o in options if isinstance(o, Mapping)]
    if len(set(values)) != len(values):
        errors.append(f"{label}: option values repeat")
    return errors


def _check_text_input(label: str, element: Mapping[str, Any]) -> list[str]:
    errors: list[str] = []
    max_length = element.get("max_length")
    if max_length is not None and (
        not isinstance(max_length, int) or not 1 <= max_length <= MAX_TEXT_INPUT_LENGTH
    ):
        errors.append(f"{label}: max_length {max_length!r} is outside 1..{MAX_TEXT_INPUT_LENGTH}")
    initial = element.get("initial_value")
    if initial is not None:
        errors.extend(_check_str(label, "initial_value", initial, MAX_TEXT_INPUT_LENGTH))
    return errors


_Check = Callable[[str, Mapping[str, Any]], list[str]]
# Per element type, the limits Slack documents for it (the others: action_id and placeholder).
_ELEMENT_CHECKS: dict[str, _Check] = {
    "button": _check_button,
    "overflow": _check_overflow,
    **dict.fromkeys(SELECT_TYPES, _check_select),
    "plain_text_input": _check_text_input,
}


def _check_options(where: str, options: list[Any]) -> list[str]:
    errors: list[str] = []
    for number, option in enumerate(options, start=1):
        if not isinstance(option, Mapping):
            errors.append(f"{where}: option {number} is not an object")
            continue
        errors.extend(
            _check_text(where, f"option {number} text", option.get("text"), MAX_OPTION_TEXT)
        )
        errors.extend(
            _check_str(where, f"option {number} value", option.get("value"), MAX_OPTION_VALUE)
        )
    return errors


# --- data visualization (chart) blocks ---------------------------------------------------------

MAX_CHART_TITLE = 50
MIN_CHART_SERIES = 1
MAX_CHART_SERIES = 6
MAX_CHART_POINTS = 20
MAX_CHART_LABEL = 20  # a series name, a data point's label, an axis category
MAX_AXIS_TITLE = 50
CHART_TYPES = frozenset({"pie", "bar", "area", "line"})


def check_chart_block(where: str, block: Mapping[str, Any]) -> list[str]:
    """The limits of one `data_visualization` block: title, chart type, series, points, axes."""
    errors: list[str] = []
    title = block.get("title")
    if not isinstance(title, str) or not title.strip():
        errors.append(f"{where}: a chart needs a title")
    elif len(title) > MAX_CHART_TITLE:
        errors.append(_too_long(where, "title", title, MAX_CHART_TITLE))
    chart = block.get("chart")
    if not isinstance(chart, Mapping):
        return [*errors, f"{where}: chart must be an object"]
    kind = chart.get("type")
    if kind not in CHART_TYPES:
        return [*errors, f"{where}: chart type {kind!r} is not one of pie, bar, area, line"]
    key = "segments" if kind == "pie" else "series"
    entries = chart.get(key)
    count = len(entries) if isinstance(entries, list) else 0
    if not MIN_CHART_SERIES <= count <= MAX_CHART_SERIES:
        errors.append(
            f"{where}: {count} {key}; a {kind} chart holds {MIN_CHART_SERIES} to "
            f"{MAX_CHART_SERIES}"
        )
    entries = entries if isinstance(entries, list) else []
    if kind == "pie":
        for number, segment in enumerate(entries, 1):
            errors.extend(_check_point(f"{where} segment {number}", segment))
        return errors
    categories = _check_axis(where, chart.get("axis_config"), errors)
    names: set[str] = set()
    for number, series in enumerate(entries, 1):
        errors.extend(_check_series(f"{where} series {number}", series, names, categories))
    return errors


def _check_series(
    label: str, series: Any, names: set[str], categories: set[str] | None
) -> list[str]:
    """One series of a bar, area or line chart; `names` collects the names seen so far."""
    if not isinstance(series, Mapping):
        return [f"{label}: not an object"]
    errors: list[str] = []
    name = series.get("name")
    if not isinstance(name, str) or not name:
        errors.append(f"{label}: a series needs a name")
    elif len(name) > MAX_CHART_LABEL:
        errors.append(_too_long(label, "name", name, MAX_CHART_LABEL))
    elif name in names:
        errors.append(f"{label}: series name {name!r} is used twice")
    else:
        names.add(name)
    points = series.get("data")
    if not isinstance(points, list) or not 1 <= len(points) <= MAX_CHART_POINTS:
        shown = len(points) if isinstance(points, list) else 0
        return [*errors, f"{label}: {shown} data points; a series holds 1 to {MAX_CHART_POINTS}"]
    for point in points:
        errors.extend(_check_point(label, point))
        point_label = point.get("label") if isinstance(point, Mapping) else None
        if categories is not None and point_label not in categories:
            errors.append(f"{label}: data label {point_label!r} is not an axis category")
    return errors


def _check_axis(where: str, axis: Any, errors: list[str]) -> set[str] | None:
    if not isinstance(axis, Mapping):
        errors.append(f"{where}: a bar, area or line chart needs axis_config")
        return None
    categories = axis.get("categories")
    if not isinstance(categories, list) or not categories:
        errors.append(f"{where}: axis_config needs a list of categories")
        return None
    for category in categories:
        if not isinstance(category, str) or not category:
            errors.append(f"{where}: an axis category must be a non-empty string")
        elif len(category) > MAX_CHART_LABEL:
            errors.append(_too_long(where, "axis category", category, MAX_CHART_LABEL))
    for field in ("x_label", "y_label"):
        if field in axis:
            errors.extend(_check_str(where, field, axis[field], MAX_AXIS_TITLE))
    return {c for c in categories if isinstance(c, str)}


def _check_point(where: str, point: Any) -> list[str]:
    if not isinstance(point, Mapping):
        return [f"{where}: a data point is not an object"]
    errors: list[str] = []
    label = point.get("label")
    if not isinstance(label, str) or not label:
        errors.append(f"{where}: a data point needs a label")
    elif len(label) > MAX_CHART_LABEL:
        errors.append(_too_long(where, "label", label, MAX_CHART_LABEL))
    value = point.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float):
        errors.append(f"{where}: data point {label!r} needs a number value")
    return errors


# Per block type, the limits Slack documents for it (divider, image, rich_text: none checked).
_BLOCK_CHECKS: dict[str, _Check] = {
    "section": _check_section,
    "header": _check_header,
    "context": _check_context,
    "actions": _check_actions,
    "input": _check_input,
    "data_visualization": check_chart_block,
}
