"""Terminal rendering: how a DM reads in `make demo`, and the preview table."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from bot.domain.accounts import CallListItem
from bot.views import actions
from bot.views.call_list import CallListView, render_call_list
from bot.views.modals import promise_modal
from bot.views.terminal import blocks_to_text, call_list_table, display_width

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def item(
    position: int, name: str, past_due: str, phone: str | None = "+1 555 0100"
) -> CallListItem:
    return CallListItem(
        position=position,
        customer_id=position,
        external_ref=f"C-{position}",
        name=name,
        past_due=Decimal(past_due),
        days_past_due=64,
        score=Decimal("1"),
        reason="promise of $5,000 broken 3 days ago",
        contact_name="Jane",
        phone=phone,
    )


def test_call_list_reads_like_the_dm() -> None:
    view = CallListView(
        collector_name="Ana",
        collector_slack_id="U0ANA",
        tz="America/Chicago",
        list_date=date(2026, 11, 23),
        call_list_id=7,
        past_due_book=Decimal("48200"),
        items=[item(1, "Acme & Co <HQ>", "12400")],
    )
    [message] = render_call_list(view, now=NOW)
    assert blocks_to_text(message.blocks) == "\n".join(
        [
            "Call list · Mon 23 Nov",
            "======================",
            "1 call · $48,200 past due in your book outside disputes",
            "  Done 0 of 1",
            "─" * 40,
            "1. Acme & Co <HQ> · C-1",
            "$12,400 past due · 64 days · promise of $5,000 broken 3 days ago",
            "📞 Jane · +1 555 0100",
            "[Reached] [Voicemail] [No answer] [Promise to pay…] [Paid] [Dispute…]"
            " [⋯ Details / Snooze / Callback / Note]",
        ]
    )


def test_mentions_and_links_read_as_names() -> None:
    blocks = [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "<@U0ANA> see <https://x.test|the ledger>"},
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "ping <!here>"}]},
    ]
    assert blocks_to_text(blocks) == "@U0ANA see the ledger\n  ping @here"
    named = blocks_to_text(blocks, {"U0ANA": "Ana Torres"})
    assert named == "@Ana Torres see the ledger\n  ping @here"


def test_emphasis_markers_go_and_emoji_codes_are_drawn() -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text":
               ":warning: *no contact* for _12 days_ · 2*3 :unknown_code: `C-1`"}}]
    assert blocks_to_text(blocks) == "⚠️ no contact for 12 days · 2*3 :unknown_code: C-1"


def test_modal_inputs_read_as_fields() -> None:
    meta = actions.ModalMetadata(actions.RowRef(1, 2))
    view = promise_modal(
        meta, customer_name="Acme", past_due=Decimal("1200"), today=date(2026, 11, 23)
    )
    assert blocks_to_text(view["blocks"]) == "\n".join(
        ["  Acme · $1,200 past due", "Amount: [1200.00]", "Pay by: [📅 2026-11-23]"]
    )


def test_table_is_fixed_width_and_truncates() -> None:
    items = [
        item(1, "Acme", "12400"),
        item(
            12, "A very long customer name that will not fit in the column at all", "3210.5", None
        ),
        item(3, "日本の会社", "75"),
    ]
    table = call_list_table(items).splitlines()
    assert table[0] == (
        "  #  Account                               Past due   Days  Reason" + " " * 44 + "Phone"
    )
    assert table[1].split() == ["---", "-" * 32, "-" * 12, "-" * 5, "-" * 48, "-" * 16]
    assert table[2] == (
        "  1  Acme (C-1)                             $12,400     64"
        "  promise of $5,000 broken 3 days ago               +1 555 0100"
    )
    assert table[3].startswith(" 12  A very long customer name that…      $3,210.50     64")
    assert table[3].endswith("broken 3 days ago")  # no phone, no trailing spaces
    # Wide characters take two columns each, so the amounts still line up on screen.
    assert table[4].startswith("  3  日本の会社 (C-3)                           $75")

    def amount_end(line: str, amount: str) -> int:
        return display_width(line[: line.index(amount) + len(amount)])

    assert amount_end(table[4], "$75") == amount_end(table[2], "$12,400") == 51


def test_empty_table_says_so() -> None:
    assert call_list_table([]).splitlines()[-1] == "(no calls: nothing is due)"


def test_mrkdwn_reads_as_slack_shows_it() -> None:
    from bot.views.terminal import mrkdwn_rich

    text = mrkdwn_rich(
        "*Per collector* · <@U0ANA>: `▓▓░ 79%` · _never contacted_ · <https://x.test|the post>"
        " · Fish &amp; Chips &lt;Ltd&gt; · <@U0NOBODY> · <!here>",
        {"U0ANA": "Ana Torres"})
    assert text.plain == (
        "Per collector · @Ana Torres: ▓▓░ 79% · never contacted · the post · Fish & Chips <Ltd>"
        " · @U0NOBODY · @here")
    styled = {text.plain[span.start:span.end]: str(span.style) for span in text.spans}
    assert styled == {"Per collector": "bold", "▓▓░ 79%": "bold", "never contacted": "italic"}


def test_mrkdwn_markers_inside_words_or_numbers_stay_text() -> None:
    from bot.views.terminal import mrkdwn_rich

    text = mrkdwn_rich("2*3*4 · snake_case_name · a * b * c · *unclosed")
    assert text.plain == "2*3*4 · snake_case_name · a * b * c · *unclosed"
    assert text.spans == []


def test_every_emoji_code_a_view_writes_is_drawn_in_the_terminal() -> None:
    """The terminal draws each code as Slack does: a code a view starts using is added here."""
    import re
    from pathlib import Path

    from bot.views import terminal

    views = Path(terminal.__file__).parent
    written = {code for path in views.glob("*.py") if path.name != "terminal.py"
               for code in re.findall(r":[a-z0-9_+-]+:", path.read_text(encoding="utf-8"))
               if not code.startswith((":/", ":0"))}
    assert written and written <= set(terminal._EMOJI), sorted(written - set(terminal._EMOJI))
