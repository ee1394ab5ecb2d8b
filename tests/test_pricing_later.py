"""Trailer lines with tokens but no cost_usd are priced later, counted, never $0 nor left out."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import commit_file, git, run_cli
from commitledger.ledger.pricing import load_prices, split_cost

# Unpriced when committed (a model the table of the day did not know): tokens, no cost_usd.
LATE = ("AI-Usage: agent=claude-code model=claude-opus-4-8 sessions=1 prompts=1 requests=4 tool_calls=2 "
        "input=4000 output=2000 cache_read=400000 cache_write=8000")  # fmt: skip
PRICED = ("AI-Usage: agent=codex model=gpt-5.4 sessions=1 prompts=1 requests=1 tool_calls=0 input=1000 output=100 "
          "cache_read=0 cache_write=0 cost_usd=0.0040")  # fmt: skip


def _expected() -> float:
    table = load_prices()
    # Four even requests of 1000 in / 500 out / 100k cache read / 2000 cache write.
    return split_cost(table, "claude-opus-4-8", 4000, 2000, 400_000, 8000, 4, None)  # type: ignore[return-value]


def test_pr_and_history_price_the_line_later_and_say_so(repo: Path) -> None:
    base = commit_file(repo, "README.md", "hi\n", "Initial commit")
    git(repo, "checkout", "-q", "-b", "feature")
    commit_file(repo, "a.py", "x = 1\n", f"Add a\n\n{LATE}\n{PRICED}")
    head = git(repo, "rev-parse", "HEAD")
    proc = run_cli("pr", "--base", base, "--head", head, "--format", "json", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    late = _expected()
    # opus-4-8 at $5 in, $25 out, $0.50 cache read, $6.25 cache write per million: never $0.
    assert abs(late - 0.32) < 1e-9
    assert abs(data["usage"]["cost_usd"] - round(late + 0.004, 6)) < 1e-6
    assert data["usage"]["priced_later"] == 1
    by_model = {row["model"]: row for row in data["by_model"]}
    assert by_model["claude-opus-4-8"]["priced_later"] == 1 and "priced_later" not in by_model["gpt-5.4"]

    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge pull request #7 from dev/feature\n\nAdd a", "feature")
    hist = run_cli("history", "--format", "json", "--since", "all", cwd=repo)
    assert hist.returncode == 0, hist.stderr
    change = next(c for c in json.loads(hist.stdout)["changes"] if c["ai"])
    assert abs(change["usage"]["cost_usd"] - round(late + 0.004, 6)) < 1e-6
    assert change["usage"]["priced_later"] == 1
