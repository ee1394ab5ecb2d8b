"""OpenCode reader: legacy storage files and the 1.2+ SQLite database built from the same JSON."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from capture_helpers import assert_no_content, counts, fixture_copy, keys, prices, totals, window
from commitledger.capture.base import Env, UsageEvent, load_reader
from commitledger.capture.opencode import OpenCodeReader

MAIN_SESSION = "ses_6a1f0c2e3ffeAbCdEfGhIjKl"
CHILD_SESSION = "ses_6a1f0c9d0ffeSubAgentChild"


@pytest.fixture
def data_home(tmp_path: Path) -> Path:
    """An XDG data dir holding a copy of the fixture's ``opencode`` dir."""
    base = tmp_path / "xdg"
    base.mkdir()
    fixture_copy("opencode", base)
    return base


def env_for(data_home: Path) -> Env:
    return Env(home=data_home.parent / "nohome", environ={"XDG_DATA_HOME": str(data_home)})


def read_env(reader: OpenCodeReader, env: Env) -> tuple[list[UsageEvent], int]:
    events: list[UsageEvent] = []
    bad = 0
    for path in reader.files(env):
        assert not reader.incremental(path)
        result = reader.read(path, 0, {})
        assert result.end == path.stat().st_size
        events += result.events
        bad += result.bad_lines
    return events, bad


def test_registry_loads_this_reader() -> None:
    assert isinstance(load_reader("opencode"), OpenCodeReader)


def test_legacy_storage_totals(data_home: Path) -> None:
    events, bad = read_env(OpenCodeReader(), env_for(data_home))
    kept = window(events)
    per_model = totals(kept)
    sonnet = per_model["claude-sonnet-4-5-20250929"]
    assert (sonnet.requests, sonnet.input, sonnet.output, sonnet.cache_read, sonnet.cache_write) == (1, 12, 640, 18200, 6100)
    assert sonnet.cost_usd == pytest.approx(0.0412)  # OpenCode's own figure
    gpt = per_model["gpt-5.2"]
    assert (gpt.requests, gpt.input, gpt.output, gpt.cache_read, gpt.cache_write) == (1, 9800, 410 + 256, 4096, 0)
    # cost 0 from a subscription provider is unknown, not free: priced from tokens.
    (gpt_event,) = [e for e in kept if e.model == "gpt-5.2"]
    assert gpt_event.cost_usd is None
    assert gpt.cost_usd == pytest.approx(prices().cost("gpt-5.2", input=9800, output=666, cache_read=4096))
    assert gpt.cost_usd > 0
    assert counts(kept) == {"requests": 2, "prompts": 1, "tools": 1, "sessions": 1}
    (tool,) = [e for e in kept if e.kind == "tool"]
    assert (tool.key, tool.model, tool.cwd) == ("tool:toolu_01OPENCODEEDIT000000001", "claude-sonnet-4-5-20250929", "/home/alice/src/acme-web")
    assert {e.cwd for e in kept} == {"/home/alice/src/acme-web"}
    assert bad == 0
    assert_no_content(kept, "timeout", "client.ts", "Explore")


def _child_message(message_id: str) -> dict[str, object]:
    return {
        "id": message_id, "sessionID": CHILD_SESSION, "role": "assistant", "modelID": "claude-haiku-4-5-20251001",
        "providerID": "anthropic", "path": {"cwd": "/home/alice/src/acme-web", "root": "/home/alice/src/acme-web"},
        "cost": 0.002, "time": {"created": 1777892411000, "completed": 1777892420000},
        "tokens": {"input": 7, "output": 90, "reasoning": 10, "cache": {"read": 1000, "write": 0}},
    }  # fmt: skip


def test_child_session_counts_toward_parent_and_its_prompt_is_not_human(data_home: Path) -> None:
    storage = data_home / "opencode" / "storage"
    child_dir = storage / "message" / CHILD_SESSION
    child_dir.mkdir()
    (child_dir / "msg_child_assistant.json").write_text(json.dumps(_child_message("msg_child_assistant")), "utf-8")
    user = {"id": "msg_child_user", "sessionID": CHILD_SESSION, "role": "user", "time": {"created": 1777892410000}}
    (child_dir / "msg_child_user.json").write_text(json.dumps(user), "utf-8")
    events, _ = read_env(OpenCodeReader(), env_for(data_home))
    kept = window(events)
    (child,) = [e for e in kept if e.key == "msg_child_assistant"]
    assert child.session == MAIN_SESSION
    assert (child.output, child.cost_usd) == (100, 0.002)
    assert counts(kept)["prompts"] == 1


def build_db(path: Path, storage: Path, extra_messages: list[dict[str, object]]) -> None:
    """The 1.2+ schema (ids in columns, the rest in ``data``), filled from the fixture's JSON files."""
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE session (id TEXT PRIMARY KEY, project_id TEXT NOT NULL, parent_id TEXT, slug TEXT,
            directory TEXT NOT NULL, title TEXT NOT NULL, version TEXT NOT NULL,
            time_created INTEGER NOT NULL, time_updated INTEGER NOT NULL);
        CREATE TABLE message (id TEXT PRIMARY KEY, session_id TEXT NOT NULL,
            time_created INTEGER NOT NULL, time_updated INTEGER NOT NULL, data TEXT NOT NULL);
        CREATE TABLE part (id TEXT PRIMARY KEY, message_id TEXT NOT NULL, session_id TEXT NOT NULL,
            time_created INTEGER NOT NULL, time_updated INTEGER NOT NULL, data TEXT NOT NULL);
        """
    )
    for file in sorted((storage / "session").rglob("*.json")):
        s = json.loads(file.read_text("utf-8"))
        conn.execute(
            "INSERT INTO session VALUES (?,?,?,?,?,?,?,?,?)",
            (s["id"], s["projectID"], s.get("parentID"), None, s["directory"], s["title"], s["version"],
             s["time"]["created"], s["time"]["updated"]),
        )  # fmt: skip
    messages = [json.loads(f.read_text("utf-8")) for f in sorted((storage / "message").rglob("*.json"))]
    for m in messages + list(extra_messages):
        data = {k: v for k, v in m.items() if k not in ("id", "sessionID")}
        created = m["time"]["created"]  # type: ignore[index]
        conn.execute("INSERT INTO message VALUES (?,?,?,?,?)", (m["id"], m["sessionID"], created, created, json.dumps(data)))
    for file in sorted((storage / "part").rglob("*.json")):
        p = json.loads(file.read_text("utf-8"))
        data = {k: v for k, v in p.items() if k not in ("id", "sessionID", "messageID")}
        conn.execute(
            "INSERT INTO part VALUES (?,?,?,?,?,?)",
            (p["id"], p["messageID"], p["sessionID"], 1777892425000, 1777892426000, json.dumps(data)),
        )
    conn.execute(
        "INSERT INTO part VALUES (?,?,?,?,?,?)",
        ("prt_text", "msg_a10000000002Assistant001", MAIN_SESSION, 1, 1, json.dumps({"type": "text", "text": "hello"})),
    )
    conn.commit()
    conn.close()


def test_sqlite_database_gives_the_same_totals(data_home: Path, tmp_path: Path) -> None:
    root = data_home / "opencode"
    storage = root / "storage"
    build_db(root / "opencode.db", storage, [_child_message("msg_child_in_db")])
    reader = OpenCodeReader()
    db_result = reader.read(root / "opencode.db", 0, {})
    assert db_result.end == (root / "opencode.db").stat().st_size
    db_kept = window(db_result.events)
    per_model = totals(db_kept)
    assert (per_model["claude-sonnet-4-5-20250929"].output, per_model["gpt-5.2"].output) == (640, 666)
    (child,) = [e for e in db_kept if e.key == "msg_child_in_db"]
    assert child.session == MAIN_SESSION
    assert counts(db_kept) == {"requests": 3, "prompts": 1, "tools": 1, "sessions": 1}
    (tool,) = [e for e in db_kept if e.kind == "tool"]
    assert tool.model == "claude-sonnet-4-5-20250929"

    # A migration that left the old files behind: both are read, each message counts once.
    events, _ = read_env(OpenCodeReader(), env_for(data_home))
    assert counts(window(events)) == {"requests": 3, "prompts": 1, "tools": 1, "sessions": 1}

    # Only the database (files removed after migration).
    shutil.rmtree(storage)
    files = list(OpenCodeReader().files(env_for(data_home)))
    assert files == [root / "opencode.db"]
    assert keys(OpenCodeReader().read(files[0], 0, {}).events) == keys(db_result.events)


def test_unknown_database_schema_and_missing_dirs_are_harmless(tmp_path: Path) -> None:
    db = tmp_path / "opencode" / "opencode.db"
    db.parent.mkdir()
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE other (x)")
    conn.commit()
    conn.close()
    result = OpenCodeReader().read(db, 0, {})
    assert result.events == []
    assert list(OpenCodeReader().files(Env(home=tmp_path / "nobody", environ={}))) == []
    env = Env(home=tmp_path / "h", environ={})
    assert OpenCodeReader().roots(env) == [tmp_path / "h" / ".local" / "share" / "opencode"]


def test_broken_message_file_is_counted(data_home: Path) -> None:
    path = data_home / "opencode" / "storage" / "message" / MAIN_SESSION / "msg_broken.json"
    path.write_bytes(b'{"id": "msg_broken", "role": "assist')
    result = OpenCodeReader().read(path, 0, {})
    assert (result.events, result.bad_lines, result.end) == ([], 1, path.stat().st_size)
    streaming = dict(_child_message("msg_streaming"), tokens={"input": 0, "output": 0, "reasoning": 0, "cache": {}})
    path.write_text(json.dumps(streaming), "utf-8")
    assert OpenCodeReader().read(path, 0, {}).events == []
