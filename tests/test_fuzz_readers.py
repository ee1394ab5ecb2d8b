"""Fuzz the readers (issue 14): random bytes and random JSON values in each agent's row shape.

Properties, for every JSONL reader on its real-format fixtures:

- no exception escapes ``read``;
- garbage lines mixed between the rows change nothing the good rows
  count, and each garbage line is counted as bad;
- a row whose numbers are replaced by random JSON values either yields an
  event the shared validator accepts or is counted bad: never a crash, never
  a value a trailer cannot carry.

Events go through ``base.valid_event`` exactly as ``capture.index`` does.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commitledger.capture.base import UsageEvent, load_reader, valid_event

from conftest import AGENT_LOGS

FIXTURES = {
    "claude-code": "claude-code/projects/-home-alice-src-acme-web/5f1c2a9e-7b3d-4c8e-9a10-2b6f4e8d1c33.jsonl",
    "codex": "codex/sessions/2026/05/04/rollout-2026-05-04T10-00-00-0196f1a2-3b4c-7d5e-8f60-718293a4b5c6.jsonl",
    "aider": "aider/analytics.jsonl",
    "copilot-cli": "copilot-cli/otel/copilot-otel-20260504-130000.jsonl",
    "gemini-cli": "gemini/tmp/acme-web/chats/session-2026-05-04T11-00-3f2a9c1d.jsonl",
    "grok": "grok/sessions/%2Fhome%2Falice%2Fsrc%2Facme-web/01a0c3f1-2b4d-7e8f-9a0b-1c2d3e4f5a6b/updates.jsonl",
}
FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _read(agent: str, path: Path) -> tuple[list[tuple[Any, ...]], int]:
    result = load_reader(agent).read(path, 0, {})
    good: list[tuple[Any, ...]] = []
    bad = result.bad_lines
    for event in result.events:
        if valid_event(event):
            good.append(_shape(event))
        else:
            bad += 1
    return sorted(good, key=repr), bad


def _shape(e: UsageEvent) -> tuple[Any, ...]:
    return (e.kind, e.key, e.model, e.input, e.output, e.cache_read, e.cache_write_5m, e.cache_write_1h, e.cost_usd)


# A garbage line: random bytes that cannot be a JSON object (the leading control byte),
# without the newline that would split it.
garbage = st.binary(min_size=0, max_size=60).map(lambda b: b"\x01" + b.replace(b"\n", b" "))


@pytest.mark.parametrize("agent", sorted(FIXTURES))
@FAST
@given(data=st.data())
def test_garbage_between_rows_is_counted_and_changes_nothing_else(agent: str, data: st.DataObject) -> None:
    clean = (AGENT_LOGS / FIXTURES[agent]).read_bytes()
    lines = clean.rstrip(b"\n").split(b"\n")
    terminated = clean.endswith(b"\n")  # an unterminated (torn) last line must stay last and unterminated
    inserts = data.draw(st.lists(st.tuples(st.integers(0, len(lines) - (0 if terminated else 1)), garbage), max_size=6))
    dirty = list(lines)
    for at, junk in sorted(inserts, key=lambda t: -t[0]):
        dirty.insert(at, junk)
    with tempfile.TemporaryDirectory() as tmp:
        a, b = Path(tmp) / "clean.jsonl", Path(tmp) / "dirty.jsonl"
        a.write_bytes(clean)
        b.write_bytes(b"\n".join(dirty) + (b"\n" if terminated else b""))
        want, want_bad = _read(agent, a)
        got, got_bad = _read(agent, b)
    assert got == want
    assert got_bad == want_bad + len(inserts)


@FAST
@given(st.binary(max_size=2000))
def test_random_bytes_never_raise(blob: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "random.jsonl"
        path.write_bytes(blob)
        for agent in FIXTURES:
            _read(agent, path)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**25), max_value=10**25)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)


def _claude_row(n: int, values: dict[str, Any]) -> dict[str, Any]:
    usage = {"input_tokens": values["a"], "output_tokens": values["b"], "cache_read_input_tokens": values["c"],
             "cache_creation_input_tokens": values["d"]}  # fmt: skip
    return {"type": "assistant", "cwd": "/w", "sessionId": "s", "requestId": f"req_{n}", "uuid": f"u{n}",
            "timestamp": values["t"], "costUSD": values["cost"],
            "message": {"model": "claude-sonnet-4-5", "id": f"msg_{n}", "type": "message", "role": "assistant",
                        "content": [{"type": "text", "text": "x"}], "stop_reason": "end_turn", "usage": usage}}  # fmt: skip


def _aider_row(n: int, values: dict[str, Any]) -> dict[str, Any]:
    props = {"main_model": "gpt-5", "prompt_tokens": values["a"], "completion_tokens": values["b"],
             "cost": values["cost"], "total_cost": n}  # fmt: skip
    return {"event": "message_send", "properties": props, "user_id": "u", "time": values["t"]}


SHAPES = {"claude-code": _claude_row, "aider": _aider_row}
row_values = st.fixed_dictionaries({k: json_values for k in ("a", "b", "c", "d", "t", "cost")})


@pytest.mark.parametrize("agent", sorted(SHAPES))
@FAST
@given(rows=st.lists(row_values, min_size=1, max_size=5))
def test_random_values_in_the_row_shape_make_a_valid_event_or_a_bad_row(agent: str, rows: list[dict[str, Any]]) -> None:
    good = {"a": 100, "b": 7, "c": 0, "d": 0, "t": 1777896631, "cost": 0.01}
    if agent == "claude-code":
        good["t"] = "2026-05-04T10:00:00.000Z"
    lines = [json.dumps(SHAPES[agent](0, good), separators=(",", ":"))]
    for n, values in enumerate(rows, start=1):
        # Infinity and NaN are written as the bare words a hostile log would hold; compact,
        # as the agents write their rows.
        lines.append(json.dumps(SHAPES[agent](n, values), separators=(",", ":")))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rows.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        result = load_reader(agent).read(path, 0, {})
    requests = [e for e in result.events if e.kind == "request"]
    valid = [e for e in requests if valid_event(e)]
    assert any(e.output == 7 and e.input == 100 for e in valid)  # the good row still counts
    assert len(valid) + (len(requests) - len(valid)) + result.bad_lines == len(lines)
