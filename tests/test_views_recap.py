"""The recap's views: top message, thread, native chart and PNG, from a hand-made Recap."""

from __future__ import annotations

import struct
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from bot.domain.aging import BUCKETS, Bucket
from bot.domain.assessment import (
    REGRESSION_WARNING,
    AccountOutcome,
    EffortRow,
    GapRow,
    compare_holdout,
    difference_in_differences,
)
from bot.domain.objectives import ActivityPlan, ObjectiveProgress, fraction_done
from bot.domain.recap import (
    CallsPlan,
    CollectorWeek,
    EscalationWeek,
    Kpi,
    Recap,
    StrategyAssessment,
    WeekPoint,
)
from bot.slack.blockkit import validate_message
from bot.views.recap import (
    CHART_TITLE,
    dso_chart_block,
    objective_line,
    recap_thread,
    recap_top,
)
from bot.views.recap_chart import recap_alt_text, recap_figure, recap_png

D = Decimal
END = date(2026, 11, 29)


def trend() -> tuple[WeekPoint, ...]:
    weeks = []
    for n in range(12):
        day = END - timedelta(weeks=11 - n)
        aging = {b: D(100_000 - 5_000 * i + 1_000 * n) for i, b in enumerate(BUCKETS)}
        weeks.append(WeekPoint(day, D("58.4") - D("0.7") * n, aging))
    return tuple(weeks)


def objective(**changes: object) -> ObjectiveProgress:
    plan = ActivityPlan(D(1000), D(50), False, 20, 60, 50, D("42.4"))
    progress = ObjectiveProgress(
        1, "Reduce DSO by 5%", "dso", date(2026, 9, 1), date(2027, 2, 28), None, D("55.0"),
        D("51.7"), D("52.25"), D("50.0"), fraction_done(D("55.0"), D("51.7"), D("52.25")),
        "on track", plan, False)
    return replace(progress, **changes)  # type: ignore[arg-type]


def sample(**changes: object) -> Recap:
    recap = Recap(
        week_start=END - timedelta(days=6),
        week_end=END,
        objectives=(objective(),),
        kpis=(
            Kpi("dso", "DSO", "days", D("50.7"), D("51.4"), lower_is_better=True),
            Kpi("cei", "CEI", "percent", D("81.25"), D("80.0")),
            Kpi("cash_collected", "Cash collected", "money", D("48210"), None),
            Kpi("cost_per_dollar_collected", "Cost per $ collected", "ratio", D("0.04"), D("0.04"),
                lower_is_better=True),
        ),
        calls=CallsPlan(made=212, planned=250, needed_per_day=60, planned_per_day=50),
        trend=trend(),
        dso_target=D("52.25"),
        collectors=(CollectorWeek("Ana <!channel>", None, 48, 50, 20, 8, 5, 1, D("12400"),
                                  D("15000")),),
        escalations=EscalationWeek(opened=5, closed=3, open_now=7),
        strategies=(
            StrategyAssessment(
                "61-90 days", date(2026, 9, 1), "share of past-due collected in 30 days",
                did=difference_in_differences([
                    AccountOutcome(True, False, D(200), D(1000)),
                    AccountOutcome(True, True, D(450), D(1500)),
                    AccountOutcome(False, False, D(500), D(2000)),
                    AccountOutcome(False, True, D(780), D(2600)),
                ]),
                holdout=compare_holdout([D(1)] * 12, [D(0)] * 2), holdout_share=D("0.1"),
            ),
            StrategyAssessment("31-60 days", None, "share of past-due collected in 30 days"),
        ),
        effort=(EffortRow(Bucket.DAYS_1_30, "under $1k", 60, D(2000), D(60), D(20)),),
        gaps=(GapRow("1-3 days", 4, 1),),
    )
    return replace(recap, **changes)  # type: ignore[arg-type]


def test_top_message_is_valid_and_short() -> None:
    message = recap_top(sample())
    assert validate_message(message.text, message.blocks) == []
    assert message.blocks[0]["text"]["text"] == "Weekly recap · Mon 23 Nov – Sun 29 Nov"
    assert len(message.blocks) <= 8


def test_objective_line_shows_baseline_now_target_bar_and_status() -> None:
    line = objective_line(sample().objectives[0])
    # 55.0 -> 51.7 of the way to 52.25: 3.3 / 2.75 is past the target, so 100%. The target
    # rounds half up, as in the chart and its text ("target 52.3 days"): one figure, not two.
    assert line == ("*Reduce DSO by 5%* (by Sun 28 Feb): 55.0 days → 51.7 days → 52.3 days  "
                    "`▓▓▓▓▓▓▓▓▓▓ 100%` · on track")
    behind = objective(now=D("54.0"), status="behind",
                       fraction=fraction_done(D("55.0"), D("54.0"), D("52.25")))
    assert objective_line(behind).endswith("`▓▓▓░░░░░░░  36%` · behind")


def test_kpis_carry_their_change_from_last_week() -> None:
    text = recap_top(sample()).text
    assert "DSO: 50.7 days (▼ 0.7 days)" in text
    # 81.25 and 1.25 round half up, as money does; a percentage moves by points.
    assert "CEI: 81.3% (▲ 1.3 pts)" in text
    assert "Cash collected: $48,210 (no figure last week)" in text
    assert "Cost per $ collected: $0.04 (unchanged)" in text
    assert "Calls: 212 made of 250 planned (84%) · the objectives need 60 a day, 50 planned" in text


def test_native_chart_has_the_same_numbers_as_the_text() -> None:
    recap = sample()
    message = recap_top(recap)
    [chart] = [b for b in message.blocks if b["type"] == "data_visualization"]
    assert chart == dso_chart_block(recap)
    assert chart["title"] == CHART_TITLE and len(CHART_TITLE) <= 50
    dso, target = chart["chart"]["series"]
    assert len(dso["data"]) == 12
    for point, week in zip(dso["data"], recap.trend, strict=True):
        assert f"{week.label} {point['value']:.1f}" in message.text
    assert {p["value"] for p in target["data"]} == {52.3}
    assert "target 52.3 days" in message.text


def test_without_the_chart_the_numbers_stay_in_the_message() -> None:
    message = recap_top(sample(), chart=False)
    assert validate_message(message.text, message.blocks) == []
    assert all(b["type"] != "data_visualization" for b in message.blocks)
    assert any("DSO by week: Sep 13 58.4" in str(b) for b in message.blocks)


def test_thread_per_collector_escalations_and_assessment() -> None:
    collectors, escalations, assessment = recap_thread(sample())
    for message in (collectors, escalations, assessment):
        assert validate_message(message.text, message.blocks) == []
    assert ("Ana &lt;!channel&gt;: 48/50 calls · 20 right-party contacts · promises 8 made, "
            "5 kept, 1 broken · $12,400 of $15,000 collected") in collectors.text
    assert escalations.text == "*Escalations:* 5 opened, 3 closed, 7 open now"
    assert ("segment 20.0% → 30.0%, rest 25.0% → 30.0%: +5.0 pts beyond the rest"
            in assessment.text)
    assert ("Treated vs held out (10% held out): not enough data yet "
            "(n = 12 treated, 2 held out; 30 each needed)") in assessment.text
    assert "Before/after: not enough time since the change yet" in assessment.text
    assert REGRESSION_WARNING in assessment.text  # 31-60 has no holdout
    assert "1-30 days, under $1k: 60% of calls → 20% of cash" in assessment.text
    assert "1-3 days: 25.0% (1 of 4)" in assessment.text


def test_fifty_collectors_fit_one_valid_message() -> None:
    many = tuple(
        CollectorWeek(f"Collector {n} " + "x" * 60, f"U{n:08d}", 50, 50, 25, 10, 9, 1,
                      D("123456.78"), D("150000"))
        for n in range(50)
    )
    [collectors, *_] = recap_thread(sample(collectors=many))
    assert validate_message(collectors.text, collectors.blocks) == []


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def test_png_is_a_real_image_of_plausible_size() -> None:
    png = recap_png(sample())
    assert _png_size(png) == (900, 700)
    assert 20_000 < len(png) < 1_000_000


def test_chart_has_both_panels_drawn() -> None:
    recap = sample()
    dso_axes, aging_axes = recap_figure(recap).axes
    dso_line, target_line = dso_axes.get_lines()
    assert list(dso_line.get_ydata()) == [float(p.dso or 0) for p in recap.trend]
    assert set(target_line.get_ydata()) == {52.25}
    assert dso_axes.get_ylabel() == "Days" and dso_axes.get_title()
    assert len(aging_axes.patches) == 6 * 12  # a bar per bucket per week
    last_week_top = sum(float(v) for v in recap.trend[-1].aging.values()) / 1000
    assert max(p.get_y() + p.get_height() for p in aging_axes.patches) == last_week_top
    assert aging_axes.get_xlabel() == "Week ending"
    assert [t.get_text() for t in aging_axes.get_xticklabels()][-1] == "Nov 29"


def test_alt_text_says_what_the_chart_shows() -> None:
    assert recap_alt_text(sample()) == (
        "Two charts over 12 weeks to Nov 29. DSO went from 58.4 days to 50.7 days against a "
        "target of 52.3 days. AR by aging bucket, stacked by week: $591,000 at the end, "
        "$480,000 of it past due."
    )
    assert recap_alt_text(sample(trend=())) == "Weekly recap chart: no history yet."


def test_a_kpi_without_a_figure_this_week_says_so_not_that_last_week_lacks_one() -> None:
    from bot.domain.recap import Kpi
    from bot.views.recap import change_text

    assert change_text(Kpi("cost_per_dollar_collected", "Cost per $ collected", "ratio", None,
                           D("0.04"))) == "no figure this week"
    assert change_text(Kpi("cost_per_dollar_collected", "Cost per $ collected", "ratio", None,
                           None)) == "no figure this week"
    assert change_text(Kpi("cei", "CEI", "percent", D("80"), None)) == "no figure last week"
