"""Codex traps the issue lists: forks, replays across a second boundary, last_token_usage,
token_usage_record/compacted, model-less events, the priority tier."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from capture_helpers import totals, window
from commitledger.capture.base import UsageEvent
from commitledger.capture.codex import CodexReader
from commitledger.ledger.pricing import load_prices
from conftest import commit_file, git, run_cli

PARENT = "019a0c11-2d3e-7f40-8a51-6b7c8d9e0f12"
CHILD = "019a0c19-aaaa-7bbb-8ccc-0123456789ab"


def _line(stamp: str, kind: str, payload: dict[str, Any]) -> str:
    return json.dumps({"timestamp": stamp, "type": kind, "payload": payload}, separators=(",", ":")) + "\n"


def _usage(inp: int, cached: int, out: int, reasoning: int = 0) -> dict[str, int]:
    return {"input_tokens": inp, "cached_input_tokens": cached, "output_tokens": out,
            "reasoning_output_tokens": reasoning, "total_tokens": inp + out}  # fmt: skip


def _count(total: dict[str, int], last: dict[str, int] | None) -> dict[str, Any]:
    info: dict[str, Any] = {"total_token_usage": total, "model_context_window": 272000}
    if last is not None:
        info["last_token_usage"] = last
    return {"type": "token_count", "info": info, "rate_limits": None}


def _meta(rid: str, stamp: str, cwd: str, **extra: Any) -> dict[str, Any]:
    return {"id": rid, "timestamp": stamp, "cwd": cwd, "originator": "codex_cli_rs", "cli_version": "0.140.0",
            "source": "cli", "model_provider": "openai", **extra}  # fmt: skip


def _turn(cwd: str, model: str, **extra: Any) -> dict[str, Any]:
    return {"cwd": cwd, "approval_policy": "on-request", "sandbox_policy": {"type": "workspace-write"},
            "model": model, "effort": "medium", "summary": "auto", **extra}  # fmt: skip


def _rollout(root: Path, stamp: str, rid: str, lines: list[str]) -> Path:
    day = root / "sessions" / "2026" / "11" / "20"
    day.mkdir(parents=True, exist_ok=True)
    path = day / f"rollout-{stamp}-{rid}.jsonl"
    path.write_text("".join(lines), encoding="utf-8")
    return path


def _parent(root: Path, cwd: str) -> Path:
    return _rollout(root, "2026-11-20T09-00-00", PARENT, [
        _line("2026-11-20T09:00:00.100Z", "session_meta", _meta(PARENT, "2026-11-20T09:00:00.100Z", cwd)),
        _line("2026-11-20T09:00:01.000Z", "turn_context", _turn(cwd, "gpt-5.4")),
        _line("2026-11-20T09:00:09.000Z", "event_msg", _count(_usage(20_000, 8_000, 900), _usage(20_000, 8_000, 900))),
        _line("2026-11-20T09:01:30.000Z", "event_msg", _count(_usage(45_000, 30_000, 2_100), _usage(25_000, 22_000, 1_200))),
    ])  # fmt: skip


def _read(paths: list[Path]) -> list[UsageEvent]:
    events: list[UsageEvent] = []
    for path in paths:
        events.extend(CodexReader().read(path, 0, {}).events)
    return window(events)


def test_forked_session_copy_is_not_counted_again_in_either_order(tmp_path: Path) -> None:
    cwd = "/home/ana/src/api"
    parent = _parent(tmp_path, cwd)
    fork = "2026-11-20T09:30:00.000Z"
    child = _rollout(tmp_path, "2026-11-20T09-30-00", CHILD, [
        _line(fork, "session_meta", _meta(CHILD, fork, cwd, forked_from_id=PARENT)),
        _line(fork, "session_meta", _meta(PARENT, "2026-11-20T09:00:00.100Z", cwd)),
        # The copy is written at the fork instant but takes longer than a second.
        _line("2026-11-20T09:30:00.000Z", "turn_context", _turn(cwd, "gpt-5.4")),
        _line("2026-11-20T09:30:00.800Z", "event_msg", _count(_usage(20_000, 8_000, 900), _usage(20_000, 8_000, 900))),
        _line("2026-11-20T09:30:01.300Z", "event_msg", _count(_usage(45_000, 30_000, 2_100), _usage(25_000, 22_000, 1_200))),
        # The child's own turn: its counter continues from the copied total.
        _line("2026-11-20T09:31:00.000Z", "turn_context", _turn(cwd, "gpt-5.4")),
        _line("2026-11-20T09:31:20.000Z", "event_msg", _count(_usage(75_000, 70_000, 2_600), _usage(30_000, 40_000 - 0, 500))),
    ])  # fmt: skip
    for order in ([parent, child], [child, parent]):
        per_model = totals(_read(order), load_prices())
        row = per_model["gpt-5.4"]
        # Three requests were billed: two in the parent, one in the fork.
        assert (row.requests, row.output) == (3, 900 + 1_200 + 500), order
        assert row.input + row.cache_read == 20_000 + 25_000 + 30_000


def test_thread_spawn_replay_across_a_second_boundary_is_the_parents(tmp_path: Path) -> None:
    cwd = "/home/ana/src/api"
    parent = _parent(tmp_path, cwd)
    spawn = "2026-11-20T09:05:00.900Z"
    source = {"subagent": {"thread_spawn": {"parent_thread_id": PARENT, "depth": 1}}}
    child = _rollout(tmp_path, "2026-11-20T09-05-00", CHILD, [
        _line(spawn, "session_meta", _meta(CHILD, spawn, cwd, source=source, agent_role="explorer")),
        _line(spawn, "session_meta", _meta(PARENT, "2026-11-20T09:00:00.100Z", cwd)),
        _line("2026-11-20T09:05:00.950Z", "event_msg", _count(_usage(20_000, 8_000, 900), _usage(20_000, 8_000, 900))),
        _line("2026-11-20T09:05:01.050Z", "event_msg", _count(_usage(45_000, 30_000, 2_100), _usage(25_000, 22_000, 1_200))),
        _line("2026-11-20T09:05:01.100Z", "turn_context", _turn(cwd, "gpt-5.4-mini")),
        _line("2026-11-20T09:05:09.000Z", "event_msg", _count(_usage(6_000, 2_000, 300), _usage(6_000, 2_000, 300))),
    ])  # fmt: skip
    for order in ([parent, child], [child, parent]):
        per_model = totals(_read(order), load_prices())
        assert set(per_model) == {"gpt-5.4", "gpt-5.4-mini"}, order
        assert (per_model["gpt-5.4"].requests, per_model["gpt-5.4"].output) == (2, 2_100)
        assert (per_model["gpt-5.4-mini"].requests, per_model["gpt-5.4-mini"].output) == (1, 300)


def test_last_token_usage_is_the_request_and_a_restart_loses_nothing(tmp_path: Path) -> None:
    cwd = "/w"
    path = _rollout(tmp_path, "2026-11-20T10-00-00", CHILD, [
        _line("2026-11-20T10:00:00Z", "session_meta", _meta(CHILD, "2026-11-20T10:00:00Z", cwd)),
        _line("2026-11-20T10:00:01Z", "turn_context", _turn(cwd, "gpt-5.3-codex")),
        _line("2026-11-20T10:00:05Z", "event_msg", _count(_usage(10_000, 0, 100), _usage(10_000, 0, 100))),
        _line("2026-11-20T10:00:09Z", "event_msg", _count(_usage(18_000, 6_000, 300), _usage(8_000, 6_000, 200))),
        # The counter restarts (a compaction): the total no longer says what this request was.
        _line("2026-11-20T10:00:15Z", "event_msg", _count(_usage(3_000, 1_000, 50), _usage(9_000, 4_000, 400))),
    ])  # fmt: skip
    requests = [(e.input + e.cache_read, e.output) for e in CodexReader().read(path, 0, {}).events
                if e.kind == "request"]  # fmt: skip
    assert requests == [(10_000, 100), (8_000, 200), (9_000, 400)]


def test_token_usage_records_and_compaction_are_read_once(tmp_path: Path) -> None:
    cwd = "/w"
    path = _rollout(tmp_path, "2026-11-20T11-00-00", CHILD, [
        _line("2026-11-20T11:00:00Z", "session_meta", _meta(CHILD, "2026-11-20T11:00:00Z", cwd)),
        _line("2026-11-20T11:00:01Z", "turn_context", _turn(cwd, "gpt-5.5")),
        _line("2026-11-20T11:00:05Z", "token_usage_record", {"response_id": "resp_0a1", "usage": _usage(12_000, 4_000, 700)}),
        _line("2026-11-20T11:00:05Z", "event_msg", _count(_usage(12_000, 4_000, 700), _usage(12_000, 4_000, 700))),
        _line("2026-11-20T11:00:30Z", "compacted", {"message": "", "compaction_response_id": "resp_0c9"}),
        _line("2026-11-20T11:00:30Z", "token_usage_record", {"response_id": "resp_0c9", "usage": _usage(150_000, 0, 3_000)}),
        _line("2026-11-20T11:00:50Z", "token_usage_record", {"response_id": "resp_0a2", "usage": _usage(9_000, 8_000, 400)}),
        _line("2026-11-20T11:00:50Z", "event_msg", _count(_usage(21_000, 12_000, 1_100), _usage(9_000, 8_000, 400))),
    ])  # fmt: skip
    events = [e for e in CodexReader().read(path, 0, {}).events if e.kind == "request"]
    assert sorted((e.key, e.input + e.cache_read, e.output) for e in events) == [
        ("resp:resp_0a1", 12_000, 700), ("resp:resp_0a2", 9_000, 400), ("resp:resp_0c9", 150_000, 3_000),
    ]  # fmt: skip


def test_model_less_requests_take_the_session_model_or_their_own_unknown_line(repo: Path, tmp_path: Path) -> None:
    codex_home = tmp_path / "codex"
    cwd = str(repo)
    # Session A: a request before the first turn_context; the model comes right after.
    _rollout(codex_home, "2026-11-20T12-00-00", PARENT, [
        _line("2026-11-20T12:00:00Z", "session_meta", _meta(PARENT, "2026-11-20T12:00:00Z", cwd)),
        _line("2026-11-20T12:00:02Z", "event_msg", _count(_usage(5_000, 0, 100), _usage(5_000, 0, 100))),
        _line("2026-11-20T12:00:03Z", "turn_context", _turn(cwd, "gpt-5.4", service_tier="priority")),
        _line("2026-11-20T12:00:09Z", "event_msg", _count(_usage(9_000, 4_000, 300), _usage(4_000, 4_000, 200))),
    ])  # fmt: skip
    # Session B: never names a model.
    _rollout(codex_home, "2026-11-20T12-10-00", CHILD, [
        _line("2026-11-20T12:10:00Z", "session_meta", _meta(CHILD, "2026-11-20T12:10:00Z", cwd)),
        _line("2026-11-20T12:10:02Z", "event_msg", _count(_usage(7_000, 0, 70), _usage(7_000, 0, 70))),
    ])  # fmt: skip
    env = {**os.environ, "CODEX_HOME": str(codex_home)}
    # The window's floor is HEAD's committer time: make it older than the logs.
    git(repo, "commit", "--allow-empty", "-m", "root",
        env={**env, "GIT_COMMITTER_DATE": "2026-11-20T11:00:00Z", "GIT_AUTHOR_DATE": "2026-11-20T11:00:00Z"})
    proc = run_cli("usage", "--json", cwd=repo, env=env)
    assert proc.returncode == 0, proc.stderr
    records = {r["model"]: r for r in json.loads(proc.stdout)["records"]}
    assert set(records) == {"gpt-5.4", "unknown"}, records
    gpt = records["gpt-5.4"]
    assert (gpt["requests"], gpt["input"] + gpt["cache_read"], gpt["output"]) == (2, 9_000, 300)
    # Priced, and at the priority tier (2x): one unknown request does not blank it.
    table = load_prices()
    standard = (table.cost("gpt-5.4", input=5_000, output=100) or 0) + (
        table.cost("gpt-5.4", cache_read=4_000, output=200) or 0)
    assert gpt["cost_usd"] is not None and abs(gpt["cost_usd"] - standard * 2) < 1e-6
    assert records["unknown"]["cost_usd"] is None and records["unknown"]["input"] == 7_000
