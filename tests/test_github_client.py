"""The REST client against a real HTTP server on loopback: pages, writes, retries, refusals."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator

import pytest

from commitledger.errors import CommitledgerError
from commitledger.render.marker import parse_marker as parse
from commitledger.github.client import GitHubClient, GitHubError, RetryPolicy, resolve_bot_login, validate_repo
from commitledger.github.comment import Plan, comparable, find_ours, head_is_newer, plan, publish
from conftest import commit_file, git
from fake_github import BOT, FakeGitHub

REPO = "octo/widgets"
TOKEN = "ghs_SECRETtokenVALUE0123456789"
FAST = RetryPolicy(attempts=4, base_delay=1.0, max_delay=60.0, max_total_wait=300.0, scale=0.001)


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with FakeGitHub() as server:
        server.add_token(TOKEN)
        server.add_pull(REPO, 7, head="a" * 40)
        yield server


def client(gh: FakeGitHub, **kw: object) -> GitHubClient:
    return GitHubClient(TOKEN, api_url=gh.url, retry=kw.pop("retry", FAST), **kw)  # type: ignore[arg-type]


def marker(head: str, valid_at: str = "2026-11-20T10:00:00Z") -> str:
    return f"<!-- commitledger:v1 head={head} valid-at={valid_at} -->"


def test_lists_all_pages_by_link_header(gh: FakeGitHub) -> None:
    for i in range(250):
        gh.add_comment(REPO, 7, f"comment {i}", login="someone")
    comments = client(gh).list_comments(REPO, 7)
    assert [c.body for c in comments] == [f"comment {i}" for i in range(250)]
    lists = [r for r in gh.requests if r.method == "GET" and "/comments" in r.path]
    assert len(lists) == 3
    assert "per_page=100" in lists[0].path and "page=3" in lists[2].path


def test_create_then_update(gh: FakeGitHub) -> None:
    c = client(gh)
    created = c.create_comment(REPO, 7, "hello")
    updated = c.update_comment(REPO, created.id, "hello again")
    assert updated.id == created.id
    assert [x["body"] for x in gh.comments_of(REPO, 7)] == ["hello again"]
    assert all(r.authorization == f"Bearer {TOKEN}" for r in gh.requests)


def test_rate_limited_403_waits_for_reset(gh: FakeGitHub) -> None:
    reset = str(int(time.time()) + 2)
    gh.fault("GET", f"/repos/{REPO}/issues/7/comments", 403,
             {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset},
             '{"message": "API rate limit exceeded"}')
    slept: list[float] = []
    c = client(gh, sleep=lambda s: (slept.append(s), time.sleep(s)))
    assert c.list_comments(REPO, 7) == []
    assert len(slept) == 1 and 0.001 <= slept[0] <= 0.004  # (2..3 s + 1 s) scaled by 0.001


def test_rate_limit_reset_beyond_cap_fails_fast(gh: FakeGitHub) -> None:
    gh.fault("GET", f"/repos/{REPO}/issues/7/comments", 403,
             {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(time.time()) + 3600)})
    started = time.monotonic()
    with pytest.raises(GitHubError, match="limit"):
        client(gh).list_comments(REPO, 7)
    assert time.monotonic() - started < 2


def test_429_honours_retry_after(gh: FakeGitHub) -> None:
    gh.fault("POST", f"/repos/{REPO}/issues/7/comments", 429, {"Retry-After": "7"})
    slept: list[float] = []
    created = client(gh, sleep=slept.append).create_comment(REPO, 7, "x")
    assert created.body == "x"
    assert slept == [pytest.approx(0.007)]


def test_retry_after_as_http_date(gh: FakeGitHub) -> None:
    from email.utils import formatdate

    gh.fault("GET", f"/repos/{REPO}/pulls/7", 429, {"Retry-After": formatdate(time.time() + 5, usegmt=True)})
    slept: list[float] = []
    assert client(gh, sleep=slept.append).get_pull(REPO, 7).number == 7
    assert len(slept) == 1 and 0.003 <= slept[0] <= 0.006


def test_secondary_rate_limit_403_without_headers_is_retried(gh: FakeGitHub) -> None:
    gh.fault("GET", f"/repos/{REPO}/issues/7/comments", 403, body='{"message": "You have exceeded a secondary rate limit"}')
    slept: list[float] = []
    assert client(gh, sleep=slept.append).list_comments(REPO, 7) == []
    assert slept == [pytest.approx(0.06)]


def test_502_then_success(gh: FakeGitHub) -> None:
    gh.fault("PATCH", f"/repos/{REPO}/issues/comments/1001", 502, body="<html>bad gateway</html>", times=2)
    gh.add_comment(REPO, 7, "old")
    slept: list[float] = []
    updated = client(gh, sleep=slept.append).update_comment(REPO, 1001, "new")
    assert updated.body == "new"
    assert slept == [pytest.approx(0.001), pytest.approx(0.002)]  # exponential backoff


def test_5xx_forever_gives_up_with_one_line(gh: FakeGitHub) -> None:
    gh.fault("GET", f"/repos/{REPO}/pulls/7", 503, times=10)
    with pytest.raises(GitHubError) as err:
        client(gh).get_pull(REPO, 7)
    assert "HTTP 503" in str(err.value) and "4 attempts" in str(err.value) and "\n" not in str(err.value)


def test_malformed_json_is_one_line_error(gh: FakeGitHub) -> None:
    gh.fault("GET", f"/repos/{REPO}/issues/7/comments", 200, body='[{"id": 1, "body": ')
    with pytest.raises(GitHubError, match="malformed JSON"):
        client(gh).list_comments(REPO, 7)


def test_unknown_pr_is_404(gh: FakeGitHub) -> None:
    with pytest.raises(GitHubError) as err:
        client(gh).list_comments(REPO, 999)
    assert err.value.status == 404 and "octo/widgets#999" in str(err.value)


def test_read_only_token_gets_permission_hint(gh: FakeGitHub) -> None:
    gh.add_token("ghs_readonly", write=False)
    c = GitHubClient("ghs_readonly", api_url=gh.url, retry=FAST)
    with pytest.raises(GitHubError) as err:
        c.create_comment(REPO, 7, "x")
    assert err.value.status == 403 and "pull-requests: write" in str(err.value)


def test_bad_token_401(gh: FakeGitHub) -> None:
    c = GitHubClient("nope-not-a-token", api_url=gh.url, retry=FAST)
    with pytest.raises(GitHubError) as err:
        c.list_comments(REPO, 7)
    assert err.value.status == 401 and "nope-not-a-token" not in str(err.value)


def test_token_never_in_errors_even_when_server_echoes_it(gh: FakeGitHub) -> None:
    gh.fault("GET", f"/repos/{REPO}/pulls/7", 422, body='{"message": "bad token ' + TOKEN + '"}')
    with pytest.raises(GitHubError) as err:
        client(gh).get_pull(REPO, 7)
    assert TOKEN not in str(err.value) and "***" in str(err.value)


def test_link_to_another_host_is_refused(gh: FakeGitHub) -> None:
    gh.fault("GET", f"/repos/{REPO}/issues/7/comments", 200, {"Link": '<http://127.0.0.2:1/steal?page=2>; rel="next"'},
             body="[]")
    with pytest.raises(GitHubError, match="another host"):
        client(gh).list_comments(REPO, 7)
    assert len(gh.requests) == 1


def test_hung_server_times_out_reads_retry_writes_do_not(gh: FakeGitHub) -> None:
    gh.fault("GET", f"/repos/{REPO}/issues/7/comments", 200, body="[]", delay=1.0)
    c = client(gh, timeout=(0.3, 0.3))
    started = time.monotonic()
    assert c.list_comments(REPO, 7) == []  # the first read timed out, the retry answered
    assert time.monotonic() - started < 1.0
    gh.fault("POST", f"/repos/{REPO}/issues/7/comments", 201, body="{}", delay=1.0)
    with pytest.raises(GitHubError, match="did not answer"):
        c.create_comment(REPO, 7, "x")  # a write that may have landed is never sent twice
    assert len([r for r in gh.requests if r.method == "POST"]) == 1


def test_connection_refused_on_read_is_retried_then_one_line() -> None:
    c = GitHubClient(TOKEN, api_url="http://127.0.0.1:9", retry=FAST, timeout=(0.5, 0.5))
    with pytest.raises(GitHubError) as err:
        c.list_comments(REPO, 7)
    assert "4 attempts" in str(err.value) and TOKEN not in str(err.value)


def test_enterprise_server_api_url(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeGitHub(prefix="/api/v3") as ghes:
        ghes.add_token(TOKEN)
        ghes.add_pull(REPO, 7, head="a" * 40)
        for i in range(130):
            ghes.add_comment(REPO, 7, f"c{i}")
        monkeypatch.setenv("GITHUB_API_URL", ghes.url + "/")
        c = GitHubClient(TOKEN, retry=FAST)
        assert c.api_url == ghes.url and ghes.url.endswith("/api/v3")
        assert len(c.list_comments(REPO, 7)) == 130
        assert c.get_pull(REPO, 7).head_sha == "a" * 40
        assert all(r.path.startswith("/api/v3/repos/") for r in ghes.requests)
        assert len(ghes.requests) == 3


def test_bot_login_falls_back_for_actions_token(gh: FakeGitHub) -> None:
    assert resolve_bot_login(client(gh), None) == BOT
    gh.add_token("ghp_personal", login="octocat", installation=False)
    assert resolve_bot_login(GitHubClient("ghp_personal", api_url=gh.url, retry=FAST), "") == "octocat"
    assert resolve_bot_login(client(gh), "my-app[bot]") == "my-app[bot]"


def test_validate_repo() -> None:
    assert validate_repo("a/b") == "a/b"
    for bad in ("a", "a/b/c", "../x", "a/b?x=1", None):
        with pytest.raises(CommitledgerError):
            validate_repo(bad)


def test_find_ours_only_same_bot_with_marker(gh: FakeGitHub) -> None:
    gh.add_comment(REPO, 7, marker("a" * 40), login="mallory")
    gh.add_comment(REPO, 7, "no marker here")
    mine = gh.add_comment(REPO, 7, "intro\n" + marker("b" * 40))
    ours = find_ours(client(gh).list_comments(REPO, 7), "GitHub-Actions[bot]", parse)
    assert [o.comment.id for o in ours] == [mine["id"]]


def test_comparable_ignores_valid_at() -> None:
    a = marker("a" * 40, "2026-11-20T10:00:00Z") + "\nbody"
    b = marker("a" * 40, "2026-11-21T11:00:00Z") + "\nbody"
    assert comparable(a) == comparable(b)
    assert comparable(a) != comparable(b + "!")


def test_newer_head_decided_by_git(repo: Path) -> None:
    old = commit_file(repo, "a.txt", "1", "one")
    new = commit_file(repo, "a.txt", "2", "two")
    assert head_is_newer(repo, new, old) is True
    assert head_is_newer(repo, old, new) is False
    assert head_is_newer(repo, new, new) is False
    git(repo, "checkout", "-q", "-b", "side", old)
    side = commit_file(repo, "b.txt", "3", "three")
    # diverged (a force-push): valid-at decides
    assert head_is_newer(repo, side, new, "2026-11-21T00:00:00Z", "2026-11-20T00:00:00Z") is True
    assert head_is_newer(repo, side, new, "2026-11-19T00:00:00Z", "2026-11-20T00:00:00Z") is False


def test_unknown_commit_uses_valid_at(repo: Path) -> None:
    ours = commit_file(repo, "a.txt", "1", "one")
    gone = "f" * 40
    assert head_is_newer(repo, gone, ours, "2026-11-21T00:00:00Z", "2026-11-20T00:00:00Z") is True
    assert head_is_newer(repo, gone, ours, "2026-11-19T00:00:00Z", "2026-11-20T00:00:00Z") is False
    assert head_is_newer(repo, gone, ours, None, "2026-11-20T00:00:00Z") is False


def test_publish_update_skip_create_and_newer(gh: FakeGitHub, repo: Path) -> None:
    old = commit_file(repo, "a.txt", "1", "one")
    new = commit_file(repo, "a.txt", "2", "two")
    c = client(gh)

    def run(head: str, body: str, mode: str = "update") -> str:
        ours = find_ours(c.list_comments(REPO, 7), BOT, parse)
        return publish(c, REPO, 7, body, mode=mode, the_plan=plan(ours, repo, head)).action

    assert run(old, marker(old) + "\nfirst") == "created"
    assert run(old, marker(old, "2026-11-22T00:00:00Z") + "\nfirst") == "unchanged"
    assert run(new, marker(new) + "\nsecond") == "updated"
    assert len(gh.comments_of(REPO, 7)) == 1 and gh.comments_of(REPO, 7)[0]["body"].endswith("second")
    writes = len(gh.writes())
    assert run(old, marker(old) + "\nstale") == "newer-exists"
    assert len(gh.writes()) == writes and gh.comments_of(REPO, 7)[0]["body"].endswith("second")
    assert run(new, marker(new) + "\nthird", mode="new") == "created"
    assert len(gh.comments_of(REPO, 7)) == 2
    assert publish(c, REPO, 7, "x", mode="off", the_plan=Plan(None)).action == "off"


def test_publish_refuses_oversized_body(gh: FakeGitHub, repo: Path) -> None:
    with pytest.raises(CommitledgerError, match="65536"):
        publish(client(gh), REPO, 7, "x" * 70000, mode="update", the_plan=Plan(None))
    assert gh.writes() == []
