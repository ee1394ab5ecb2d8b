"""The one sticky pull-request comment: which comment is ours, whether a newer head owns it, and
posting a result (create, update in place, or leave alone).

Separate from rendering: it only needs the marker's head and valid-at time,
which the renderer's ``parse_marker`` provides; and from the REST client,
which it drives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from commitledger.errors import CommitledgerError
from commitledger.git.run import commit_exists, is_ancestor
from commitledger.github.client import Comment, GitHubClient, MARKER_PREFIX, MAX_COMMENT_CHARS, PullRequest, resolve_bot_login, ParseMarker


# --- the comment logic ---


@dataclass(frozen=True, slots=True)
class Ours:
    comment: Comment
    marker: Any  # the renderer's Marker (has .head, and .valid_at when known)


def find_ours(comments: Iterable[Comment], bot_login: str, parse_marker: ParseMarker) -> list[Ours]:
    """Our comments (same author, a parsable marker), oldest first.

    A marker copied into someone else's comment is not ours: the author must
    be the same bot, compared case-insensitively as GitHub logins are.
    """
    login = bot_login.lower()
    out: list[Ours] = []
    for comment in comments:
        if comment.login.lower() != login or MARKER_PREFIX not in comment.body:
            continue
        marker = parse_marker(comment.body)
        if marker is not None and getattr(marker, "head", None):
            out.append(Ours(comment, marker))
    return out


def _timestamp(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()
    if isinstance(value, (int, float)):
        return float(value)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).timestamp()


def head_is_newer(
    repo_path: Path, theirs_head: str, ours_head: str, theirs_valid_at: Any = None, ours_valid_at: Any = None
) -> bool:
    """True when the existing comment describes a later head than ours, so we must leave it.

    Git decides when it can: their head is newer if ours is its strict
    ancestor. When either commit is unknown here (a force-push took it away)
    or the two have diverged, the marker's valid-at times decide; without
    them, we do not claim theirs is newer.
    """
    if theirs_head == ours_head or theirs_head.startswith(ours_head) or ours_head.startswith(theirs_head):
        return False
    if commit_exists(repo_path, theirs_head) and commit_exists(repo_path, ours_head):
        if is_ancestor(repo_path, ours_head, theirs_head):
            return True
        if is_ancestor(repo_path, theirs_head, ours_head):
            return False
    theirs_t, ours_t = _timestamp(theirs_valid_at), _timestamp(ours_valid_at)
    if theirs_t is not None and ours_t is not None:
        return theirs_t > ours_t
    return False


_VALID_AT = re.compile(r"\s+valid-at=\S+?(?=\s|-->)")
_MARKER_RE = re.compile(r"<!-- commitledger:v1\b.*?-->", re.S)


def comparable(body: str) -> str:
    """The body without the marker's valid-at time: two renders of the same facts compare equal."""
    match = _MARKER_RE.search(body)
    if not match:
        return body.strip()
    marker = _VALID_AT.sub("", match.group(0))
    return (body[: match.start()] + marker + body[match.end() :]).strip()


@dataclass(frozen=True, slots=True)
class Outcome:
    """What ``publish`` did: created, updated, unchanged, newer-exists or off."""

    action: str
    comment_id: int | None = None
    url: str = ""

    def describe(self) -> str:
        where = f" ({self.url})" if self.url else ""
        return {
            "created": f"created the pull request comment{where}",
            "updated": f"updated the pull request comment{where}",
            "unchanged": f"left the pull request comment as it is: nothing changed{where}",
            "newer-exists": f"left the pull request comment alone: it describes a newer head{where}",
            "off": "commenting is off",
            "no-comment": "found no commitledger comment to update",
            "no-ai": "posted nothing: the change has no AI-assisted commit (comment_when = \"ai-only\")",
        }.get(self.action, self.action)


@dataclass
class Plan:
    """The decision before any write, so the caller can render with the previous marker."""

    previous: Ours | None
    newer_exists: bool = False


def plan(
    ours: list[Ours], repo_path: Path, head: str, valid_at: Any = None
) -> Plan:
    """Pick the comment to update (the most recent of ours) and check it is not newer."""
    if not ours:
        return Plan(previous=None)
    latest = ours[-1]
    newer = head_is_newer(repo_path, latest.marker.head, head, getattr(latest.marker, "valid_at", None), valid_at)
    return Plan(previous=latest, newer_exists=newer)


def publish(client: GitHubClient, repo: str, pr: int, body: str, *, mode: str, the_plan: Plan) -> Outcome:
    """Write the comment as ``mode`` asks, never over a newer head's comment."""
    if mode == "off":
        return Outcome("off")
    if len(body) > MAX_COMMENT_CHARS:
        raise CommitledgerError(f"the comment is {len(body)} characters, over GitHub's {MAX_COMMENT_CHARS} limit")
    previous = the_plan.previous
    if the_plan.newer_exists and previous is not None:
        return Outcome("newer-exists", previous.comment.id, previous.comment.html_url)
    if mode == "update" and previous is not None:
        if comparable(previous.comment.body) == comparable(body):
            return Outcome("unchanged", previous.comment.id, previous.comment.html_url)
        updated = client.update_comment(repo, previous.comment.id, body)
        return Outcome("updated", updated.id, updated.html_url)
    if mode not in ("update", "new"):
        raise CommitledgerError(f"comment mode must be update, new or off, not {mode!r}")
    created = client.create_comment(repo, pr, body)
    return Outcome("created", created.id, created.html_url)


def collapse_duplicates(
    client: GitHubClient,
    repo: str,
    pr: int,
    body: str,
    created: Comment,
    login: str,
    parse_marker: ParseMarker,
    is_newer: Any,
) -> Outcome:
    """After creating our comment, make sure it is the only one: concurrent runs may have created theirs.

    Two runs that both listed before either created would each add a
    comment. So every run that created one lists again; if more than one
    comment of ours is there, all runs agree to keep the oldest (lowest
    id: GitHub's ids only grow), this run writes its body into it unless it
    describes a newer head (``is_newer(marker)``), and the others are
    deleted (one already deleted by another run is fine). Only ``update``
    mode gets here: it creates only when no comment of ours existed, so
    every comment of ours in the second listing came from this race.
    """
    ours = find_ours(client.list_comments(repo, pr), login, parse_marker)
    if len(ours) <= 1:
        return Outcome("created", created.id, created.html_url)
    keep = min(ours, key=lambda o: o.comment.id)
    for other in ours:
        if other.comment.id != keep.comment.id:
            client.delete_comment(repo, other.comment.id)
    if is_newer(keep.marker):
        return Outcome("newer-exists", keep.comment.id, keep.comment.html_url)
    if keep.comment.id == created.id:
        return Outcome("created", created.id, created.html_url)
    if comparable(keep.comment.body) == comparable(body):
        return Outcome("unchanged", keep.comment.id, keep.comment.html_url)
    updated = client.update_comment(repo, keep.comment.id, body)
    return Outcome("updated", updated.id, updated.html_url)


# --- posting a result: the flow behind `commitledger github post` and the action ---


class HeadMoved(CommitledgerError):
    """The pull request moved on since the result was computed: a later run will post."""


@dataclass(frozen=True, slots=True)
class Posted:
    outcome: Outcome
    body: str  # the rendered comment
    result: Any  # the result as rendered (previous comment's discarded work carried in)


def check_expected_head(client: GitHubClient, repo: str, pr: int, expected_head: str, result_head: str,
                        head_repo: str | None = None) -> PullRequest:
    """The fork-safe gate: post only a result for the PR's current head (and the run's head repository).

    The result file of a fork's run is untrusted input; its PR number could
    name any pull request. Checking the PR's live head against the head sha
    GitHub recorded for the run ties the comment to the code that was measured.
    """
    if result_head != expected_head:
        raise CommitledgerError(
            f"the result is for {result_head[:12]}, not the expected head {expected_head[:12]}: not posting")
    pull = client.get_pull(repo, pr)
    if pull.head_sha != expected_head:
        raise HeadMoved(
            f"{repo}#{pr} is now at {pull.head_sha[:12]}, not {expected_head[:12]}: a newer run will post; not posting",
            exit_code=3,
        )
    if head_repo is not None and pull.head_repo is not None and pull.head_repo.lower() != head_repo.lower():
        raise CommitledgerError(
            f"{repo}#{pr} comes from {pull.head_repo}, not from {head_repo} where the run happened: not posting")
    return pull


def post_result(
    client: GitHubClient,
    repo: str,
    pr: int,
    result: Any,
    *,
    mode: str,
    bot_login: str | None,
    repo_path: Path,
    comments: list[Comment] | None = None,
    only_if_ai: bool = False,
) -> Posted:
    """Find our comment, leave it if it is for a newer head, else carry its digest and write.

    ``only_if_ai`` (``comment_when = "ai-only"``): a change with no AI-assisted
    commit gets no new comment; one that already has ours (an earlier head was
    AI-assisted) is still updated, so it never shows stale figures.

    The renderer is imported here, not at module level, so the client works
    (and is tested) on its own.
    """
    from commitledger.render.marker import apply_previous, parse_marker
    from commitledger.render.markdown import render_comment

    if mode == "off":
        return Posted(Outcome("off"), render_comment(result, max_chars=MAX_COMMENT_CHARS), result)
    login = resolve_bot_login(client, bot_login)
    listed = client.list_comments(repo, pr) if comments is None else comments
    ours = find_ours(listed, login, parse_marker)
    # valid-at of our marker is the time the figures were computed (PrResult.generated_at).
    the_plan = plan(ours, repo_path, result.head, getattr(result, "generated_at", None))
    if only_if_ai and the_plan.previous is None and not result.ai_commits:
        return Posted(Outcome("no-ai"), render_comment(result, max_chars=MAX_COMMENT_CHARS), result)
    if the_plan.previous is not None and not the_plan.newer_exists:
        result = apply_previous(result, the_plan.previous.marker)
    body = render_comment(result, max_chars=MAX_COMMENT_CHARS)
    outcome = publish(client, repo, pr, body, mode=mode, the_plan=the_plan)
    if outcome.action == "created" and mode == "update" and outcome.comment_id is not None:
        created = Comment(id=outcome.comment_id, body=body, login=login, html_url=outcome.url)
        outcome = collapse_duplicates(
            client, repo, pr, body, created, login, parse_marker,
            lambda marker: head_is_newer(repo_path, marker.head, result.head, getattr(marker, "valid_at", None),
                                         getattr(result, "generated_at", None)),
        )
    return Posted(outcome, body, result)


# --- the "Reverted" line a later push adds to a merged PR's comment ---

_REVERTED_TAG = "<!-- commitledger:reverted {sha} -->"


def reverted_line(reverted_by: str, reverted_at: str, ai_cost_usd: float | None) -> str:
    """One Markdown line; every value is a sha, a date or a number we format, never free text."""
    if not re.fullmatch(r"[0-9a-f]{7,64}", reverted_by):
        raise CommitledgerError("a reverting commit must be a hex sha")
    when = _timestamp(reverted_at)
    day = datetime.fromtimestamp(when, tz=timezone.utc).strftime("%Y-%m-%d") if when is not None else "unknown date"
    spend = f"${ai_cost_usd:,.2f} of AI spend undone" if ai_cost_usd is not None else "AI spend undone: unknown"
    return (f"{_REVERTED_TAG.format(sha=reverted_by)}\n"
            f"> **Reverted** by `{reverted_by[:12]}` on {day} · {spend}\n")


def add_reverted_line(body: str, reverted_by: str, reverted_at: str, ai_cost_usd: float | None) -> str | None:
    """The body with the Reverted line after the marker, or None when it is already there (idempotent)."""
    if _REVERTED_TAG.format(sha=reverted_by) in body:
        return None
    line = reverted_line(reverted_by, reverted_at, ai_cost_usd)
    match = _MARKER_RE.search(body)
    if match is None:
        return line + "\n" + body
    end = match.end()
    if body[end : end + 1] == "\n":
        end += 1
    return body[:end] + line + "\n" + body[end:]


def mark_reverted(
    client: GitHubClient, repo: str, pr: int, *, reverted_by: str, reverted_at: str, ai_cost_usd: float | None,
    bot_login: str | None,
) -> Outcome:
    """Add the Reverted line to PR ``pr``'s comment; no comment of ours there means nothing to update."""
    from commitledger.render.marker import parse_marker

    login = resolve_bot_login(client, bot_login)
    ours = find_ours(client.list_comments(repo, pr), login, parse_marker)
    if not ours:
        return Outcome("no-comment")
    target = ours[-1].comment
    new_body = add_reverted_line(target.body, reverted_by, reverted_at, ai_cost_usd)
    if new_body is None:
        return Outcome("unchanged", target.id, target.html_url)
    if len(new_body) > MAX_COMMENT_CHARS:
        raise CommitledgerError(f"adding the Reverted line would pass GitHub's {MAX_COMMENT_CHARS}-character limit")
    updated = client.update_comment(repo, target.id, new_body)
    return Outcome("updated", updated.id, updated.html_url)
