"""Gemini CLI reader: JSONL and legacy JSON recordings, rewrites, thoughts as output, project mapping."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from capture_helpers import assert_no_content, counts, fixture_copy, keys, totals, window
from commitledger.capture.base import Env, load_reader
from commitledger.capture.gemini import GeminiReader

ROOT = "/home/alice/src/acme-web"
HASH = hashlib.sha256(ROOT.encode()).hexdigest()
JSONL = "tmp/acme-web/chats/session-2026-05-04T11-00-3f2a9c1d.jsonl"
LEGACY = f"tmp/{HASH}/chats/session-2025-11-20T08-15-1a2b3c4d.json"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    fixture_copy("gemini", home)
    (home / "gemini").rename(home / ".gemini")
    return home


def test_registry_loads_this_reader() -> None:
    assert isinstance(load_reader("gemini-cli"), GeminiReader)


def test_jsonl_totals_match_readme(home: Path) -> None:
    reader = GeminiReader()
    path = home / ".gemini" / JSONL
    assert reader.incremental(path)
    result = reader.read(path, 0, {})
    assert result.bad_lines == 0 and result.end == path.stat().st_size
    kept = window(result.events)
    per_model = totals(kept)
    pro = per_model["gemini-2.5-pro"]
    assert (pro.requests, pro.input, pro.cache_read) == (2, 6008 + 940, 8192 + 14080)
    assert pro.output == 310 + 540 + 188 + 96  # thoughts are billed as output
    flash = per_model["gemini-2.5-flash"]
    assert (flash.requests, flash.input, flash.cache_read, flash.output) == (1, 15400, 0, 920)
    assert pro.cost_usd == pytest.approx((6948 * 1.25 + 22272 * 0.125 + 1134 * 10) / 1e6)
    # The message written twice is one request; the rewound answer still counts (3, not 2).
    assert counts(kept) == {"requests": 3, "prompts": 2, "tools": 1, "sessions": 1}
    assert {e.project_hash for e in kept} == {HASH}
    assert {e.cwd for e in kept} == {None}  # no projects.json: the hash is all we know
    assert_no_content(kept, "retry", "Go version", "acme-web", "retry.ts")


def test_legacy_json_is_read_whole(home: Path) -> None:
    reader = GeminiReader()
    path = home / ".gemini" / LEGACY
    assert not reader.incremental(path)
    result = reader.read(path, 0, {})
    assert result.end == path.stat().st_size
    assert [(e.kind, e.model, e.input, e.output) for e in result.events] == [
        ("prompt", "", 0, 0),
        ("request", "gemini-2.5-pro", 9100, 140 + 210),
    ]
    assert {e.session for e in result.events} == {"1a2b3c4d-0000-4000-8000-0000000000aa"}
    broken = path.with_name("session-broken.json")
    broken.write_text('{"sessionId": "x", "messages": [', encoding="utf-8")
    assert reader.read(broken, 0, {}).bad_lines == 1


def test_files_and_project_registry_map_to_cwd(home: Path, tmp_path: Path) -> None:
    reader = GeminiReader()
    env = Env(home=home, environ={})
    assert sorted(p.name for p in reader.files(env)) == [
        "session-2025-11-20T08-15-1a2b3c4d.json",
        "session-2026-05-04T11-00-3f2a9c1d.jsonl",
    ]
    (home / ".gemini" / "projects.json").write_text(json.dumps({"projects": {ROOT: "acme-web"}}), encoding="utf-8")
    fresh = GeminiReader()
    for path in fresh.files(env):
        assert {e.cwd for e in fresh.read(path, 0, {}).events} == {ROOT}
    assert list(reader.files(Env(home=tmp_path / "nobody", environ={}))) == []
    moved = Env(home=tmp_path / "nobody", environ={"GEMINI_CLI_HOME": str(home)})
    assert len(list(reader.files(moved))) == 2


def test_two_halves_equal_one_read_and_rereads_are_stable(home: Path, tmp_path: Path) -> None:
    reader = GeminiReader()
    full = (home / ".gemini" / JSONL).read_bytes()
    whole = reader.read(home / ".gemini" / JSONL, 0, {})
    target = tmp_path / "chats-copy" / "session-x.jsonl"
    target.parent.mkdir()
    for cut in [i + 1 for i, b in enumerate(full) if b == 0x0A] + [len(full) // 2, 3]:
        target.write_bytes(full[:cut])
        ctx: dict[str, object] = {}
        first = reader.read(target, 0, ctx)
        target.write_bytes(full)
        second = reader.read(target, first.end, json.loads(json.dumps(ctx)))
        assert sorted((e.to_json() for e in window(first.events + second.events)), key=repr) == sorted(
            (e.to_json() for e in window(whole.events)), key=repr
        )
    assert keys(reader.read(target, 0, {}).events) == keys(whole.events)


def test_garbage_lines_are_counted(home: Path) -> None:
    path = home / ".gemini" / JSONL
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(lines[0] + b"\xff\xfe\n" + b"[1, 2]\n" + b"".join(lines[1:]) + b'{"id": "g-m-9')
    result = GeminiReader().read(path, 0, {})
    assert result.bad_lines == 2
    assert counts(window(result.events))["requests"] == 3
    assert result.end == path.stat().st_size - len(b'{"id": "g-m-9')


def test_rewritten_message_last_write_wins_within_a_read(tmp_path: Path) -> None:
    path = tmp_path / "session-r.jsonl"
    meta = {"sessionId": "s", "projectHash": HASH, "startTime": "2026-05-04T11:00:00.000Z", "kind": "main"}
    first = {"id": "m1", "type": "gemini", "timestamp": "2026-05-04T11:00:01.000Z", "model": "gemini-2.5-pro",
             "tokens": {"input": 100, "output": 50, "cached": 0, "thoughts": 0, "tool": 0, "total": 150}}  # fmt: skip
    second = dict(first, tokens={"input": 100, "output": 40, "cached": 60, "thoughts": 5, "tool": 2, "total": 147})
    path.write_text("".join(json.dumps(r) + "\n" for r in (meta, first, second)), encoding="utf-8")
    (request,) = GeminiReader().read(path, 0, {}).events
    assert (request.input, request.cache_read, request.output) == (100 - 60 + 2, 60, 45)
