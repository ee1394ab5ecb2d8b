"""After the merge: recover a pull request's AI usage from its own commits when the merge dropped it.

The ledger lives in commit messages, and a merge can throw them away: a
squash under "Pull request title" or "Pull request title and description",
a message edited by whoever merged, GitLab's title-only squash. GitHub keeps
``refs/pull/N/head`` after the merge, so the PR's commits (reachable from
that head and not from the merge's first parent) still carry every
``AI-Usage`` line. This module compares them with the lines that landed on
the branch and, where they disagree or the PR discarded work, builds the
``usage`` note (``source: "pr-head"``) for the merged commit.

Counting once, whatever the merge method:

- a merge commit brings the PR's commits in: every line lands, nothing is
  written (unless work was discarded);
- a squash keeps the lines (default settings, ``git merge --squash``'s
  indented form) or drops them: the lines are compared as a multiset of
  canonical ``AI-Usage`` lines, so the note appears only when some are gone;
- a rebase-merge lands one commit per PR commit: the group is the run of
  first-parent commits with a PR commit's author date and message, the note
  (if any) goes on its last commit and covers only the lines the group's
  other commits do not carry;
- a merge queue lands the same shapes, one PR after another: each merged
  commit maps to its own PR.

Readers (``history.usage_notes``) take the note's usage only for a change
whose message has fewer lines than the note, and always add its discarded
work, which no message carries.

Pure computation here; git and GitHub are reached through the functions at
the bottom, which the Action and ``backfill`` call.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from commitledger.git.run import GitError, output
from commitledger.git.run import run as run_git
from commitledger.ledger.trailers import parse_usage_lines
from commitledger.ledger.usage import Usage, sum_usage

PR_REF = "refs/commitledger/pr-{}"  # where a fetched refs/pull/N/head is kept locally


@dataclass
class PrWork:
    """What a pull request's own commits recorded: their AI-Usage lines, keys and identities."""

    number: int
    head: str
    commits: int = 0
    lines: Counter[str] = field(default_factory=Counter)  # canonical line -> how many commits carry it
    line_usage: dict[str, Usage] = field(default_factory=dict)  # canonical line -> the usage of one
    keys: set[str] = field(default_factory=set)  # commit keys (render.marker's digest keys)
    identities: set[tuple[int, int, str]] = field(default_factory=set)  # (author time, offset, message)
    counted: list[str] = field(default_factory=list)  # keys of the commits whose lines ``lines`` holds
    claimed: int = 0  # commits left out: another PR's usage note already counts them (stacked PRs)


def canonical_lines(message: str) -> list[tuple[str, Usage]]:
    """A message's AI-Usage lines in canonical form: indentation or spacing never makes two lines differ."""
    return [(line.format(), line.usage) for line in parse_usage_lines(message)]


def read_pr_work(repo_path: Path, number: int, first_parent: str | None, head: str,
                 claimed: frozenset[str] = frozenset()) -> PrWork:
    """The PR's commits: reachable from ``head`` and not from the merge's first parent.

    Commits whose key is in ``claimed`` are another merged PR's, already in
    that PR's usage note: a PR stacked on another one that was squashed
    still carries the lower PR's original commits, which must not count twice.
    """
    from commitledger.git import repo as gitrepo
    from commitledger.pr.signals.usage import read_commits

    repo = gitrepo.open_repo(repo_path)
    gitrepo.ensure_full_history(repo)
    head_commit = gitrepo.resolve_commit(repo, head)
    if first_parent:
        infos = gitrepo.change_commits(repo, gitrepo.resolve_commit(repo, first_parent), head_commit)
    else:  # the merged commit is a root: every commit of the head is the PR's
        infos = [gitrepo.commit_info(c) for c in repo.walk(head_commit.id, pygit2_commit_sort())]
    work = PrWork(number=number, head=str(head_commit.id), commits=len(infos))
    for commit in read_commits(infos, frozenset()):
        work.identities.add((commit.info.author_time, commit.info.author_offset, commit.info.message))
        if commit.key:
            work.keys.add(commit.key)
            if commit.key in claimed:
                work.claimed += 1
                continue
            work.counted.append(commit.key)
        for line in commit.lines:
            text = line.format()
            work.lines[text] += 1
            work.line_usage.setdefault(text, line.usage)
    return work


def usage_of(lines: Counter[str], line_usage: dict[str, Usage]) -> Usage:
    return sum_usage([line_usage[text] for text, count in lines.items() for _ in range(count)])


@dataclass(frozen=True, slots=True)
class Decision:
    """What to write on the merged commit, and why (for the summary and ``backfill``'s report)."""

    commit: str
    entry: dict[str, Any] | None  # the note's ``usage`` part; None: nothing to write
    reason: str  # "kept" (every line landed), "dropped" (some lines are gone), "discarded" (only discarded work)
    missing_lines: int = 0
    cost_usd: float | None = None  # what the note adds up to (usage + discarded), for the report


def decide(work: PrWork, group: list[str], landed: list[Counter[str]], discarded: dict[str, Usage],
           recorded_at: str) -> Decision:
    """The ``usage`` entry for the last commit of ``group`` (oldest first), given each one's landed lines.

    ``landed[i]`` are the AI-Usage lines of ``group[i]``'s change (itself and
    any side commits it merged). Lines on the group's other commits are
    accounted there, so the note covers only the rest: nothing twice.
    """
    from commitledger.git.notes import usage_facts

    commit = group[-1]
    everything: Counter[str] = Counter()
    for part in landed:
        everything.update(part)
    missing = work.lines - everything
    if not missing and not discarded:
        return Decision(commit, None, "kept")
    others: Counter[str] = Counter()
    for part in landed[:-1]:
        others.update(part)
    residual = work.lines - others
    usage = usage_of(residual, work.line_usage) if residual else None
    extra = sum_usage(list(discarded.values())) if discarded else None
    entry = usage_facts(
        pr=work.number, head=work.head, lines=sum(residual.values()),
        usage=usage.as_dict() if usage is not None else None,
        discarded=extra.as_dict() if extra is not None else None,
        discarded_commits=len(discarded), commits=work.commits, recorded_at=recorded_at,
        keys=sorted(set(work.counted)),
    )
    parts = [u.cost_usd for u in ((usage if missing else None), extra) if u is not None and u.cost_usd is not None]
    cost = sum(parts) if parts else None  # what the note adds on top of the message
    return Decision(commit, entry, "dropped" if missing else "discarded", sum(missing.values()), cost)


def claimed_keys(notes: dict[str, dict[str, Any]], except_on: str) -> frozenset[str]:
    """Commit keys that the usage notes of other merged commits already count."""
    keys: set[str] = set()
    for commit, note in notes.items():
        entry = note.get("usage")
        if commit == except_on or not isinstance(entry, dict) or not isinstance(entry.get("keys"), list):
            continue
        keys.update(k for k in entry["keys"] if isinstance(k, str))
    return frozenset(keys)


# --- git edges ------------------------------------------------------------------------------


def landed_lines(repo: Path | None, commit: str) -> Counter[str]:
    """AI-Usage lines of one first-parent commit's change: itself plus whatever it merged in."""
    parents = output(repo, "rev-list", "--parents", "-n", "1", commit).split()[1:]
    span = [commit, f"^{parents[0]}"] if parents else [commit]
    text = output(repo, "log", "--no-notes", "--format=%B%x00", *span, "--")
    found: Counter[str] = Counter()
    for message in text.split("\x00"):
        found.update(line for line, _ in canonical_lines(message))
    return found


def first_parent(repo: Path | None, commit: str) -> str | None:
    parents = output(repo, "rev-list", "--parents", "-n", "1", commit).split()[1:]
    return parents[0] if parents else None


def group_for(repo_path: Path, merged: str, identities: set[tuple[int, int, str]],
              allowed: Callable[[str], bool] = lambda _sha: True, limit: int = 250) -> list[str]:
    """The first-parent run ending at ``merged`` that one PR landed, oldest first.

    A rebase-merge lands a copy of each PR commit with its author date and
    message; a merge or squash lands one commit. ``allowed`` bounds the walk
    (the Action: only commits of this push).
    """
    from commitledger.git import repo as gitrepo

    repo = gitrepo.open_repo(repo_path)
    group = [merged]
    commit = gitrepo.resolve_commit(repo, merged)
    while len(group) < limit and commit.parent_ids:
        parent = repo[commit.parent_ids[0]].peel(pygit2_commit())
        info = gitrepo.commit_info(parent)
        if not allowed(info.sha) or (info.author_time, info.author_offset, info.message) not in identities:
            break
        group.insert(0, info.sha)
        commit = parent
    return group


def pygit2_commit_sort() -> Any:
    from pygit2.enums import SortMode

    return SortMode.TOPOLOGICAL | SortMode.REVERSE


def pygit2_commit() -> Any:
    import pygit2

    return pygit2.Commit


def fetch_pr_heads(repo: Path | None, remote: str, numbers: Iterable[int], log: Callable[[str], None]) -> dict[int, str]:
    """Fetch ``refs/pull/N/head`` of each PR (GitHub keeps them after the merge); N -> head sha.

    One fetch for all of them; when the remote lacks one (a deleted fork's
    PR, another host), each is fetched on its own so one missing ref costs
    only its own PR.
    """
    wanted = sorted(set(numbers))
    found: dict[int, str] = {}
    for start in range(0, len(wanted), 50):
        chunk = wanted[start : start + 50]
        specs = [f"+refs/pull/{n}/head:{PR_REF.format(n)}" for n in chunk]
        try:
            run_git(repo, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", remote, *specs)
            fetched = chunk
        except GitError:
            fetched = []
            for number, spec in zip(chunk, specs):
                try:
                    run_git(repo, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", remote, spec)
                    fetched.append(number)
                except GitError as exc:
                    log(f"commitledger: no refs/pull/{number}/head on {remote} ({exc.detail or exc})")
        for number in fetched:
            sha = run_git(repo, "rev-parse", "--verify", "--quiet", PR_REF.format(number) + "^{commit}",
                          ok=(0, 1)).stdout.strip()
            if sha:
                found[number] = sha
    return found


def marker_discarded(client: Any, repo: str, number: int, present: set[str], bot_login: str | None) -> dict[str, Usage]:
    """Discarded work the PR's comment recorded (force-pushed-away commits), by commit key."""
    from commitledger.github.client import resolve_bot_login
    from commitledger.github.comment import find_ours
    from commitledger.render.marker import discarded_since, parse_marker

    ours = find_ours(client.list_comments(repo, number), resolve_bot_login(client, bot_login), parse_marker)
    return discarded_since([o.marker for o in ours], present)


def pick_merged(pulls: list[Any], sha: str, default_branch: str) -> int | None:
    """Of the PRs GitHub lists for a commit, the one that merged it into the default branch."""
    merged = [p for p in pulls if p.merged_at]
    exact = [p for p in merged if p.merge_commit_sha == sha.lower()]
    if exact:
        return int(exact[0].number)
    into = [p for p in merged if not default_branch or p.base_ref == default_branch]
    return int(into[0].number) if len(into) == 1 else None


def recover(repo_path: Path, work_of: Callable[[str | None], PrWork], merged: str,
            discarded: Callable[[PrWork], dict[str, Usage]], recorded_at: str,
            allowed: Callable[[str], bool] = lambda _sha: True) -> tuple[list[str], Decision]:
    """Group, read and decide for one merged PR whose last landed commit is ``merged``.

    ``work_of(first_parent)`` reads the PR's commits above that first parent
    (it depends on the group, which depends on the PR's identities: read
    once with the merged commit's first parent, again only when a
    rebase-merge's group starts lower).
    """
    work = work_of(first_parent(repo_path, merged))
    group = group_for(repo_path, merged, work.identities, allowed)
    if len(group) > 1:
        work = work_of(first_parent(repo_path, group[0]))
    landed = [landed_lines(repo_path, sha) for sha in group]
    return group, decide(work, group, landed, discarded(work), recorded_at)


# --- what the repository's settings do to the ledger ----------------------------------------

DROPPING_MESSAGES = {"BLANK": "Pull request title", "PR_BODY": "Pull request title and description"}
REMEDY = ("commitledger recovers the usage after each merge from refs/pull/N/head into a note under "
          "refs/notes/commitledger (run `commitledger backfill` once for PRs merged before the Action ran)")


def settings_warning(settings: Any) -> str | None:
    """One line when the repository's squash setting drops the commits' AI-Usage lines, else None."""
    if settings is None or settings.allow_squash_merge is False:
        return None
    name = DROPPING_MESSAGES.get(settings.squash_merge_commit_message or "")
    if name is None:
        return None
    return (f"Squash merges here default to \u201c{name}\u201d, which drops the commits' AI-Usage lines; {REMEDY}.")


def settings_status(settings: Any) -> str:
    """A line for ``doctor``: what the squash setting is and whether it keeps the lines."""
    if settings is None:
        return "unknown (could not read the repository)"
    if settings.allow_squash_merge is False:
        return "squash merging is off; merge commits and rebase-merges keep every AI-Usage line"
    message = settings.squash_merge_commit_message
    if message is None:
        return ("GitHub did not show this token the squash settings; if squash merges drop AI-Usage lines, "
                + REMEDY)
    warning = settings_warning(settings)
    if warning:
        return warning
    title = "PR title" if settings.squash_merge_commit_title == "PR_TITLE" else "commit or PR title"
    return f"squash merges keep the commit messages ({title} + commit messages): AI-Usage lines survive"
