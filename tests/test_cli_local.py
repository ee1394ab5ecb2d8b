"""install/uninstall (core.hooksPath, foreign hooks), plain-hook commits, record validation."""

from __future__ import annotations

from pathlib import Path

from conftest import commit_file, git, run_cli


def test_install_respects_hooks_path_and_foreign_hooks(repo: Path) -> None:
    hooks = repo / "my-hooks"
    hooks.mkdir()
    git(repo, "config", "core.hooksPath", "my-hooks")
    foreign = hooks / "post-commit"
    foreign.write_text("#!/bin/sh\necho theirs\n")
    foreign.chmod(0o755)
    proc = run_cli("install", cwd=repo)
    assert proc.returncode != 0 and "post-commit" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not (hooks / "prepare-commit-msg").exists()
    proc = run_cli("install", "--force", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    assert "commitledger-hook" in (hooks / "prepare-commit-msg").read_text()
    assert (hooks / "post-commit.commitledger-backup").read_text() == "#!/bin/sh\necho theirs\n"
    assert not (repo / ".git" / "hooks" / "prepare-commit-msg").exists()
    # Plain hooks make commits that work (nothing pending: no trailer).
    commit_file(repo, "a.txt", "a", "First")
    assert git(repo, "log", "-1", "--format=%B") == "First"
    proc = run_cli("uninstall", cwd=repo)
    assert proc.returncode == 0
    assert not (hooks / "prepare-commit-msg").exists()
    assert foreign.read_text() == "#!/bin/sh\necho theirs\n"


def test_plain_hooks_record_manual_usage_and_warn_once_on_failure(repo: Path) -> None:
    assert run_cli("install", cwd=repo).returncode == 0
    commit_file(repo, "a.txt", "a", "First")
    proc = run_cli("record", "--agent", "cursor", "--model", "gpt-5", "--input", "10", "--output", "5", "--cost-usd", "0.01", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    commit_file(repo, "b.txt", "b", "Second")
    message = git(repo, "log", "-1", "--format=%B")
    assert "AI-Usage: agent=cursor model=gpt-5 input=10 output=5 cache_read=0 cache_write=0 cost_usd=0.0100" in message
    commit_file(repo, "c.txt", "c", "Third")
    assert git(repo, "log", "-1", "--format=%B") == "Third"
    shown = run_cli("show", "HEAD~1", "--json", cwd=repo)
    assert '"agent": "cursor"' in shown.stdout


def test_record_rejects_bad_numbers_in_one_line(repo: Path) -> None:
    for args in (["--input", "-1", "--output", "2"], ["--input", "x", "--output", "2"],
                 ["--input", "1", "--output", "2", "--cost-usd", "-0.5"], ["--input", "1", "--output", "2", "--requests", "0"]):  # fmt: skip
        proc = run_cli("record", "--agent", "cursor", "--model", "m", *args, cwd=repo)
        assert proc.returncode == 2
        assert len(proc.stderr.strip().splitlines()) == 1 and proc.stderr.startswith("commitledger: --")


def test_doctor_reports_logs_bad_lines_hooks_and_prices(repo: Path, tmp_path: Path) -> None:
    import os
    import shutil

    from conftest import AGENT_LOGS, file_claude_sessions_under

    shutil.copytree(AGENT_LOGS / "codex", tmp_path / "codex")
    shutil.copytree(AGENT_LOGS / "claude-code", tmp_path / "claude")
    file_claude_sessions_under(tmp_path / "claude", repo.resolve())
    assert run_cli("install", cwd=repo).returncode == 0
    env = {**os.environ, "CODEX_HOME": str(tmp_path / "codex"), "CLAUDE_CONFIG_DIR": str(tmp_path / "claude")}
    proc = run_cli("doctor", cwd=repo, env=env)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "claude-code: 4 files -" in out
    assert "codex: 2 files, 1 bad lines -" in out  # the crash-truncated line in the middle of the rollout
    assert "aider: 0 files - no logs (not configured)" in out
    assert "prepare-commit-msg: commitledger" in out and "post-commit: commitledger" in out
    assert "prices: genai-prices " in out and "newest price change " in out
    # The Codex fixture's subagent runs a model genai-prices does not list: doctor names it.
    assert "unpriced models in the logs" in out and "  codex gpt-5.2-codex-mini: 1 request" in out


def test_usage_json_matches_the_fixture_totals(repo: Path, tmp_path: Path) -> None:
    """`usage --json` over the Claude fixtures: the README's per-model table and distinct counts."""
    import json
    import os
    import shutil

    from conftest import AGENT_LOGS, file_claude_sessions_under

    config = tmp_path / "claude"
    shutil.copytree(AGENT_LOGS / "claude-code", config)
    for path in config.rglob("*.jsonl"):
        path.chmod(0o644)
        path.write_text(path.read_text(encoding="utf-8").replace("/home/alice/src/acme-web", str(repo.resolve())),
                        encoding="utf-8")
    file_claude_sessions_under(config, repo.resolve())
    env = {**os.environ, "CLAUDE_CONFIG_DIR": str(config),
           "COMMITLEDGER_PRICES": str(AGENT_LOGS / "pricing" / "litellm-subset.json")}
    proc = run_cli("usage", "--json", cwd=repo, env=env)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["schema"] == "commitledger.usage/1"
    by_model = {r["model"]: r for r in report["records"]}
    assert {m: (r["requests"], r["input"], r["output"], r["cache_write"], r["cache_read"]) for m, r in by_model.items()} == {
        "claude-sonnet-4-5": (4, 13, 759, 7770, 77140),
        "claude-haiku-4-5": (2, 6, 261, 2210, 21400),
        "claude-opus-4-1": (1, 9, 311, 24120, 0),
    }
    total = report["total"]
    assert (total["sessions"], total["prompts"], total["tool_calls"], total["requests"]) == (2, 3, 3, 7)
    assert abs(total["cost_usd"] - (0.065414 + 0.006214 + 0.475710)) < 5e-6
    # nothing was recorded: asking again gives the same answer
    again = json.loads(run_cli("usage", "--json", cwd=repo, env=env).stdout)
    assert again["total"] == total
