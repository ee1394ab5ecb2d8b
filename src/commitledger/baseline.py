"""The repository's usual figures, against which one pull request is read.

A PR's cost means little alone; the reviewer's comment compares it with the
base branch's recent history: the median AI cost of an AI-assisted merged
change, the cost per merged change, the median AI cost per changed line and
the revert rates. These come from the same walk as ``commitledger history``
(and its cache), over the first-parent history of ``ref`` within ``days``.
"""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta, timezone
from pathlib import Path

from commitledger import models
from commitledger.history import load_history


def compute_baseline(repo_path: Path, ref: str, days: int, now: datetime | None = None) -> models.Baseline | None:
    """Figures of ``ref`` over the last ``days``; ``None`` when no change was merged in that window."""
    moment = now or datetime.now(timezone.utc)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    history = load_history(repo_path, ref, since=moment - timedelta(days=days), until=moment)
    merged = [c for c in history.result.changes if c.kind != "abandoned"]
    if not merged:
        return None
    summary = history.result.summary
    per_line = [
        c.usage.cost_usd / c.source_lines
        for c in merged
        if c.ai and c.usage is not None and c.usage.cost_usd is not None and c.source_lines
    ]
    return models.Baseline(
        days=days,
        ai_changes=summary.ai_merged,
        median_ai_cost_usd=summary.median_ai_cost_usd,
        cost_per_merged_change=summary.cost_per_merged_change,
        median_cost_per_line=round(statistics.median(per_line), 6) if per_line else None,
        revert_rate_ai=summary.revert_rate_ai,
        revert_rate_other=summary.revert_rate_other,
    )
