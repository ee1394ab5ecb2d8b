"""``record`` prices the totals request by request, and invents no request count."""

from __future__ import annotations

from pathlib import Path

from conftest import commit_file, git, run_cli


def _line(repo: Path) -> str:
    return next(line for line in git(repo, "log", "-1", "--format=%B").splitlines() if line.startswith("AI-Usage:"))


def test_record_splits_totals_into_requests_for_the_tier(repo: Path) -> None:
    assert run_cli("install", cwd=repo).returncode == 0
    commit_file(repo, "a.txt", "a", "First")
    args = ("record", "--agent", "claude-code", "--model", "claude-sonnet-4-5", "--input", "50000", "--output", "8000",
            "--cache-read", "400000")  # fmt: skip
    assert run_cli(*args, "--requests", "10", cwd=repo).returncode == 0
    commit_file(repo, "b.txt", "b", "Second")
    line = _line(repo)
    # Ten requests of 45k prompt each, all at the base rate: 50000*3 + 8000*15 + 400000*0.3 per million.
    assert "requests=10" in line and "cost_usd=0.3900" in line, line
    # Without --requests: the standard tier, and no requests key (a missing field means unknown).
    assert run_cli(*args, cwd=repo).returncode == 0
    commit_file(repo, "c.txt", "c", "Third")
    line = _line(repo)
    assert "requests=" not in line and "cost_usd=0.3900" in line, line
