"""Hostile numbers in agent logs (issue 14, items 4 and 14): a bad value makes its row bad, never the file.

The readers run through ``capture.index.collect``, the path the hook takes;
a row with an infinite, NaN, negative or oversized value is counted as a
bad line and left out, every other row still counts, and the file is read
on (never "unreadable").
"""

from __future__ import annotations

import json
from pathlib import Path

from commitledger.capture.base import Env, valid_event, UsageEvent
from commitledger.capture.index import collect, save_index
from commitledger.ledger.trailers import format_fields, parse_fields
from commitledger.ledger.usage import Usage

SESSION_USER = "6b1e2f3a-0000-4000-8000-00000000a1de"


def _send(when: object, prompt: object = 100, completion: object = 10, cost: object = 0.01) -> str:
    props = {"main_model": "anthropic/claude-sonnet-4-5-20250929", "prompt_tokens": prompt,
             "completion_tokens": completion, "cost": cost, "total_cost": cost}  # fmt: skip
    return json.dumps({"event": "message_send", "properties": props, "user_id": SESSION_USER, "time": when})


def _collect(state: Path, log: Path, worktree: Path):  # type: ignore[no-untyped-def]
    env = Env(home=state / "nohome", environ={}, extra={"aider_analytics_log": str(log), "worktree": str(worktree)})
    found = collect(state, env, lambda event: True, ["aider"])
    save_index(state, found)
    return found


def test_infinity_nan_and_overflow_in_aiders_time_make_only_their_rows_bad(tmp_path: Path) -> None:
    log = tmp_path / "analytics.jsonl"
    launched = json.dumps({"event": "launched", "properties": {}, "user_id": SESSION_USER, "time": 1777896603})
    lines = [
        launched,
        _send(1777896631),
        _send(1777896640).replace("1777896640", "Infinity"),
        _send(1777896641).replace("1777896641", "NaN"),
        _send(1777896642).replace("1777896642", "1e400"),
        _send(1777896643).replace("1777896643", "-Infinity"),
        _send(1777896650, cost=-0.25),
        _send(1777896651, prompt=10**19),
        _send(1777896652).replace('"prompt_tokens": 100', '"prompt_tokens": 1e400'),
        _send(1777896660),
    ]
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    state = tmp_path / "state"
    found = _collect(state, log, tmp_path)
    stats = found.stats["aider"]
    assert stats.unreadable == 0
    assert sorted(e.time for e in found.events) == [1777896631.0, 1777896660.0]
    assert stats.bad_lines == 7
    # The file is read on: a row appended later counts, the bad ones stay counted once.
    with open(log, "a", encoding="utf-8") as handle:
        handle.write(_send(1777896700) + "\n")
    again = _collect(state, log, tmp_path)
    assert [e.time for e in again.events] == [1777896700.0]
    assert again.stats["aider"].unreadable == 0 and again.stats["aider"].bad_lines == 7


def test_the_shared_validator_refuses_what_a_trailer_cannot_carry() -> None:
    def event(**fields: object) -> UsageEvent:
        base: dict[str, object] = {"agent": "claude-code", "kind": "request", "key": "k", "time": 1.0, "session": "s"}
        base.update(fields)
        return UsageEvent(**base)  # type: ignore[arg-type]

    assert valid_event(event(input=10**18 - 1, cost_usd=999999999999.5))
    for bad in (dict(input=10**18), dict(output=-1), dict(cost_usd=-7.5), dict(cost_usd=float("nan")),
                dict(cost_usd=float("inf")), dict(cost_usd=1e12), dict(time=float("inf")), dict(time=float("nan")),
                dict(cache_read=1.5)):  # fmt: skip
        assert not valid_event(event(**bad)), bad


def test_trailers_leave_out_values_that_would_not_read_back() -> None:
    usage = Usage(sessions=1, requests=2, input=10**19, output=5, cache_read=-3, cost_usd=-7.5)
    text = format_fields("claude-code", "m", usage)
    assert "input=" not in text and "cache_read=" not in text and "cost_usd" not in text
    assert "requests=2" in text and "output=5" in text
    for cost in (float("nan"), float("inf"), 1e12, 999999999999.99996):
        assert "cost_usd" not in format_fields("a", "m", Usage(output=1, cost_usd=cost)), cost
    kept = Usage(input=10**18 - 1, cost_usd=999999999999.5)
    line = parse_fields(format_fields("a", "m", kept))
    assert line is not None and line.usage.input == 10**18 - 1 and line.usage.cost_usd == 999999999999.5
