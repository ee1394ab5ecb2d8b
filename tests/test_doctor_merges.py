"""``doctor`` on the record after the merge: are notes fetched and pushed, does the squash setting drop lines."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterator

import pytest

from conftest import commit_file, git, run_cli
from fake_github import FakeGitHub
from test_action_entry import REPO, TOKEN

NOTES = "refs/notes/commitledger"


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with FakeGitHub() as server:
        server.add_token(TOKEN)
        yield server


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", str(origin), str(work))
    commit_file(work, "a.txt", "1\n", "One")
    git(work, "push", "-q", "origin", "main")
    return work


def doctor(work: Path, gh: FakeGitHub | None) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    if gh is not None:
        env.update({"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": gh.url, "GITHUB_REPOSITORY": REPO,
                    "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1", "COMMITLEDGER_RETRY_SCALE": "0.001"})
    proc = run_cli("doctor", cwd=work, env=env)
    assert proc.returncode == 0, proc.stderr
    assert TOKEN not in proc.stdout + proc.stderr
    return proc.stdout


def test_doctor_says_notes_are_neither_fetched_nor_pushed(clone: Path) -> None:
    out = doctor(clone, None)
    assert "fetched by git fetch: no" in out and f"git config --add remote.origin.fetch '+{NOTES}:{NOTES}'" in out
    assert "on origin: none yet" in out
    assert "squash merges:" not in out  # no token: GitHub is not asked

    git(clone, "config", "--add", "remote.origin.fetch", f"+{NOTES}:{NOTES}")
    git(clone, "notes", "--ref=commitledger", "add", "-m", json.dumps({"schema": "commitledger.note/1"}), "HEAD")
    git(clone, "push", "-q", "origin", NOTES)
    out = doctor(clone, None)
    assert "fetched by git fetch: yes" in out and "on origin: yes, same as here" in out

    git(clone, "notes", "--ref=commitledger", "add", "-f", "-m", json.dumps({"schema": "commitledger.note/1",
                                                                            "change": {"pr": 1}}), "HEAD")
    assert f"notes written here are not pushed: git push origin {NOTES}" in doctor(clone, None)


@pytest.mark.parametrize(("message", "expected"), [
    ("BLANK", "\u201cPull request title\u201d, which drops the commits' AI-Usage lines"),
    ("PR_BODY", "\u201cPull request title and description\u201d, which drops the commits' AI-Usage lines"),
    ("COMMIT_MESSAGES", "AI-Usage lines survive"),
    (None, "GitHub did not show this token the squash settings"),
])
def test_doctor_reads_the_squash_setting(clone: Path, gh: FakeGitHub, message: str | None, expected: str) -> None:
    fields = {} if message is None else {"allow_squash_merge": True, "squash_merge_commit_title": "PR_TITLE",
                                         "squash_merge_commit_message": message}
    gh.set_settings(REPO, **fields)
    out = doctor(clone, gh)
    assert f"  {REPO}: " in out and expected in out
    if message in ("BLANK", "PR_BODY"):
        assert "commitledger backfill" in out  # what commitledger does about it, in the same line


def test_doctor_squash_off_and_github_refusing(clone: Path, gh: FakeGitHub) -> None:
    gh.set_settings(REPO, allow_squash_merge=False, squash_merge_commit_message="BLANK")
    assert "squash merging is off" in doctor(clone, gh)
    gh.settings.clear()  # 404: the token cannot see the repository
    out = doctor(clone, gh)
    assert "GitHub found nothing" in out and "Traceback" not in out
