"""Our readers against ccusage, the reader users already trust, on copies of the fixtures.

Runs only where ccusage is installed (``.ci/run`` installs the pinned version
into ``.ci/node``). Where the two should agree they must agree exactly; the
intended differences are asserted as such:

- Gemini thinking tokens and OpenCode reasoning tokens: ccusage shows them
  apart from ``outputTokens`` (they are in its ``totalTokens`` and in its
  cost), we count them in ``output`` because they are billed as output.
  The test checks ``ours.output == theirs.output + their extra tokens``.
- Request, prompt, tool and session counts: ccusage's daily JSON has none.
- Cost is compared only where both price the same way: ccusage prices with
  its own bundled price list, which for the Claude models here has the same
  list prices as the fixture's ``litellm-subset.json``; OpenCode's own
  ``cost`` is taken as is by both.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from capture_helpers import fixture_copy, read_all, totals, window
from commitledger.capture.base import Env
from commitledger.capture.claude_code import ClaudeCodeReader
from commitledger.capture.codex import CodexReader
from commitledger.capture.copilot import CopilotReader
from commitledger.capture.gemini import GeminiReader
from commitledger.capture.opencode import OpenCodeReader

from conftest import ROOT

CCUSAGE = ROOT / ".ci" / "node" / "node_modules" / ".bin" / "ccusage"

pytestmark = pytest.mark.skipif(not CCUSAGE.exists(), reason="ccusage is not installed in .ci/node (.ci/run installs it: npm install --prefix .ci/node ccusage@20.0.24 @ccusage/ccusage-linux-x64@20.0.24)")

_AGENT_VARS = ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "GEMINI_CLI_HOME", "XDG_DATA_HOME", "COPILOT_HOME",
               "COPILOT_OTEL_FILE_EXPORTER_PATH")  # fmt: skip


def ccusage(home: Path, *args: str, **env: str) -> dict[str, Any]:
    environ = {k: v for k, v in os.environ.items() if k not in _AGENT_VARS}
    environ.update(HOME=str(home), NO_COLOR="1", **env)
    proc = subprocess.run(
        [str(CCUSAGE), *args, "--json", "--offline", "--timezone", "UTC"],
        env=environ, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def by_model(report: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Per-model sums over all days, whichever of ccusage's two daily shapes a command prints."""
    out: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for day in report["daily"]:
        rows = [(r["modelName"], r) for r in day.get("modelBreakdowns", [])]
        rows += list(day.get("models", {}).items())
        for name, row in rows:
            for field in ("inputTokens", "outputTokens", "cacheReadTokens", "cacheCreationTokens", "cost"):
                out[name][field] += row.get(field, 0) or 0
    return out


def extra_tokens(report: dict[str, Any]) -> int:
    """Tokens in ccusage's total that are in none of its four columns (thoughts / reasoning)."""
    t = report["totals"]
    return int(t["totalTokens"] - t["inputTokens"] - t["outputTokens"] - t["cacheReadTokens"] - t["cacheCreationTokens"])


def test_claude_code_matches_ccusage(tmp_path: Path) -> None:
    config = fixture_copy("claude-code", tmp_path)
    theirs = by_model(ccusage(tmp_path / "home", "claude", "daily", "--breakdown", CLAUDE_CONFIG_DIR=str(config)))
    events, _ = read_all(ClaudeCodeReader(), Env(home=tmp_path / "home", environ={"CLAUDE_CONFIG_DIR": str(config)}))
    ours = totals(window(events))
    assert set(ours) == set(theirs)
    for model, row in ours.items():
        other = theirs[model]
        assert (row.input, row.output, row.cache_read, row.cache_write) == (
            other["inputTokens"], other["outputTokens"], other["cacheReadTokens"], other["cacheCreationTokens"],
        ), model  # fmt: skip
        # Same 5m/1h split, same list prices: the same cost (this fails if the /btw replay wins the tie).
        assert row.cost_usd == pytest.approx(other["cost"], rel=1e-9, abs=1e-12), model


def test_codex_matches_ccusage(tmp_path: Path) -> None:
    codex_home = fixture_copy("codex", tmp_path)
    shutil.rmtree(codex_home / "exec-json")  # a saved stdout, read by neither
    theirs = by_model(ccusage(tmp_path / "home", "codex", "daily", CODEX_HOME=str(codex_home)))
    events, _ = read_all(CodexReader(), Env(home=tmp_path / "home", environ={"CODEX_HOME": str(codex_home)}))
    ours = totals(window(events))
    assert set(ours) == set(theirs)
    for model, row in ours.items():
        other = theirs[model]
        assert (row.input, row.output, row.cache_read, row.cache_write) == (
            other["inputTokens"], other["outputTokens"], other["cacheReadTokens"], other["cacheCreationTokens"],
        ), model  # fmt: skip


def test_gemini_matches_ccusage_with_thoughts_as_output(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    shutil.copytree(fixture_copy("gemini", tmp_path), home / ".gemini")
    report = ccusage(home, "gemini", "daily")
    theirs = by_model(report)
    events, _ = read_all(GeminiReader(), Env(home=home, environ={}))
    ours = totals(window(events))
    assert set(ours) == set(theirs)
    for model, row in ours.items():
        assert (row.input, row.cache_read) == (theirs[model]["inputTokens"], theirs[model]["cacheReadTokens"]), model
    ours_output = sum(row.output for row in ours.values())
    theirs_output = sum(row["outputTokens"] for row in theirs.values())
    assert extra_tokens(report) == 540 + 96 + 210  # the thoughts ccusage keeps apart
    assert ours_output == theirs_output + extra_tokens(report)


def test_opencode_matches_ccusage_with_reasoning_as_output(tmp_path: Path) -> None:
    data_home = tmp_path / "xdg"
    data_home.mkdir()
    fixture_copy("opencode", data_home)
    report = ccusage(tmp_path / "home", "opencode", "daily", XDG_DATA_HOME=str(data_home))
    theirs = by_model(report)
    events, _ = read_all(OpenCodeReader(), Env(home=tmp_path / "home", environ={"XDG_DATA_HOME": str(data_home)}))
    ours = totals(window(events))
    assert set(ours) == set(theirs)
    for model, row in ours.items():
        other = theirs[model]
        assert (row.input, row.cache_read, row.cache_write) == (
            other["inputTokens"], other["cacheReadTokens"], other["cacheCreationTokens"],
        ), model  # fmt: skip
    assert ours["claude-sonnet-4-5-20250929"].cost_usd == pytest.approx(theirs["claude-sonnet-4-5-20250929"]["cost"])
    assert extra_tokens(report) == 256
    assert sum(r.output for r in ours.values()) == sum(r["outputTokens"] for r in theirs.values()) + 256


def test_copilot_matches_ccusage(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    shutil.copytree(fixture_copy("copilot-cli", tmp_path), home / ".copilot")
    theirs = by_model(ccusage(home, "copilot", "daily"))
    reader = CopilotReader()
    events, _ = read_all(reader, Env(home=home, environ={}))
    ours = totals(window(events))
    assert set(ours) == set(theirs)
    for model, row in ours.items():
        other = theirs[model]
        assert (row.input, row.output, row.cache_read, row.cache_write) == (
            other["inputTokens"], other["outputTokens"], other["cacheReadTokens"], other["cacheCreationTokens"],
        ), model  # fmt: skip
