"""Shared test plumbing: real git repositories in temp dirs and the real CLI.

Every test runs with its own HOME and git config, so nothing on the machine
(the developer's own ~/.claude, global git hooks, a signing key) leaks in.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Agent-log fixtures in each agent's real format, with their expected totals in the README there.
FIXTURES = Path(__file__).resolve().parent / "fixtures"
AGENT_LOGS = FIXTURES / "agent-logs"


def git(repo: Path, *args: str, env: dict[str, str] | None = None, check: bool = True) -> str:
    """Run git in ``repo`` and return its stdout (stripped)."""
    proc = subprocess.run(
        ["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=False
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout.strip()


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The real command line, in a subprocess, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "commitledger", *args],
        cwd=cwd,
        env=env if env is not None else os.environ.copy(),
        capture_output=True,
        text=True,
        input=input,
        check=False,
    )


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private HOME and git config for every test."""
    home = tmp_path_factory.mktemp("home")
    gitconfig = home / ".gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = Test User\n\temail = test@example.com\n"
        "[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "GEMINI_HOME", "GIT_DIR", "GIT_WORK_TREE", "COMMITLEDGER_PRICES",
                "GITHUB_TOKEN", "GITHUB_API_URL", "GITHUB_EVENT_PATH", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PRE_COMMIT_HOME", str(home / ".cache" / "pre-commit"))
    # genai-prices' compact table is built once per test session, not once per HOME.
    monkeypatch.setenv("COMMITLEDGER_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "price-cache"))
    yield home


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An empty git repository (branch ``main``, no commits)."""
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    return path


def commit_file(repo: Path, name: str, content: str, message: str, *, env: dict[str, str] | None = None) -> str:
    """Write a file, commit it, return the new commit's sha."""
    target = repo / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content, encoding="utf-8")
    git(repo, "add", name, env=env)
    git(repo, "commit", "-q", "-m", message, env=env)
    return git(repo, "rev-parse", "HEAD")


FIXTURE_PROJECT = "-home-alice-src-acme-web"


def file_claude_sessions_under(claude_root: Path, repo: Path) -> Path:
    """Move the copied Claude fixtures to the project folder Claude Code would use for ``repo``.

    Claude Code names a session's folder after its launch directory (every
    non-alphanumeric becomes '-'), and commitledger reads only the folders that
    can hold a worktree's usage. The old name stays as a symlink, so tests can
    keep addressing the fixture paths; the readers never follow it.
    """
    projects = claude_root / "projects"
    encoded = "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in str(repo))
    target = projects / encoded
    (projects / FIXTURE_PROJECT).rename(target)
    (projects / FIXTURE_PROJECT).symlink_to(target.name, target_is_directory=True)
    return target
