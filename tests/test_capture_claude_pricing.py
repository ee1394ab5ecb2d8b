"""Claude Code traps that change tokens or price: advisor iterations, fast mode, web searches,
spaced JSON rows, symlinked project folders, a larger row logged before a smaller one."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from capture_helpers import window
from commitledger.capture.base import Env
from commitledger.capture.claude_code import ClaudeCodeReader
from commitledger.ledger.pricing import load_prices

SESSION = "3b9d7e10-5c2a-4e8f-9d11-7a6b5c4d3e21"
CWD = "/home/bob/src/shop"


def _assistant(msg_id: str, model: str, usage: dict[str, Any], *, stamp: str = "2026-11-20T10:00:05.000Z",
               content: list[Any] | None = None, uuid: str = "u-1") -> dict[str, Any]:
    return {
        "parentUuid": "p-0", "isSidechain": False, "userType": "external", "cwd": CWD, "sessionId": SESSION,
        "version": "2.3.1", "gitBranch": "main", "type": "assistant", "requestId": "req_" + msg_id[4:],
        "message": {"model": model, "id": msg_id, "type": "message", "role": "assistant",
                    "content": content or [{"type": "text", "text": "done"}], "stop_reason": "end_turn",
                    "stop_sequence": None, "usage": usage},
        "uuid": uuid, "timestamp": stamp,
    }  # fmt: skip


def _usage(inp: int, out: int, cr: int = 0, cw: int = 0, **extra: Any) -> dict[str, Any]:
    return {"input_tokens": inp, "cache_creation_input_tokens": cw, "cache_read_input_tokens": cr,
            "cache_creation": {"ephemeral_5m_input_tokens": cw, "ephemeral_1h_input_tokens": 0},
            "output_tokens": out, "service_tier": "standard", **extra}  # fmt: skip


def _write(tmp_path: Path, rows: list[dict[str, Any]], *, spaced: bool = False) -> Path:
    project = tmp_path / "claude" / "projects" / "-home-bob-src-shop"
    project.mkdir(parents=True, exist_ok=True)
    path = project / f"{SESSION}.jsonl"
    sep = (", ", ": ") if spaced else (",", ":")
    path.write_text("".join(json.dumps(r, separators=sep) + "\n" for r in rows), encoding="utf-8")
    return path


def test_advisor_iterations_are_their_own_model_requests(tmp_path: Path) -> None:
    usage = _usage(20, 900, cr=40_000, cw=1_000)
    usage["iterations"] = [
        {"type": "message", "input_tokens": 10, "output_tokens": 400, "cache_read_input_tokens": 40_000,
         "cache_creation_input_tokens": 1_000},
        {"type": "advisor_message", "model": "claude-opus-4-8", "input_tokens": 41_200, "output_tokens": 310,
         "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0},
        {"type": "message", "input_tokens": 10, "output_tokens": 500, "cache_read_input_tokens": 0,
         "cache_creation_input_tokens": 0},
    ]  # fmt: skip
    content = [{"type": "server_tool_use", "id": "srvtoolu_01", "name": "advisor", "input": {}},
               {"type": "advisor_tool_result", "tool_use_id": "srvtoolu_01", "content": {"type": "advisor_result"}},
               {"type": "text", "text": "ok"}]  # fmt: skip
    path = _write(tmp_path, [_assistant("msg_01ADV", "claude-sonnet-4-6", usage, content=content)])
    events = [e for e in window(ClaudeCodeReader().read(path, 0, {}).events) if e.kind == "request"]
    by_model = {e.model: (e.input, e.output, e.cache_read, e.cache_write_5m) for e in events}
    assert by_model == {"claude-sonnet-4-6": (20, 900, 40_000, 1_000), "claude-opus-4-8": (41_200, 310, 0, 0)}
    # Read again from zero: the same keys, nothing added.
    again = ClaudeCodeReader().read(path, 0, {}).events
    assert {e.key for e in again if e.kind == "request"} == {e.key for e in events}


def test_fast_mode_and_web_searches_reach_the_price(tmp_path: Path) -> None:
    fast = _usage(1_000, 2_000, speed="fast", server_tool_use={"web_search_requests": 3, "web_fetch_requests": 0})
    path = _write(tmp_path, [_assistant("msg_01FAST", "claude-opus-4-8", fast)])
    (event,) = [e for e in ClaudeCodeReader().read(path, 0, {}).events if e.kind == "request"]
    assert (event.tier, event.web_searches) == ("speed=fast", 3)
    table = load_prices()
    priced = table.cost(event.model, input=event.input, output=event.output, when=event.time, tier=event.tier,
                        web_searches=event.web_searches)
    # Fast mode on opus-4-8: $10 in / $50 out per million; a search is a cent.
    assert priced == round(1_000 * 10 / 1e6 + 2_000 * 50 / 1e6 + 0.03, 10)


def test_spaced_json_rows_are_read_not_dropped(tmp_path: Path) -> None:
    rows = [_assistant("msg_01SP", "claude-sonnet-4-5-20250929", _usage(5, 120, cr=9_000))]
    path = _write(tmp_path, rows, spaced=True)
    assert b'"type": "assistant"' in path.read_bytes()
    result = ClaudeCodeReader().read(path, 0, {})
    assert result.bad_lines == 0
    assert [(e.kind, e.output) for e in result.events] == [("request", 120)]


def test_symlinked_project_folder_is_read(tmp_path: Path) -> None:
    elsewhere = tmp_path / "disk2" / "-home-bob-src-shop"
    elsewhere.mkdir(parents=True)
    (elsewhere / f"{SESSION}.jsonl").write_text(
        json.dumps(_assistant("msg_01LN", "claude-sonnet-4-5-20250929", _usage(5, 120)), separators=(",", ":")) + "\n",
        encoding="utf-8")
    projects = tmp_path / "claude" / "projects"
    projects.mkdir(parents=True)
    (projects / "-home-bob-src-shop").symlink_to(elsewhere, target_is_directory=True)
    for extra in ({}, {"worktree": CWD}):
        env = Env(home=tmp_path / "nohome", environ={"CLAUDE_CONFIG_DIR": str(tmp_path / "claude")}, extra=extra)
        files = list(ClaudeCodeReader().files(env))
        assert [f.name for f in files] == [f"{SESSION}.jsonl"], extra
        assert os.path.realpath(files[0]).startswith(str(elsewhere))


def test_larger_row_first_smaller_later_keeps_the_larger(tmp_path: Path) -> None:
    big = _assistant("msg_01DUP", "claude-sonnet-4-5-20250929", _usage(5, 800, cr=9_000), uuid="u-1")
    small = _assistant("msg_01DUP", "claude-sonnet-4-5-20250929", _usage(5, 12, cr=9_000), uuid="u-2",
                       stamp="2026-11-20T10:00:09.000Z")
    path = _write(tmp_path, [big, small])
    events = [e for e in ClaudeCodeReader().read(path, 0, {}).events if e.kind == "request"]
    assert [e.output for e in events] == [800]


def test_absurd_web_search_count_is_a_bad_row_not_a_price() -> None:
    from commitledger.capture.base import UsageEvent, valid_event

    ok = UsageEvent("claude-code", "request", "k", 1.8e9, "s", None, None, "claude-opus-4-8", 1, 1, web_searches=3)
    assert valid_event(ok)
    absurd = UsageEvent("claude-code", "request", "k", 1.8e9, "s", None, None, "claude-opus-4-8", 1, 1,
                        web_searches=10**15)
    assert not valid_event(absurd)
