"""Claude Code reader against the fixture transcripts and the traps the README lists."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from capture_helpers import assert_no_content, counts, fixture_copy, keys, read_all, totals, window
from commitledger.capture.base import Env, load_reader
from commitledger.capture.claude_code import ClaudeCodeReader

PROJECT = "projects/-home-alice-src-acme-web"
MAIN = f"{PROJECT}/5f1c2a9e-7b3d-4c8e-9a10-2b6f4e8d1c33.jsonl"
ASIDE = f"{PROJECT}/5f1c2a9e-7b3d-4c8e-9a10-2b6f4e8d1c33/subagents/agent-aside_question-77e1.jsonl"


@pytest.fixture
def claude_dir(tmp_path: Path) -> Path:
    return fixture_copy("claude-code", tmp_path)


def env_for(config_dir: Path, home: Path | None = None) -> Env:
    return Env(home=home or config_dir.parent / "nohome", environ={"CLAUDE_CONFIG_DIR": str(config_dir)})


def test_registry_loads_this_reader() -> None:
    assert isinstance(load_reader("claude-code"), ClaudeCodeReader)


def test_fixture_totals_match_readme(claude_dir: Path) -> None:
    events, bad = read_all(ClaudeCodeReader(), env_for(claude_dir))
    kept = window(events)
    per_model = totals(kept)
    assert set(per_model) == {"claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001", "claude-opus-4-1-20250805"}

    sonnet = per_model["claude-sonnet-4-5-20250929"]
    assert (sonnet.requests, sonnet.input, sonnet.output, sonnet.cache_read) == (4, 13, 759, 77140)
    assert (sonnet.cache_write_5m, sonnet.cache_write_1h) == (7010, 760)
    assert abs(sonnet.cost_usd - 0.065414) <= 5.1e-7  # README prints 6 places

    haiku = per_model["claude-haiku-4-5-20251001"]
    assert (haiku.requests, haiku.input, haiku.output, haiku.cache_write, haiku.cache_read) == (2, 6, 261, 2210, 21400)
    assert abs(haiku.cost_usd - 0.006214) <= 5.1e-7

    opus = per_model["claude-opus-4-1-20250805"]
    assert (opus.requests, opus.input, opus.output, opus.cache_write, opus.cache_read) == (1, 9, 311, 24120, 0)
    assert abs(opus.cost_usd - 0.475710) <= 5.1e-7

    assert counts(kept) == {"requests": 7, "prompts": 3, "tools": 3, "sessions": 2}
    # The truncated last line of the main transcript is unfinished, not bad.
    assert bad == 0
    assert_no_content(kept, "limiter", "token bucket", "acme-web", "bucket size", "fetch")


def test_streamed_rows_keep_final_usage_and_task_summary_is_not_counted(claude_dir: Path, tmp_path: Path) -> None:
    path = claude_dir / MAIN
    result = ClaudeCodeReader().read(path, 0, {})
    # Three rows (output 1, 1, 412) of one response: one read reports it once, with the final usage.
    streamed = [e for e in result.events if e.key == "msg_01AAAAAAAAAAAAAAAAAAAAAAAA"]
    assert [e.output for e in streamed] == [412]
    # toolUseResult.usage of the Task (6 input / 261 output) is a summary, not a request.
    assert all(not (e.input == 6 and e.output == 261) for e in result.events)
    assert all(e.model != "<synthetic>" for e in result.events)
    # A read that stops after the second row reports what was final so far; the window keeps the larger.
    lines = path.read_bytes().splitlines(keepends=True)
    partial = tmp_path / "partial.jsonl"
    partial.write_bytes(b"".join(lines[:5]))
    early = [e for e in ClaudeCodeReader().read(partial, 0, {}).events if e.kind == "request"]
    assert [(e.key, e.output) for e in early] == [("msg_01AAAAAAAAAAAAAAAAAAAAAAAA", 1)]
    assert [e.output for e in window(early + streamed)] == [412]


def test_every_streamed_row_counts_its_tool_use(tmp_path: Path) -> None:
    base = {"type": "assistant", "sessionId": "s", "cwd": "/w", "timestamp": "2026-05-04T09:00:00.000Z", "requestId": "r"}
    usage = {"input_tokens": 1, "cache_read_input_tokens": 0}
    rows = [
        {**base, "uuid": "a", "message": {"id": "msg_X", "model": "m", "content": [{"type": "tool_use", "id": "t1"}],
                                          "usage": {**usage, "output_tokens": 1}}},
        {**base, "uuid": "b", "message": {"id": "msg_X", "model": "m", "content": [{"type": "text", "text": "x"}],
                                          "usage": {**usage, "output_tokens": 5}}},
        {**base, "uuid": "c", "message": {"id": "msg_X", "model": "m", "content": [{"type": "tool_use", "id": "t2"}],
                                          "usage": {**usage, "output_tokens": 9}}},
    ]  # fmt: skip
    path = tmp_path / "s.jsonl"
    path.write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows), encoding="utf-8")
    result = ClaudeCodeReader().read(path, 0, {})
    assert sorted(keys(result.events)) == [("request", "msg_X"), ("tool", "tool:t1"), ("tool", "tool:t2")]
    assert [e.output for e in result.events if e.kind == "request"] == [9]


def test_aside_replay_and_resume_copy_collapse_to_one_request_in_any_order(claude_dir: Path) -> None:
    reader = ClaudeCodeReader()
    files = list(reader.files(env_for(claude_dir)))
    # Main transcripts come before subagent files, so a tie keeps the original row.
    assert [p.parent.name for p in files[:2]] == ["-home-alice-src-acme-web"] * 2
    for order in (files, list(reversed(files))):
        events = [e for path in order for e in reader.read(path, 0, {}).events]
        copies = [e for e in events if e.key == "msg_01CCCCCCCCCCCCCCCCCCCCCCCC"]
        assert len(copies) == 3  # original, /btw replay (new requestId), resumed-session copy
        per_model = totals(window(events))
        assert per_model["claude-sonnet-4-5-20250929"].requests == 4
        assert per_model["claude-sonnet-4-5-20250929"].output == 759


def test_truncated_last_line_is_left_for_the_next_read(claude_dir: Path) -> None:
    path = claude_dir / MAIN
    data = path.read_bytes()
    last_start = data.rstrip(b"\n").rfind(b"\n") + 1
    reader = ClaudeCodeReader()
    first = reader.read(path, 0, {})
    assert first.end == last_start < len(data)
    assert all(not key.startswith("msg_01DDDD") for _, key in keys(first.events))

    # The writer finishes the line: the next read picks it up whole.
    row = {
        "isSidechain": False, "cwd": "/home/alice/src/acme-web", "type": "assistant",
        "sessionId": "5f1c2a9e-7b3d-4c8e-9a10-2b6f4e8d1c33", "requestId": "req_011CVa4444444444444444DD",
        "timestamp": "2026-05-04T09:02:20.000Z", "uuid": "c0ffee00-0000-4000-8000-00000000000c",
        "message": {"model": "claude-sonnet-4-5-20250929", "id": "msg_01DDDDDDDDDDDDDDDDDDDDDDDD",
                    "usage": {"input_tokens": 5, "output_tokens": 70, "cache_read_input_tokens": 100}},
    }  # fmt: skip
    path.write_bytes(data[:last_start] + json.dumps(row, separators=(",", ":")).encode() + b"\n")
    second = reader.read(path, first.end, {})
    assert [(e.kind, e.key, e.output) for e in second.events] == [("request", "msg_01DDDDDDDDDDDDDDDDDDDDDDDD", 70)]
    assert second.end == path.stat().st_size


def test_complete_last_line_without_newline_is_consumed(tmp_path: Path) -> None:
    row = b'{"type":"user","sessionId":"s1","uuid":"u1","message":{"role":"user","content":"hi"}}'
    path = tmp_path / "s1.jsonl"
    path.write_bytes(row)
    result = ClaudeCodeReader().read(path, 0, {})
    assert keys(result.events) == [("prompt", "prompt:u1")]
    assert result.end == len(row)


def test_two_halves_equal_one_read(claude_dir: Path, tmp_path: Path) -> None:
    reader = ClaudeCodeReader()
    for rel in (MAIN, f"{PROJECT}/8d04b7e1-2c5a-4f39-b6d2-91e0a3c7f5b8.jsonl", ASIDE):
        full = (claude_dir / rel).read_bytes()
        whole = reader.read(claude_dir / rel, 0, {})
        for cut in [i + 1 for i, b in enumerate(full) if b == 0x0A] + [1, len(full) // 3, len(full) // 2, len(full) - 7]:
            growing = tmp_path / f"grow-{cut}.jsonl"
            growing.write_bytes(full[:cut])
            ctx: dict[str, object] = {}
            first = reader.read(growing, 0, ctx)
            growing.write_bytes(full)
            second = reader.read(growing, first.end, ctx)
            # One read reports a streamed response once (its last row); a read cut inside the
            # response reports the part it saw too, and the window keeps the larger: the same result.
            assert sorted((e.to_json() for e in window(first.events + second.events)), key=repr) == sorted(
                (e.to_json() for e in window(whole.events)), key=repr
            )
            assert second.end == whole.end


def test_rereading_from_zero_gives_identical_keys(claude_dir: Path) -> None:
    reader = ClaudeCodeReader()
    for path in reader.files(env_for(claude_dir)):
        assert keys(reader.read(path, 0, {}).events) == keys(reader.read(path, 0, {}).events)


def test_garbage_and_non_utf8_lines_are_counted_not_fatal(claude_dir: Path) -> None:
    path = claude_dir / f"{PROJECT}/8d04b7e1-2c5a-4f39-b6d2-91e0a3c7f5b8.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    bad_usage = b'{"type":"assistant","message":{"id":"msg_bad\xff\xfe","usage":{"output_tokens":5}}}\n'
    path.write_bytes(lines[0] + b"this is not json\n" + bad_usage + b"\n" + b'{"half":\n' + b"".join(lines[1:]))
    result = ClaudeCodeReader().read(path, 0, {})
    assert result.bad_lines == 3
    assert counts(result.events) == {"requests": 2, "prompts": 1, "tools": 0, "sessions": 1}
    assert result.end == path.stat().st_size


def test_legacy_cost_usd_is_taken_and_missing_split_is_5m(claude_dir: Path) -> None:
    result = ClaudeCodeReader().read(claude_dir / "legacy" / "pre-1.0.9-with-costUSD.jsonl", 0, {})
    (request,) = [e for e in result.events if e.kind == "request"]
    assert request.cost_usd == 0.0132
    assert (request.cache_write_5m, request.cache_write_1h) == (3300, 0)
    assert request.time == pytest.approx(1748592002.21)
    assert request.cwd == "/home/alice/src/acme-web"


def test_roots_default_and_comma_separated(tmp_path: Path) -> None:
    reader = ClaudeCodeReader()
    home = tmp_path / "home"
    assert reader.roots(Env(home=home, environ={})) == [
        home / ".config" / "claude" / "projects",
        home / ".claude" / "projects",
    ]
    a, b = tmp_path / "a", tmp_path / "b"
    assert reader.roots(Env(home=home, environ={"CLAUDE_CONFIG_DIR": f"{a}, {b}"})) == [a / "projects", b / "projects"]


def test_default_roots_are_read_and_missing_dirs_are_empty(claude_dir: Path, tmp_path: Path) -> None:
    reader = ClaudeCodeReader()
    home = tmp_path / "home"
    assert list(reader.files(Env(home=home, environ={}))) == []
    assert list(reader.files(Env(home=home, environ={"CLAUDE_CONFIG_DIR": str(tmp_path / "nope")}))) == []
    (home / ".claude").mkdir(parents=True)
    assert list(reader.files(Env(home=home, environ={}))) == []
    shutil.copytree(claude_dir / "projects", home / ".claude" / "projects")
    assert len(list(reader.files(Env(home=home, environ={})))) == 4
    missing = reader.read(tmp_path / "gone.jsonl", 0, {})
    assert (missing.events, missing.end, missing.bad_lines) == ([], 0, 0)


def test_sidechain_prompts_meta_and_command_echoes_are_not_prompts(tmp_path: Path) -> None:
    base = {"sessionId": "s", "cwd": "/w", "timestamp": "2026-05-04T09:00:00.000Z", "type": "user"}
    rows = [
        {**base, "uuid": "p1", "message": {"role": "user", "content": [{"type": "text", "text": "do it"}]}},
        {**base, "uuid": "p2", "isSidechain": True, "message": {"role": "user", "content": "sub task"}},
        {**base, "uuid": "p3", "isMeta": True, "message": {"role": "user", "content": "Caveat: ..."}},
        {**base, "uuid": "p4", "message": {"role": "user", "content": "<command-name>/model</command-name>"}},
        {**base, "uuid": "p5", "message": {"role": "user", "content": "[Request interrupted by user]"}},
        {**base, "uuid": "p6", "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t"}]}},
    ]
    path = tmp_path / "s.jsonl"
    path.write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows), encoding="utf-8")
    result = ClaudeCodeReader().read(path, 0, {})
    assert keys(result.events) == [("prompt", "prompt:p1")]
    assert result.events[0].cwd == "/w"


def test_symlinked_config_dir_is_listed_once(claude_dir: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".config").mkdir(parents=True)
    shutil.copytree(claude_dir / "projects", home / ".claude" / "projects")
    (home / ".config" / "claude").symlink_to(home / ".claude")
    assert len(list(ClaudeCodeReader().files(Env(home=home, environ={})))) == 4


def test_only_project_folders_that_can_hold_the_worktree_are_listed(tmp_path: Path) -> None:
    from commitledger.capture.claude_code import ClaudeCodeReader, project_filter

    worktree = tmp_path / "src" / "acme.web"
    worktree.mkdir(parents=True)
    projects = tmp_path / "claude" / "projects"

    def folder(path: Path) -> Path:
        name = "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in str(path))
        target = projects / name
        target.mkdir(parents=True)
        (target / "s.jsonl").write_text("{}\n", encoding="utf-8")
        return target

    own = folder(worktree)
    nested = folder(worktree / "pkg")
    ancestor = folder(tmp_path)  # launched above the repository, then cd into it
    sibling = folder(tmp_path / "src" / "other")
    lookalike = folder(tmp_path / "src" / "acme.web2")
    env = Env(home=tmp_path, environ={"CLAUDE_CONFIG_DIR": str(tmp_path / "claude")}, extra={"worktree": str(worktree)})
    listed = {p.parent for p in ClaudeCodeReader().files(env)}
    assert listed == {own, nested, ancestor}
    assert sibling not in listed and lookalike not in listed
    # without a worktree (a reader used on its own) every folder is read
    everything = {p.parent for p in ClaudeCodeReader().files(Env(home=tmp_path, environ=env.environ))}
    assert everything == {own, nested, ancestor, sibling, lookalike}
    # a non-ASCII worktree is encoded differently by the agent: read everything rather than guess
    assert project_filter(str(tmp_path / "répo")) is None
