"""Aider reader: analytics log message_send events, sessions, cwd from the configuring worktree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from capture_helpers import assert_no_content, counts, fixture_copy, keys, totals, window
from commitledger.capture.base import Env, load_reader
from commitledger.capture.aider import AiderReader

MODEL = "anthropic/claude-sonnet-4-5-20250929"


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return fixture_copy("aider", tmp_path) / "analytics.jsonl"


def env_for(log: Path, worktree: str | None = "/home/alice/src/acme-web") -> Env:
    extra = {"aider_analytics_log": str(log)}
    if worktree:
        extra["worktree"] = worktree
    return Env(home=log.parent / "nohome", environ={}, extra=extra)


def test_registry_loads_this_reader() -> None:
    assert isinstance(load_reader("aider"), AiderReader)


def test_message_sends_are_requests_with_aiders_cost(log: Path) -> None:
    reader = AiderReader()
    (path,) = reader.files(env_for(log))
    ctx: dict[str, object] = {}
    result = reader.read(path, 0, ctx)
    assert result.bad_lines == 0 and result.end == path.stat().st_size
    kept = window(result.events)
    per_model = totals(kept)
    row = per_model[MODEL]
    assert (row.requests, row.input, row.output, row.cache_read, row.cache_write) == (2, 8204 + 8911, 412 + 188, 0, 0)
    assert row.cost_usd == pytest.approx(0.0385 + 0.0083)
    assert counts(kept) == {"requests": 2, "prompts": 0, "tools": 0, "sessions": 1}
    assert {e.cwd for e in kept} == {"/home/alice/src/acme-web"}
    assert {e.time for e in kept} == {1777896631.0, 1777896702.0}
    assert json.loads(json.dumps(ctx)) == ctx
    assert_no_content(kept, "jitter", "retry")


def test_not_configured_means_no_files(tmp_path: Path, log: Path) -> None:
    reader = AiderReader()
    assert list(reader.files(Env(home=tmp_path, environ={}))) == []
    assert list(reader.files(env_for(tmp_path / "missing.jsonl"))) == []


def test_sessions_split_at_launch_and_halves_match(log: Path, tmp_path: Path) -> None:
    data = log.read_bytes()
    lines = data.splitlines(keepends=True)
    relaunch = json.dumps({"event": "launched", "properties": {}, "user_id": "u", "time": 1777899999}).encode() + b"\n"
    log.write_bytes(data + relaunch + lines[2].replace(b"1777896631", b"1777900000") + b"garbage\n" + lines[3][:30])
    reader = AiderReader()
    env = env_for(log)
    (path,) = reader.files(env)
    whole = reader.read(path, 0, {})
    assert whole.bad_lines == 1
    assert whole.end == len(log.read_bytes()) - 30
    assert counts(window(whole.events)) == {"requests": 3, "prompts": 0, "tools": 0, "sessions": 2}
    full = log.read_bytes()
    for cut in range(1, len(full), 53):
        log.write_bytes(full[:cut])
        ctx: dict[str, object] = {}
        first = reader.read(path, 0, ctx)
        log.write_bytes(full)
        second = reader.read(path, first.end, json.loads(json.dumps(ctx)))
        assert [e.to_json() for e in first.events + second.events] == [e.to_json() for e in whole.events]
    assert keys(reader.read(path, 0, {}).events) == keys(whole.events)


def test_cwd_survives_in_ctx_without_worktree(log: Path) -> None:
    ctx: dict[str, object] = {}
    first = AiderReader()
    (path,) = first.files(env_for(log))
    first.read(path, 0, ctx)
    later = AiderReader()
    list(later.files(env_for(log, worktree=None)))
    assert {e.cwd for e in later.read(path, 0, ctx).events} == {"/home/alice/src/acme-web"}
    assert {e.cwd for e in AiderReader().read(path, 0, {}).events} == {None}
