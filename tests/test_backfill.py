"""``commitledger backfill``: PRs merged before the Action ran get their usage notes, once."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from commitledger.github.backfill import repo_from_remote
from conftest import commit_file, git, run_cli
from fake_github import FakeGitHub
from test_action_entry import PR, REPO, TOKEN, usage_line
from test_merge_methods import NOTES, history_of_fresh_clone, pr_state  # noqa: F401  (the module's PR)


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with FakeGitHub() as server:
        server.add_token(TOKEN)
        yield server


def cli_env(gh: FakeGitHub) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    env.update({"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": gh.url, "COMMITLEDGER_RETRY_SCALE": "0.001",
                "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"})
    return env


@pytest.fixture
def past(tmp_path: Path, gh: FakeGitHub, pr_state: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    """History from before the Action: #5 squashed under "Pull request title", #6 squashed keeping its line,
    #8 merged with its head ref gone, #9 merged long ago, #7 closed without merging."""
    origin = tmp_path / "origin.git"
    shutil.copytree(pr_state["origin"], origin)
    merger = tmp_path / "merger"
    git(tmp_path, "clone", "-q", str(origin), str(merger))
    git(merger, "merge", "-q", "--squash", "origin/feature")
    git(merger, "commit", "-q", "-m", f"Add widgets (#{PR})")
    five = git(merger, "rev-parse", "HEAD")
    git(merger, "checkout", "-q", "-b", "tweak")
    tweak = commit_file(merger, "src/t.py", "T = 1\n", f"Tweak\n\n{usage_line('0.3000', 2001)}")
    git(merger, "push", "-q", "origin", f"{tweak}:refs/pull/6/head")
    git(merger, "checkout", "-q", "main")
    git(merger, "merge", "-q", "--squash", "tweak")
    git(merger, "commit", "-q", "-m", f"Tweak (#6)\n\n{usage_line('0.3000', 2001)}")
    six = git(merger, "rev-parse", "HEAD")
    eight = commit_file(merger, "docs.md", "docs\n", "Docs (#8)")
    git(merger, "push", "-q", "origin", "main")
    gh.add_pull(REPO, PR, head=pr_state["head"], base=pr_state["base"], merge_commit_sha=five,
                merged_at="2026-06-01T10:00:00Z", updated_at="2026-06-01T10:00:00Z")
    gh.add_comment(REPO, PR, pr_state["comment"])
    gh.add_pull(REPO, 6, head=tweak, merge_commit_sha=six, merged_at="2026-06-02T10:00:00Z",
                updated_at="2026-06-02T10:00:00Z")
    gh.add_pull(REPO, 7, head=tweak, state="closed", updated_at="2026-06-03T10:00:00Z")
    gh.add_pull(REPO, 8, head="8" * 40, merge_commit_sha=eight, merged_at="2026-06-04T10:00:00Z",
                updated_at="2026-06-04T10:00:00Z")
    gh.add_pull(REPO, 9, head=tweak, merge_commit_sha=pr_state["base"], merged_at="2020-01-01T00:00:00Z",
                updated_at="2020-01-01T00:00:00Z")
    gh.set_settings(REPO, allow_squash_merge=True, squash_merge_commit_title="PR_TITLE",
                    squash_merge_commit_message="BLANK")
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", str(origin), str(work))
    return {"origin": origin, "work": work, "five": five, "six": six}


def test_backfill_recovers_past_prs_once(tmp_path: Path, gh: FakeGitHub, pr_state: dict[str, Any],  # noqa: F811
                                         past: dict[str, Any]) -> None:
    # A rate limit on the listing is waited out, not fatal.
    gh.fault("GET", f"/repos/{REPO}/pulls", 403, headers={"x-ratelimit-remaining": "0",
                                                          "x-ratelimit-reset": str(int(time.time()) + 2)})
    proc = run_cli("backfill", "--since", "2026-01-01", "--repo", REPO, cwd=past["work"], env=cli_env(gh))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "merged pull requests in the window: 3" in out  # 5, 6 and 8; not the unmerged 7 nor 2020's 9
    assert "notes written: 1 ($4.15 recovered" in out and f"#{PR} on {past['five'][:12]}: $4.15" in out
    assert "nothing to add): 1" in out  # #6 kept its line
    assert "no refs/pull/N/head on the remote: #8" in out
    assert "notes pushed" in out
    assert TOKEN not in proc.stdout + proc.stderr
    assert not [r for r in gh.faults.values() if r]  # the fault was met and waited out

    data = history_of_fresh_clone(tmp_path, past["origin"])
    assert data["summary"]["cost_usd"] == pytest.approx(pr_state["cost"] + 0.30)
    by_commit = {c["commit"]: c for c in data["changes"]}
    assert by_commit[past["five"]]["usage_source"] == "notes"
    assert by_commit[past["six"]]["usage_source"] == "trailers"

    before = git(past["origin"], "rev-parse", NOTES)
    again = run_cli("backfill", "--since", "all", "--repo", REPO, cwd=past["work"], env=cli_env(gh))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "notes written" not in again.stdout and "already recorded: 1" in again.stdout
    assert git(past["origin"], "rev-parse", NOTES) == before  # nothing written, nothing pushed


def test_backfill_keeps_local_notes_and_merges_the_remotes(tmp_path: Path, gh: FakeGitHub,
                                                            past: dict[str, Any]) -> None:
    """A note written in this clone and never pushed survives the fetch of the remote's notes, and theirs arrive."""
    work = past["work"]
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(past["origin"]), str(other))
    git(other, "notes", "--ref=commitledger", "add", "-m",
        json.dumps({"schema": "commitledger.note/1", "change": {"pr": 5}}), past["five"])
    git(other, "push", "-q", "origin", NOTES)
    git(work, "notes", "--ref=commitledger", "add", "-m",
        json.dumps({"schema": "commitledger.note/1", "change": {"pr": 6}}), past["six"])
    proc = run_cli("backfill", "--since", "all", "--no-push", cwd=work, env={**cli_env(gh), "GITHUB_REPOSITORY": REPO})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "notes written: 1" in proc.stdout and "notes pushed" not in proc.stdout
    assert json.loads(git(work, "notes", "--ref=commitledger", "show", past["six"]))["change"] == {"pr": 6}
    theirs = json.loads(git(work, "notes", "--ref=commitledger", "show", past["five"]))
    assert theirs["change"] == {"pr": 5} and theirs["usage"]["pr"] == PR  # merged into one note
    pushed = git(other, "rev-parse", NOTES)
    assert git(past["origin"], "rev-parse", NOTES) == pushed  # --no-push: the remote is as the other clone left it


def test_backfill_needs_a_token_and_a_repository(tmp_path: Path, gh: FakeGitHub, past: dict[str, Any]) -> None:
    env = {k: v for k, v in cli_env(gh).items() if k != "GITHUB_TOKEN"}
    proc = run_cli("backfill", cwd=past["work"], env=env)
    assert proc.returncode != 0 and "GITHUB_TOKEN" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_cli("backfill", cwd=past["work"], env=cli_env(gh))  # the remote is a path: no owner/name in it
    assert proc.returncode != 0 and "--repo owner/name" in proc.stderr


@pytest.mark.parametrize(("url", "repo"), [
    ("https://github.com/octo/widgets.git", "octo/widgets"),
    ("https://x-access-token@github.com/octo/widgets", "octo/widgets"),
    ("git@github.com:octo/widgets.git", "octo/widgets"),
    ("ssh://git@github.example.com/octo/wid.gets.git", "octo/wid.gets"),
    ("/tmp/origin.git", None),
    ("https://github.com/octo", None),
])
def test_repo_from_remote(url: str, repo: str | None) -> None:
    assert repo_from_remote(url) == repo
