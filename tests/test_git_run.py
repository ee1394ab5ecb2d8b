"""The one git runner: statuses are checked, failures carry git's first stderr line."""

from __future__ import annotations

from pathlib import Path

import pytest

from commitledger.errors import CommitledgerError
from commitledger.git.run import GitError, commit_exists, is_ancestor, lines, output, run, stream
from conftest import git, run_cli


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "r"
    path.mkdir()
    git(path, "init", "-q")
    git(path, "commit", "-q", "--allow-empty", "-m", "one")
    git(path, "commit", "-q", "--allow-empty", "-m", "two")
    return path


def test_failure_is_our_error_with_gits_first_stderr_line(repo: Path) -> None:
    with pytest.raises(GitError) as caught:
        run(repo, "rev-parse", "--verify", "no-such-ref^{commit}")
    assert isinstance(caught.value, CommitledgerError)
    message = str(caught.value)
    assert message.startswith("git rev-parse failed: fatal:")
    assert "\n" not in message
    assert caught.value.returncode == 128


def test_expected_statuses_are_answers(repo: Path) -> None:
    head = output(repo, "rev-parse", "HEAD")
    first = output(repo, "rev-parse", "HEAD~1")
    assert commit_exists(repo, head)
    assert not commit_exists(repo, "0" * 40)
    assert not commit_exists(repo, "not hex")
    assert is_ancestor(repo, first, head)
    assert not is_ancestor(repo, head, first)
    with pytest.raises(GitError):  # an unknown commit is an error, not a "no"
        is_ancestor(repo, "0" * 40, head)


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(GitError, match="not a git repository"):
        run(tmp_path, "log")


def test_stream_checks_the_status_at_the_end(repo: Path) -> None:
    assert [line.split()[-1] for line in lines(repo, "log", "--format=%H %s")] == ["two", "one"]
    with pytest.raises(GitError, match="git log failed: fatal:"):
        list(lines(repo, "log", "no-such-ref", "--"))


def test_stream_stopped_early_is_not_a_failure(repo: Path) -> None:
    with stream(repo, "log", "--format=%H", text=True) as proc:
        assert proc.stdout is not None
        proc.stdout.readline()
        proc.stop()


def test_history_reports_a_git_failure_in_one_line(repo: Path) -> None:
    """A missing object makes git log fail: history says so in one line, it does not count zeros."""
    head = output(repo, "rev-parse", "HEAD")
    tree = output(repo, "rev-parse", "HEAD^{tree}")
    obj = repo / ".git" / "objects" / head[:2] / head[2:]
    assert obj.exists(), "the test needs loose objects"
    obj.unlink()
    proc = run_cli("history", "--since", "all", cwd=repo)
    assert proc.returncode != 0
    assert proc.stderr.startswith("commitledger: ")
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert tree  # the tree is still there; only the commit went
