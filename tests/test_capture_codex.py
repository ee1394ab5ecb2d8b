"""Codex reader: cumulative totals to deltas, resets, re-emits, the thread_spawn replay."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from capture_helpers import assert_no_content, counts, fixture_copy, keys, read_all, totals, window
from commitledger.capture.base import Env, load_reader
from commitledger.capture.codex import CodexReader

DAY = "sessions/2026/05/04"
MAIN = f"{DAY}/rollout-2026-05-04T10-00-00-0196f1a2-3b4c-7d5e-8f60-718293a4b5c6.jsonl"
SUB = f"{DAY}/rollout-2026-05-04T10-02-10-0196f1a9-aaaa-7bbb-8ccc-ddddeeeeffff.jsonl"
PARENT_ID = "0196f1a2-3b4c-7d5e-8f60-718293a4b5c6"


@pytest.fixture
def codex_home(tmp_path: Path) -> Path:
    return fixture_copy("codex", tmp_path)


def env_for(codex_home: Path) -> Env:
    return Env(home=codex_home.parent / "nohome", environ={"CODEX_HOME": str(codex_home)})


def test_registry_loads_this_reader() -> None:
    assert isinstance(load_reader("codex"), CodexReader)


def test_fixture_totals_match_readme(codex_home: Path) -> None:
    events, bad = read_all(CodexReader(), env_for(codex_home))
    kept = window(events)
    per_model = totals(kept)
    assert set(per_model) == {"gpt-5.2-codex", "gpt-5.2", "gpt-5.2-codex-mini"}
    codex = per_model["gpt-5.2-codex"]
    assert (codex.requests, codex.input, codex.cache_read, codex.output) == (1, 12840 - 9984, 9984, 612)
    gpt = per_model["gpt-5.2"]
    assert (gpt.requests, gpt.input, gpt.cache_read, gpt.output) == (1, 15310 - 12800, 12800, 1044)
    mini = per_model["gpt-5.2-codex-mini"]
    assert (mini.requests, mini.input, mini.cache_read, mini.output) == (1, 4100 - 2048, 2048, 230)
    assert all(row.cache_write == 0 for row in per_model.values())
    # Priced from tokens with the fixture price list (USD per token).
    assert codex.cost_usd == pytest.approx(2856 * 1.75e-6 + 612 * 1.4e-5 + 9984 * 1.75e-7)
    # Subagent usage counts toward the parent's session; its task message is not a human prompt.
    assert counts(kept) == {"requests": 3, "prompts": 1, "tools": 2, "sessions": 1}
    assert {e.session for e in kept} == {PARENT_ID}
    assert {e.cwd for e in kept} == {"/home/alice/src/acme-web"}
    assert bad == 1  # the writer-crash line in the middle of the main rollout
    assert_no_content(kept, "jitter", "backoff", "retry", "rg")


def test_malformed_middle_line_does_not_stop_the_read(codex_home: Path) -> None:
    path = codex_home / MAIN
    result = CodexReader().read(path, 0, {})
    assert result.bad_lines == 1
    assert result.end == path.stat().st_size
    assert [e.model for e in result.events if e.kind == "request"] == ["gpt-5.2-codex", "gpt-5.2"]


def test_replayed_parent_history_takes_the_parents_keys_and_restart_ends_it(codex_home: Path) -> None:
    ctx: dict[str, object] = {}
    result = CodexReader().read(codex_home / SUB, 0, ctx)
    requests = [e for e in result.events if e.kind == "request"]
    # The copy is keyed exactly as the parent's own file keys it: the window keeps one of each.
    parent_keys = {e.key for e in CodexReader().read(codex_home / MAIN, 0, {}).events if e.kind == "request"}
    copied = [e for e in requests if e.key in parent_keys]
    assert len(copied) == 2 and all(e.session == PARENT_ID for e in copied)
    own = [e for e in requests if e.key not in parent_keys]
    assert [(e.input, e.cache_read, e.output, e.model) for e in own] == [(2052, 2048, 230, "gpt-5.2-codex-mini")]
    assert ctx["session"] == PARENT_ID and ctx["subagent"] is True and ctx["copy_of"] is None


def test_two_halves_equal_one_read_at_every_line_boundary(codex_home: Path, tmp_path: Path) -> None:
    reader = CodexReader()
    for rel in (MAIN, SUB):
        full = (codex_home / rel).read_bytes()
        whole = reader.read(codex_home / rel, 0, {})
        cuts = [i + 1 for i, b in enumerate(full) if b == 0x0A] + [len(full) // 2, 5]
        for cut in cuts:
            growing = tmp_path / f"rollout-grow-{cut}.jsonl"
            growing.write_bytes(full[:cut])
            ctx: dict[str, object] = {}
            first = reader.read(growing, 0, ctx)
            json.dumps(ctx)  # state must survive a JSON round trip
            ctx = json.loads(json.dumps(ctx))
            growing.write_bytes(full)
            second = reader.read(growing, first.end, ctx)
            both = first.events + second.events
            assert [e.to_json() for e in both] == [e.to_json() for e in whole.events], (rel, cut)
            assert first.bad_lines + second.bad_lines == whole.bad_lines


def test_rereading_from_zero_gives_identical_keys(codex_home: Path) -> None:
    reader = CodexReader()
    for path in reader.files(env_for(codex_home)):
        assert keys(reader.read(path, 0, {}).events) == keys(reader.read(path, 0, {}).events)


def _line(stamp: str, kind: str, payload: dict[str, object]) -> str:
    return json.dumps({"timestamp": stamp, "type": kind, "payload": payload}, separators=(",", ":")) + "\n"


def _count(inp: int, cached: int, out: int) -> dict[str, object]:
    """A total without ``last_token_usage`` (older rollouts): requests are differences of totals."""
    total = {"input_tokens": inp, "cached_input_tokens": cached, "output_tokens": out, "reasoning_output_tokens": 0}
    return {"type": "token_count", "info": {"total_token_usage": total}}


def test_counter_reset_unchanged_reemit_and_tools(tmp_path: Path) -> None:
    path = tmp_path / "rollout-x.jsonl"
    path.write_text(
        _line("2026-05-04T10:00:00Z", "session_meta", {"id": "s1", "cwd": "/w", "source": "exec"})
        + _line("2026-05-04T10:00:01Z", "turn_context", {"cwd": "/w/sub", "model": "gpt-5.1-codex"})
        + _line("2026-05-04T10:00:02Z", "event_msg", _count(1000, 200, 50))
        + _line("2026-05-04T10:00:03Z", "event_msg", _count(1000, 200, 50))
        + _line("2026-05-04T10:00:04Z", "response_item", {"type": "local_shell_call", "call_id": "c1"})
        + _line("2026-05-04T10:00:05Z", "response_item", {"type": "web_search_call", "id": "ws1"})
        + _line("2026-05-04T10:00:06Z", "event_msg", _count(1500, 600, 90))
        + _line("2026-05-04T10:00:07Z", "event_msg", _count(300, 100, 10))
        + _line("2026-05-04T10:00:08Z", "event_msg", {"type": "token_count", "info": None}),
        encoding="utf-8",
    )
    result = CodexReader().read(path, 0, {})
    requests = [(e.input, e.cache_read, e.output) for e in result.events if e.kind == "request"]
    assert requests == [(800, 200, 50), (100, 400, 40), (200, 100, 10)]
    assert [e.key for e in result.events if e.kind == "tool"] == ["tool:s1:c1", "tool:s1:ws1"]
    assert {e.cwd for e in result.events} == {"/w/sub"}
    assert {e.model for e in result.events} == {"gpt-5.1-codex"}


def test_archived_copy_is_not_read_twice_and_missing_dirs_are_empty(codex_home: Path, tmp_path: Path) -> None:
    reader = CodexReader()
    archived = codex_home / "archived_sessions"
    archived.mkdir()
    shutil.copy(codex_home / MAIN, archived)
    (archived / "rollout-2026-05-01T09-00-00-0196aaaa-0000-7000-8000-000000000000.jsonl").write_text("", "utf-8")
    names = [p.name for p in reader.files(env_for(codex_home))]
    assert len(names) == len(set(names)) == 3
    assert list(reader.files(Env(home=tmp_path / "empty", environ={}))) == []
    assert reader.roots(Env(home=tmp_path, environ={}))[0] == tmp_path / ".codex" / "sessions"
    missing = reader.read(tmp_path / "rollout-gone.jsonl", 0, {})
    assert (missing.events, missing.end) == ([], 0)


def test_truncated_last_line_waits_and_non_utf8_is_counted(codex_home: Path) -> None:
    path = codex_home / MAIN
    data = path.read_bytes()
    garbled = b'\xff\xfe{"type":"event_msg","payload":{"type":"token_count"}}\n'
    path.write_bytes(data + garbled + data[:40])
    result = CodexReader().read(path, 0, {})
    assert result.end == len(data) + len(garbled)
    assert result.bad_lines == 2


def test_lost_state_rereads_from_the_start_with_the_same_keys(codex_home: Path) -> None:
    reader = CodexReader()
    path = codex_home / MAIN
    whole = reader.read(path, 0, {})
    half = path.read_bytes().index(b"\n", path.stat().st_size // 2) + 1
    again = reader.read(path, half, {})  # an offset without the state that goes with it
    assert keys(again.events) == keys(whole.events)
    assert [e.input for e in again.events] == [e.input for e in whole.events]
