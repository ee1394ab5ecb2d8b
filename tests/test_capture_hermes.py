"""Hermes Agent: table ``sessions`` of ``~/.hermes/state.db``, one row of running totals per session.

The fixture (``fixtures/agent-logs/hermes/state.sql``) builds the database: a
CLI session in acme-web, one whose only directory is its ``git_repo_root``, a
Telegram gateway session with no directory, one in another repository with a
reconciled cost, an unused session and a row with tokens but no model.

ccusage 20.0.24 (``ccusage hermes daily``) reads the same rows and agrees on
input, output and both cache figures. Where we differ on purpose:

- ``reasoning_tokens``: Hermes counts reasoning inside ``output_tokens`` and
  keeps this column as telemetry; ccusage adds it to ``totalTokens`` (and
  prices it again as output), we do not add it.
- Cost: both take ``actual_cost_usd`` (the reconciled bill) as is and price the
  other sessions from their tokens, so only the reconciled session is compared.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from agent_homes import AGENT_VARS, fresh_home, reader_env
from capture_helpers import CCUSAGE, ccusage_by_model, counts, read_all, totals, window
from commitledger.capture.base import Env, load_reader


ACME = "/home/alice/src/acme-web"
# model -> (requests, input, output, cache_read, cache_write, Hermes' reconciled cost or None)
EXPECTED = {
    "claude-sonnet-4-5": (1, 1200, 3400, 52000, 6100, None),
    "claude-haiku-4-5": (1, 300, 450, 9000, 0, None),
    "gpt-5": (1, 900, 300, 0, 0, None),
    "gpt-5-mini": (1, 2400, 610, 4096, 0, 0.00242),
}
REASONING = 800 + 0 + 120 + 256  # in ccusage's totalTokens, not in ours


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return fresh_home(tmp_path, monkeypatch, ["hermes"])


def test_exact_totals_per_model_directories_and_the_bad_row(home: Path) -> None:
    events, bad = read_all(load_reader("hermes"), reader_env(home))
    got = totals(window(events))
    assert set(got) == set(EXPECTED)
    for model, (requests, fresh, output, read, write, cost) in EXPECTED.items():
        row = got[model]
        assert (row.requests, row.input, row.output, row.cache_read, row.cache_write) == (requests, fresh, output, read, write), model
        if cost is not None:
            assert row.cost_usd == pytest.approx(cost, abs=1e-12), model
    assert bad == 1  # the row with tokens and a blank model; the unused session is not an error
    assert counts(events) == {"requests": 4, "prompts": 0, "tools": 0, "sessions": 4}
    where = {e.model: e.cwd for e in events}
    assert where == {"claude-sonnet-4-5": ACME, "claude-haiku-4-5": ACME, "gpt-5": None,
                     "gpt-5-mini": "/home/alice/src/billing-api"}  # fmt: skip
    assert [e.cost_usd for e in events if e.model != "gpt-5-mini"] == [None, None, None]  # estimates are not bills
    assert {e.model: e.provider for e in events}["claude-haiku-4-5"] == ""  # "auto" names no provider


@pytest.mark.skipif(not CCUSAGE.exists(), reason="ccusage is not installed in .ci/node (.ci/run installs it)")
def test_totals_agree_with_ccusage(home: Path) -> None:
    report, theirs = ccusage_by_model("hermes", home, AGENT_VARS)
    events, _ = read_all(load_reader("hermes"), reader_env(home))
    mine = totals(window(events))
    assert set(mine) == set(theirs)
    for model, row in mine.items():
        other = theirs[model]
        assert (row.input, row.output, row.cache_read, row.cache_write) == (
            other["inputTokens"], other["outputTokens"], other["cacheReadTokens"], other["cacheCreationTokens"]), model
        if EXPECTED[model][5] is not None:
            assert row.cost_usd == pytest.approx(other["cost"], abs=1e-9), model
    t = report["totals"]
    assert t["totalTokens"] - t["inputTokens"] - t["outputTokens"] - t["cacheReadTokens"] - t["cacheCreationTokens"] == REASONING


def test_a_growing_session_keeps_its_key_with_the_larger_total(home: Path) -> None:
    reader = load_reader("hermes")
    db = home / ".hermes" / "state.db"
    first = {e.key: e for e in reader.read(db, 0, {}).events}
    conn = sqlite3.connect(db)
    conn.execute("UPDATE sessions SET input_tokens = input_tokens + 100, output_tokens = output_tokens + 40,"
                 " last_activity_at = last_activity_at + 60 WHERE id = '20260506_090000_a1b2c3'")
    conn.commit()
    conn.close()
    later = {e.key: e for e in reader.read(db, 0, {}).events}
    key = "20260506_090000_a1b2c3"
    assert set(later) == set(first)
    assert (later[key].input - first[key].input, later[key].output - first[key].output) == (100, 40)
    assert later[key].weight > first[key].weight  # the window keeps the later row and adds only the growth


def test_hermes_home_lists_every_home_and_the_wal_file(home: Path, tmp_path: Path) -> None:
    other = tmp_path / "profile"
    shutil.copytree(home / ".hermes", other)
    (other / "state.db-wal").write_bytes(b"")
    env = Env(home=home, environ={"HERMES_HOME": f"{home / '.hermes'}, {other}"}, extra={})
    listed = [p.relative_to(tmp_path) for p in load_reader("hermes").files(env)]
    assert listed == [Path("home/.hermes/state.db"), Path("profile/state.db"), Path("profile/state.db-wal")]
    assert len(load_reader("hermes").read(other / "state.db-wal", 0, {}).events) == 4


def test_an_older_or_foreign_sessions_table_reads_what_it_has_or_nothing(tmp_path: Path) -> None:
    old = tmp_path / "old" / "state.db"
    old.parent.mkdir()
    conn = sqlite3.connect(old)
    conn.executescript(  # before cwd, cache and cost columns were added
        "CREATE TABLE sessions (id TEXT PRIMARY KEY, source TEXT, model TEXT, started_at REAL, input_tokens INTEGER,"
        " output_tokens INTEGER);"
        "INSERT INTO sessions VALUES ('s1', 'cli', 'gpt-5', 1778058000.0, 700, 80);"
    )
    conn.commit()
    conn.close()
    events = load_reader("hermes").read(old, 0, {}).events
    assert [(e.key, e.input, e.output, e.cache_read, e.cwd, e.time) for e in events] == [("s1", 700, 80, 0, None, 1778058000.0)]
    foreign = tmp_path / "foreign" / "state.db"
    foreign.parent.mkdir()
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE sessions (id TEXT, tokens INTEGER)")
    conn.commit()
    conn.close()
    assert load_reader("hermes").read(foreign, 0, {}).events == []
