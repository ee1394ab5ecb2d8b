"""History on hostile git states: a commit dated past year 9999 is shown at the bound, never a crash."""

from __future__ import annotations

import json
import os
from pathlib import Path

from conftest import git, run_cli


def test_commit_dated_after_year_9999(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    repo.mkdir()
    git(repo, "init", "-q")
    git(repo, "commit", "-q", "--allow-empty", "-m", "one")
    far = {**os.environ, "GIT_COMMITTER_DATE": "@253402300900 +0000", "GIT_AUTHOR_DATE": "@253402300900 +0000"}
    git(repo, "commit", "-q", "--allow-empty", "-m", "far future", env=far)
    for fmt in ("table", "csv"):
        proc = run_cli("history", "--since", "all", "--format", fmt, cwd=repo)
        assert proc.returncode == 0, proc.stderr
        assert "internal error" not in proc.stderr
    proc = run_cli("history", "--since", "all", "--format", "json", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert [c["merged_at"][:4] for c in data["changes"]] == ["9999", data["changes"][1]["merged_at"][:4]]
    proc = run_cli("report", "--html", str(tmp_path / "r.html"), "--since", "all", cwd=repo)
    assert proc.returncode == 0, proc.stderr
