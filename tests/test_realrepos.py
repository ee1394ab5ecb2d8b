"""Issue 9, "true on real repositories": one test per class of defect, on repositories built in the
shapes the real ones had (an agent-heavy history, bots, a partial clone, a damaged mirror, a 2023-2026
history, a merge of hundreds of commits)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from commitledger.ledger.pathkinds import path_kind
from commitledger.ledger.trailers import marker_details
from conftest import git, run_cli

T0 = datetime(2024, 3, 4, 9, 0, tzinfo=timezone.utc)
CLAUDE = "Co-Authored-By: Claude Opus 4.6 <noreply@anthropic.com>"


class Builder:
    """Real commits at controlled times and authors."""

    def __init__(self, path: Path, start: datetime = T0) -> None:
        self.path = path
        self.now = start
        self.n = 0

    def env(self, author: tuple[str, str] | None = None, step: timedelta = timedelta(hours=1)) -> dict[str, str]:
        env = os.environ.copy()
        stamp = f"{int(self.now.timestamp())} +0000"
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = stamp
        if author is not None:
            env["GIT_AUTHOR_NAME"], env["GIT_AUTHOR_EMAIL"] = author
        self.now += step
        return env

    def commit(self, message: str, files: dict[str, str] | None = None, author: tuple[str, str] | None = None,
               step: timedelta = timedelta(hours=1)) -> str:
        self.n += 1
        for name, text in (files or {f"src/f{self.n}.py": f"x{self.n} = {self.n}\n"}).items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        env = self.env(author, step)
        git(self.path, "add", "-A", env=env)
        git(self.path, "commit", "-q", "--allow-empty", "-m", message, env=env)
        return git(self.path, "rev-parse", "HEAD")

    def revert(self, sha: str, *extra: str) -> str:
        git(self.path, "revert", "--no-edit", *extra, sha, env=self.env())
        return git(self.path, "rev-parse", "HEAD")


def history(path: Path, *args: str) -> dict:
    proc = run_cli("history", "--format", "json", "--since", "all", *args, cwd=path)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def by_commit(data: dict) -> dict[str, dict]:
    return {c["commit"]: c for c in data["changes"]}


# --- 1. git failures are reported, never counted -------------------------------------------------


def _three_versions(b: Builder) -> list[str]:
    """a.py in three versions: the middle commit's diff needs two blobs that are not at HEAD."""
    shas = [b.commit("Add a", {"a.py": "v1\nline\n"})]
    shas.append(b.commit(f"Change a\n\n{CLAUDE}", {"a.py": "v2\nline\nmore\n"}))
    shas.append(b.commit(f"Change a again\n\n{CLAUDE}", {"a.py": "v3\nline\nmore\n"}))
    shas.append(b.commit(f"Add b\n\n{CLAUDE}", {"b.py": "b = 1\nc = 2\n"}))  # needs only a blob HEAD holds
    return shas


def test_partial_clone_lines_git_cannot_count_are_null_warned_and_not_cached(tmp_path: Path, repo: Path) -> None:
    shas = _three_versions(Builder(repo))
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(bare))
    git(bare, "config", "uploadpack.allowFilter", "true")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--filter=blob:none", bare.as_uri(), str(clone))
    git(clone, "remote", "set-url", "origin", (tmp_path / "gone.git").as_uri())  # the promisor is unreachable
    for attempt in range(2):  # the second run must not read a cached zero or a cached null
        proc = run_cli("history", "--format", "json", "--since", "all", cwd=clone)
        assert proc.returncode == 0, proc.stderr
        data = json.loads(proc.stdout)
        changes = by_commit(data)
        middle = changes[shas[1]]
        assert middle["lines_changed"] is None and middle["source_lines"] is None
        assert "from promisor remote" in middle["lines_error"] and re.search(r"[0-9a-f]{40}", middle["lines_error"])
        assert changes[shas[3]]["lines_changed"] == 2  # one unreadable object costs its commits only
        assert data["summary"]["lines_uncounted"] >= 1
        assert any(shas[1] in w for w in data["warnings"])
        assert f"warning: lines of {shas[1]} not counted" in proc.stderr
    assert data["summary"]["tokens_per_changed_line"] is None


def _loose_object_path(repo: Path, oid: str) -> Path:
    return repo / ".git" / "objects" / oid[:2] / oid[2:]


def test_deleted_object_history_and_pr(repo: Path) -> None:
    b = Builder(repo)
    shas = _three_versions(b)
    b.commit(f"Add image\n\n{CLAUDE}", {"logo.bin": "\x00\x01binary\x00" * 20, "src/ok.py": "def f():\n    return 1\n"})
    v1 = git(repo, "rev-parse", f"{shas[0]}:a.py")
    _loose_object_path(repo, v1).unlink()
    data = history(repo)
    changes = by_commit(data)
    assert changes[shas[1]]["lines_changed"] is None and changes[shas[1]]["lines_error"]
    assert changes[shas[2]]["lines_changed"] == 2  # one unreadable object costs its commit only
    assert any(shas[1] in w for w in data["warnings"])
    # pr over a range whose diff needs a blob that is gone: the file is listed unscored, the run goes on
    logo = git(repo, "rev-parse", "HEAD:logo.bin")
    _loose_object_path(repo, logo).unlink()
    proc = run_cli("pr", "--base", shas[0], "--head", "HEAD", "--format", "json", "--baseline-days", "0", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    rows = {f["path"]: f for f in result["maintainability"]["files"]}
    assert rows["logo.bin"]["status"] == "unscored" and "unreadable blob" in rows["logo.bin"]["reason"]
    assert rows["src/ok.py"]["status"] == "added"
    assert "logo.bin not read" in proc.stderr
