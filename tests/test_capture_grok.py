"""Grok Build CLI: ``~/.grok/sessions/<encoded cwd>/<session>/updates.jsonl``.

The fixture (``fixtures/agent-logs/grok/``) holds two sessions in Grok's own
format: one in ``/home/alice/src/acme-web`` with a turn written twice, a
turn that called two models, a cancelled turn (``usage: null``), a torn line
and a turn without ``modelUsage``; one in another repository. ccusage 20.0.24
reads the same files (``ccusage grok daily``) and agrees on every figure:
uncached input (``inputTokens`` less both cache parts), cache reads and
writes, output, and the cost, which both take from ``costUsdTicks`` / 1e10.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from agent_homes import AGENT_VARS, fresh_home, place, reader_env
from capture_helpers import CCUSAGE, ccusage_by_model, assert_no_content, counts, read_all, totals, window
from commitledger.capture.base import Env, load_reader


ACME = "/home/alice/src/acme-web"
SESSION = "01a0c3f1-2b4d-7e8f-9a0b-1c2d3e4f5a6b"
FAST, GROK4 = "grok-code-fast-1", "grok-4"
# model -> (requests, input, output, cache_read, cache_write, Grok's own cost)
EXPECTED = {
    FAST: (3, 3000 + 3000 + 4000, 800 + 500 + 100, 9000 + 6000, 1000, 0.01234 + 0.01 + 0.00095),
    GROK4: (2, 6000 + 5000, 1000 + 250, 14000, 0, 0.04 + 0.01875),
}


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return fresh_home(tmp_path, monkeypatch, ["grok"])


def session_file(home: Path) -> Path:
    return next((home / ".grok" / "sessions").rglob(f"{SESSION}/updates.jsonl"))


def test_exact_totals_per_model_prompts_tools_and_the_torn_line(home: Path) -> None:
    events, bad = read_all(load_reader("grok"), reader_env(home))
    kept = window(events)
    got = totals(kept)
    assert set(got) == set(EXPECTED)
    for model, (requests, fresh, output, read, write, cost) in EXPECTED.items():
        row = got[model]
        assert (row.requests, row.input, row.output, row.cache_read, row.cache_write) == (requests, fresh, output, read, write), model
        assert row.cost_usd == pytest.approx(cost, abs=1e-12), model
    # Five turns in acme-web (p-1 written twice, p-3 cancelled, p-3b torn) and one in billing-api.
    assert counts(kept) == {"requests": 5, "prompts": 5, "tools": 1, "sessions": 2}
    assert bad == 1  # the torn turn_completed line; the cancelled turn is not an error
    assert {e.cwd for e in kept if e.session == SESSION} == {ACME}
    assert {e.cwd for e in kept if e.session != SESSION} == {"/home/alice/src/billing-api"}
    assert_no_content(kept, "pagination", "orders.ts")


def test_a_turn_written_twice_is_one_request_and_a_two_model_turn_is_two(home: Path) -> None:
    events, _ = read_all(load_reader("grok"), reader_env(home))
    requests = [e for e in events if e.kind == "request" and e.session == SESSION]
    assert len(requests) == 5 and len(window(requests)) == 4  # the repeated p-1 line has the same eventId
    two = [e for e in requests if e.time == requests[2].time]
    assert sorted(e.model for e in two) == [GROK4, FAST] and len({e.key for e in two}) == 2


@pytest.mark.skipif(not CCUSAGE.exists(), reason="ccusage is not installed in .ci/node (.ci/run installs it)")
def test_totals_agree_with_ccusage(home: Path) -> None:
    report, theirs = ccusage_by_model("grok", home, AGENT_VARS)
    events, _ = read_all(load_reader("grok"), reader_env(home))
    mine = totals(window(events))
    assert set(mine) == set(theirs)
    for model, row in mine.items():
        other = theirs[model]
        assert (row.input, row.output, row.cache_read, row.cache_write) == (
            other["inputTokens"], other["outputTokens"], other["cacheReadTokens"], other["cacheCreationTokens"]), model
        assert row.cost_usd == pytest.approx(other["cost"], abs=1e-9), model  # Grok's own ticks on both sides
    t = report["totals"]
    assert t["totalTokens"] == t["inputTokens"] + t["outputTokens"] + t["cacheReadTokens"] + t["cacheCreationTokens"]


def test_only_folders_of_this_worktree_are_listed(home: Path) -> None:
    reader = load_reader("grok")
    mine = Env(home=home, environ={}, extra={"worktree": ACME})
    assert [p.parent.name for p in reader.files(mine)] == [SESSION]
    sub = Env(home=home, environ={}, extra={"worktree": "/home/alice/src"})  # both sessions started below it
    assert len(list(reader.files(sub))) == 2
    elsewhere = Env(home=home, environ={}, extra={"worktree": "/home/alice/src/acme"})  # a prefix, not a parent
    assert list(reader.files(elsewhere)) == []


def test_grok_home_moves_the_store(home: Path, tmp_path: Path) -> None:
    moved = tmp_path / "elsewhere"
    (home / ".grok").rename(moved)
    env = Env(home=home, environ={"GROK_HOME": f"{tmp_path / 'none'}, {moved}"}, extra={})
    assert len(list(load_reader("grok").files(env))) == 2
    assert list(load_reader("grok").files(reader_env(home))) == []


def test_reads_on_from_the_offset_and_leaves_a_half_written_line(home: Path) -> None:
    reader = load_reader("grok")
    path = session_file(home)
    first = reader.read(path, 0, {})
    assert first.end == path.stat().st_size
    turn = {"timestamp": 1778058900, "method": "_x.ai/session/update",
            "params": {"sessionId": SESSION, "_meta": {"eventId": f"{SESSION}-41"},
                       "update": {"sessionUpdate": "turn_completed", "prompt_id": "p-6",
                                  "usage": {"modelUsage": {FAST: {"inputTokens": 900, "cachedReadTokens": 800, "outputTokens": 40}}}}}}  # fmt: skip
    line = json.dumps(turn).encode()
    with open(path, "ab") as handle:
        handle.write(line + b"\n" + line[:50])
    second = reader.read(path, first.end, {})
    assert [(e.kind, e.input, e.cache_read, e.output) for e in second.events] == [("prompt", 0, 0, 0), ("request", 100, 800, 40)]
    assert second.end == path.stat().st_size - 50 and second.bad_lines == 0
    assert second.events[1].cost_usd is None  # no ticks on this turn: priced from the tokens


def test_meta_beside_params_agent_time_and_a_turn_without_any_time(tmp_path: Path) -> None:
    folder = tmp_path / "sessions" / "%2Fsrv%2Fapp" / "s-1"
    folder.mkdir(parents=True)
    usage = {"modelUsage": {FAST: {"inputTokens": 10, "outputTokens": 5}}}
    lines = [
        {"_meta": {"eventId": "e-1", "agentTimestampMs": 1778058000500},
         "params": {"update": {"sessionUpdate": "turn_completed", "prompt_id": "p-1", "usage": usage}}},
        {"params": {"_meta": {"eventId": "e-2"}, "update": {"sessionUpdate": "turn_completed", "prompt_id": "p-2", "usage": usage}}},
        {"timestamp": 1778058100, "params": {"update": {"sessionUpdate": "turn_completed", "usage": usage}}},
    ]
    path = folder / "updates.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    result = load_reader("grok").read(path, 0, {})
    requests = [e for e in result.events if e.kind == "request"]
    assert [(e.key, e.time, e.session, e.cwd) for e in requests] == [("s-1:e-1", 1778058000.5, "s-1", "/srv/app")]
    assert result.bad_lines == 2  # one turn with no time, one with no id of Grok's own


def test_a_turn_naming_no_model_is_a_bad_row_without_a_summary(home: Path) -> None:
    path = session_file(home)
    (path.parent / "summary.json").unlink()
    result = load_reader("grok").read(path, 0, {})
    assert result.bad_lines == 2  # the torn line, and p-4 (no modelUsage, no current_model_id to book it to)
    assert {e.cwd for e in result.events} == {ACME}  # the folder name still says where Grok ran
    assert sum(e.kind == "request" for e in result.events) == 4


def test_doctor_lists_grok_zcode_and_hermes_with_their_bad_rows(tmp_path: Path, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from conftest import run_cli

    for var in AGENT_VARS:
        monkeypatch.delenv(var, raising=False)
    home = tmp_path / "home2"
    place(home, ["grok", "zcode", "hermes"], repo=repo.resolve())  # acme-web's sessions moved into this repository
    proc = run_cli("doctor", cwd=repo, env={**os.environ, "HOME": str(home)})
    assert proc.returncode == 0, proc.stderr
    assert f"  grok: 1 files, 1 bad lines - {home / '.grok' / 'sessions'}" in proc.stdout  # billing-api's is not listed
    assert f"  zcode: 1 files, 1 bad lines - {home / '.zcode' / 'cli' / 'db'}" in proc.stdout
    assert f"  hermes: 1 files, 1 bad lines - {home / '.hermes'}" in proc.stdout
