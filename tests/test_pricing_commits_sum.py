"""A commit's trailers, summed over commits, equal one whole read of the logs, per model."""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

from capture_helpers import totals, window
from commitledger.capture.claude_code import ClaudeCodeReader
from commitledger.capture.codex import CodexReader
from commitledger.ledger.pricing import load_prices
from conftest import commit_file, git, run_cli

SESSION = "0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"
ROLLOUT = "019a2222-3333-7444-8555-666677778888"


def _claude_rows(cwd: str, turn: int) -> list[dict[str, Any]]:
    """One response streamed as three rows; every third one an opus-4-8 fast request, every fourth an advisor."""
    model = ("claude-sonnet-4-6", "claude-opus-4-8", "claude-haiku-5-5")[turn % 3]
    stamp = f"2026-11-20T10:{turn:02d}:00.000Z"
    usage: dict[str, Any] = {"input_tokens": 10 + turn, "cache_creation_input_tokens": 500 * turn,
                             "cache_read_input_tokens": 20_000 + 37_000 * turn,
                             "cache_creation": {"ephemeral_5m_input_tokens": 400 * turn,
                                                "ephemeral_1h_input_tokens": 100 * turn}}  # fmt: skip
    if model == "claude-opus-4-8":
        usage["speed"] = "fast"
    rows = []
    for i, out in enumerate((1, 1, 100 + 50 * turn)):
        u = {**usage, "output_tokens": out}
        if i == 2 and turn % 4 == 0:
            u["iterations"] = [{"type": "advisor_message", "model": "claude-opus-4-8", "input_tokens": 9_000,
                                "output_tokens": 200}]  # fmt: skip
        rows.append({"parentUuid": f"u{turn}-{i - 1}", "isSidechain": False, "userType": "external", "cwd": cwd,
                     "sessionId": SESSION, "version": "2.3.1", "type": "assistant", "requestId": f"req_{turn}",
                     "message": {"model": model, "id": f"msg_01T{turn:04d}", "type": "message", "role": "assistant",
                                 "content": [{"type": "text", "text": "ok"}], "stop_reason": None, "usage": u},
                     "uuid": f"u{turn}-{i}", "timestamp": stamp})  # fmt: skip
    return rows


def _codex_lines(cwd: str, turn: int, total: list[int]) -> list[str]:
    model = ("gpt-5.4", "gpt-5.5")[turn % 2]
    last = [100_000 + 60_000 * turn, 50_000 + 20_000 * turn, 300 + turn]
    total[:] = [a + b for a, b in zip(total, last)]
    names = ("input_tokens", "cached_input_tokens", "output_tokens")
    stamp = f"2026-11-20T11:{turn:02d}:00.000Z"
    ctx = {"cwd": cwd, "model": model, "service_tier": "priority" if turn % 3 == 0 else "default"}
    count = {"type": "token_count", "info": {"total_token_usage": dict(zip(names, total)),
                                             "last_token_usage": dict(zip(names, last))}}  # fmt: skip
    return [json.dumps({"timestamp": stamp, "type": "turn_context", "payload": ctx}) + "\n",
            json.dumps({"timestamp": stamp, "type": "event_msg", "payload": count}) + "\n"]


def _trailer_sums(repo: Path) -> dict[tuple[str, str], list[float]]:
    out: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0.0])
    for line in git(repo, "log", "--format=%B").splitlines():
        if not line.startswith("AI-Usage:"):
            continue
        f = dict(p.split("=", 1) for p in line.split()[1:])
        row = out[(f["agent"], f["model"])]
        for i, key in enumerate(("requests", "input", "output", "cache_read", "cache_write")):
            row[i] += int(f[key])
        row[5] += float(f["cost_usd"])
    return out


def test_trailers_over_commits_equal_one_whole_read_per_model(repo: Path, tmp_path: Path) -> None:
    env = {**os.environ, "CLAUDE_CONFIG_DIR": str(tmp_path / "claude"), "CODEX_HOME": str(tmp_path / "codex")}
    early = {**env, "GIT_COMMITTER_DATE": "2026-11-01T00:00:00Z", "GIT_AUTHOR_DATE": "2026-11-01T00:00:00Z"}
    commit_file(repo, "README.md", "x\n", "Initial commit", env=early)
    assert run_cli("install", cwd=repo).returncode == 0
    cwd = str(repo.resolve())
    transcript = tmp_path / "claude" / "projects" / "".join(c if c.isalnum() else "-" for c in cwd) / f"{SESSION}.jsonl"
    transcript.parent.mkdir(parents=True)
    rollout = tmp_path / "codex" / "sessions" / "2026" / "11" / "20" / f"rollout-2026-11-20T11-00-00-{ROLLOUT}.jsonl"
    rollout.parent.mkdir(parents=True)
    rollout.write_text(json.dumps({"timestamp": "2026-11-20T11:00:00.000Z", "type": "session_meta",
                                   "payload": {"id": ROLLOUT, "cwd": cwd, "source": "cli"}}) + "\n", encoding="utf-8")
    total = [0, 0, 0]
    for step in range(4):
        with open(transcript, "a", encoding="utf-8") as fh:
            for turn in range(step * 3, step * 3 + 3):
                rows = _claude_rows(cwd, turn)
                # The last response of a step has only its first rows before the commit: its final row
                # lands after the commit, and the next commit adds only the growth.
                for row in rows if turn != step * 3 + 2 else rows[:2]:
                    fh.write(json.dumps(row, separators=(",", ":")) + "\n")
            if step:
                fh.write(json.dumps(_claude_rows(cwd, step * 3 - 1)[2], separators=(",", ":")) + "\n")
        with open(rollout, "a", encoding="utf-8") as fh:
            fh.writelines(_codex_lines(cwd, step * 2, total) + _codex_lines(cwd, step * 2 + 1, total))
        commit_file(repo, f"f{step}.txt", str(step), f"Step {step}", env=env)
    with open(transcript, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(_claude_rows(cwd, 11)[2], separators=(",", ":")) + "\n")
    commit_file(repo, "last.txt", "z", "Last", env=env)

    table = load_prices()
    whole = {("claude-code", m): t for m, t in totals(window(ClaudeCodeReader().read(transcript, 0, {}).events), table).items()}
    whole |= {("codex", m): t for m, t in totals(window(CodexReader().read(rollout, 0, {}).events), table).items()}
    sums = _trailer_sums(repo)
    assert set(sums) == set(whole)
    for key, t in whole.items():
        got = sums[key]
        assert [int(v) for v in got[:5]] == [t.requests, t.input, t.output, t.cache_read, t.cache_write], key
        # Each trailer rounds to 4 places.
        assert abs(got[5] - t.cost_usd) <= 0.00005 * 6, key
