"""``commitledger github post`` and ``mark-reverted`` as a user runs them, against the loopback server."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest

from commitledger.errors import CommitledgerError
from commitledger.github.comment import add_reverted_line, reverted_line
from conftest import commit_file, git, run_cli
from fake_github import BOT, FakeGitHub

REPO = "octo/widgets"
TOKEN = "ghs_CliTOKENvalue4242424242"
USAGE = ("AI-Usage: agent=codex model=gpt-5-codex sessions=1 prompts=1 requests=6 tool_calls=5 "
         "input={inp} output=2210 cache_read=0 cache_write=0 cost_usd={cost}")


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with FakeGitHub() as server:
        server.add_token(TOKEN)
        yield server


def env_for(gh: FakeGitHub, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    env.update({"GITHUB_API_URL": gh.url, "GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": REPO,
                "COMMITLEDGER_RETRY_SCALE": "0.001", "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"})
    env.update(extra)
    return env


def result_file(repo: Path, base: str, head: str, out: Path) -> Path:
    proc = run_cli("pr", "--base", base, "--head", head, "--format", "json", "--output", str(out), cwd=repo)
    assert proc.returncode == 0, proc.stderr
    return out


def test_post_creates_and_never_prints_token(repo: Path, tmp_path: Path, gh: FakeGitHub) -> None:
    base = commit_file(repo, "a.py", "x = 1\n", "base")
    head = commit_file(repo, "a.py", "x = 2\n", "change\n\n" + USAGE.format(inp=100, cost="0.2000"))
    gh.add_pull(REPO, 3, head=head, base=base)
    result = result_file(repo, base, head, tmp_path / "r.json")
    proc = run_cli("github", "post", "--result", str(result), "--pr", "3", cwd=repo, env=env_for(gh))
    assert proc.returncode == 0, proc.stderr
    assert "created" in proc.stdout
    [comment] = gh.comments_of(REPO, 3)
    assert comment["user"]["login"] == BOT and comment["body"].startswith("<!-- commitledger:v1")
    assert TOKEN not in proc.stdout + proc.stderr
    helped = run_cli("github", "post", "--help", cwd=repo, env=env_for(gh))
    assert TOKEN not in helped.stdout and "--token" in helped.stdout


def test_expected_head_refuses_a_moved_pr(repo: Path, tmp_path: Path, gh: FakeGitHub) -> None:
    base = commit_file(repo, "a.py", "x = 1\n", "base")
    head = commit_file(repo, "a.py", "x = 2\n", "change")
    gh.add_pull(REPO, 3, head="f" * 40, base=base)
    result = result_file(repo, base, head, tmp_path / "r.json")
    proc = run_cli("github", "post", "--result", str(result), "--pr", "3", "--expected-head", head, cwd=repo,
                   env=env_for(gh))
    assert proc.returncode == 3 and "not posting" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert gh.writes() == []
    gh.set_head(REPO, 3, head)
    ok = run_cli("github", "post", "--result", str(result), "--pr", "3", "--expected-head", head, cwd=repo,
                 env=env_for(gh))
    assert ok.returncode == 0, ok.stderr
    assert len(gh.comments_of(REPO, 3)) == 1


def test_discarded_work_carried_across_force_push(repo: Path, tmp_path: Path, gh: FakeGitHub) -> None:
    base = commit_file(repo, "a.py", "x = 1\n", "base")
    git(repo, "checkout", "-q", "-b", "feature")
    kept = commit_file(repo, "a.py", "x = 2\n", "kept\n\n" + USAGE.format(inp=100, cost="0.4000"))
    dropped = commit_file(repo, "b.py", "y = 1\n", "dropped\n\n" + USAGE.format(inp=200, cost="0.9000"))
    gh.add_pull(REPO, 4, head=dropped, base=base)
    first = result_file(repo, base, dropped, tmp_path / "1.json")
    assert run_cli("github", "post", "--result", str(first), "--pr", "4", cwd=repo, env=env_for(gh)).returncode == 0
    git(repo, "reset", "-q", "--hard", kept)  # force-push: the second commit is gone
    replacement = commit_file(repo, "c.py", "z = 1\n", "replacement")
    gh.set_head(REPO, 4, replacement)
    second = result_file(repo, base, replacement, tmp_path / "2.json")
    proc = run_cli("github", "post", "--result", str(second), "--pr", "4", cwd=repo, env=env_for(gh))
    assert proc.returncode == 0, proc.stderr
    [comment] = gh.comments_of(REPO, 4)
    assert f"head={replacement}" in comment["body"]
    assert "0.90 of discarded work" in comment["body"]


def test_bad_inputs_are_one_line(repo: Path, tmp_path: Path, gh: FakeGitHub) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "commitledger.pr/1"}', encoding="utf-8")
    proc = run_cli("github", "post", "--result", str(bad), "--pr", "1", cwd=repo, env=env_for(gh))
    assert proc.returncode == 2 and "commitledger.pr/1" in proc.stderr and len(proc.stderr.splitlines()) == 1
    bad.write_text("{not json", encoding="utf-8")
    proc = run_cli("github", "post", "--result", str(bad), "--pr", "1", cwd=repo, env=env_for(gh))
    assert proc.returncode == 2 and "not JSON" in proc.stderr
    missing = run_cli("github", "post", "--result", str(tmp_path / "nope.json"), "--pr", "1", cwd=repo, env=env_for(gh))
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    assert gh.requests == []


def test_unknown_pr_and_missing_token(repo: Path, tmp_path: Path, gh: FakeGitHub) -> None:
    base = commit_file(repo, "a.py", "x = 1\n", "base")
    head = commit_file(repo, "a.py", "x = 2\n", "change")
    result = result_file(repo, base, head, tmp_path / "r.json")
    proc = run_cli("github", "post", "--result", str(result), "--pr", "99", cwd=repo, env=env_for(gh))
    assert proc.returncode == 2 and "404" in proc.stderr and "octo/widgets#99" in proc.stderr
    env = env_for(gh)
    del env["GITHUB_TOKEN"]
    proc = run_cli("github", "post", "--result", str(result), "--pr", "99", cwd=repo, env=env)
    assert proc.returncode == 2 and "no GitHub token" in proc.stderr
    proc = run_cli("github", "post", "--result", str(result), "--pr", "99", "--repo", "not-a-repo", cwd=repo,
                   env=env_for(gh))
    assert proc.returncode == 2 and "owner/name" in proc.stderr


def test_mark_reverted_is_idempotent(repo: Path, gh: FakeGitHub) -> None:
    gh.add_pull(REPO, 8, head="a" * 40, state="closed", merged=True)
    gh.add_comment(REPO, 8, f"<!-- commitledger:v1 head={'a' * 40} valid-at=2026-11-20T10:00:00Z -->\n### report")
    args = ("github", "mark-reverted", "--pr", "8", "--by", "b" * 40, "--at", "2026-11-23T09:00:00Z",
            "--ai-cost-usd", "4.21")
    first = run_cli(*args, cwd=repo, env=env_for(gh))
    assert first.returncode == 0, first.stderr
    body = gh.comments_of(REPO, 8)[0]["body"]
    assert "**Reverted** by `bbbbbbbbbbbb` on 2026-11-23" in body and "$4.21 of AI spend undone" in body
    assert body.index("Reverted") < body.index("### report")
    second = run_cli(*args, cwd=repo, env=env_for(gh))
    assert second.returncode == 0 and "nothing changed" in second.stdout
    assert gh.comments_of(REPO, 8)[0]["body"] == body and len(gh.writes()) == 1


def test_mark_reverted_without_our_comment(repo: Path, gh: FakeGitHub) -> None:
    gh.add_pull(REPO, 9, head="a" * 40)
    gh.add_comment(REPO, 9, f"<!-- commitledger:v1 head={'a' * 40} -->", login="mallory")
    proc = run_cli("github", "mark-reverted", "--pr", "9", "--by", "b" * 40, "--at", "2026-11-23T09:00:00Z",
                   cwd=repo, env=env_for(gh))
    assert proc.returncode == 0 and "no commitledger comment" in proc.stdout and gh.writes() == []


def test_reverted_line_takes_only_shas() -> None:
    with pytest.raises(CommitledgerError):
        reverted_line("[x](http://evil)", "2026-11-23T09:00:00Z", 1.0)
    assert "unknown" in reverted_line("a" * 40, "2026-11-23T09:00:00Z", None)
    once = add_reverted_line("no marker", "c" * 40, "2026-11-23T09:00:00Z", 1.0)
    assert once is not None and once.endswith("no marker")
    assert add_reverted_line(once, "c" * 40, "2026-11-23T09:00:00Z", 1.0) is None


def test_comment_when_ai_only(repo: Path, tmp_path: Path, gh: FakeGitHub) -> None:
    (repo / "pyproject.toml").write_text('[tool.commitledger]\ncomment_when = "ai-only"\n', encoding="utf-8")
    base = commit_file(repo, "a.py", "x = 1\n", "base")
    human = commit_file(repo, "a.py", "x = 2\n", "human change")
    gh.add_pull(REPO, 5, head=human, base=base)
    result = result_file(repo, base, human, tmp_path / "human.json")
    proc = run_cli("github", "post", "--result", str(result), "--pr", "5", cwd=repo, env=env_for(gh))
    assert proc.returncode == 0, proc.stderr
    assert "no AI-assisted commit" in proc.stdout
    assert gh.comments_of(REPO, 5) == []
    # the flag wins over the file
    forced = run_cli("github", "post", "--result", str(result), "--pr", "5", "--comment-when", "always", cwd=repo,
                     env=env_for(gh))
    assert forced.returncode == 0 and len(gh.comments_of(REPO, 5)) == 1
    # an AI-assisted PR is commented under ai-only
    ai = commit_file(repo, "a.py", "x = 3\n", "ai change\n\n" + USAGE.format(inp=10, cost="0.0100"))
    gh.add_pull(REPO, 6, head=ai, base=human)
    ai_result = result_file(repo, human, ai, tmp_path / "ai.json")
    posted = run_cli("github", "post", "--result", str(ai_result), "--pr", "6", cwd=repo, env=env_for(gh))
    assert posted.returncode == 0 and "created" in posted.stdout
    assert len(gh.comments_of(REPO, 6)) == 1
