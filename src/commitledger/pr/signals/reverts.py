"""Reverts this change makes, and the AI cost of the work they undo.

A revert's cost is the price of work thrown away, which belongs in a cost
per *merged* change; so each ``This reverts commit <sha>`` (full or
abbreviated, and the merge variant "..., reversing changes made to ...")
is resolved and the reverted work's ``AI-Usage`` is summed. Reverting a
merge commit undoes the whole branch it merged: the commits it brought in
are summed too. A sha the repository does not know gives an unknown cost.
"""

from __future__ import annotations

from collections.abc import Callable

from commitledger.ledger.commitmsg import reverted_shas
from commitledger.git.repo import CommitInfo
from commitledger.ledger.models import Revert
from commitledger.ledger.pricing import price_lines_later
from commitledger.ledger.trailers import ai_markers, parse_usage_lines
from commitledger.ledger.usage import sum_usage

# (abbreviated sha) -> the reverted commit, followed by the commits it merged in (empty if unknown)
WorkLookup = Callable[[str], list[CommitInfo]]


def undone_cost(work: list[CommitInfo]) -> float | None:
    """AI cost of reverted work: ``None`` when unknown (unresolvable, or AI-assisted without figures)."""
    if not work:
        return None
    lines = []
    for info in work:  # priced later at each commit's author time, as pr/signals/usage.py and history do
        found = parse_usage_lines(info.message)
        price_lines_later(found, when=float(info.author_time))
        lines.extend(found)
    if not lines:
        assisted = any(ai_markers(info.message, info.author_name) for info in work)
        return None if assisted else 0.0
    cost = sum_usage([line.usage for line in lines]).cost_usd
    return None if cost is None else round(cost, 6)


def find_reverts(commits: list[CommitInfo], lookup: WorkLookup) -> list[Revert]:
    """One entry per (reverting commit, reverted sha) in the change."""
    out: list[Revert] = []
    for info in commits:
        for sha in reverted_shas(info.message):
            work = lookup(sha)
            out.append(
                Revert(
                    commit=info.sha,
                    reverts=work[0].sha if work else sha,
                    ai_cost_usd=undone_cost(work),
                )
            )
    return out
