"""Issue 14 through the real pre-commit framework: a config that lists only ``id: commitledger``.

Without the post-commit hook nothing marks usage recorded right after the
commit; the next prepare-commit-msg finds the landed commit and does it, so
each request is written once, and every commit with usage says (once) that
post-commit is missing.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from conftest import AGENT_LOGS, git, run_cli
from test_hook_precommit import PRE_COMMIT, pre_commit_home, project_snapshot, pytestmark  # noqa: F401
from test_hostile_hook import claude_row, requests_in


def test_prepare_commit_msg_only_records_each_request_once(
    tmp_path: Path, project_snapshot: tuple[Path, str], pre_commit_home: Path  # noqa: F811
) -> None:
    repo = (tmp_path / "work")
    repo.mkdir()
    repo = repo.resolve()
    git(repo, "init", "-q", "-b", "main")
    project, sha = project_snapshot
    (repo / ".pre-commit-config.yaml").write_text(
        "default_install_hook_types: [prepare-commit-msg]\n"
        "repos:\n"
        f"- repo: {project}\n"
        f"  rev: {sha}\n"
        "  hooks: [{id: commitledger, verbose: true}]\n",
        encoding="utf-8",
    )
    claude = tmp_path / "claude"
    encoded = "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in str(repo))
    transcript = claude / "projects" / encoded / "s.jsonl"
    transcript.parent.mkdir(parents=True)
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(pre_commit_home),
        "CLAUDE_CONFIG_DIR": str(claude),
        "CODEX_HOME": str(tmp_path / "none"),
        "COMMITLEDGER_PRICES": str(AGENT_LOGS / "pricing" / "litellm-subset.json"),
    }
    proc = subprocess.run([str(PRE_COMMIT), "install"], cwd=repo, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    git(repo, "add", ".pre-commit-config.yaml", env=env)
    git(repo, "commit", "-q", "-m", "init", env=env)
    for i in range(2):
        with open(transcript, "a", encoding="utf-8") as handle:
            handle.write(claude_row(repo, f"pc_{i}", 10 + i))
        (repo / f"f{i}.txt").write_text("x\n", encoding="utf-8")
        git(repo, "add", f"f{i}.txt", env=env)
        proc = subprocess.run(["git", "commit", "-m", f"change {i}"], cwd=repo, env=env, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        output = proc.stdout + proc.stderr
        assert output.count("post-commit hook is not installed") == 1, output
    messages = git(repo, "log", "--format=%B%x00", env=env).split("\x00")
    assert sum(requests_in(m) for m in messages) == 2
    doctor = run_cli("doctor", cwd=repo, env=env)
    assert doctor.returncode == 0, doctor.stderr
    assert "post-commit did not finish for 2 commit(s)" in doctor.stdout
    assert "window: 0 pending events" in doctor.stdout
