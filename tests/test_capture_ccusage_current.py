"""Today's models and billing features against ccusage 20.0.24, per model, on logs written here.

Where ccusage differs on purpose, the test says how and why:

- fast mode: ccusage files a ``speed: "fast"`` request under its own model
  name (``claude-opus-4-8-fast``); we keep one line per model and price the
  variant per request. Tokens are compared with the two summed.
- web searches: ccusage 20.0.24 does not charge ``server_tool_use.
  web_search_requests`` ($10 per 1,000); its cost is low by exactly that.
- spaced JSON (``"type": "assistant"``): ccusage drops such rows; we read them.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from capture_helpers import read_all, totals, window
from commitledger.capture.base import Env
from commitledger.capture.claude_code import ClaudeCodeReader
from commitledger.capture.codex import CodexReader
from commitledger.ledger.pricing import load_prices
from test_capture_ccusage import CCUSAGE, by_model, ccusage

pytestmark = pytest.mark.skipif(not CCUSAGE.exists(), reason="ccusage is not installed in .ci/node")

SESSION = "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b"


def _row(n: int, msg: str, model: str, usage: dict[str, Any], stamp: str) -> dict[str, Any]:
    return {
        "parentUuid": f"u-{n - 1}", "isSidechain": False, "userType": "external", "cwd": "/home/dev/app",
        "sessionId": SESSION, "version": "2.3.1", "gitBranch": "main", "type": "assistant", "requestId": "req_" + msg,
        "message": {"model": model, "id": msg, "type": "message", "role": "assistant",
                    "content": [{"type": "text", "text": "ok"}], "stop_reason": None, "usage": usage},
        "uuid": f"u-{n}", "timestamp": stamp,
    }  # fmt: skip


def _claude_log(config: Path, spaced: bool) -> None:
    advisor = {"input_tokens": 20, "cache_creation_input_tokens": 1000, "cache_read_input_tokens": 40_000,
               "cache_creation": {"ephemeral_5m_input_tokens": 1000, "ephemeral_1h_input_tokens": 0}}  # fmt: skip
    final = {**advisor, "output_tokens": 900, "iterations": [
        {"type": "message", "input_tokens": 10, "output_tokens": 400},
        {"type": "advisor_message", "model": "claude-opus-4-8", "input_tokens": 41_200, "output_tokens": 310,
         "cache_read_input_tokens": 5_000, "cache_creation_input_tokens": 0},
    ]}  # fmt: skip
    fast = {"input_tokens": 100, "cache_creation_input_tokens": 2_000, "cache_read_input_tokens": 30_000,
            "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 2_000},
            "output_tokens": 50, "speed": "fast", "server_tool_use": {"web_search_requests": 2}}  # fmt: skip
    rows = [
        _row(1, "msg_01ADV", "claude-sonnet-4-6", {**advisor, "output_tokens": 1}, "2026-11-20T10:00:00.000Z"),
        _row(2, "msg_01ADV", "claude-sonnet-4-6", final, "2026-11-20T10:00:04.000Z"),
        _row(3, "msg_01FST", "claude-opus-4-8", fast, "2026-11-20T10:01:00.000Z"),
        _row(4, "msg_01HKU", "claude-haiku-5-5", {"input_tokens": 5, "cache_read_input_tokens": 120_000,
                                                  "cache_creation_input_tokens": 0, "output_tokens": 700},
             "2026-11-20T10:02:00.000Z"),
    ]  # fmt: skip
    path = config / "projects" / "-home-dev-app" / f"{SESSION}.jsonl"
    path.parent.mkdir(parents=True)
    text = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows)
    if spaced:
        text += json.dumps(_row(5, "msg_01SPC", "claude-sonnet-4-6", {"input_tokens": 3, "output_tokens": 40},
                                "2026-11-20T10:03:00.000Z")) + "\n"
    path.write_text(text, encoding="utf-8")


def test_claude_current_models_match_ccusage_per_model(tmp_path: Path) -> None:
    config = tmp_path / "claude"
    _claude_log(config, spaced=False)
    theirs = by_model(ccusage(tmp_path / "home", "claude", "daily", "--breakdown", CLAUDE_CONFIG_DIR=str(config)))
    merged: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for name, row in theirs.items():
        for field, value in row.items():
            merged[name.removesuffix("-fast")][field] += value
    events, _ = read_all(ClaudeCodeReader(), Env(home=tmp_path / "home", environ={"CLAUDE_CONFIG_DIR": str(config)}))
    ours = totals(window(events), load_prices())
    assert set(ours) == set(merged) == {"claude-sonnet-4-6", "claude-opus-4-8", "claude-haiku-5-5"}
    for model, row in ours.items():
        other = merged[model]
        assert (row.input, row.output, row.cache_read, row.cache_write) == (
            other["inputTokens"], other["outputTokens"], other["cacheReadTokens"], other["cacheCreationTokens"],
        ), model  # fmt: skip
    # Same prices for the rest; ccusage leaves out the two web searches ($0.01 each).
    assert ours["claude-opus-4-8"].cost_usd == pytest.approx(merged["claude-opus-4-8"]["cost"] + 0.02, abs=1e-9)
    assert ours["claude-sonnet-4-6"].cost_usd == pytest.approx(merged["claude-sonnet-4-6"]["cost"], abs=1e-9)


def test_spaced_json_rows_are_dropped_by_ccusage_not_by_us(tmp_path: Path) -> None:
    config = tmp_path / "claude"
    _claude_log(config, spaced=True)
    theirs = by_model(ccusage(tmp_path / "home", "claude", "daily", "--breakdown", CLAUDE_CONFIG_DIR=str(config)))
    events, _ = read_all(ClaudeCodeReader(), Env(home=tmp_path / "home", environ={"CLAUDE_CONFIG_DIR": str(config)}))
    ours = totals(window(events), load_prices())
    assert ours["claude-sonnet-4-6"].output == theirs["claude-sonnet-4-6"]["outputTokens"] + 40


def _codex_line(stamp: str, kind: str, payload: dict[str, Any]) -> str:
    return json.dumps({"timestamp": stamp, "type": kind, "payload": payload}, separators=(",", ":")) + "\n"


def _tc(total: tuple[int, int, int], last: tuple[int, int, int]) -> dict[str, Any]:
    names = ("input_tokens", "cached_input_tokens", "output_tokens")
    return {"type": "token_count", "info": {"total_token_usage": dict(zip(names, total)),
                                            "last_token_usage": dict(zip(names, last))}}  # fmt: skip


def test_codex_current_models_and_fork_match_ccusage_per_model(tmp_path: Path) -> None:
    home = tmp_path / "codex"
    day = home / "sessions" / "2026" / "11" / "20"
    day.mkdir(parents=True)
    parent, child = "019a1111-2222-7333-8444-555566667777", "019a1111-9999-7aaa-8bbb-ccccddddeeee"
    meta = {"cwd": "/home/dev/app", "originator": "codex_cli_rs", "cli_version": "0.140.0", "source": "cli"}
    (day / f"rollout-2026-11-20T09-00-00-{parent}.jsonl").write_text(
        _codex_line("2026-11-20T09:00:00.000Z", "session_meta", {"id": parent, **meta})
        + _codex_line("2026-11-20T09:00:01.000Z", "turn_context", {"cwd": "/home/dev/app", "model": "gpt-5.4"})
        + _codex_line("2026-11-20T09:00:09.000Z", "event_msg", _tc((300_000, 100_000, 900), (300_000, 100_000, 900)))
        + _codex_line("2026-11-20T09:01:00.000Z", "event_msg", _tc((320_000, 110_000, 1_500), (20_000, 10_000, 600))),
        encoding="utf-8")  # fmt: skip
    fork = "2026-11-20T09:30:00.000Z"
    (day / f"rollout-2026-11-20T09-30-00-{child}.jsonl").write_text(
        _codex_line(fork, "session_meta", {"id": child, "forked_from_id": parent, **meta})
        + _codex_line(fork, "session_meta", {"id": parent, **meta})
        + _codex_line("2026-11-20T09:30:00.001Z", "turn_context", {"cwd": "/home/dev/app", "model": "gpt-5.4"})
        + _codex_line("2026-11-20T09:30:00.002Z", "event_msg", _tc((300_000, 100_000, 900), (300_000, 100_000, 900)))
        + _codex_line("2026-11-20T09:30:00.003Z", "event_msg", _tc((320_000, 110_000, 1_500), (20_000, 10_000, 600)))
        + _codex_line("2026-11-20T09:31:00.000Z", "turn_context", {"cwd": "/home/dev/app", "model": "gpt-5.5"})
        + _codex_line("2026-11-20T09:31:30.000Z", "event_msg", _tc((350_000, 130_000, 1_900), (30_000, 20_000, 400))),
        encoding="utf-8")  # fmt: skip
    theirs = by_model(ccusage(tmp_path / "home", "codex", "daily", CODEX_HOME=str(home)))
    events, _ = read_all(CodexReader(), Env(home=tmp_path / "home", environ={"CODEX_HOME": str(home)}))
    ours = totals(window(events), load_prices())
    assert set(ours) == set(theirs) == {"gpt-5.4", "gpt-5.5"}
    for model, row in ours.items():
        other = theirs[model]
        assert (row.input, row.output, row.cache_read) == (
            other["inputTokens"], other["outputTokens"], other["cacheReadTokens"]), model
