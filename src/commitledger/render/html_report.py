"""The static HTML report: one self-contained page a lead can open or mail.

Inline SVG charts drawn here from plain numbers, no CDN, no JavaScript, so the
page works from a file, offline and in a mail client. The Jinja2 environment
autoescapes, and every string that comes from git (titles, branch names)
reaches the page only through it: a commit subject is text, never markup.

Figures are computed from the ``History`` of ``commitledger history`` (same
definitions as its summary) plus the notes CI wrote; where a figure has no
data (no notes, no AI-assisted change in a week) the page says so instead of
drawing a zero.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable

from jinja2 import Environment, PackageLoader, select_autoescape

from commitledger.history.branch import History, iso, priced_later
from commitledger.history.periods import period_start
from commitledger.render.numbers import (ai_cost_text, count as fmt_count, money as fmt_money, percent as fmt_percent,
                                         priced_later_text)
from commitledger.pr.engines.languages import BY_NAME as LANGUAGES

CHART_W = 720
CHART_H = 220
PAD_L, PAD_R, PAD_T, PAD_B = 64, 16, 16, 40


@dataclass
class Segment:
    y: float
    h: float
    colour: str


@dataclass
class Bar:
    x: float
    y: float
    w: float
    h: float
    label: str  # x-axis label (period), empty for most bars
    value: str  # figure shown on hover (<title>)
    empty: bool = False  # no figure for this slot: drawn as a marker, not as zero
    colour: str = "#2f6fde"
    segments: list[Segment] = field(default_factory=list)  # stacked parts, bottom first (empty: one part)


@dataclass
class Chart:
    bars: list[Bar] = field(default_factory=list)
    ticks: list[tuple[float, str]] = field(default_factory=list)  # (y, label)
    points: str = ""  # polyline points for line charts
    dots: list[tuple[float, float, str]] = field(default_factory=list)
    labels: list[tuple[float, str]] = field(default_factory=list)  # x-axis labels
    width: int = CHART_W
    height: int = CHART_H


AI_COLOUR, HUMAN_COLOUR, BOT_COLOUR, UNKNOWN_COLOUR, EMPTY_COLOUR = "#2f6fde", "#7a8691", "#c99a06", "#e8883a", "#d0d7de"


def _week(ts: int) -> datetime:
    day = datetime.fromtimestamp(ts, timezone.utc).date()
    monday = day - timedelta(days=day.weekday())
    return datetime(monday.year, monday.month, monday.day, tzinfo=timezone.utc)


def nice_scale(maximum: float, most: int = 5, integer: bool = False) -> tuple[float, list[float]]:
    """Round gridlines: a step of 1, 2 or 5 times a power of ten, at most ``most`` steps up to the top.

    ``integer``: counts, so no step below 1 (no "0.5 changes" gridline).
    """
    if maximum <= 0:
        return (1.0, [0.0, 1.0]) if integer else (1.0, [0.0, 0.25, 0.5, 0.75, 1.0])
    raw = maximum / most
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw - 1e-12)
    if integer:
        step = max(1.0, float(round(step)))
    top = math.ceil(maximum / step - 1e-9) * step
    count = int(round(top / step))
    return top, [round(step * i, 12) for i in range(count + 1)]


_scale = nice_scale  # the name older code used


def percent_axis(ticks: list[float]) -> Callable[[float], str]:
    """Percent labels with just the decimals the step needs: 0%, 0.2%, 0.4% or 0%, 25%, 50%."""
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    decimals = max(0, -math.floor(math.log10(step * 100) + 1e-9)) if step > 0 else 0
    return lambda t: f"{t * 100:.{decimals}f}%"


def money_axis(ticks: list[float]) -> Callable[[float], str]:
    return lambda t: "$0" if t == 0 else money(t)  # the axis origin, not a figure: "$0.00" reads as one


money = fmt_money


def percent(value: float | None) -> str:
    return "no data" if value is None else fmt_percent(value)


def period_label(start: date, kind: str, previous: date | None) -> str:
    """Month labels carry their year; week labels carry it on the first label and where the year changes."""
    if kind == "month":
        return start.strftime("%b %Y")
    if previous is None or previous.year != start.year:
        return start.strftime("%b %d %Y")
    return start.strftime("%b %d")


def weekly_cost(history: History) -> list[tuple[datetime, float | None, float, int]]:
    """Per period of the lead's view: cost per merged change, known AI spend, AI-assisted changes kept."""
    out = []
    for row in history.periods:
        start = datetime.fromisoformat(row["start"]).replace(tzinfo=timezone.utc)
        out.append((start, row["cost_per_merged_change"], row["cost_usd"] or 0.0, row["ai_merged"]))
    return out


def stacked_chart(slots: list[tuple[date, list[tuple[float, str]] | None, str]], kind: str,
                  axis: Callable[[list[float]], Callable[[float], str]], top_value: float | None = None,
                  integer: bool = False) -> Chart:
    """Bars over every period of the window (stacked parts, or a grey mark where there is no figure)."""
    chart = Chart()
    if not slots:
        return chart
    highest = top_value if top_value is not None else max(
        (sum(v for v, _ in parts) for _, parts, _ in slots if parts), default=0.0)
    top, ticks = nice_scale(highest, integer=integer)
    label_of = axis(ticks)
    inner_w = CHART_W - PAD_L - PAD_R
    inner_h = CHART_H - PAD_T - PAD_B
    slot = inner_w / len(slots)
    chart.ticks = [(PAD_T + inner_h - inner_h * t / top, label_of(t)) for t in ticks]
    every = max(1, math.ceil(len(slots) / 8))
    previous: date | None = None
    for i, (start, parts, text) in enumerate(slots):
        x = PAD_L + i * slot + slot * 0.12
        w = max(slot * 0.76, 1.0)
        label = ""
        if i % every == 0:
            label = period_label(start, kind, previous)
            previous = start
            chart.labels.append((x + w / 2, label))
        if not parts:
            chart.bars.append(Bar(x, PAD_T + inner_h - 2, w, 2, label, text, empty=True, colour=EMPTY_COLOUR))
            continue
        base = PAD_T + inner_h
        segments = []
        for value, colour in parts:
            h = inner_h * value / top if top else 0
            base -= h
            segments.append(Segment(base, h, colour))
        total = PAD_T + inner_h - base
        chart.bars.append(Bar(x, base, w, total, label, text, colour=parts[0][1], segments=segments))
    return chart


def bar_chart(values: list[tuple[str, float | None, str]], axis: Callable[[float], str] | None = None,
              colours: list[str] | None = None) -> Chart:
    """Labelled bars (revert rates): one per category, grey marks where there is no figure."""
    chart = Chart()
    if not values:
        return chart
    top, ticks = nice_scale(max((v for _, v, _ in values if v is not None), default=0.0))
    label_of = axis or percent_axis(ticks)
    inner_w = CHART_W - PAD_L - PAD_R
    inner_h = CHART_H - PAD_T - PAD_B
    slot = inner_w / len(values)
    chart.ticks = [(PAD_T + inner_h - inner_h * t / top, label_of(t)) for t in ticks]
    for i, (label, value, text) in enumerate(values):
        x = PAD_L + i * slot + slot * 0.15
        w = max(slot * 0.7, 1.0)
        colour = (colours or [AI_COLOUR])[i % len(colours or [AI_COLOUR])]
        if value is None:
            chart.bars.append(Bar(x, PAD_T + inner_h - 2, w, 2, label, text, empty=True, colour=EMPTY_COLOUR))
            continue
        h = inner_h * value / top if top else 0
        chart.bars.append(Bar(x, PAD_T + inner_h - h, w, h, label, text, colour=colour))
    return chart


def costliest(history: History, count: int = 10) -> list[dict[str, Any]]:
    """The costliest changes of the window with what became of them."""
    ranked = []
    chain = history.chain
    for index in history.in_window:
        cost = chain.cost[index]
        if cost == cost:  # NaN: unknown
            ranked.append((cost, index, chain.tokens[index]))
    ranked.sort(key=lambda item: (-item[0], item[1]))
    out = []
    for cost, index, tokens in ranked[:count]:
        facts = history.chain[index]
        state = history.states.get(index)
        note = history.notes.get(facts.sha, {}).get("change") or {}
        tests = note.get("tests") if isinstance(note.get("tests"), dict) else None
        out.append({
            "commit": facts.sha[:10], "pr": facts.pr, "title": facts.title, "merged_at": iso(facts.time)[:10],
            "cost": money(cost), "priced_later": priced_later(chain, index), "tokens": f"{tokens:,}", "lines": "—" if facts.lines is None else f"{facts.lines:,}",
            "big": facts.commits > history.big_change_commits, "commits": facts.commits,
            "who": ", ".join(facts.agents) or "AI-assisted" if facts.ai else chain.author_kind(index),
            "outcome": f"reverted {iso(state.at)[:10]}" if state else "merged",
            "reverted": state is not None,
            "tests": _tests_text(tests),
            "tests_failed": bool(tests and (_int(tests.get("failed")) or _int(tests.get("errors")))),
        })
    return out


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _tests_text(tests: dict[str, Any] | None) -> str:
    if not tests:
        return "no data"
    failed = _int(tests.get("failed")) + _int(tests.get("errors"))
    return f"{_int(tests.get('passed'))} passed" + (f", {failed} failed" if failed else "")


def language_label(name: Any) -> str:
    """A note's ``language`` as the report shows it (autoescaped by the template); notes before it was kept say —."""
    if not isinstance(name, str) or not name:
        return "—"
    return LANGUAGES[name].label if name in LANGUAGES else name


def mi_trend(history: History) -> tuple[Chart, list[dict[str, Any]], int]:
    """Mean maintainability index (after the change) of the changed files, week by week, from notes."""
    weeks: dict[datetime, list[float]] = {}
    drops: list[dict[str, Any]] = []
    noted = 0
    chain = history.chain
    noted_at = {chain.sha_at(i): i for i in history.in_window} if history.notes else {}
    for sha in sorted((s for s in history.notes if s in noted_at), key=lambda s: noted_at[s]):
        index = noted_at[sha]
        note = history.notes[sha].get("change") or {}
        files = (note.get("maintainability") or {}).get("files") if isinstance(note.get("maintainability"), dict) else None
        if not isinstance(files, list):
            continue
        values = []
        for entry in files:
            if not isinstance(entry, dict):
                continue
            after, before = entry.get("mi_after"), entry.get("mi_before")
            if isinstance(after, (int, float)) and not isinstance(after, bool):
                values.append(float(after))
                if isinstance(before, (int, float)) and not isinstance(before, bool) and after < before:
                    drops.append({"path": str(entry.get("path", "")), "language": language_label(entry.get("language")),
                                  "before": f"{before:.1f}", "after": f"{after:.1f}",
                                  "drop": before - after, "commit": sha[:10], "title": chain.title(index)})
        if values:
            noted += 1
            weeks.setdefault(_week(chain.time[index]), []).extend(values)
    chart = Chart()
    if weeks:
        ordered = sorted(weeks)
        means = [(w, statistics.fmean(weeks[w])) for w in ordered]
        inner_w = CHART_W - PAD_L - PAD_R
        inner_h = CHART_H - PAD_T - PAD_B
        chart.ticks = [(PAD_T + inner_h - inner_h * t / 100, f"{t:.0f}") for t in (0, 25, 50, 75, 100)]
        step = inner_w / max(len(means) - 1, 1)
        points = []
        for i, (week, mean) in enumerate(means):
            x = PAD_L + (i * step if len(means) > 1 else inner_w / 2)
            y = PAD_T + inner_h - inner_h * max(0.0, min(mean, 100.0)) / 100
            points.append(f"{x:.1f},{y:.1f}")
            chart.dots.append((x, y, f"week of {week.date().isoformat()}: MI {mean:.1f}"))
        chart.points = " ".join(points)
        every = max(1, len(means) // 8)
        chart.labels = [(dot[0], means[i][0].strftime("%b %d")) for i, dot in enumerate(chart.dots) if i % every == 0]
    drops.sort(key=lambda d: -d["drop"])
    return chart, drops[:10], noted


def _period_name(kind: str, start: date) -> str:
    return f"{'month' if kind == 'month' else 'week'} of {start.isoformat()}"


def priced_later_by_period(history: History) -> dict[str, int]:
    """Period start (ISO date, as ``history.periods``) -> AI-assisted changes priced later in it.

    Nothing is read when the summary counted none (the usual case).
    """
    if not history.summary.get("priced_later"):
        return {}
    out: dict[str, int] = {}
    chain = history.chain
    for index in history.in_window:
        if chain.ai[index] and priced_later(chain, index):
            start = period_start(chain.time[index], history.period).isoformat()
            out[start] = out.get(start, 0) + 1
    return out


def lead_charts(history: History, later: dict[str, int] | None = None) -> dict[str, Chart | None]:
    """The lead's view over the whole window: merged changes by author kind, AI spend, cost per merged change."""
    kind = history.period
    rows = [(date.fromisoformat(r["start"]), r) for r in history.periods]
    if not rows:
        return {"merged_chart": None, "spend_chart": None, "cost_chart": None}
    merged = stacked_chart([
        (start, [(r["ai_merged"], AI_COLOUR), (r["human_merged"], HUMAN_COLOUR), (r["bot_merged"], BOT_COLOUR)]
         if r["merged"] else None,
         f"{_period_name(kind, start)}: {r['merged']:,} merged, {r['ai_merged']:,} AI-assisted"
         f" ({fmt_percent(r['ai_share']) if r['ai_share'] is not None else 'no changes'}), {r['human_merged']:,} human,"
         f" {r['bot_merged']:,} bot")
        for start, r in rows], kind, lambda ticks: (lambda t: f"{t:,.0f}"), integer=True)
    spend_slots = []
    for start, r in rows:
        text = (f"{_period_name(kind, start)}: "
                f"{ai_cost_text(r['cost_usd'], r['ai_merged'], r['ai_cost_unknown'], (later or {}).get(r['start'], 0))}")
        if r["cost_usd"] is not None:
            spend_slots.append((start, [(r["cost_usd"], AI_COLOUR)], text))
        else:
            spend_slots.append((start, None, text if r["ai_merged"] else f"{_period_name(kind, start)}: no AI-assisted change"))
    spend = stacked_chart(spend_slots, kind, money_axis)
    for bar, (start, r) in zip(spend.bars, rows):
        if bar.empty and r["ai_cost_unknown"]:
            bar.colour = UNKNOWN_COLOUR  # AI-assisted changes whose cost nobody knows: marked, never drawn as $0
            bar.h, bar.y = 6, bar.y - 4
    cost = stacked_chart([
        (start, [(r["cost_per_merged_change"], AI_COLOUR)] if r["cost_per_merged_change"] is not None else None,
         f"{_period_name(kind, start)}: "
         + (f"{money(r['cost_per_merged_change'])} per merged change ({money(r['cost_usd'])} known spend, "
            f"{r['ai_merged']:,} AI-assisted merged"
            + (f", usage unknown for {r['ai_cost_unknown']:,}" if r["ai_cost_unknown"] else "") + ")"
            if r["cost_per_merged_change"] is not None else
            ("cost unknown" + (f" for {r['ai_cost_unknown']:,} AI-assisted changes" if r["ai_cost_unknown"] else "")
             if r["ai_merged"] else "no AI-assisted change merged and kept")))
        for start, r in rows], kind, money_axis)
    return {"merged_chart": merged, "spend_chart": spend, "cost_chart": cost}


def report_context(history: History, generated_at: datetime | None = None) -> dict[str, Any]:
    s = history.summary
    later = priced_later_by_period(history)
    charts = lead_charts(history, later)
    rate_chart = bar_chart([
        ("AI-assisted", s["revert_rate_ai"], f"{s['ai_reverted']:,} of {s['ai_merged']:,} reverted"),
        ("human", s["revert_rate_human"], f"{s['human_reverted']:,} of {s['human_merged']:,} reverted"),
        ("bot", s["revert_rate_bot"], f"{s['bot_reverted']:,} of {s['bot_merged']:,} reverted"),
    ], colours=["#c4314b", HUMAN_COLOUR, BOT_COLOUR])
    mi_chart, drops, noted = mi_trend(history)
    moment = generated_at or datetime.now(timezone.utc)
    big = [{"commit": history.chain.sha_at(i)[:10], "title": history.chain.title(i),
            "merged_at": iso(history.chain.time[i])[:10], "commits": f"{history.chain.commits[i]:,}",
            "reverted": i in history.states}
           for i in history.in_window if history.chain.commits[i] > history.big_change_commits]
    dash = "–"
    period_rows = [{
        "start": r["start"][:7] if history.period == "month" else r["start"], "merged": f"{r['merged']:,}",
        "kinds": f"{r['ai_merged']:,} / {r['human_merged']:,} / {r['bot_merged']:,}",
        "ai_share": fmt_percent(r["ai_share"], dash),
        "cost": money(r["cost_usd"], "unknown" if r["ai_cost_unknown"] else dash),
        "unknown": f"{r['ai_cost_unknown']:,}" if r["ai_cost_unknown"] else "",
        "priced_later": f"{later[r['start']]:,} priced later" if later.get(r["start"]) else "",
        "per_change": money(r["cost_per_merged_change"], dash),
        "reverts": " / ".join(fmt_percent(r[k], dash) for k in ("revert_rate_ai", "revert_rate_human", "revert_rate_bot")),
    } for r in reversed(history.periods)]  # newest first, as the other tables
    return {
        "period_rows": period_rows,
        "branch": history.branch,
        "since": "the first commit" if history.since in (None, "all") else history.since,
        "until": history.until,
        "tip": history.tip[:12],
        "generated_at": moment.replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "period": history.period,
        "first_period": history.periods[0]["start"] if history.periods else None,
        "last_period": history.periods[-1]["start"] if history.periods else None,
        "summary": {
            "merged": f"{s['merged']:,}", "ai_merged": f"{s['ai_merged']:,}", "human_merged": f"{s['human_merged']:,}",
            "bot_merged": f"{s['bot_merged']:,}", "reverted": s["reverted"],
            "ai_reverted": s["ai_reverted"], "cost": money(s["cost_usd"]),
            "cost_detail": ai_cost_text(s["cost_usd"], s["ai_merged"], s["ai_cost_unknown"], s["priced_later"]),
            "priced_later": priced_later_text(s["priced_later"], "AI-assisted change"),
            "ai_cost_unknown": s["ai_cost_unknown"],
            "cost_per_merged_change": money(s["cost_per_merged_change"], unknown="no data"),
            "median_ai_cost": money(s["median_ai_cost_usd"], unknown="no data"),
            "revert_rate_ai": percent(s["revert_rate_ai"]), "revert_rate_other": percent(s["revert_rate_other"]),
            "revert_rate_human": percent(s["revert_rate_human"]), "revert_rate_bot": percent(s["revert_rate_bot"]),
            "median_time_to_revert": "no data" if s["median_time_to_revert_hours"] is None
            else f"{s['median_time_to_revert_hours']:,.1f} h",
            "tokens_per_line": "no data" if s["tokens_per_changed_line"] is None else f"{s['tokens_per_changed_line']:,.0f}",
            "abandoned": money(s["abandoned_cost_usd"]) if s["abandoned_cost_usd"] else None,
            "abandoned_count": len(history.abandoned),
            "last_change_at": (s["last_change_at"] or "")[:10],
        },
        "agents": list(s["agents"].items()),
        "models": list(s["models"].items()),
        "big": big,
        "big_change_commits": f"{history.big_change_commits:,}",
        **charts,
        "rate_chart": rate_chart if s["merged"] else None,
        "costliest": costliest(history),
        "mi_chart": mi_chart if noted else None,
        "mi_drops": drops,
        "mi_noted": noted,
        "priced_later_note": _priced_later_note(s["priced_later"]),
        "colours": {"ai": AI_COLOUR, "human": HUMAN_COLOUR, "bot": BOT_COLOUR, "unknown": UNKNOWN_COLOUR},
        "chart": {"w": CHART_W, "h": CHART_H, "left": PAD_L, "right": CHART_W - PAD_R, "top": PAD_T,
                  "bottom": CHART_H - PAD_B},
    }


def _priced_later_note(later: int) -> str:
    """What "priced later" means and that those changes are in every figure; empty when there are none."""
    if not later:
        return ""
    return (f"Priced later: {fmt_count(later, 'AI-assisted change')} {'has' if later == 1 else 'have'} AI-Usage lines "
            "with tokens but no cost_usd when committed (no price was known then), priced from their tokens with "
            "the current prices and included in every figure, never as $0.")


def render_report(history: History, generated_at: datetime | None = None) -> str:
    env = Environment(
        loader=PackageLoader("commitledger", "render/templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "j2"), default_for_string=True, default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("report.html.j2").render(**report_context(history, generated_at))
