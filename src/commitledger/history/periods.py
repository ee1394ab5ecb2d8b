"""The lead's view: merged changes, AI share, AI cost and revert rates period by period.

Weeks (starting Monday, UTC) for a window up to a year, calendar months
beyond, and every period of the window is present, empty ones included, so a
chart of them shows the whole window and a gap is visible as a gap. Pure
functions over the walked chain; unknown cost stays unknown (counted, never 0).
"""

from __future__ import annotations

from collections import Counter
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
    # Per period, as a list (the loop below runs once per change): merged, ai/human/bot merged,
    # ai/human/bot reverted, known cost, known-cost count, unknown-cost count, AI changes kept.
    buckets: dict[date, list[Any]] = {}
    start = period_start(first, kind)
    end = period_start(last, kind)
    while start <= end:
        buckets[start] = [0, 0, 0, 0, 0, 0, 0, 0.0, 0, 0, 0]
        start = next_period(start, kind)
    by_day: dict[int, list[Any] | None] = {}  # one date conversion per day, not per change
    flags, bots, costs, times = chain.ai, chain.bot, chain.cost, chain.time
    for index in in_window:
        stamp = times[index]
        day = stamp // 86400
        row = by_day.get(day, False)
        if row is False:
            row = by_day[day] = buckets.get(period_start(stamp, kind))
        if row is None:
            continue
        row[0] += 1
        gone = index in reverted
        if flags[index]:
            row[1] += 1
            if gone:
                row[4] += 1
            else:
                row[10] += 1
            cost = costs[index]
            if cost == cost:  # NaN: unknown
                row[7] += cost
                row[8] += 1
            else:
                row[9] += 1
        elif bots[index]:
            row[3] += 1
            if gone:
                row[6] += 1
        else:
            row[2] += 1
            if gone:
                row[5] += 1
    out = []
    for start, row in buckets.items():
        merged, ai, human, bot, ai_gone, human_gone, bot_gone, spent, known, unknown, kept = row
        out.append({
            "start": start.isoformat(), "merged": merged, "ai_merged": ai,
            "human_merged": human, "bot_merged": bot,
            "ai_share": round(ai / merged, 6) if merged else None,
            "cost_usd": round(spent, 6) if known else None,
            "ai_cost_known": known, "ai_cost_unknown": unknown,
            # As the summary's: known AI spend over the AI-assisted changes kept (None when no cost is known).
            "cost_per_merged_change": round(spent / kept, 6) if known and kept else None,
            "revert_rate_ai": _rate(ai_gone, ai),
            "revert_rate_human": _rate(human_gone, human),
            "revert_rate_bot": _rate(bot_gone, bot),
        })
    return kind, out


def tally(chain: Chain, in_window: list[int]) -> tuple[dict[str, int], dict[str, int]]:
    """Agents and models used in the window: changes per name, from trailers and markers, most used first.

    Rows of one combination share one tuple (``history.cache``): the rows are counted per combination
    in C (by identity: hashing 76k nested tuples cost more), then each combination's names once.
    """
    info = chain.info
    found = Counter(map(id, map(info.get, in_window)))
    combos = dict(zip(map(id, info.values()), info.values()))
    agents: Counter[str] = Counter()
    models: Counter[str] = Counter()
    for key, count in found.items():
        combo = combos.get(key)
        if combo is None:  # rows without markers (``info.get`` gave None)
            continue
        for name in combo[0]:
            agents[name] += count
        for name in combo[1]:
            models[name] += count
    order = lambda d: dict(sorted(d.items(), key=lambda kv: (-kv[1], kv[0])))  # noqa: E731
    return order(agents), order(models)
