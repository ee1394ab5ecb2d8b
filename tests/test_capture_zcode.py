"""ZCode: table ``model_usage`` of ``~/.zcode/cli/db/db.sqlite``, one row per billed model request.

The fixture (``fixtures/agent-logs/zcode/db.sql``) builds the database: a
cached request, a failed one, a request and its retry, a subagent on another
model, a row still running, a row with tokens but no model, and a session of
another repository. ccusage 20.0.24 (``ccusage zcode daily``) reads the same
database and agrees on every token figure. Cost is not compared: ZCode logs
no price, and each side prices GLM models from its own table.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from agent_homes import AGENT_VARS, fresh_home, reader_env
from capture_helpers import CCUSAGE, ccusage_by_model, counts, read_all, totals, window
from commitledger.capture.base import Env, load_reader


# model -> (requests, input, output, cache_read, cache_write)
EXPECTED = {
    "glm-4.6": (4, 2000 + 3000 + 1000 + 3000, 800 + 300 + 350 + 100, 9000 + 4000 + 6000, 1000),
    "glm-4.5-air": (1, 2500, 150, 0, 0),
}


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return fresh_home(tmp_path, monkeypatch, ["zcode"])


def db_of(home: Path) -> Path:
    return home / ".zcode" / "cli" / "db" / "db.sqlite"


def test_exact_totals_per_model_and_the_bad_row(home: Path) -> None:
    events, bad = read_all(load_reader("zcode"), reader_env(home))
    got = totals(window(events))
    assert set(got) == set(EXPECTED)
    for model, want in EXPECTED.items():
        row = got[model]
        assert (row.requests, row.input, row.output, row.cache_read, row.cache_write) == want, model
    assert bad == 1  # mu_07: tokens, no model; the failed and the running rows are not errors
    assert counts(events) == {"requests": 5, "prompts": 0, "tools": 0, "sessions": 2}
    assert {e.key: e.cwd for e in events}["mu_08"] == "/home/alice/src/billing-api"
    assert {e.cwd for e in events if e.session == "ses_7f3a1c"} == {"/home/alice/src/acme-web"}
    assert all(e.cost_usd is None for e in events)  # ZCode logs no price: priced from the tokens


@pytest.mark.skipif(not CCUSAGE.exists(), reason="ccusage is not installed in .ci/node (.ci/run installs it)")
def test_totals_agree_with_ccusage(home: Path) -> None:
    report, theirs = ccusage_by_model("zcode", home, AGENT_VARS)
    events, _ = read_all(load_reader("zcode"), reader_env(home))
    mine = totals(window(events))
    assert set(mine) == set(theirs)
    for model, row in mine.items():
        other = theirs[model]
        assert (row.input, row.output, row.cache_read, row.cache_write) == (
            other["inputTokens"], other["outputTokens"], other["cacheReadTokens"], other["cacheCreationTokens"]), model
    t = report["totals"]
    assert t["totalTokens"] == t["inputTokens"] + t["outputTokens"] + t["cacheReadTokens"] + t["cacheCreationTokens"]


def test_a_new_row_is_a_new_key_and_old_rows_keep_theirs(home: Path) -> None:
    reader = load_reader("zcode")
    db = db_of(home)
    before = {e.key for e in reader.read(db, 0, {}).events}
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO model_usage (id, session_id, model_id, status, started_at, input_tokens, output_tokens, "
                 "cache_read_input_tokens) VALUES ('mu_09', 'ses_7f3a1c', 'glm-4.6', 'completed', 1778058500000, 900, 60, 700)")
    conn.execute("UPDATE model_usage SET status = 'completed', input_tokens = 400, output_tokens = 20 WHERE id = 'mu_06'")
    conn.commit()
    conn.close()
    after = {e.key: e for e in reader.read(db, 0, {}).events}
    assert set(after) - before == {"mu_09", "mu_06"}
    assert (after["mu_09"].input, after["mu_09"].cache_read, after["mu_09"].output) == (200, 700, 60)


def test_cache_parts_larger_than_the_prompt_are_capped_not_negative(tmp_path: Path) -> None:
    db = tmp_path / "zc" / "cli" / "db" / "db.sqlite"
    db.parent.mkdir(parents=True)
    conn = sqlite3.connect(db)
    conn.executescript(
        "CREATE TABLE model_usage (id TEXT, session_id TEXT, model_id TEXT, status TEXT, started_at INTEGER,"
        " input_tokens INTEGER, output_tokens INTEGER, cache_read_input_tokens INTEGER, cache_creation_input_tokens INTEGER);"
        "INSERT INTO model_usage VALUES ('a', 's', 'glm-4.6', 'completed', 1778058000000, 3000, 10, 9000, 50);"
        "INSERT INTO model_usage VALUES ('b', 's', 'glm-4.6', 'completed', 1778058000000, 3000, 10, 2990, 50);"
    )  # no session table: nothing says where these ran
    conn.commit()
    conn.close()
    events = load_reader("zcode").read(db, 0, {}).events
    assert [(e.input, e.cache_read, e.cache_write, e.cwd) for e in events] == [(0, 3000, 0, None), (0, 2990, 10, None)]


def test_not_a_zcode_database_reads_nothing_and_never_raises(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE model_usage (id TEXT, tokens INTEGER)")
    conn.commit()
    conn.close()
    assert load_reader("zcode").read(db, 0, {}).events == []
    garbage = tmp_path / "garbage" / "db.sqlite"
    garbage.parent.mkdir()
    garbage.write_bytes(b"not a database at all" * 100)
    result = load_reader("zcode").read(garbage, 0, {})
    assert result.events == [] and result.end == garbage.stat().st_size


def test_zcode_home_lists_every_home_and_the_wal_file(home: Path, tmp_path: Path) -> None:
    other = tmp_path / "second"
    shutil.copytree(home / ".zcode", other)
    (other / "cli" / "db" / "db.sqlite-wal").write_bytes(b"")
    env = Env(home=home, environ={"ZCODE_HOME": f"{home / '.zcode'},{other}"}, extra={})
    listed = [p.relative_to(tmp_path) for p in load_reader("zcode").files(env)]
    assert listed == [Path("home/.zcode/cli/db/db.sqlite"), Path("second/cli/db/db.sqlite"), Path("second/cli/db/db.sqlite-wal")]
    wal = load_reader("zcode").read(other / "cli" / "db" / "db.sqlite-wal", 0, {})
    assert len(wal.events) == 5  # a change to the WAL re-reads the database beside it
