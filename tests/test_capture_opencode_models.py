"""OpenCode spells one Claude model two ways; after normalisation it is one AI-Usage line."""

from __future__ import annotations

import json
import os
from pathlib import Path

from conftest import git, run_cli

SESSION = "ses_7b2e1d3f4aabDotAndDash01"


def _message(storage: Path, mid: str, model: str, provider: str, cwd: str, created: int) -> None:
    data = {
        "id": mid, "sessionID": SESSION, "role": "assistant", "modelID": model, "providerID": provider,
        "mode": "build", "path": {"cwd": cwd, "root": cwd}, "cost": 0,
        "time": {"created": created, "completed": created + 4000},
        "tokens": {"input": 1200, "output": 300, "reasoning": 0, "cache": {"read": 20_000, "write": 500}},
    }  # fmt: skip
    target = storage / "message" / SESSION / f"{mid}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(data, indent=2), encoding="utf-8")


def test_dotted_and_dashed_claude_ids_make_one_line(repo: Path, tmp_path: Path) -> None:
    xdg = tmp_path / "xdg"
    storage = xdg / "opencode" / "storage"
    session = storage / "session" / "9c0d1e2f3a4b" / f"{SESSION}.json"
    session.parent.mkdir(parents=True)
    session.write_text(json.dumps({"id": SESSION, "version": "1.0.12", "projectID": "9c0d1e2f3a4b",
                                   "directory": str(repo), "time": {"created": 1795600000000}}), encoding="utf-8")
    _message(storage, "msg_b20000000001Assistant01", "claude-sonnet-4.5", "github-copilot", str(repo), 1795600001000)
    _message(storage, "msg_b20000000002Assistant02", "claude-sonnet-4-5", "anthropic", str(repo), 1795600060000)
    git(repo, "commit", "--allow-empty", "-m", "root",
        env={**os.environ, "GIT_COMMITTER_DATE": "2026-11-01T00:00:00Z", "GIT_AUTHOR_DATE": "2026-11-01T00:00:00Z"})
    proc = run_cli("usage", "--json", cwd=repo, env={**os.environ, "XDG_DATA_HOME": str(xdg)})
    assert proc.returncode == 0, proc.stderr
    records = json.loads(proc.stdout)["records"]
    assert [(r["agent"], r["model"], r["requests"], r["input"]) for r in records] == [
        ("opencode", "claude-sonnet-4-5", 2, 2400)
    ]
    assert records[0]["cost_usd"] is not None
