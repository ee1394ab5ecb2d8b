"""The lead's view: merged changes, AI share, AI cost and revert rates period by period.

Weeks (starting Monday, UTC) for a window up to a year, calendar months
beyond, and every period of the window is present, empty ones included, so a
chart of them shows the whole window and a gap is visible as a gap. Pure
functions over the walked chain; unknown cost stays unknown (counted, never 0).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from commitledger.history.cache import Chain

YEAR_SECONDS = 366 * 86400


def period_kind(first: int, last: int) -> str:
    """``week`` unless the changes span more than a year, then ``month``."""
    return "month" if last - first > YEAR_SECONDS else "week"


# Dates datetime can hold with a period after them: git takes any 64-bit commit time, a hostile one included.
_FIRST_TS, _LAST_TS = -62135596800, 253399622399  # 0001-01-01, 9999-11-30


def period_start(ts: int, kind: str) -> date:
    day = datetime.fromtimestamp(min(max(ts, _FIRST_TS), _LAST_TS), timezone.utc).date()
    if kind == "month":
        return day.replace(day=1)
    return day - timedelta(days=day.weekday())


def next_period(start: date, kind: str) -> date:
    if kind == "month":
        return date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    return start + timedelta(days=7)


def _rate(reverted: int, merged: int) -> float | None:
    return round(reverted / merged, 6) if merged else None


def periods(chain: Chain, reverted: set[int] | dict[int, Any], in_window: list[int],
            since_ts: int | None = None, until_ts: int | None = None, kind: str | None = None) -> tuple[str, list[dict[str, Any]]]:
    """(kind, rows): one row per period from the window's start (or first change) to its end (or last change).

    ``until_ts`` is the window's end (``--until``, or now for an open window).
    """
    if not in_window:
        return kind or "week", []
    times = [chain.time[i] for i in in_window]
    first = since_ts if since_ts is not None else min(times)
    last = max(until_ts if until_ts is not None else max(times), max(times))
    kind = kind or period_kind(first, last)
    buckets: dict[date, dict[str, Any]] = {}
    start = period_start(first, kind)
    end = period_start(last, kind)
    while start <= end:
        buckets[start] = {"start": start.isoformat(), "merged": 0, "ai_merged": 0, "human_merged": 0, "bot_merged": 0,
                          "ai_reverted": 0, "human_reverted": 0, "bot_reverted": 0, "cost_usd": 0.0,
                          "ai_cost_known": 0, "ai_cost_unknown": 0, "ai_kept": 0}
        start = next_period(start, kind)
    by_day: dict[int, dict[str, Any] | None] = {}  # one date conversion per day, not per change
    flags, bots, costs, times = chain.ai, chain.bot, chain.cost, chain.time
    for index in in_window:
        day = times[index] // 86400
        row = by_day.get(day, False)
        if row is False:
            row = by_day[day] = buckets.get(period_start(times[index], kind))
        if row is None:
            continue
        who = "ai" if flags[index] else "bot" if bots[index] else "human"
        row["merged"] += 1
        row[f"{who}_merged"] += 1
        gone = index in reverted
        if gone:
            row[f"{who}_reverted"] += 1
        if who == "ai":
            cost = costs[index]
            if cost == cost:  # NaN: unknown
                row["cost_usd"] += cost
                row["ai_cost_known"] += 1
            else:
                row["ai_cost_unknown"] += 1
            if not gone:
                row["ai_kept"] += 1
    out = []
    for row in buckets.values():
        known = row["ai_cost_known"]
        out.append({
            "start": row["start"], "merged": row["merged"], "ai_merged": row["ai_merged"],
            "human_merged": row["human_merged"], "bot_merged": row["bot_merged"],
            "ai_share": round(row["ai_merged"] / row["merged"], 6) if row["merged"] else None,
            "cost_usd": round(row["cost_usd"], 6) if known else None,
            "ai_cost_known": known, "ai_cost_unknown": row["ai_cost_unknown"],
            # As the summary's: known AI spend over the AI-assisted changes kept (None when no cost is known).
            "cost_per_merged_change": round(row["cost_usd"] / row["ai_kept"], 6) if known and row["ai_kept"] else None,
            "revert_rate_ai": _rate(row["ai_reverted"], row["ai_merged"]),
            "revert_rate_human": _rate(row["human_reverted"], row["human_merged"]),
            "revert_rate_bot": _rate(row["bot_reverted"], row["bot_merged"]),
        })
    return kind, out


def tally(chain: Chain, in_window: list[int]) -> tuple[dict[str, int], dict[str, int]]:
    """Agents and models used in the window: changes per name, from trailers and markers, most used first."""
    agents: dict[str, int] = {}
    models: dict[str, int] = {}
    for index in in_window:
        found = chain.info.get(index)
        if not found:
            continue
        for name in found[0]:
            agents[name] = agents.get(name, 0) + 1
        for name in found[1]:
            models[name] = models.get(name, 0) + 1
    order = lambda d: dict(sorted(d.items(), key=lambda kv: (-kv[1], kv[0])))  # noqa: E731
    return order(agents), order(models)
