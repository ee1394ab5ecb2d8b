"""``commitledger backfill``: the post-merge usage notes for pull requests merged before the Action ran.

For each pull request merged into the default branch within the window,
the same decision the Action makes after a merge (``github.postmerge``):
fetch ``refs/pull/N/head`` from the git remote, compare the PR's AI-Usage
lines with those that landed, add the discarded work its comment's marker
recorded, and write the ``usage`` note where the merge dropped lines or
work was discarded. Then push the notes, merging the remote's first.

Idempotent: a note that already says the same is not rewritten, so a second
run writes and pushes nothing. GitHub's rate limits are waited out by the
client's ``RetryPolicy``; one PR that cannot be read is reported and
skipped, never fatal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from commitledger.errors import CommitledgerError
from commitledger.git.run import GitError, commit_exists, is_ancestor
from commitledger.git.run import run as run_git

_REMOTE_URL = re.compile(
    r"^(?:https?://(?:[^@/]+@)?[^/]+/|ssh://(?:[^@/]+@)?[^/]+/|[^@/:]+@[^:/]+:)"
    r"(?P<repo>[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+?)(?:\.git)?/?$"
)


def repo_from_remote(url: str) -> str | None:
    """``owner/name`` of a GitHub-style remote URL (https, ssh, scp-like), or None."""
    match = _REMOTE_URL.match(url.strip())
    return match.group("repo") if match else None


def remote_url(repo: Path, remote: str) -> str | None:
    proc = run_git(repo, "remote", "get-url", remote, ok=(0, 2, 128))
    return proc.stdout.strip() or None if proc.returncode == 0 else None


@dataclass
class Report:
    """What backfill found, PR by PR, for the one-screen summary it prints."""

    listed: int = 0
    written: list[tuple[int, str, float | None]] = field(default_factory=list)  # (PR, commit, cost the note adds)
    already: list[int] = field(default_factory=list)
    kept: list[int] = field(default_factory=list)
    no_head: list[int] = field(default_factory=list)
    not_here: list[int] = field(default_factory=list)  # merged commit not on this clone's branch
    failed: list[tuple[int, str]] = field(default_factory=list)
    pushed: bool | None = None  # None: not asked to push, or nothing to push
    notes_remote: str = ""

    def lines(self) -> list[str]:
        out = [f"merged pull requests in the window: {self.listed}"]
        if self.written:
            cost = sum(c for _, _, c in self.written if c is not None)
            out.append(f"notes written: {len(self.written)} (${cost:,.2f} recovered, discarded work included)")
            out += [f"  #{n} on {sha[:12]}" + (f": ${c:,.2f}" if c is not None else "") for n, sha, c in self.written]
        out.append(f"already recorded: {len(self.already)}")
        out.append(f"every AI-Usage line kept by the merge (nothing to add): {len(self.kept)}")
        if self.no_head:
            out.append(f"no refs/pull/N/head on the remote: {', '.join(f'#{n}' for n in self.no_head)}")
        if self.not_here:
            out.append(f"merged commit not on this clone's branch (fetch it?): "
                       f"{', '.join(f'#{n}' for n in self.not_here)}")
        for number, problem in self.failed:
            out.append(f"#{number} skipped: {problem}")
        if self.pushed is True:
            out.append("notes pushed")
        elif self.pushed is False:
            out.append("notes NOT pushed (see above); push them with: git push origin refs/notes/commitledger")
        return out


def run_backfill(repo_path: Path, client: Any, repo: str, *, since: str | None, remote: str, push: bool,
                 bot_login: str | None = None, branch: str | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 log: Callable[[str], None] = lambda _line: None) -> Report:
    """Find, decide, write, push; ``since`` is an ISO time (``YYYY-MM-DDTHH:MM:SSZ``) or None for all."""
    from commitledger.git import notes
    from commitledger.github import postmerge
    from commitledger.github.client import GitHubError

    report = Report()
    settings = None
    try:
        settings = client.merge_settings(repo)
    except GitHubError as exc:
        log(f"commitledger: could not read the repository's settings ({exc})")
    default = branch or (settings.default_branch if settings is not None and settings.default_branch else "main")
    tip = run_git(repo_path, "rev-parse", "--verify", "--quiet", f"refs/remotes/{remote}/{default}^{{commit}}",
                  ok=(0, 1)).stdout.strip() or run_git(
        repo_path, "rev-parse", "--verify", "--quiet", f"refs/heads/{default}^{{commit}}", ok=(0, 1)).stdout.strip()
    if not tip:
        raise CommitledgerError(f"no branch {default} here (nor {remote}/{default}): fetch it first")
    try:
        report.notes_remote = notes.sync_notes(repo_path, remote)
    except GitError as exc:
        raise CommitledgerError(f"cannot fetch the notes from {remote}: {exc.detail or exc}") from None

    pulls = client.merged_pulls(repo, default, since)
    report.listed = len(pulls)
    candidates = []
    for pull in pulls:
        sha = pull.merge_commit_sha
        if not sha or not commit_exists(repo_path, sha) or not is_ancestor(repo_path, sha, tip):
            report.not_here.append(pull.number)
        else:
            candidates.append(pull)
    candidates.sort(key=lambda p: (p.merged_at or "", p.number))  # oldest first: stacked PRs see the lower one's note
    heads = postmerge.fetch_pr_heads(repo_path, remote, [p.number for p in candidates], log)
    known = notes.load_notes(repo_path)
    recorded_at = notes.now_iso()
    for done, pull in enumerate(candidates, 1):
        if progress is not None:
            progress(done, len(candidates))
        head = heads.get(pull.number)
        if head is None:
            report.no_head.append(pull.number)
            continue

        def discarded(work: Any, number: int = pull.number) -> dict[str, Any]:
            return postmerge.marker_discarded(client, repo, number, work.keys, bot_login)

        merged = str(pull.merge_commit_sha)
        claimed = postmerge.claimed_keys(known, merged)
        try:
            _, decision = postmerge.recover(
                repo_path, lambda parent, n=pull.number, h=head, c=claimed: postmerge.read_pr_work(
                    repo_path, n, parent, h, c), merged, discarded, recorded_at)
        except (GitHubError, CommitledgerError) as exc:
            report.failed.append((pull.number, str(exc)))
            continue
        if decision.entry is not None:
            known[decision.commit] = {"usage": decision.entry}
        if decision.entry is None:
            report.kept.append(pull.number)
        elif notes.record_usage(repo_path, decision.commit, decision.entry):
            report.written.append((pull.number, decision.commit, decision.cost_usd))
        else:
            report.already.append(pull.number)
    if push and report.written:
        report.pushed = notes.push_notes(repo_path, remote, log)
    return report

