"""Money and shares written one way everywhere: ``$0.72``, ``$12.4k``, ``$1.2M``; unknown is "unknown".

One formatter for the table, the report and its tooltips, so the same
figure never reads "$0.7500" in one place and "$0.75" in another.
"""

from __future__ import annotations

UNKNOWN = "unknown"


def money(value: float | None, unknown: str = UNKNOWN) -> str:
    """Dollars to two decimals below $1,000, then thousands or millions to three figures."""
    if value is None or value != value:
        return unknown
    sign = "-" if value < 0 else ""
    amount = abs(value)
    if amount >= 999_950:
        return f"{sign}${amount / 1e6:.3g}M"
    if amount >= 999.5:
        return f"{sign}${amount / 1e3:.3g}k"
    if 0 < amount < 0.005:
        return f"{sign}<$0.01"
    return f"{sign}${amount:.2f}"


def percent(value: float | None, unknown: str = "n/a") -> str:
    if value is None:
        return unknown
    text = f"{value:.1%}"
    return text.replace(".0%", "%")


def count(value: int, noun: str) -> str:
    """``1 change``, ``1,051 changes``."""
    return f"{value:,} {noun}{'' if value == 1 else 's'}"


# What "priced later" means, for a legend or a footnote (the figure itself says how many).
PRICED_LATER_NOTE = ("priced later: AI-Usage lines with tokens but no cost_usd when committed (no price was known "
                     "then), priced from their tokens with the current prices")


def priced_later_text(later: int, noun: str = "change") -> str:
    """``1 change priced later from its tokens``; empty for 0 (nothing to say)."""
    if not later:
        return ""
    return f"{count(later, noun)} priced later from {'its' if later == 1 else 'their'} tokens"


def ai_cost_text(cost: float | None, ai_changes: int, unknown: int, later: int = 0) -> str:
    """What the AI spend of some changes is, saying how many have no known cost and how many were priced later.

    "$12.40", "$12.40 (usage unknown for 3 of 40 AI-assisted changes)",
    "$12.40 (2 of 40 AI-assisted changes priced later from their tokens)",
    "unknown (1,051 AI-assisted changes, usage unknown for 1,051)". A change
    priced later (tokens but no cost_usd in its trailer) is in the sum: the
    figure says so, so a reader knows part of it was not priced at commit time.
    """
    if not ai_changes:
        return money(cost) if cost else "none (no AI-assisted change)"
    if cost is None or unknown >= ai_changes:
        return f"{UNKNOWN} ({count(ai_changes, 'AI-assisted change')}, usage unknown for {unknown:,})"
    if unknown and later:
        return (f"{money(cost)} (usage unknown for {unknown:,} of {count(ai_changes, 'AI-assisted change')}; "
                f"{later:,} priced later from {'its' if later == 1 else 'their'} tokens)")
    if unknown:
        return f"{money(cost)} (usage unknown for {unknown:,} of {count(ai_changes, 'AI-assisted change')})"
    if later:
        return (f"{money(cost)} ({later:,} of {count(ai_changes, 'AI-assisted change')} priced later from "
                f"{'its' if later == 1 else 'their'} tokens)")
    return money(cost)
