"""After the pull request: pushes to the default branch (notes, reverts reach the PR) and abandoned PRs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pytest

from conftest import commit_file, git
from fake_github import FakeGitHub
from test_action_entry import REPO, TOKEN, assert_no_token, parse_outputs, pr_event, run_entry, usage_line

NOTES = "refs/notes/commitledger"


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with FakeGitHub() as server:
        server.add_token(TOKEN)
        yield server


@pytest.fixture
def cloned(tmp_path: Path) -> dict[str, Path]:
    """A bare origin and a full clone of it, as actions/checkout with fetch-depth: 0 leaves it."""
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", str(origin), str(work))
    return {"origin": origin, "work": work}


def note_of(origin: Path, commit: str) -> dict[str, Any]:
    return json.loads(git(origin, "notes", f"--ref={NOTES}", "show", commit))


def push_event(before: str, after: str) -> dict[str, Any]:
    return {"ref": "refs/heads/main", "before": before, "after": after,
            "repository": {"full_name": REPO, "default_branch": "main"}}


def test_push_notes_and_marks_reverted_pr(tmp_path: Path, gh: FakeGitHub, cloned: dict[str, Path]) -> None:
    work, origin = cloned["work"], cloned["origin"]
    commit_file(work, "src/app.py", "def f():\n    return 1\n", "Base")
    squash = commit_file(work, "src/app.py", "def f():\n    return 2\n",
                         f"Make f return 2 (#12)\n\n{usage_line('3.5000')}")
    git(work, "push", "-q", "origin", "main")
    gh.add_pull(REPO, 12, head="a" * 40, state="closed", merged=True)
    gh.add_comment(REPO, 12, f"<!-- commitledger:v1 head={'a' * 40} valid-at=2026-11-20T10:00:00Z -->\n### report")

    git(work, "revert", "--no-edit", squash)
    revert = git(work, "rev-parse", "HEAD")
    git(work, "push", "-q", "origin", "main")

    proc, summary, outputs, _ = run_entry(tmp_path / "run1", work, gh, "push", push_event(squash, revert))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    body = gh.comments_of(REPO, 12)[0]["body"]
    assert f"**Reverted** by `{revert[:12]}`" in body and "$3.50 of AI spend undone" in body
    assert "change" in note_of(origin, revert)  # noted and pushed
    assert set(parse_outputs(outputs)) == {"cost-usd", "tokens", "tests-failed", "debt-signals"}
    assert "#12 reverted" in summary.read_text()
    assert_no_token(proc.stdout, proc.stderr, summary.read_text())

    # The same push delivered twice: nothing is added twice.
    again, *_ = run_entry(tmp_path / "run2", work, gh, "push", push_event(squash, revert))
    assert again.returncode == 0, again.stdout + again.stderr
    assert gh.comments_of(REPO, 12)[0]["body"] == body
    assert [w.method for w in gh.writes()] == ["PATCH"]


def test_push_to_other_branch_does_nothing(tmp_path: Path, gh: FakeGitHub, cloned: dict[str, Path]) -> None:
    work = cloned["work"]
    sha = commit_file(work, "a.txt", "1", "one")
    event = {**push_event("0" * 40, sha), "ref": "refs/heads/topic"}
    proc, *_ = run_entry(tmp_path / "r", work, gh, "push", event)
    assert proc.returncode == 0 and "not the default branch" in proc.stdout and gh.requests == []


def test_closed_without_merge_records_spend_with_discarded_work(
    tmp_path: Path, gh: FakeGitHub, cloned: dict[str, Path]
) -> None:
    work, origin = cloned["work"], cloned["origin"]
    base = commit_file(work, "src/app.py", "def f():\n    return 1\n", "Base")
    git(work, "push", "-q", "origin", "main")
    git(work, "checkout", "-q", "-b", "feature")
    kept = commit_file(work, "src/app.py", "def f():\n    return 2\n", f"Try f\n\n{usage_line('1.0000')}")
    dropped = commit_file(work, "src/b.py", "x = 1\n", f"Try b\n\n{usage_line('2.0000')}")
    gh.add_pull(REPO, 5, head=dropped, base=base)
    first, *_ = run_entry(tmp_path / "pr", work, gh, "pull_request", pr_event(base, dropped))
    assert first.returncode == 0, first.stdout + first.stderr

    git(work, "reset", "-q", "--hard", kept)  # force-pushed away, then the PR is closed unmerged
    gh.set_head(REPO, 5, kept)
    git(work, "checkout", "-q", "main")
    closed, summary, outputs, _ = run_entry(tmp_path / "closed", work, gh, "pull_request",
                                            pr_event(base, kept, action="closed", merged=False))
    assert closed.returncode == 0, closed.stdout + closed.stderr
    note = note_of(origin, base)
    [entry] = note["abandoned"]
    assert entry["pr"] == 5 and entry["cost_usd"] == pytest.approx(3.0)
    assert parse_outputs(outputs)["cost-usd"] == "3.0000"
    assert "closed without merge" in summary.read_text()
    assert [w.method for w in gh.writes()] == ["POST"]  # recording never edits the comment


def test_closed_after_merge_is_left_to_the_push(tmp_path: Path, gh: FakeGitHub, cloned: dict[str, Path]) -> None:
    work = cloned["work"]
    sha = commit_file(work, "a.txt", "1", "one")
    proc, summary, *_ = run_entry(tmp_path / "r", work, gh, "pull_request",
                                  pr_event(sha, sha, action="closed", merged=True))
    assert proc.returncode == 0 and gh.requests == [] and "merged" in summary.read_text()


def test_closed_pr_head_fetched_from_pull_ref(tmp_path: Path, gh: FakeGitHub, cloned: dict[str, Path]) -> None:
    """A closed PR's commits are not on any branch of the checkout: the action fetches refs/pull/N/head."""
    work, origin = cloned["work"], cloned["origin"]
    base = commit_file(work, "a.py", "x = 1\n", "Base")
    git(work, "push", "-q", "origin", "main")
    author = tmp_path / "author"
    git(tmp_path, "clone", "-q", str(origin), str(author))
    head = commit_file(author, "a.py", "x = 2\n", f"Abandoned idea\n\n{usage_line('0.7500')}")
    git(author, "push", "-q", "origin", f"{head}:refs/pull/9/head")  # what GitHub keeps for every PR
    assert git(work, "cat-file", "-e", f"{head}^{{commit}}", check=False) == ""
    event = pr_event(base, head, action="closed", merged=False)
    event["number"] = event["pull_request"]["number"] = 9
    gh.add_pull(REPO, 9, head=head, base=base, state="closed")
    proc, *_ = run_entry(tmp_path / "r", work, gh, "pull_request", event)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [entry] = note_of(origin, base)["abandoned"]
    assert entry["pr"] == 9 and entry["cost_usd"] == pytest.approx(0.75)


def test_notes_push_retries_after_a_concurrent_writer(tmp_path: Path, gh: FakeGitHub, cloned: dict[str, Path]) -> None:
    """Another job pushed notes between our fetch and our push: fetch theirs, write ours again, push."""
    work, origin = cloned["work"], cloned["origin"]
    first = commit_file(work, "a.txt", "1", "one")
    second = commit_file(work, "a.txt", "2", "two")
    git(work, "push", "-q", "origin", "main")
    # The other writer's note, pushed from a hook the moment our first notes push arrives (then ours is refused).
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(origin), str(other))
    hook = origin / "hooks" / "pre-receive"
    marker = tmp_path / "raced"
    hook.write_text(
        "#!/bin/sh\n"
        f'if [ ! -e "{marker}" ]; then touch "{marker}"; '
        f'cd "{other}" && unset GIT_DIR GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES && '
        f'git notes --ref=commitledger add -m \'{{"schema": "commitledger.note/1", "abandoned": []}}\' {first} && '
        f'git push -q origin refs/notes/commitledger; exit 1; fi\n',
        encoding="utf-8",
    )
    hook.chmod(0o755)
    proc, *_ = run_entry(tmp_path / "r", work, gh, "push", push_event(first, second))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert marker.exists()
    assert note_of(origin, first)["schema"] == "commitledger.note/1"  # theirs survived
    assert "change" in note_of(origin, second)  # ours landed on the retry
