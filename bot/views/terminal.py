"""Slack views read in a terminal: for `make demo` and `collectbot preview`."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rich.text import Text

from bot.domain.accounts import CallListItem
from bot.views.text import ELLIPSIS, money, one_line

# <@U123> mentions, <url|label> links and <!here> pings, as Slack would show them.
_LINK = re.compile(r"<([^<>|]+)\|([^<>]+)>")
_MENTION = re.compile(r"<@([A-Z0-9]+)>")
_SPECIAL = re.compile(r"<!([a-z]+)>")


def _mrkdwn_to_text(text: str) -> str:
    text = _LINK.sub(r"\2", text)
    text = _MENTION.sub(r"@\1", text)
    text = _SPECIAL.sub(r"@\1", text)
    return html.unescape(text)


# Slack's emphasis: *bold*, _italic_ and `code`, each within one line and hugging its text.
_EMPHASIS = re.compile(
    r"(?P<code>`[^`\n]+`)"
    r"|(?P<bold>(?<![\w*])\*(?=\S)[^*\n]+?(?<=\S)\*(?![\w*]))"
    r"|(?P<italic>(?<![\w_])_(?=\S)[^_\n]+?(?<=\S)_(?![\w_]))"
)
_STYLES = {"code": "bold", "bold": "bold", "italic": "italic"}


def mrkdwn_rich(text: str, names: Mapping[str, str] | None = None) -> Text:
    """A mrkdwn text as a person reads it in Slack: emphasis as styles (`.plain` drops it),
    mentions as the names given (else @id), links as their labels, entities decoded."""
    known = names or {}

    def words(part: str) -> str:
        part = _MENTION.sub(lambda m: "@" + known.get(m.group(1), m.group(1)), part)
        return _mrkdwn_to_text(part)

    out = Text()
    at = 0
    for match in _EMPHASIS.finditer(text):
        out.append(words(text[at:match.start()]))
        kind = match.lastgroup or "bold"
        out.append(words(match.group()[1:-1]), style=_STYLES[kind])
        at = match.end()
    out.append(words(text[at:]))
    return out


# The emoji codes the views use, as Slack draws them; any other code is left as written.
_EMOJI = {":warning:": "⚠️", ":white_check_mark:": "✅", ":x:": "❌", ":zzz:": "💤",
          ":red_circle:": "🔴", ":large_green_circle:": "🟢", ":white_circle:": "⚪",
          ":alarm_clock:": "⏰", ":arrow_up:": "⬆️", ":point_right:": "👉"}
_EMOJI_CODE = re.compile(r":[a-z0-9_+-]+:")

Read = Callable[[Any], str]


def _reader(names: Mapping[str, str] | None) -> Read:
    """A text object's words as Slack shows them: mrkdwn without its markers (emphasis is for
    a terminal's styles, `mrkdwn_rich`), mentions by the names given, emoji drawn."""

    def read(obj: Any) -> str:
        if not isinstance(obj, Mapping):
            return ""
        text = obj.get("text", "")
        if not isinstance(text, str):
            return ""
        if obj.get("type") != "mrkdwn":
            return text
        plain = mrkdwn_rich(text, names).plain
        return _EMOJI_CODE.sub(lambda m: _EMOJI.get(m.group(), m.group()), plain)

    return read


# A table: one return per Block Kit element type, in the order the reference lists them.
def _element_text(element: Mapping[str, Any], read: Read) -> str:  # noqa: PLR0911
    kind = element.get("type")
    if kind == "button":
        return f"[{read(element.get('text'))}]"
    if kind == "overflow":
        labels = [read(option.get("text")) for option in element.get("options", [])]
        return "[⋯ " + " / ".join(labels) + "]"
    if kind in ("static_select", "multi_static_select"):
        return f"[{read(element.get('placeholder')) or 'Select'} ▾]"
    if kind == "datepicker":
        return f"[📅 {element.get('initial_date', 'date')}]"
    if kind == "timepicker":
        return f"[🕒 {element.get('initial_time', 'time')}]"
    if kind in ("plain_text_input", "number_input"):
        initial = element.get("initial_value")
        return f"[{initial}]" if initial else "[____]"
    return f"[{kind}]"


def blocks_to_text(
    blocks: Sequence[Mapping[str, Any]], names: Mapping[str, str] | None = None
) -> str:
    """How the blocks read to a person: headers, text, context lines and [Buttons]; `names`
    (Slack user id -> name) shows mentions as Slack does, by name."""
    read = _reader(names)
    lines: list[str] = []
    for block in blocks:
        show = _BLOCK_LINES.get(str(block.get("type")))
        if show is not None:
            lines.extend(show(block, read))
    return "\n".join(lines)


def _header_lines(block: Mapping[str, Any], read: Read) -> list[str]:
    title = read(block.get("text"))
    return [title, "=" * display_width(title)]


def _section_lines(block: Mapping[str, Any], read: Read) -> list[str]:
    lines = [read(block["text"])] if "text" in block else []
    lines.extend(read(field) for field in block.get("fields", []))
    accessory = block.get("accessory")
    if isinstance(accessory, Mapping) and accessory.get("type") != "image":
        lines.append(_element_text(accessory, read))
    return lines


def _context_lines(block: Mapping[str, Any], read: Read) -> list[str]:
    parts = [
        read(element)
        for element in block.get("elements", [])
        if isinstance(element, Mapping) and element.get("type") != "image"
    ]
    return ["  " + " · ".join(parts)]


def _actions_lines(block: Mapping[str, Any], read: Read) -> list[str]:
    return [" ".join(_element_text(element, read) for element in block.get("elements", [])
                     if isinstance(element, Mapping))]


def _input_lines(block: Mapping[str, Any], read: Read) -> list[str]:
    element = block.get("element")
    shown = _element_text(element, read) if isinstance(element, Mapping) else ""
    optional = " (optional)" if block.get("optional") else ""
    lines = [f"{read(block.get('label'))}{optional}: {shown}"]
    if "hint" in block:
        lines.append(f"  {read(block['hint'])}")
    return lines


# Per Block Kit block type, its lines; a type not listed shows nothing.
_BLOCK_LINES: dict[str, Callable[[Mapping[str, Any], Read], list[str]]] = {
    "header": _header_lines,
    "section": _section_lines,
    "context": _context_lines,
    "actions": _actions_lines,
    "divider": lambda _block, _read: ["─" * 40],
    "input": _input_lines,
    "image": lambda block, _read: [f"[image: {block.get('alt_text', '')}]"],
}


def _char_width(char: str) -> int:
    if unicodedata.combining(char) or char in "\u200d\ufe0f":
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def display_width(text: str) -> int:
    """Terminal columns the text takes (wide CJK and emoji count two)."""
    return sum(_char_width(char) for char in text)


def _fit(text: str, width: int, *, right: bool = False) -> str:
    """The text cut with "…" or padded with spaces to exactly `width` columns."""
    text = one_line(text)
    if display_width(text) > width:
        kept: list[str] = []
        used = 0
        for char in text:
            if used + _char_width(char) > width - 1:
                break
            kept.append(char)
            used += _char_width(char)
        text = "".join(kept).rstrip() + ELLIPSIS
    pad = " " * (width - display_width(text))
    return pad + text if right else text + pad


COLUMNS: tuple[tuple[str, int, bool], ...] = (
    ("#", 3, True),
    ("Account", 32, False),
    ("Past due", 12, True),
    ("Days", 5, True),
    ("Reason", 48, False),
    ("Phone", 16, False),
)


def call_list_table(items: Sequence[CallListItem]) -> str:
    """A fixed-width table of a call list: #, account, past due, days, reason, phone."""
    rows = [[name for name, _, _ in COLUMNS]]
    for item in items:
        rows.append(
            [
                str(item.position),
                f"{item.name} ({item.external_ref})",
                money(item.past_due),
                str(item.days_past_due),
                item.reason,
                item.phone or "",
            ]
        )
    lines = [
        "  ".join(
            _fit(cell, width, right=right)
            for cell, (_, width, right) in zip(row, COLUMNS, strict=True)
        ).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for _, width, _ in COLUMNS))
    if not items:
        lines.append("(no calls: nothing is due)")
    return "\n".join(lines)
