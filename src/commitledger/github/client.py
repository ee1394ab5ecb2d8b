"""A small GitHub REST client for the one sticky pull-request comment.

Why not a general client library: the action needs five endpoints, and it
needs them to behave well on a CI runner — every request has a timeout,
rate-limit answers are waited out (within a cap, so a job never hangs for an
hour), transient 5xx answers are retried, and every other failure becomes one
line the user can act on. The token is only ever sent in the Authorization
header to the configured API host (never to a host named by a ``Link``
header that points elsewhere) and is scrubbed from every message we raise.

``GITHUB_API_URL`` is honoured, so the same code talks to GitHub Enterprise
Server (``https://HOST/api/v3``).

The comment logic (``find_ours``, ``head_is_newer``, ``publish``) lives here
too, separate from rendering: it only needs the marker's head and valid-at
time, which the renderer's ``parse_marker`` provides.
"""

from __future__ import annotations

import email.utils
import os
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable
from urllib.parse import urlsplit

import requests

from commitledger.errors import CommitledgerError
from commitledger.git.run import commit_exists, is_ancestor

DEFAULT_API_URL = "https://api.github.com"
# The login GitHub shows for comments made with the Actions GITHUB_TOKEN. That
# token cannot call GET /user (403 "Resource not accessible by integration"),
# so this is the fallback identity; a GitHub App or a PAT is asked instead.
ACTIONS_BOT_LOGIN = "github-actions[bot]"
# GitHub refuses comment bodies longer than this many characters.
MAX_COMMENT_CHARS = 65536
MARKER_PREFIX = "<!-- commitledger:v1"
USER_AGENT = "commitledger"
MAX_PAGES = 200  # 20,000 comments: far beyond any real pull request


class GitHubError(CommitledgerError):
    """A refused or failed GitHub request; ``status`` is the HTTP status (0: no answer)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long to keep trying before giving up.

    ``scale`` multiplies every wait (the ``COMMITLEDGER_RETRY_SCALE``
    environment variable sets it): the test suite runs the real waiting code
    with waits of milliseconds instead of seconds.
    """

    attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 60.0
    max_total_wait: float = 300.0
    scale: float = 1.0

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> RetryPolicy:
        env = os.environ if environ is None else environ
        raw = env.get("COMMITLEDGER_RETRY_SCALE", "").strip()
        try:
            scale = float(raw) if raw else 1.0
        except ValueError:
            raise CommitledgerError(f"COMMITLEDGER_RETRY_SCALE must be a number, not {raw!r}") from None
        return cls(scale=max(scale, 0.0))


@dataclass(frozen=True, slots=True)
class Comment:
    id: int
    body: str
    login: str
    html_url: str = ""
    created_at: str = ""
    updated_at: str = ""


@dataclass(frozen=True, slots=True)
class PullRequest:
    number: int
    state: str
    merged: bool
    head_sha: str
    head_repo: str | None
    base_sha: str
    base_ref: str


# The renderer's ``parse_marker``: body -> Marker (``.head``, ``.valid_at``) or None.
ParseMarker = Callable[[str], Any]


def _one_line(text: str, limit: int = 200) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class GitHubClient:
    """The endpoints the action uses, with retries, timeouts and one-line errors."""

    def __init__(
        self,
        token: str,
        *,
        api_url: str | None = None,
        timeout: tuple[float, float] = (10.0, 30.0),
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not token:
            raise CommitledgerError("no GitHub token: pass --token or set GITHUB_TOKEN")
        self._token = token
        base = (api_url or os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL).strip().rstrip("/")
        parts = urlsplit(base)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            raise CommitledgerError(f"GITHUB_API_URL is not an http(s) URL: {_one_line(base)!r}")
        self.api_url = base
        self._origin = (parts.scheme, parts.netloc.lower())
        self.timeout = timeout
        self.retry = retry or RetryPolicy.from_env()
        self._sleep = sleep
        self._session = session or requests.Session()
        self._session.headers.update(
            {
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": USER_AGENT,
            }
        )

    # --- plumbing ---

    def scrub(self, text: str) -> str:
        """Remove the token from anything that may be shown or logged."""
        return text.replace(self._token, "***") if self._token else text

    def _error(self, message: str, status: int = 0) -> GitHubError:
        return GitHubError(self.scrub(message), status)

    def _url(self, path: str) -> str:
        return f"{self.api_url}/{path.lstrip('/')}"

    def _same_origin(self, url: str) -> bool:
        parts = urlsplit(url)
        return (parts.scheme, parts.netloc.lower()) == self._origin

    def _rate_limit_wait(self, resp: requests.Response, now: float) -> float | None:
        """Seconds GitHub asks us to wait, or None when the answer is not a rate limit."""
        headers = resp.headers
        retry_after = headers.get("Retry-After")
        if retry_after is not None:
            retry_after = retry_after.strip()
            if retry_after.isdigit():
                return float(retry_after)
            try:
                when = email.utils.parsedate_to_datetime(retry_after)
                return max(0.0, when.timestamp() - now)
            except (TypeError, ValueError):
                return 60.0
        if headers.get("x-ratelimit-remaining") == "0":
            reset = headers.get("x-ratelimit-reset", "")
            try:
                return max(0.0, float(reset) - now) + 1.0
            except ValueError:
                return 60.0
        if resp.status_code == 429:
            return 60.0
        if resp.status_code == 403 and "rate limit" in resp.text[:2000].lower():
            # A secondary rate limit without headers: GitHub asks for at least a minute.
            return 60.0
        return None

    def request(self, method: str, path_or_url: str, *, what: str, json_body: Any = None) -> requests.Response:
        """One API call, retried on rate limits, 5xx and (for reads) network errors."""
        url = path_or_url if path_or_url.startswith(("http://", "https://")) else self._url(path_or_url)
        if not self._same_origin(url):
            raise self._error(f"refusing to send the token to another host while {what} ({urlsplit(url).netloc})")
        policy = self.retry
        waited = 0.0  # nominal seconds, before scaling
        idempotent = method.upper() in ("GET", "HEAD", "PATCH")
        last_problem = ""
        last_status = 0
        for attempt in range(1, policy.attempts + 1):
            backoff = min(policy.base_delay * 2 ** (attempt - 1), policy.max_delay)
            try:
                resp = self._session.request(
                    method,
                    url,
                    json=json_body,
                    headers={"Authorization": f"Bearer {self._token}"},
                    timeout=self.timeout,
                    # A renamed repository answers reads with a redirect; requests drops the
                    # Authorization header if it leads to another host. Writes never follow one.
                    allow_redirects=method.upper() == "GET",
                )
            except requests.Timeout:
                last_problem, last_status = f"no answer within {self.timeout[1]:g}s", 0
                if not idempotent:  # the write may have happened: retrying could post twice
                    raise self._error(f"GitHub did not answer while {what} ({last_problem})") from None
                delay = backoff
            except requests.RequestException as exc:
                last_problem, last_status = exc.__class__.__name__, 0
                if not idempotent:
                    raise self._error(f"could not reach GitHub while {what} ({last_problem})") from None
                delay = backoff
            else:
                status = last_status = resp.status_code
                if status < 300:
                    return resp
                rate_wait = self._rate_limit_wait(resp, time.time()) if status in (403, 429) else None
                if rate_wait is not None:
                    last_problem, delay = f"rate limited, HTTP {status}", rate_wait
                elif status >= 500:
                    last_problem, delay = f"HTTP {status}", backoff
                else:
                    raise self._refusal(resp, what)
            if attempt == policy.attempts:
                break
            if waited + delay > policy.max_total_wait:
                raise self._error(
                    f"GitHub kept refusing while {what} ({last_problem}); waiting {delay:.0f}s more "
                    f"would pass the {policy.max_total_wait:.0f}s limit",
                    last_status,
                )
            self._sleep(delay * policy.scale)
            waited += delay
        raise self._error(f"GitHub kept failing while {what} ({last_problem}) after {policy.attempts} attempts",
                          last_status)

    def _refusal(self, resp: requests.Response, what: str) -> GitHubError:
        status = resp.status_code
        message = ""
        try:
            data = resp.json()
            if isinstance(data, dict):
                message = _one_line(str(data.get("message", "")), 120)
        except ValueError:
            pass
        detail = f" ({message})" if message else ""
        if status == 401:
            return self._error(f"GitHub rejected the token while {what} (401{detail}); check the github-token input", 401)
        if status == 403:
            return self._error(
                f"GitHub refused {what} (403{detail}); the token needs the 'pull-requests: write' permission "
                "(on a pull request from a fork the token is read-only: post from a workflow_run job instead)",
                403,
            )
        if status == 404:
            return self._error(f"GitHub found nothing while {what} (404{detail}); check the repository and number, "
                               "and that the token can see the repository", 404)
        if 300 <= status < 400:
            return self._error(f"GitHub redirected while {what} (HTTP {status}); check GITHUB_API_URL", status)
        return self._error(f"GitHub answered HTTP {status} while {what}{detail}", status)

    def _json(self, resp: requests.Response, what: str) -> Any:
        try:
            return resp.json()
        except ValueError:
            raise self._error(f"GitHub answered {what} with malformed JSON (HTTP {resp.status_code})",
                              resp.status_code) from None

    @staticmethod
    def _comment(data: Any) -> Comment:
        if not isinstance(data, dict) or not isinstance(data.get("id"), int):
            raise ValueError("not a comment")
        user = data.get("user") or {}
        return Comment(
            id=data["id"],
            body=str(data.get("body") or ""),
            login=str(user.get("login") or "") if isinstance(user, dict) else "",
            html_url=str(data.get("html_url") or ""),
            created_at=str(data.get("created_at") or ""),
            updated_at=str(data.get("updated_at") or ""),
        )

    def _comment_of(self, resp: requests.Response, what: str) -> Comment:
        data = self._json(resp, what)
        try:
            return self._comment(data)
        except ValueError:
            raise self._error(f"GitHub answered {what} with an unexpected JSON shape", resp.status_code) from None

    # --- endpoints ---

    def list_comments(self, repo: str, pr: int) -> list[Comment]:
        """All issue comments of the pull request, following ``Link: rel="next"``."""
        what = f"listing the comments of {repo}#{pr}"
        url: str | None = self._url(f"repos/{repo}/issues/{pr}/comments?per_page=100")
        out: list[Comment] = []
        pages = 0
        while url:
            pages += 1
            if pages > MAX_PAGES:
                raise self._error(f"more than {MAX_PAGES} pages of comments while {what}")
            resp = self.request("GET", url, what=what)
            data = self._json(resp, what)
            if not isinstance(data, list):
                raise self._error(f"GitHub answered {what} with an unexpected JSON shape", resp.status_code)
            try:
                out.extend(self._comment(item) for item in data)
            except ValueError:
                raise self._error(f"GitHub answered {what} with an unexpected JSON shape", resp.status_code) from None
            url = resp.links.get("next", {}).get("url")
        return out

    def create_comment(self, repo: str, pr: int, body: str) -> Comment:
        what = f"creating a comment on {repo}#{pr}"
        resp = self.request("POST", f"repos/{repo}/issues/{pr}/comments", what=what, json_body={"body": body})
        return self._comment_of(resp, what)

    def update_comment(self, repo: str, comment_id: int, body: str) -> Comment:
        what = f"updating comment {comment_id} in {repo}"
        resp = self.request("PATCH", f"repos/{repo}/issues/comments/{comment_id}", what=what,
                            json_body={"body": body})
        return self._comment_of(resp, what)

    def get_pull(self, repo: str, pr: int) -> PullRequest:
        what = f"reading pull request {repo}#{pr}"
        data = self._json(self.request("GET", f"repos/{repo}/pulls/{pr}", what=what), what)
        try:
            head = data["head"]
            base = data["base"]
            head_repo = head.get("repo") or {}
            return PullRequest(
                number=int(data["number"]),
                state=str(data.get("state") or ""),
                merged=bool(data.get("merged")),
                head_sha=str(head["sha"]),
                head_repo=str(head_repo.get("full_name")) if head_repo.get("full_name") else None,
                base_sha=str(base["sha"]),
                base_ref=str(base.get("ref") or ""),
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            raise self._error(f"GitHub answered {what} with an unexpected JSON shape") from None

    def authenticated_login(self) -> str | None:
        """The token's own login, or None when GitHub will not say (the Actions token)."""
        try:
            resp = self.request("GET", "user", what="asking GitHub who the token belongs to")
        except GitHubError as exc:
            if exc.status in (403, 404):
                return None
            raise
        data = self._json(resp, "asking GitHub who the token belongs to")
        login = data.get("login") if isinstance(data, dict) else None
        return str(login) if login else None


def resolve_bot_login(client: GitHubClient, configured: str | None) -> str:
    """Whose comments count as ours: the configured login, the token's, or the Actions bot."""
    if configured and configured.strip():
        return configured.strip()
    return client.authenticated_login() or ACTIONS_BOT_LOGIN


def validate_repo(repo: str | None) -> str:
    """``owner/name`` or a one-line error (it goes into URL paths, so it is checked strictly)."""
    if not repo:
        raise CommitledgerError("no repository: pass --repo owner/name or set GITHUB_REPOSITORY")
    if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", repo) or ".." in repo:
        raise CommitledgerError(f"--repo must look like owner/name, not {_one_line(repo, 80)!r}")
    return repo


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
    return Posted(publish(client, repo, pr, body, mode=mode, the_plan=the_plan), body, result)


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
