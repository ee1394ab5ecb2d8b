"""Copilot CLI reader: chat spans only, cache reads out of input, cwd from the session state."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from capture_helpers import assert_no_content, counts, fixture_copy, keys, totals, window
from commitledger.capture.base import Env, load_reader
from commitledger.capture.copilot import CopilotReader

SESSION = "e7c1d2a3-4b5c-4d6e-8f70-8192a3b4c5d6"
OTEL = "otel/copilot-otel-20260504-130000.jsonl"


@pytest.fixture
def copilot_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    fixture_copy("copilot-cli", home)
    (home / "copilot-cli").rename(home / ".copilot")
    return home


def test_registry_loads_this_reader() -> None:
    assert isinstance(load_reader("copilot-cli"), CopilotReader)


def test_chat_span_counts_once_with_cwd_from_workspace(copilot_home: Path) -> None:
    reader = CopilotReader()
    files = list(reader.files(Env(home=copilot_home, environ={})))
    assert files == [copilot_home / ".copilot" / OTEL]
    result = reader.read(files[0], 0, {})
    assert result.bad_lines == 0 and result.end == files[0].stat().st_size
    kept = window(result.events)
    per_model = totals(kept)
    (model,) = per_model
    row = per_model[model]
    assert model == "claude-sonnet-4.5"
    assert (row.requests, row.input, row.cache_read, row.cache_write, row.output) == (1, 19452 - 123, 123, 25, 281)
    assert row.priced  # claude-sonnet-4.5 is found through the price table's aliases
    assert counts(kept) == {"requests": 1, "prompts": 1, "tools": 0, "sessions": 1}
    assert {e.session for e in kept} == {SESSION}
    assert {e.cwd for e in kept} == {"/home/alice/src/acme-web"}
    (request,) = [e for e in kept if e.kind == "request"]
    assert request.time == pytest.approx(1777899610.967317833)  # the chat span's end
    assert_no_content(kept, "CHANGELOG", "acme")


def test_cwd_falls_back_to_events_jsonl(copilot_home: Path) -> None:
    (copilot_home / ".copilot" / "session-state" / SESSION / "workspace.yaml").unlink()
    reader = CopilotReader()
    files = list(reader.files(Env(home=copilot_home, environ={})))
    events = reader.read(files[0], 0, {}).events
    assert {e.cwd for e in events} == {"/home/alice/src/acme-web"}
    shutil.rmtree(copilot_home / ".copilot" / "session-state")
    fresh = CopilotReader()
    list(fresh.files(Env(home=copilot_home, environ={})))
    assert {e.cwd for e in fresh.read(files[0], 0, {}).events} == {None}


def test_configured_file_and_env_var_are_read(copilot_home: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "exports" / "copilot.jsonl"
    elsewhere.parent.mkdir()
    shutil.copy(copilot_home / ".copilot" / OTEL, elsewhere)
    other = tmp_path / "exports" / "env.jsonl"
    other.write_text("", "utf-8")
    reader = CopilotReader()
    env = Env(home=tmp_path / "nobody", environ={"COPILOT_OTEL_FILE_EXPORTER_PATH": str(other)}, extra={"copilot_otel_file": str(elsewhere)})
    assert list(reader.files(env)) == [elsewhere, other]
    assert list(reader.files(Env(home=tmp_path / "nobody", environ={}))) == []


def span(name: str, op: str, span_id: str, attrs: dict[str, object], parent: str | None = None) -> str:
    row: dict[str, object] = {"type": "span", "traceId": "t1", "spanId": span_id, "name": name,
                              "startTime": [1777899605, 0], "endTime": [1777899606, 500000000],
                              "attributes": {"gen_ai.operation.name": op, "gen_ai.conversation.id": "c1", **attrs}}  # fmt: skip
    if parent:
        row["parentSpanId"] = parent
    return json.dumps(row) + "\n"


def test_tools_nested_agents_halves_and_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "otel.jsonl"
    text = (
        span("invoke_agent copilot", "invoke_agent", "a1", {"gen_ai.usage.input_tokens": 500})
        + span("chat gpt-5.2", "chat", "c1", {"gen_ai.response.model": "gpt-5.2", "gen_ai.usage.input_tokens": 300,
                                              "gen_ai.usage.output_tokens": 40}, parent="a1")  # fmt: skip
        + "not json at all\n"
        + span("invoke_agent task", "invoke_agent", "a2", {}, parent="a1")
        + span("execute_tool view", "execute_tool", "x1", {"gen_ai.tool.call.id": "call_9"}, parent="a1")
        + span("chat gpt-5.2", "chat", "c2", {"gen_ai.request.model": "gpt-5.2", "gen_ai.usage.input_tokens": 200,
                                              "gen_ai.usage.cache_read.input_tokens": 150,
                                              "gen_ai.usage.output_tokens": 10}, parent="a2")  # fmt: skip
    )
    path.write_text(text + '{"type":"span","traceId"', "utf-8")
    reader = CopilotReader()
    whole = reader.read(path, 0, {})
    assert whole.bad_lines == 1
    assert whole.end == len(text.encode())
    assert [(e.kind, e.key) for e in whole.events] == [
        ("prompt", "prompt:t1:a1"), ("request", "t1:c1"), ("tool", "tool:call_9"), ("request", "t1:c2"),
    ]  # fmt: skip
    assert [(e.input, e.cache_read, e.output) for e in whole.events if e.kind == "request"] == [(300, 0, 40), (50, 150, 10)]
    data = path.read_bytes()
    for cut in range(1, len(data), 97):
        part = tmp_path / "part.jsonl"
        part.write_bytes(data[:cut])
        first = reader.read(part, 0, {})
        part.write_bytes(data)
        second = reader.read(part, first.end, {})
        assert [e.to_json() for e in first.events + second.events] == [e.to_json() for e in whole.events]
    assert keys(reader.read(path, 0, {}).events) == keys(whole.events)
