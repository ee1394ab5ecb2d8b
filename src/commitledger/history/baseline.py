"""The repository's usual figures, against which one pull request is read.

A PR's cost means little alone; the reviewer's comment compares it with the
base branch's recent history: the median AI cost of an AI-assisted merged
change, the cost per merged change, the median AI cost per changed line and
the revert rates. These come from the same walk as ``commitledger history``
(and its cache), over the first-parent history of ``ref`` within ``days``,
with the repository's own ``test_patterns``, so "changed lines" mean the
same non-test source lines the ``pr`` step divides by. The walk counts lines
of AI-assisted changes only, which are the only ones the cost per line
reads.
"""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta, timezone
from pathlib import Path

from commitledger.ledger import models
from commitledger.config import load_config
from commitledger.history.branch import load_history
from commitledger.git.paths import find_repo


def compute_baseline(repo_path: Path, ref: str, days: int, now: datetime | None = None) -> models.Baseline | None:
    """Figures of ``ref`` over the last ``days``; ``None`` when no change was merged in that window."""
    moment = now or datetime.now(timezone.utc)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    config = load_config(find_repo(repo_path).worktree)
    history = load_history(repo_path, ref, since=moment - timedelta(days=days), until=moment,
                           test_patterns=tuple(config.test_patterns), bots=tuple(config.bots),
                           big_change_commits=config.big_change_commits)
    if not history.in_window:
        return None
    summary = history.summary
    per_line = []
    chain = history.chain
    for index in history.in_window:
        cost, lines = chain.cost[index], chain.source[index]
        if chain.ai[index] and cost == cost and lines > 0:  # NaN: cost unknown; -1: lines not counted
            per_line.append(cost / lines)
    return models.Baseline(
        days=days,
        ai_changes=summary["ai_merged"],
        median_ai_cost_usd=summary["median_ai_cost_usd"],
        cost_per_merged_change=summary["cost_per_merged_change"],
        median_cost_per_line=round(statistics.median(per_line), 6) if per_line else None,
        revert_rate_ai=summary["revert_rate_ai"],
        revert_rate_other=summary["revert_rate_other"],
        revert_rate_bot=summary["revert_rate_bot"],
        bot_changes=summary["bot_merged"],
        priced_later=summary["priced_later"],
    )
