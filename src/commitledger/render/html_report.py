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
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from jinja2 import Environment, PackageLoader, select_autoescape

from commitledger.history.branch import History, iso
from commitledger.pr.engines.languages import BY_NAME as LANGUAGES

CHART_W = 720
CHART_H = 220
PAD_L, PAD_R, PAD_T, PAD_B = 64, 16, 16, 40


@dataclass
class Bar:
    x: float
    y: float
    w: float
    h: float
    label: str  # x-axis label (week)
    value: str  # figure shown on hover (<title>) and above the bar
    empty: bool = False  # no figure for this slot: drawn as a marker, not as zero


@dataclass
class Chart:
    bars: list[Bar] = field(default_factory=list)
    ticks: list[tuple[float, str]] = field(default_factory=list)  # (y, label)
    points: str = ""  # polyline points for line charts
    dots: list[tuple[float, float, str]] = field(default_factory=list)
    labels: list[tuple[float, str]] = field(default_factory=list)  # x-axis labels of line charts
    width: int = CHART_W
    height: int = CHART_H


def _week(ts: int) -> datetime:
    day = datetime.fromtimestamp(ts, timezone.utc).date()
    monday = day - timedelta(days=day.weekday())
    return datetime(monday.year, monday.month, monday.day, tzinfo=timezone.utc)


def _scale(maximum: float) -> tuple[float, list[float]]:
    """A round axis top (1, 2, 2.5 or 5 times a power of ten) at or above ``maximum``, and 5 ticks."""
    if maximum <= 0:
        return 1.0, [0.0, 0.25, 0.5, 0.75, 1.0]
    base = 10 ** math.floor(math.log10(maximum))
    top = next(m * base for m in (1, 2, 2.5, 5, 10) if m * base >= maximum)
    return top, [top * i / 4 for i in range(5)]


def money(value: float | None) -> str:
    if value is None:
        return "no data"
    return f"${value:,.2f}" if value >= 0.995 or value == 0 else f"${value:,.4f}"


def percent(value: float | None) -> str:
    return "no data" if value is None else f"{value:.1%}"


def weekly_cost(history: History) -> list[tuple[datetime, float | None, float, int]]:
    """Per week: cost per merged change (None when no AI-assisted change survived), AI spend, survivors."""
    weeks: dict[datetime, list[float]] = {}
    survivors: dict[datetime, int] = {}
    chain = history.chain
    for index in history.in_window:
        if not chain.ai[index]:
            continue
        week = _week(chain.time[index])
        spent = weeks.setdefault(week, [0.0])
        if chain.cost[index] == chain.cost[index]:  # NaN: unknown
            spent[0] += chain.cost[index]
        if index not in history.states:
            survivors[week] = survivors.get(week, 0) + 1
    for entry in history.abandoned:
        weeks.setdefault(_week(entry.time), [0.0])[0] += entry.cost_usd or 0.0
    if not weeks:
        return []
    first, last = min(weeks), max(weeks)
    out = []
    week = first
    while week <= last:
        spent = weeks.get(week, [0.0])[0]
        count = survivors.get(week, 0)
        out.append((week, spent / count if count else None, spent, count))
        week += timedelta(days=7)
    return out[-52:]  # a year of weeks fits the chart; older weeks are in the CSV


def bar_chart(values: list[tuple[str, float | None, str]], axis: Callable[[float], str]) -> Chart:
    chart = Chart()
    if not values:
        return chart
    top, ticks = _scale(max((v for _, v, _ in values if v is not None), default=0.0))
    inner_w = CHART_W - PAD_L - PAD_R
    inner_h = CHART_H - PAD_T - PAD_B
    slot = inner_w / len(values)
    chart.ticks = [(PAD_T + inner_h - inner_h * t / top, axis(t)) for t in ticks]
    every = max(1, len(values) // 8)
    for i, (label, value, text) in enumerate(values):
        x = PAD_L + i * slot + slot * 0.15
        w = max(slot * 0.7, 1.0)
        if value is None:
            chart.bars.append(Bar(x, PAD_T + inner_h - 2, w, 2, label if i % every == 0 else "", text, empty=True))
            continue
        h = inner_h * value / top if top else 0
        chart.bars.append(Bar(x, PAD_T + inner_h - h, w, h, label if i % every == 0 else "", text))
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
            "cost": money(cost), "tokens": f"{tokens:,}", "lines": f"{facts.lines:,}",
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


def report_context(history: History, generated_at: datetime | None = None) -> dict[str, Any]:
    s = history.summary
    weekly = weekly_cost(history)
    cost_chart = bar_chart([
        (week.strftime("%b %d"), value,
         f"week of {week.date().isoformat()}: {money(value) if value is not None else 'no AI-assisted change merged and kept'}"
         f" ({money(spent)} spent, {kept} kept)")
        for week, value, spent, kept in weekly
    ], money)
    ai_total = s["ai_merged"]
    other_total = s["merged"] - s["ai_merged"]
    rate_chart = bar_chart([
        ("AI-assisted", s["revert_rate_ai"], f"{s['ai_reverted']} of {ai_total} reverted"),
        ("other", s["revert_rate_other"], f"{s['reverted'] - s['ai_reverted']} of {other_total} reverted"),
    ], lambda t: f"{t:.1%}".replace(".0%", "%"))
    mi_chart, drops, noted = mi_trend(history)
    moment = generated_at or datetime.now(timezone.utc)
    return {
        "branch": history.branch,
        "since": "the first commit" if history.since in (None, "all") else history.since,
        "until": history.until,
        "tip": history.tip[:12],
        "generated_at": moment.replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "summary": {
            "merged": s["merged"], "ai_merged": s["ai_merged"], "reverted": s["reverted"],
            "ai_reverted": s["ai_reverted"], "cost": money(s["cost_usd"]),
            "cost_per_merged_change": money(s["cost_per_merged_change"]),
            "median_ai_cost": money(s["median_ai_cost_usd"]),
            "revert_rate_ai": percent(s["revert_rate_ai"]), "revert_rate_other": percent(s["revert_rate_other"]),
            "median_time_to_revert": "no data" if s["median_time_to_revert_hours"] is None
            else f"{s['median_time_to_revert_hours']:,.1f} h",
            "tokens_per_line": "no data" if s["tokens_per_changed_line"] is None else f"{s['tokens_per_changed_line']:,.0f}",
            "abandoned": money(s["abandoned_cost_usd"]) if s["abandoned_cost_usd"] else None,
            "abandoned_count": len(history.abandoned),
        },
        "cost_chart": cost_chart if weekly else None,
        "rate_chart": rate_chart if s["merged"] else None,
        "costliest": costliest(history),
        "mi_chart": mi_chart if noted else None,
        "mi_drops": drops,
        "mi_noted": noted,
        "chart": {"w": CHART_W, "h": CHART_H, "left": PAD_L, "right": CHART_W - PAD_R, "top": PAD_T,
                  "bottom": CHART_H - PAD_B},
    }


def render_report(history: History, generated_at: datetime | None = None) -> str:
    env = Environment(
        loader=PackageLoader("commitledger", "render/templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "j2"), default_for_string=True, default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("report.html.j2").render(**report_context(history, generated_at))
