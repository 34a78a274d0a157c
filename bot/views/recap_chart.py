"""The recap's PNG: DSO against the target, and aging stacked by week (matplotlib, Agg).

Drawn on a Figure of its own (no pyplot state), so it is safe in a job thread and in tests.
"""

from __future__ import annotations

import io
from decimal import Decimal

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.domain.aging import BUCKETS, Bucket
from bot.domain.recap import Recap
from bot.views.text import tenths

WIDTH_IN, HEIGHT_IN, DPI = 9.0, 7.0, 100
# Green for current shading to red for the oldest money.
BUCKET_COLOURS = {
    Bucket.CURRENT: "#4caf50",
    Bucket.DAYS_1_30: "#cddc39",
    Bucket.DAYS_31_60: "#ffc107",
    Bucket.DAYS_61_90: "#ff9800",
    Bucket.DAYS_91_120: "#f4511e",
    Bucket.DAYS_120_PLUS: "#b71c1c",
}


def recap_figure(recap: Recap) -> Figure:
    """Two panels: weekly DSO with the target line on top, AR by aging bucket stacked below."""
    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    dso_axes, aging_axes = figure.subplots(2, 1, sharex=True)
    labels = [point.label for point in recap.trend]
    positions = list(range(len(labels)))

    dso = [float(p.dso) if p.dso is not None else float("nan") for p in recap.trend]
    dso_axes.plot(positions, dso, marker="o", color="#1565c0", label="DSO")
    if recap.dso_target is not None:
        dso_axes.axhline(float(recap.dso_target), color="#c62828", linestyle="--", label="Target")
    dso_axes.set_title("DSO by week against the target")
    dso_axes.set_ylabel("Days")
    dso_axes.legend(loc="upper right")
    dso_axes.grid(True, alpha=0.3)

    bottoms = [0.0] * len(labels)
    for bucket in BUCKETS:
        heights = [float(p.aging.get(bucket, Decimal(0))) / 1000 for p in recap.trend]
        aging_axes.bar(positions, heights, bottom=bottoms, color=BUCKET_COLOURS[bucket],
                       label=bucket.label)
        bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
    aging_axes.set_title("AR by aging bucket, by week")
    aging_axes.set_ylabel("AR ($ thousands)")
    aging_axes.set_xlabel("Week ending")
    aging_axes.set_xticks(positions, labels, rotation=45, ha="right")
    aging_axes.legend(loc="upper left", fontsize="small", ncols=3)
    return figure


def recap_png(recap: Recap) -> bytes:
    """The recap chart as PNG bytes."""
    buffer = io.BytesIO()
    recap_figure(recap).savefig(buffer, format="png")
    return buffer.getvalue()


def recap_alt_text(recap: Recap) -> str:
    """What the chart shows, in words, for screen readers (Slack's alt_txt)."""
    if not recap.trend:
        return "Weekly recap chart: no history yet."
    first, last = recap.trend[0], recap.trend[-1]

    def days(value: Decimal | None) -> str:
        return "n/a" if value is None else f"{tenths(value)} days"

    target = "" if recap.dso_target is None else f" against a target of {days(recap.dso_target)}"
    past_due = sum((v for b, v in last.aging.items() if b is not Bucket.CURRENT), Decimal(0))
    total = sum(last.aging.values(), Decimal(0))
    return (
        f"Two charts over {len(recap.trend)} weeks to {last.label}. DSO went from "
        f"{days(first.dso)} to {days(last.dso)}{target}. AR by aging bucket, stacked by week: "
        f"${total:,.0f} at the end, ${past_due:,.0f} of it past due."
    )
