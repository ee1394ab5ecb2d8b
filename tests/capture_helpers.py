"""Shared plumbing for the capture tests: fixture copies, a reference window, per-model totals.

The window here is the contract every reader is tested against, kept
deliberately small: one event per (kind, key), the heaviest by
``UsageEvent.weight``, the first one seen on a tie.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from commitledger.capture.base import Env, Reader, ReadResult, UsageEvent
from commitledger.ledger.pricing import PriceTable, load_prices

from conftest import AGENT_LOGS, ROOT

PRICES_FILE = AGENT_LOGS / "pricing" / "litellm-subset.json"
CCUSAGE = ROOT / ".ci" / "node" / "node_modules" / ".bin" / "ccusage"


def ccusage_by_model(agent: str, home: Path, hidden: Iterable[str]) -> tuple[dict[str, Any], dict[str, dict[str, float]]]:
    """``ccusage <agent> daily --json --offline`` over ``home``: its report and its per-model sums.

    ``hidden``: variables that would send ccusage elsewhere than ``home``.
    """
    skip = set(hidden)
    environ = {k: v for k, v in os.environ.items() if k not in skip}
    environ.update(HOME=str(home), NO_COLOR="1")
    proc = subprocess.run([str(CCUSAGE), agent, "daily", "--json", "--offline", "--timezone", "UTC"],
                          env=environ, capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    report: dict[str, Any] = json.loads(proc.stdout)
    theirs: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for day in report["daily"]:
        for row in day["modelBreakdowns"]:
            for field in ("inputTokens", "outputTokens", "cacheReadTokens", "cacheCreationTokens", "cost"):
                theirs[row["modelName"]][field] += row.get(field, 0) or 0
    return report, theirs


def fixture_copy(name: str, dest: Path) -> Path:
    """A private copy of ``fixtures/agent-logs/<name>`` (tests may append to or rewrite it)."""
    target = dest / name
    shutil.copytree(AGENT_LOGS / name, target)
    return target


def prices() -> PriceTable:
    return load_prices(environ={"COMMITLEDGER_PRICES": str(PRICES_FILE)})


def read_whole(reader: Reader, path: Path) -> ReadResult:
    return reader.read(path, 0, {})


def read_all(reader: Reader, env: Env) -> tuple[list[UsageEvent], int]:
    """Every event of every file ``files(env)`` lists, each read from offset 0, plus bad lines."""
    events: list[UsageEvent] = []
    bad = 0
    for path in reader.files(env):
        result = reader.read(path, 0, {})
        events.extend(result.events)
        bad += result.bad_lines
    return events, bad


def window(events: Iterable[UsageEvent]) -> list[UsageEvent]:
    best: dict[tuple[str, str], UsageEvent] = {}
    for event in events:
        slot = (event.kind, event.key)
        kept = best.get(slot)
        if kept is None or event.weight > kept.weight or (
            event.weight == kept.weight and event.model and not kept.model
        ):
            best[slot] = event
    return list(best.values())


@dataclass
class ModelTotals:
    requests: int = 0
    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write_5m: int = 0
    cache_write_1h: int = 0
    cost_usd: float = 0.0
    priced: bool = True

    @property
    def cache_write(self) -> int:
        return self.cache_write_5m + self.cache_write_1h


def totals(events: Iterable[UsageEvent], table: PriceTable | None = None) -> dict[str, ModelTotals]:
    """Per-model sums of request events; cost per request (the agent's own figure first)."""
    table = table or prices()
    out: dict[str, ModelTotals] = {}
    for event in events:
        if event.kind != "request":
            continue
        row = out.setdefault(event.model, ModelTotals())
        row.requests += 1
        row.input += event.input
        row.output += event.output
        row.cache_read += event.cache_read
        row.cache_write_5m += event.cache_write_5m
        row.cache_write_1h += event.cache_write_1h
        cost = event.cost_usd
        if cost is None:
            cost = table.cost(
                event.model,
                input=event.input,
                output=event.output,
                cache_read=event.cache_read,
                cache_write_5m=event.cache_write_5m,
                cache_write_1h=event.cache_write_1h,
                when=event.time,
                provider=event.provider or None,
                tier=event.tier or None,
                web_searches=event.web_searches,
                agent=event.agent,
            )
        if cost is None:
            row.priced = False
        else:
            row.cost_usd += cost
    return out


def counts(events: Iterable[UsageEvent]) -> dict[str, Any]:
    events = list(events)
    return {
        "requests": sum(e.kind == "request" for e in events),
        "prompts": sum(e.kind == "prompt" for e in events),
        "tools": sum(e.kind == "tool" for e in events),
        "sessions": len({e.session for e in events}),
    }


def keys(events: Iterable[UsageEvent]) -> list[tuple[str, str]]:
    return [(e.kind, e.key) for e in events]


def assert_no_content(events: Iterable[UsageEvent], *needles: str) -> None:
    """No prompt text, file content or path in any event field but ``cwd``."""
    for event in events:
        row = event.to_json()
        del row[5]  # cwd is the one field allowed to carry a path
        text = " ".join(str(v) for v in row)
        for needle in needles:
            assert needle not in text, (needle, row)
        assert "/" not in event.key, row
