"""Money as a collector reads it: dollars with thousands separators."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def format_money(amount: Decimal) -> str:
    """Dollars with separators: $12,400 when whole, $3,210.50 otherwise, -$75 when negative."""
    if not amount.is_finite():
        raise ValueError(f"not an amount of money: {amount}")
    cents = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    if cents == cents.to_integral_value():
        return f"{sign}${int(cents):,}"
    return f"{sign}${cents:,.2f}"
