"""The static HTML org report of ``commitledger rollup``: the views of the org database on one page.

Same rules as ``html_report`` (whose chart helpers and number formats it
uses): no CDN, no JavaScript, and every string from a repository (its name,
an error) reaches the page only through Jinja2's autoescaping. A figure with
no data says so instead of showing zero.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from commitledger.render.html_report import CHART_H, CHART_W, PAD_B, PAD_L, PAD_R, PAD_T, bar_chart, money, percent


def _rows(db: Any, sql: str) -> list[dict[str, Any]]:
    cursor = db.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _figures(row: dict[str, Any]) -> dict[str, Any]:
    """Formatted figures of one row of an org view."""
    out = dict(row)
    for key in ("ai_cost_usd", "cost_per_merged_change"):
        if key in row:
            out[key] = money(row[key])
    for key in ("ai_share", "revert_rate_ai", "revert_rate_human", "revert_rate_bot"):
        if key in row:
            out[key] = percent(row[key])
    return out


def org_context(db: Any, generated_at: datetime | None = None) -> dict[str, Any]:
    total = _rows(db, "SELECT * FROM org_total")[0]
    months = _rows(db, "SELECT * FROM org_by_month ORDER BY month")
    chart_months = months[-24:]
    chart = bar_chart([
        (m["month"].strftime("%b %y"), m["cost_per_merged_change"],
         f"{m['month'].strftime('%B %Y')}: " + (money(m["cost_per_merged_change"])
                                               if m["cost_per_merged_change"] is not None
                                               else "no AI-assisted change merged and kept"))
        for m in chart_months
    ], money)
    moment = generated_at or datetime.now(timezone.utc)
    return {
        "generated_at": moment.replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "total": _figures(total),
        "repos": [_figures(r) for r in _rows(db, "SELECT * FROM org_by_repo ORDER BY merged DESC, repo")],
        "months": [dict(_figures(m), month=m["month"].strftime("%Y-%m")) for m in reversed(months)],
        "agents": [_figures(a) for a in _rows(db, "SELECT * FROM org_by_agent_model ORDER BY ai_merged DESC, agent, model")],
        "failed": _rows(db, "SELECT repo, error FROM repos WHERE error IS NOT NULL ORDER BY repo"),
        "read": _rows(db, "SELECT repo, branch, since, merged, seconds FROM repos WHERE error IS NULL ORDER BY repo"),
        "cost_chart": chart if any(m["cost_per_merged_change"] is not None for m in chart_months) else None,
        "chart": {"w": CHART_W, "h": CHART_H, "left": PAD_L, "right": CHART_W - PAD_R, "top": PAD_T,
                  "bottom": CHART_H - PAD_B},
    }


def render_org_report(db: Any, generated_at: datetime | None = None) -> str:
    env = Environment(
        loader=PackageLoader("commitledger", "render/templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "j2"), default_for_string=True, default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("org.html.j2").render(**org_context(db, generated_at))
