"""AI usage of a change: the ``AI-Usage`` lines of its commits, per commit and per (agent, model).

A commit with other evidence of AI assistance (``Co-Authored-By: Claude``,
a git-ai note, ...) but no ``AI-Usage`` line counts as AI-assisted with
*unknown* usage: it raises ``ai_commits`` and adds nothing to the sums, so
a total never pretends to be complete when it is not.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from commitledger.git.repo import CommitInfo
from commitledger.ledger.pricing import price_lines_later
from commitledger.ledger.trailers import UsageLine, ai_markers, parse_usage_lines
from commitledger.ledger.usage import Usage, sum_usage

GIT_AI_NOTE = "git-ai-note"


@dataclass(frozen=True, slots=True)
class CommitUsage:
    """One commit of the change with the AI evidence found in it."""

    info: CommitInfo
    lines: tuple[UsageLine, ...]
    markers: tuple[str, ...]

    @property
    def ai(self) -> bool:
        return bool(self.lines or self.markers)

    @property
    def usage(self) -> Usage | None:
        """Summed usage of the commit's lines; ``None`` when it recorded none."""
        return sum_usage([line.usage for line in self.lines]) if self.lines else None

    @property
    def agents(self) -> list[str]:
        names = [line.agent for line in self.lines]
        return list(dict.fromkeys(names))

    @property
    def key(self) -> str | None:
        """Identity of the *work*, not of the commit object (see ``commit_key``)."""
        return commit_key(self.info.author_time, self.info.author_offset, self.lines) if self.lines else None


def commit_key(author_time: int, author_offset: int, lines: tuple[UsageLine, ...] | list[UsageLine]) -> str:
    """A rebase or cherry-pick keeps author date and message, so the same work keeps its key.

    48 bits of SHA-256 are plenty to tell apart the few hundred commits of
    one pull request, and keep the comment's marker compact.
    """
    text = f"{author_time} {author_offset}\n" + "\n".join(line.format() for line in lines)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def read_commits(commits: list[CommitInfo], noted: frozenset[str]) -> list[CommitUsage]:
    """Parse every commit's message once; ``noted`` are shas with a git-ai note."""
    out: list[CommitUsage] = []
    for info in commits:
        lines = tuple(parse_usage_lines(info.message))
        if lines:
            # Lines with tokens but no cost_usd were unpriced when committed: priced now ("priced later").
            price_lines_later(lines, when=float(info.author_time))
        markers = [m for m in ai_markers(info.message, info.author_name) if m != "ai-usage"]
        if info.sha in noted:
            markers.append(GIT_AI_NOTE)
        out.append(CommitUsage(info, lines, tuple(markers)))
    return out


def total_usage(commits: list[CommitUsage]) -> Usage:
    """Sum over the change.

    A change with no AI-assisted commit used nothing (zeros); one whose AI
    commits recorded no figures stays unknown (``None``), not zero.
    """
    if not any(c.ai for c in commits):
        return Usage.zero()
    return sum_usage([line.usage for c in commits for line in c.lines])


def usage_by_model(commits: list[CommitUsage]) -> list[tuple[str, str, Usage]]:
    """(agent, model, usage) in first-seen order, summed over the change."""
    sums: dict[tuple[str, str], Usage] = {}
    for commit in commits:
        for line in commit.lines:
            key = (line.agent, line.model)
            sums[key] = sums[key] + line.usage if key in sums else line.usage + Usage()
    return [(agent, model, usage) for (agent, model), usage in sums.items()]
