"""The ledger as recorded in git: AI-Usage lines and AI markers of commits, for ``show``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from commitledger.errors import CommitledgerError
from commitledger.git.run import GitError
from commitledger.git.run import run as run_git
from commitledger.ledger.trailers import Marker, UsageLine, marker_details, parse_usage_lines
from commitledger.ledger.usage import Usage, sum_usage

_FIELD = "\x1f"
_RECORD = "\x1e"


@dataclass(slots=True)
class LedgerEntry:
    sha: str
    subject: str
    author: str
    lines: list[UsageLine] = field(default_factory=list)
    markers: list[str] = field(default_factory=list)
    details: list[Marker] = field(default_factory=list)  # each marker with the agent and model it states

    def total(self) -> Usage:
        total = sum_usage([line.usage for line in self.lines])
        if any(line.usage.cost_usd is None and line.usage.has_tokens() for line in self.lines):
            total.cost_usd = None
        return total

    def as_dict(self) -> dict[str, Any]:
        return {
            "commit": self.sha,
            "subject": self.subject,
            "usage": [{"agent": line.agent, "model": line.model, **line.usage.as_dict()} for line in self.lines],
            "total": self.total().as_dict() if self.lines else None,
            "markers": self.markers,
            "agents": list(dict.fromkeys(m.agent for m in self.details if m.agent)),
            "models": list(dict.fromkeys(m.model for m in self.details if m.model)),
            "evidence": [{"marker": m.evidence, "agent": m.agent, "model": m.model, "tools": list(m.tools)}
                         for m in self.details if m.evidence != "ai-usage"],
        }


def ledger(worktree: Path, rev: str | None, max_count: int = 20) -> list[LedgerEntry]:
    """Commits of ``rev`` (one commit), a range (every commit in it) or HEAD's latest ``max_count``."""
    args = ["log", f"--format=%H{_FIELD}%an{_FIELD}%ae{_FIELD}%s{_FIELD}%B{_RECORD}"]
    if rev is None:
        args += [f"--max-count={max_count}", "HEAD"]
    elif ".." in rev:
        args += [rev]
    else:
        args += ["-1", rev]
    try:
        proc = run_git(worktree, *args, "--", fixed=True)
    except GitError as exc:
        if rev is None and "does not have any commits" in exc.detail:
            return []
        raise CommitledgerError(f"cannot read commits {rev or 'HEAD'!r}: {exc.detail or exc}") from None
    out: list[LedgerEntry] = []
    for record in proc.stdout.split(_RECORD):
        record = record.lstrip("\n")
        if not record:
            continue
        sha, author, email, subject, body = (record.split(_FIELD, 4) + ["", "", "", ""])[:5]
        details = [m for m in marker_details(body, author, email) if m.evidence != "ai-usage"]
        markers = list(dict.fromkeys(m.evidence for m in details))
        out.append(LedgerEntry(sha, subject, author, parse_usage_lines(body), markers, details))
    return out
