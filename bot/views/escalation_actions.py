"""A manager's decision buttons on an escalation, the forms behind three of them, and what their
values and metadata carry back (strict decoders: a malformed value raises ValueError).

The same buttons show on the escalation message, the digest, the App Home and
`/collect escalations`. Reassign, Snooze and Resolve open a form; Send to agency and Approve
legal ask for a confirmation first; Take over decides at once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.domain.escalation_decisions import NOTE_CHARS, SNOOZE_DAYS, Decision
from bot.views.text import Block, plain, truncate

ACTION_ESC_REASSIGN = "escalation:reassign"
ACTION_ESC_TAKE_OVER = "escalation:take_over"
ACTION_ESC_SNOOZE = "escalation:snooze"
ACTION_ESC_AGENCY = "escalation:agency"
ACTION_ESC_LEGAL = "escalation:legal"
ACTION_ESC_RESOLVE = "escalation:resolve"

CALLBACK_ESC_REASSIGN_MODAL = "escalation_reassign_modal"
CALLBACK_ESC_SNOOZE_MODAL = "escalation_snooze_modal"
CALLBACK_ESC_RESOLVE_MODAL = "escalation_resolve_modal"

# Buttons that decide at once (after Slack's own confirmation dialog, where there is one).
DIRECT_ACTIONS: dict[str, Decision] = {
    ACTION_ESC_TAKE_OVER: Decision.TAKE_OVER,
    ACTION_ESC_AGENCY: Decision.AGENCY,
    ACTION_ESC_LEGAL: Decision.LEGAL,
}
# Buttons that open a form; the form's callback id says which decision it asks for.
FORM_ACTIONS: dict[str, str] = {
    ACTION_ESC_REASSIGN: CALLBACK_ESC_REASSIGN_MODAL,
    ACTION_ESC_SNOOZE: CALLBACK_ESC_SNOOZE_MODAL,
    ACTION_ESC_RESOLVE: CALLBACK_ESC_RESOLVE_MODAL,
}
FORM_DECISIONS: dict[str, Decision] = {
    CALLBACK_ESC_REASSIGN_MODAL: Decision.REASSIGN,
    CALLBACK_ESC_SNOOZE_MODAL: Decision.SNOOZE,
    CALLBACK_ESC_RESOLVE_MODAL: Decision.RESOLVE,
}

# Input block ids (and the keys of the errors dict a submission answers with).
COLLECTOR = "collector"
DAYS = "days"
REASON = "reason"
NOTE = "note"

TITLE_CHARS = 24
ACCOUNT_CHARS = 150
_ID = re.compile(r"[1-9][0-9]{0,18}")
_MAX_ID = 2**63 - 1
_CHANNEL_RE = re.compile(r"[CDG][A-Z0-9]{2,30}")
_TS_RE = re.compile(r"[0-9]{1,12}\.[0-9]{1,8}")
_MAX_METADATA = 2900


def decode_escalation(value: object) -> int:
    """The escalation id a button value names; ValueError unless it is exactly a positive id."""
    if not isinstance(value, str) or _ID.fullmatch(value) is None or int(value) > _MAX_ID:
        shown = repr(value)
        raise ValueError(f"malformed escalation value {shown[:40]}")
    return int(value)


def _confirm(title: str, text: str, yes: str) -> dict[str, Any]:
    return {"title": plain(title), "text": plain(text), "confirm": plain(yes),
            "deny": plain("Cancel"), "style": "danger"}


def _button(text: str, action_id: str, escalation_id: int, **extra: Any) -> dict[str, Any]:
    return {"type": "button", "text": plain(text), "action_id": action_id,
            "value": str(escalation_id), **extra}


def decision_actions(
    escalation_id: int, *, customer_name: str, recommend: str | None = None
) -> list[Block]:
    """The decision buttons of one escalation (one actions block; `recommend`: "agency" or
    "legal", the button the policy's path recommends, shown as the primary one)."""
    name = truncate(" ".join(customer_name.split()), 80)
    agency: dict[str, Any] = {"confirm": _confirm(
        "Send to agency?", f"{name} goes to a collection agency and leaves every call list.",
        "Send to agency")}
    legal: dict[str, Any] = {"confirm": _confirm(
        "Approve legal?", f"{name} goes to legal and leaves every call list.", "Approve legal")}
    if recommend == "agency":
        agency["style"] = "primary"
    elif recommend == "legal":
        legal["style"] = "primary"
    return [{
        "type": "actions",
        "block_id": f"escalation:{escalation_id}",
        "elements": [
            _button("Reassign", ACTION_ESC_REASSIGN, escalation_id),
            _button("Take over", ACTION_ESC_TAKE_OVER, escalation_id),
            _button("Snooze", ACTION_ESC_SNOOZE, escalation_id),
            _button("Send to agency", ACTION_ESC_AGENCY, escalation_id, **agency),
            _button("Approve legal", ACTION_ESC_LEGAL, escalation_id, **legal),
            _button("Resolve", ACTION_ESC_RESOLVE, escalation_id),
        ],
    }]


# --- where a decision came from, so what showed it is updated afterwards -----------------


@dataclass(frozen=True, slots=True)
class DecisionOrigin:
    """The escalation, and the message the click came from (a DM, a channel, or the ephemeral
    `/collect escalations` answer, which only its response_url can replace)."""

    escalation_id: int
    channel_id: str | None = None
    message_ts: str | None = None
    response_url: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.escalation_id, bool) or not 0 < self.escalation_id <= _MAX_ID:
            raise ValueError("escalation id out of range")
        if self.channel_id is not None and not _CHANNEL_RE.fullmatch(self.channel_id):
            raise ValueError("not a Slack channel id")
        if self.message_ts is not None and not _TS_RE.fullmatch(self.message_ts):
            raise ValueError("not a Slack message timestamp")
        if self.response_url is not None and not self.response_url.startswith(
                ("https://", "http://")):
            raise ValueError("not a response_url")


def origin_of(body: Mapping[str, Any], escalation_id: int) -> DecisionOrigin:
    """The origin of a click: its message's channel and ts, and the response_url when the
    message is ephemeral (malformed parts are left out, never trusted)."""
    container = body.get("container")
    channel = ts = url = None
    if isinstance(container, Mapping) and container.get("type") == "message":
        channel = container.get("channel_id")
        ts = container.get("message_ts")
        if container.get("is_ephemeral") is True:
            url = body.get("response_url")
    try:
        return DecisionOrigin(
            escalation_id,
            channel if isinstance(channel, str) and not url else None,
            ts if isinstance(ts, str) and not url else None,
            url if isinstance(url, str) and len(url) < 2000 else None,
        )
    except ValueError:
        return DecisionOrigin(escalation_id)


def encode_origin(origin: DecisionOrigin) -> str:
    """A form's private_metadata: compact JSON."""
    payload: dict[str, Any] = {"e": origin.escalation_id}
    for key, value in (("ch", origin.channel_id), ("ts", origin.message_ts),
                       ("u", origin.response_url)):
        if value is not None:
            payload[key] = value
    text = json.dumps(payload, separators=(",", ":"))
    if len(text) > _MAX_METADATA:
        return json.dumps({"e": origin.escalation_id})
    return text


def decode_origin(value: object) -> DecisionOrigin:
    """The origin a submitted form carries; ValueError unless encode_origin wrote it."""
    if not isinstance(value, str) or not value or len(value) > _MAX_METADATA:
        raise ValueError("private_metadata is missing or too long")
    try:
        payload = json.loads(value)
    except json.JSONDecodeError:
        raise ValueError("private_metadata is not JSON") from None
    if not isinstance(payload, dict) or not {"e"} <= payload.keys() <= {"e", "ch", "ts", "u"}:
        raise ValueError("private_metadata has the wrong keys")
    escalation_id = payload["e"]
    if isinstance(escalation_id, bool) or not isinstance(escalation_id, int):
        raise ValueError("private_metadata escalation is not an id")
    parts = [payload.get(key) for key in ("ch", "ts", "u")]
    if any(part is not None and not isinstance(part, str) for part in parts):
        raise ValueError("private_metadata parts are not strings")
    return DecisionOrigin(escalation_id, *parts)


# --- the forms ------------------------------------------------------------------------------


def _modal(callback_id: str, title: str, origin: DecisionOrigin, blocks: list[Block],
           submit: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(truncate(title, TITLE_CHARS)),
        "submit": plain(submit),
        "close": plain("Cancel"),
        "private_metadata": encode_origin(origin),
        "blocks": blocks,
    }


def _account(account: str, detail: str) -> Block:
    # plain_text: a customer's name never renders as markup.
    text = truncate(f"{' '.join(account.split())} · {detail}", ACCOUNT_CHARS * 2)
    return {"type": "context", "elements": [plain(text)]}


def _input(block_id: str, label: str, element: dict[str, Any], **extra: Any) -> Block:
    return {"type": "input", "block_id": block_id, "label": plain(label),
            "element": {"action_id": block_id, **element}, **extra}


def _text_input(block_id: str, label: str, placeholder: str) -> Block:
    return _input(block_id, label, {"type": "plain_text_input", "multiline": True,
                                    "max_length": NOTE_CHARS,
                                    "placeholder": plain(placeholder)})


def reassign_modal(origin: DecisionOrigin, *, account: str, collector: str | None
                   ) -> dict[str, Any]:
    """Pick the collector who takes the account (only an active collector is accepted)."""
    now_with = f"now with {collector}" if collector else "unassigned"
    return _modal(CALLBACK_ESC_REASSIGN_MODAL, "Reassign", origin, [
        _account(account, now_with),
        _input(COLLECTOR, "New collector", {"type": "users_select",
                                            "placeholder": plain("Pick a collector")},
               hint=plain("An active collector on the roster.")),
    ], "Reassign")


def snooze_modal(origin: DecisionOrigin, *, account: str) -> dict[str, Any]:
    """How long the escalation sleeps (7, 14 or 30 days), and why; the account stays on lists."""
    options = [{"text": plain(f"{days} days"), "value": str(days)} for days in SNOOZE_DAYS]
    return _modal(CALLBACK_ESC_SNOOZE_MODAL, "Snooze escalation", origin, [
        _account(account, "the escalation sleeps; the account stays on the call lists"),
        _input(DAYS, "For", {"type": "radio_buttons", "options": options,
                             "initial_option": options[0]}),
        _text_input(REASON, "Why", "e.g. the CFO is back on the 14th"),
    ], "Snooze")


def resolve_modal(origin: DecisionOrigin, *, account: str) -> dict[str, Any]:
    """Close the escalation with a note saying what was decided."""
    return _modal(CALLBACK_ESC_RESOLVE_MODAL, "Resolve escalation", origin, [
        _account(account, "close the escalation"),
        _text_input(NOTE, "Note", "What was decided, e.g. payment plan agreed with the owner"),
    ], "Resolve")


# --- reading a submitted form ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DecisionInput:
    """A form's valid input: the decision, and its collector, days or text."""

    decision: Decision
    collector_slack_id: str | None = None
    days: int | None = None
    text: str | None = None


def _state(values: Mapping[str, Any], block_id: str) -> Mapping[str, Any]:
    block = values.get(block_id)
    action = block.get(block_id) if isinstance(block, Mapping) else None
    return action if isinstance(action, Mapping) else {}


def _text(values: Mapping[str, Any], block_id: str) -> str:
    value = _state(values, block_id).get("value")
    return value.strip() if isinstance(value, str) else ""


def _note(values: Mapping[str, Any], block_id: str, missing: str) -> str | dict[str, str]:
    text = _text(values, block_id)
    if not text:
        return {block_id: missing}
    if len(text) > NOTE_CHARS:
        return {block_id: f"Keep it under {NOTE_CHARS} characters."}
    return text


def parse_decision_form(callback_id: str, values: Mapping[str, Any]
                        ) -> DecisionInput | dict[str, str]:
    """A submitted form's input, or {block_id: what is wrong}."""
    decision = FORM_DECISIONS.get(callback_id)
    if decision is Decision.REASSIGN:
        user = _state(values, COLLECTOR).get("selected_user")
        if not isinstance(user, str) or not re.fullmatch(r"[UW][A-Z0-9]{2,30}", user):
            return {COLLECTOR: "Pick the collector who takes the account."}
        return DecisionInput(decision, collector_slack_id=user)
    if decision is Decision.SNOOZE:
        option = _state(values, DAYS).get("selected_option")
        raw = option.get("value") if isinstance(option, Mapping) else None
        if raw not in {str(days) for days in SNOOZE_DAYS}:
            return {DAYS: "Pick 7, 14 or 30 days."}
        reason = _note(values, REASON, "Say why it can wait.")
        if isinstance(reason, dict):
            return reason
        return DecisionInput(decision, days=int(str(raw)), text=reason)
    if decision is Decision.RESOLVE:
        note = _note(values, NOTE, "Write what was decided.")
        return note if isinstance(note, dict) else DecisionInput(decision, text=note)
    raise ValueError(f"not an escalation form: {callback_id[:40]!r}")
