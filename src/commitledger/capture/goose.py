"""Goose: ``sessions.db`` (SQLite) under ``~/.local/share/goose/sessions``
(macOS ``~/Library/Application Support/goose/sessions``; ``$GOOSE_PATH_ROOT/data/sessions``).

Goose stores session totals only: table ``sessions`` with
``accumulated_input_tokens``, ``accumulated_output_tokens`` and
``accumulated_total_tokens`` (falling back to ``input_tokens``/
``output_tokens``/``total_tokens``), ``model_config_json.model_name``,
``working_dir`` and ``updated_at``. There is no per-request row, no cache
split and no cost. So each session is one event keyed by its id carrying
its running total, and the window takes the differences between reads: a
session already written into a commit adds only what it grew since.
Tokens in the total beyond input + output (reasoning) count as output, as
they are billed. Prompts and tool calls are unknown.

Read whole when the file's size or mtime changes (Goose writes in WAL mode:
a change may first land in ``sessions.db-wal``, so that file is listed too
and a change to either re-reads the database); ``sqlite3`` is imported only then.
"""

from __future__ import annotations

import json
from pathlib import Path

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs the hook ~3 ms
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any, Iterable

from commitledger.capture.base import Env, ReadResult, UsageEvent
from commitledger.capture.sqlite_store import open_store, store_files
from commitledger.capture.jsonl import as_int, iso_to_epoch

AGENT = "goose"
DB_NAME = "sessions.db"


class GooseReader:
    agent = AGENT

    def incremental(self, path: Path) -> bool:
        return False

    def roots(self, env: Env) -> list[Path]:
        named = env.environ.get("GOOSE_PATH_ROOT", "").strip()
        if named:
            return [Path(named).expanduser() / "data" / "sessions"]
        home = env.home
        return [
            home / ".local" / "share" / "goose" / "sessions",
            home / "Library" / "Application Support" / "goose" / "sessions",
            home / ".local" / "share" / "Block" / "goose" / "sessions",
        ]

    def files(self, env: Env) -> Iterable[Path]:
        return store_files(self.roots(env), DB_NAME)

    def read(self, path: Path, start: int, ctx: dict[str, Any]) -> ReadResult:
        import sqlite3  # only a Goose user whose database changed pays for the import

        conn, result = open_store(path, DB_NAME)
        if conn is None:
            return result
        try:
            columns = {row[1] for row in conn.execute("PRAGMA table_info(sessions)")}
            if "id" not in columns:
                return result
            wanted = ("model_config_json", "working_dir", "updated_at", "created_at", "input_tokens",
                      "output_tokens", "total_tokens", "accumulated_input_tokens", "accumulated_output_tokens",
                      "accumulated_total_tokens")  # fmt: skip
            select = ", ".join(c if c in columns else "NULL" for c in wanted)
            for row in conn.execute(f"SELECT id, {select} FROM sessions"):  # noqa: S608 - column names are ours
                event = _session_event(row)
                if event is None:
                    if isinstance(row[1], str) and row[1].strip() and not _model(row[1]):
                        result.bad_lines += 1  # a model config that is not the JSON Goose writes
                    continue
                result.events.append(event)
        except sqlite3.Error:
            pass  # locked or an unknown schema: what was read stands; the next change retries
        finally:
            conn.close()
        return result


def _model(config: Any) -> str:
    if not isinstance(config, str) or not config.strip():
        return ""
    try:
        data = json.loads(config)
    except ValueError:
        return ""
    name = data.get("model_name") if isinstance(data, dict) else None
    return name.strip() if isinstance(name, str) else ""


def _session_event(row: tuple[Any, ...]) -> UsageEvent | None:
    session, config, cwd, updated, created, fresh, output, total, acc_in, acc_out, acc_total = row
    if not isinstance(session, str) or not session:
        return None
    model = _model(config)
    if not model:
        return None
    fresh = as_int(acc_in) or as_int(fresh)
    output = as_int(acc_out) or as_int(output)
    total = as_int(acc_total) or as_int(total) or fresh + output
    if not (fresh or output or total):
        return None
    output += max(0, total - fresh - output)
    when = _time(updated) or _time(created) or 0.0
    where = cwd if isinstance(cwd, str) and cwd else None
    return UsageEvent(AGENT, "request", session, when, session, where, None, model, fresh, output)


def _time(value: Any) -> float | None:
    """Goose writes ``YYYY-MM-DD HH:MM:SS`` (UTC, SQLite's CURRENT_TIMESTAMP), ISO or epoch numbers."""
    if isinstance(value, str) and len(value) == 19 and value[10] == " ":
        value = value[:10] + "T" + value[11:] + "Z"
    return iso_to_epoch(value)
