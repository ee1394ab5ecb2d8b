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

The sticky-comment logic that uses it (which comment is ours, which head is
newer, create / update / leave) is in ``github.comment``.

A hostile or broken server cannot hold a job or fill its memory: the
connect and read timeouts apply to each socket operation, so on top of them
every request has a total deadline (a server that sends one byte every few
seconds is cut off when it passes), and an answer's body is read in chunks
up to ``MAX_BODY_BYTES`` (an endless body is one line of error, not a
MemoryError). Redirects are followed by hand, on the API's own host only,
and their bodies are never read.
"""

from __future__ import annotations

import email.utils
import json
import os
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator
from urllib.parse import quote, urljoin, urlsplit

import requests

from commitledger.errors import CommitledgerError

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
# A page of 100 comments of at most 65,536 characters each, with GitHub's metadata, is a
# few MB (more only when every character is escaped); nothing we ask for is larger.
MAX_BODY_BYTES = 32 * 1024 * 1024
DEFAULT_DEADLINE = 60.0  # seconds of network time one request may take, retries included
DEADLINE_ENV = "COMMITLEDGER_HTTP_DEADLINE"
MAX_REDIRECTS = 5
_REDIRECTS = (301, 302, 303, 307, 308)


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


class _Cutoff(Exception):
    """The transport gave up on an answer: too slow in total, or too large."""


@dataclass
class Answer:
    """A complete, size-checked HTTP answer (the parts of ``requests.Response`` the endpoints use)."""

    status_code: int
    headers: Any  # requests' case-insensitive dict
    links: dict[str, dict[str, str]] = field(default_factory=dict)
    content: bytes = b""
    url: str = ""

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)


def _deadline_from_env(env: dict[str, str] | os._Environ[str]) -> float:
    raw = env.get(DEADLINE_ENV, "").strip()
    if not raw:
        return DEFAULT_DEADLINE
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not (0 < value < 86_400):
        raise CommitledgerError(f"{DEADLINE_ENV} must be a number of seconds, not {raw[:40]!r}")
    return value


@dataclass(frozen=True, slots=True)
class MergedPull:
    """A pull request as the list endpoints show it: enough to find what it merged and where."""

    number: int
    state: str
    merged_at: str | None  # None: not merged
    merge_commit_sha: str | None
    head_sha: str
    base_ref: str
    updated_at: str = ""


@dataclass(frozen=True, slots=True)
class MergeSettings:
    """How the repository merges pull requests (``GET /repos/{owner}/{repo}``).

    ``None`` where GitHub did not show the field to this token.
    """

    allow_squash_merge: bool | None
    allow_merge_commit: bool | None
    allow_rebase_merge: bool | None
    squash_merge_commit_title: str | None  # PR_TITLE | COMMIT_OR_PR_TITLE
    squash_merge_commit_message: str | None  # PR_BODY | COMMIT_MESSAGES | BLANK
    default_branch: str


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
        deadline: float | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
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
        self.deadline = deadline if deadline is not None else _deadline_from_env(os.environ)
        self.max_body_bytes = max_body_bytes
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

    def _rate_limit_wait(self, resp: Answer, now: float) -> float | None:
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

    def _fetch(self, method: str, url: str, json_body: Any, budget: float) -> Answer:
        """One attempt, redirects included, complete within ``budget`` seconds or ``_Cutoff``.

        The exchange runs in a worker thread so that the caller gets control
        back at the deadline whatever the server does (a dripped status line
        as much as a dripped body); the worker's socket is shut down then, so
        it stops too.
        """
        box: dict[str, Any] = {}
        done = threading.Event()
        cancelled = threading.Event()
        connect, read = self.timeout

        def work() -> None:
            try:
                box["answer"] = self._exchange(method, url, json_body, (min(connect, budget), min(read, budget)),
                                               box, cancelled)
            except BaseException as exc:  # handed to the caller's thread
                box["error"] = exc
            finally:
                done.set()

        worker = threading.Thread(target=work, name="commitledger-http", daemon=True)
        worker.start()
        if not done.wait(budget):
            cancelled.set()
            _shut(box.get("response"))
            raise _Cutoff(f"no complete answer within {self.deadline:g}s")
        if "error" in box:
            raise box["error"]
        return box["answer"]

    def _exchange(self, method: str, url: str, json_body: Any, timeout: tuple[float, float], box: dict[str, Any],
                  cancelled: threading.Event) -> Answer:
        for _hop in range(MAX_REDIRECTS + 1):
            resp = self._session.request(
                method,
                url,
                json=json_body,
                headers={"Authorization": f"Bearer {self._token}"},
                timeout=timeout,
                stream=True,
                allow_redirects=False,  # followed below: same host only, bodies unread
            )
            box["response"] = resp
            try:
                if resp.status_code in _REDIRECTS and method.upper() == "GET" and resp.headers.get("Location"):
                    # A renamed repository answers reads with a redirect; writes never follow one.
                    target = urljoin(url, resp.headers["Location"])
                    if not self._same_origin(target):
                        raise _Cutoff(f"redirected to another host ({urlsplit(target).netloc})")
                    url = target
                    continue
                declared = resp.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > self.max_body_bytes:
                    raise _Cutoff(f"an answer of {int(declared):,} bytes, over the {self.max_body_bytes:,}-byte cap")
                chunks: list[bytes] = []
                size = 0
                for chunk in resp.iter_content(chunk_size=65536):
                    if cancelled.is_set():
                        raise _Cutoff("cancelled")
                    size += len(chunk)
                    if size > self.max_body_bytes:
                        raise _Cutoff(f"an answer over the {self.max_body_bytes:,}-byte cap")
                    chunks.append(chunk)
                return Answer(resp.status_code, resp.headers, resp.links, b"".join(chunks), resp.url)
            finally:
                resp.close()
        raise _Cutoff(f"more than {MAX_REDIRECTS} redirects")

    def request(self, method: str, path_or_url: str, *, what: str, json_body: Any = None) -> Answer:
        """One API call, retried on rate limits, 5xx and (for reads) network errors.

        ``self.deadline`` bounds the network time of the whole call, retries
        included (waits asked for by a rate limit are bounded by the retry
        policy instead); an answer cut off for time or size is not retried.
        """
        url = path_or_url if path_or_url.startswith(("http://", "https://")) else self._url(path_or_url)
        if not self._same_origin(url):
            raise self._error(f"refusing to send the token to another host while {what} ({urlsplit(url).netloc})")
        policy = self.retry
        waited = 0.0  # nominal seconds, before scaling
        budget = self.deadline
        idempotent = method.upper() in ("GET", "HEAD", "PATCH", "DELETE")
        last_problem = ""
        last_status = 0
        for attempt in range(1, policy.attempts + 1):
            backoff = min(policy.base_delay * 2 ** (attempt - 1), policy.max_delay)
            started = time.monotonic()
            try:
                resp = self._fetch(method, url, json_body, budget)
            except _Cutoff as exc:
                raise self._error(f"GitHub's answer was cut off while {what} ({exc})") from None
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
            budget -= time.monotonic() - started
            if budget <= 0:
                raise self._error(f"GitHub gave no usable answer within {self.deadline:g}s while {what} "
                                  f"({last_problem})", last_status)
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

    def _refusal(self, resp: Answer, what: str) -> GitHubError:
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

    def _json(self, resp: Answer, what: str) -> Any:
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

    def _comment_of(self, resp: Answer, what: str) -> Comment:
        data = self._json(resp, what)
        try:
            return self._comment(data)
        except ValueError:
            raise self._error(f"GitHub answered {what} with an unexpected JSON shape", resp.status_code) from None

    # --- endpoints ---

    def list_comments(self, repo: str, pr: int) -> list[Comment]:
        """All issue comments of the pull request, following ``Link: rel="next"``."""
        what = f"listing the comments of {repo}#{pr}"
        out: list[Comment] = []
        for status, data in self._pages(f"repos/{repo}/issues/{pr}/comments?per_page=100", what):
            try:
                out.extend(self._comment(item) for item in data)
            except ValueError:
                raise self._error(f"GitHub answered {what} with an unexpected JSON shape", status) from None
        return out

    def _pages(self, path: str, what: str) -> Iterator[tuple[int, list[Any]]]:
        """Each page of a listing as (HTTP status, JSON list), following ``Link: rel="next"``, at most
        ``MAX_PAGES``; the caller may stop early."""
        url: str | None = self._url(path)
        pages = 0
        while url:
            pages += 1
            if pages > MAX_PAGES:
                raise self._error(f"more than {MAX_PAGES} pages while {what}")
            resp = self.request("GET", url, what=what)
            data = self._json(resp, what)
            if not isinstance(data, list):
                raise self._error(f"GitHub answered {what} with an unexpected JSON shape", resp.status_code)
            yield resp.status_code, data
            url = resp.links.get("next", {}).get("url")

    def create_comment(self, repo: str, pr: int, body: str) -> Comment:
        what = f"creating a comment on {repo}#{pr}"
        resp = self.request("POST", f"repos/{repo}/issues/{pr}/comments", what=what, json_body={"body": body})
        return self._comment_of(resp, what)

    def update_comment(self, repo: str, comment_id: int, body: str) -> Comment:
        what = f"updating comment {comment_id} in {repo}"
        resp = self.request("PATCH", f"repos/{repo}/issues/comments/{comment_id}", what=what,
                            json_body={"body": body})
        return self._comment_of(resp, what)

    def delete_comment(self, repo: str, comment_id: int) -> bool:
        """Delete one comment; False when it was already gone (a concurrent run deleted it)."""
        what = f"deleting comment {comment_id} in {repo}"
        try:
            self.request("DELETE", f"repos/{repo}/issues/comments/{comment_id}", what=what)
        except GitHubError as exc:
            if exc.status == 404:
                return False
            raise
        return True

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

    # --- after the merge (github.postmerge, github.backfill) ---

    @staticmethod
    def _merged_pull(data: Any) -> MergedPull:
        if not isinstance(data, dict) or not isinstance(data.get("number"), int):
            raise ValueError("not a pull request")
        head = data.get("head") or {}
        base = data.get("base") or {}
        merged_at = data.get("merged_at")

        def sha(value: Any) -> str | None:
            # These go to git as arguments: only a full commit id passes, never an option or a revision.
            text = str(value or "").lower()
            return text if re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", text) else None

        return MergedPull(
            number=int(data["number"]),
            state=str(data.get("state") or ""),
            merged_at=str(merged_at) if merged_at else None,
            merge_commit_sha=sha(data.get("merge_commit_sha")),
            head_sha=(sha(head.get("sha")) or "") if isinstance(head, dict) else "",
            base_ref=str(base.get("ref") or "") if isinstance(base, dict) else "",
            updated_at=str(data.get("updated_at") or ""),
        )

    def pulls_of_commit(self, repo: str, sha: str) -> list[MergedPull]:
        """Pull requests GitHub associates with a commit (``GET /repos/{repo}/commits/{sha}/pulls``).

        For a commit on the default branch these are the pull requests that
        merged it, whatever its message says; open ones that merely contain it
        are listed too, so callers keep the merged ones.
        """
        if not re.fullmatch(r"[0-9a-fA-F]{7,64}", sha):
            raise CommitledgerError(f"not a commit sha: {_one_line(sha, 80)!r}")
        what = f"listing the pull requests of commit {sha[:12]} in {repo}"
        data = self._json(self.request("GET", f"repos/{repo}/commits/{sha}/pulls?per_page=100", what=what), what)
        if not isinstance(data, list):
            raise self._error(f"GitHub answered {what} with an unexpected JSON shape")
        try:
            return [self._merged_pull(item) for item in data]
        except (ValueError, TypeError, AttributeError):
            raise self._error(f"GitHub answered {what} with an unexpected JSON shape") from None

    def merge_settings(self, repo: str) -> MergeSettings:
        """The repository's merge settings: do squash merges keep the commits' messages?"""
        what = f"reading the settings of {repo}"
        data = self._json(self.request("GET", f"repos/{repo}", what=what), what)
        if not isinstance(data, dict):
            raise self._error(f"GitHub answered {what} with an unexpected JSON shape")

        def flag(key: str) -> bool | None:
            value = data.get(key)
            return value if isinstance(value, bool) else None

        def word(key: str) -> str | None:
            value = data.get(key)
            return value if isinstance(value, str) and re.fullmatch(r"[A-Z_]{1,40}", value) else None

        return MergeSettings(
            allow_squash_merge=flag("allow_squash_merge"),
            allow_merge_commit=flag("allow_merge_commit"),
            allow_rebase_merge=flag("allow_rebase_merge"),
            squash_merge_commit_title=word("squash_merge_commit_title"),
            squash_merge_commit_message=word("squash_merge_commit_message"),
            default_branch=str(data.get("default_branch") or ""),
        )

    def merged_pulls(self, repo: str, base: str, since: str | None) -> list[MergedPull]:
        """Pull requests into ``base`` merged at or after ``since`` (ISO time; None: all), newest update first.

        ``GET /pulls?state=closed&sort=updated`` pages newest first, so the
        walk stops at the first page whose pull requests were all last
        updated before ``since`` (a PR merged after ``since`` was updated
        after it too).
        """
        what = f"listing the closed pull requests of {repo}"
        path = f"repos/{repo}/pulls?state=closed&base={quote(base, safe='')}&sort=updated&direction=desc&per_page=100"
        out: list[MergedPull] = []
        for status, data in self._pages(path, what):
            try:
                page = [self._merged_pull(item) for item in data]
            except (ValueError, TypeError, AttributeError):
                raise self._error(f"GitHub answered {what} with an unexpected JSON shape", status) from None
            out.extend(p for p in page if p.merged_at and (since is None or p.merged_at >= since))
            if since is not None and page and all(p.updated_at and p.updated_at < since for p in page):
                break
        return out


def _shut(response: Any) -> None:
    """Wake a worker blocked on this response's socket (closing alone does not interrupt a read)."""
    connection = getattr(getattr(response, "raw", None), "connection", None)
    sock = getattr(connection, "sock", None)
    if sock is None:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


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
