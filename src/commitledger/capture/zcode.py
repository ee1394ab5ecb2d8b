"""ZCode: ``~/.zcode/cli/db/db.sqlite`` (``$ZCODE_HOME`` for ``~/.zcode``; comma-separated homes allowed).

ZCode records every model request as one row of table ``model_usage``:
``id`` (the row's own id, the dedupe key), ``session_id``, ``model_id``,
``status`` (only ``completed`` rows were billed; ``running``, ``error`` and
``cancelled`` are not counted), ``started_at`` (epoch milliseconds) and
``input_tokens``, which is the whole prompt: ``cache_read_input_tokens`` and
``cache_creation_input_tokens`` are parts of it, so ``input`` is what is
left (each part capped at what remains, as ccusage does). ``output_tokens``
includes reasoning. A retry is its own row (``attempt_index`` > 0) and was
billed on its own, so it counts on its own. ZCode logs no price.

The working directory is ``session.directory`` of the row's session.
Prompts and tool calls are not in this table (unknown, not zero).

Read whole when the file's size or mtime changes (ZCode writes in WAL mode:
a change may first land in ``db.sqlite-wal``, so that file is listed too and
a change to either re-reads the database); ``sqlite3`` is imported only then.
"""

from __future__ import annotations

from pathlib import Path

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs the hook ~3 ms
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any, Iterable

from commitledger.capture.base import Env, ReadResult, UsageEvent
from commitledger.capture.sqlite_store import open_store, store_files
from commitledger.capture.jsonl import as_int

AGENT = "zcode"
DB_NAME = "db.sqlite"
_NEEDED = ("id", "session_id", "model_id", "status", "started_at", "input_tokens", "output_tokens")


class ZCodeReader:
    agent = AGENT

    def incremental(self, path: Path) -> bool:
        return False

    def roots(self, env: Env) -> list[Path]:
        return [base / "cli" / "db" for base in env.dirs("ZCODE_HOME", env.home / ".zcode")]

    def files(self, env: Env) -> Iterable[Path]:
        return store_files(self.roots(env), DB_NAME)

    def read(self, path: Path, start: int, ctx: dict[str, Any]) -> ReadResult:
        import sqlite3  # only a ZCode user whose database changed pays for the import

        conn, result = open_store(path, DB_NAME)
        if conn is None:
            return result
        try:
            usage_columns = {row[1] for row in conn.execute("PRAGMA table_info(model_usage)")}
            if not all(c in usage_columns for c in _NEEDED):
                return result  # not a ZCode database we know: nothing to read, nothing guessed
            directories = _directories(conn)
            cache = ", ".join(c if c in usage_columns else "0"
                              for c in ("cache_read_input_tokens", "cache_creation_input_tokens"))  # fmt: skip
            query = (f"SELECT id, session_id, model_id, started_at, input_tokens, output_tokens, {cache} "  # noqa: S608 - column names are ours
                     "FROM model_usage WHERE status = 'completed'")  # fmt: skip
            out = result.events
            for row in conn.execute(query):
                event = _request(row, directories)
                if event is None:
                    if not _empty(row):
                        result.bad_lines += 1  # tokens without an id, a model or a time: not a row ZCode writes
                    continue
                out.append(event)
        except sqlite3.Error:
            pass  # locked or an unknown schema: what was read stands; the next change retries
        finally:
            conn.close()
        return result


def _directories(conn: Any) -> dict[str, str]:
    """Session id -> working directory (the newest version's, where sessions are versioned)."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(session)")}
    if "id" not in columns or "directory" not in columns:
        return {}
    order = " ORDER BY version" if "version" in columns else ""
    out: dict[str, str] = {}
    for ident, directory in conn.execute(f"SELECT id, directory FROM session{order}"):  # noqa: S608 - ours
        if isinstance(ident, str) and isinstance(directory, str) and directory:
            out[ident] = directory
    return out


def _empty(row: tuple[Any, ...]) -> bool:
    return not any(as_int(v) for v in row[4:])


def _request(row: tuple[Any, ...], directories: dict[str, str]) -> UsageEvent | None:
    ident, session, model, started, prompt, output, read, write = row
    if not isinstance(ident, (str, int)) or isinstance(ident, bool) or ident == "":
        return None
    if not isinstance(model, str) or not model.strip():
        return None
    if not isinstance(started, (int, float)) or isinstance(started, bool) or started <= 0:
        return None
    prompt, output = as_int(prompt), as_int(output)
    read = min(as_int(read), prompt)
    write = min(as_int(write), prompt - read)
    if not (prompt or output):
        return None
    session = session if isinstance(session, str) and session else ""
    when = float(started) / 1000.0
    return UsageEvent(AGENT, "request", str(ident), when, session, directories.get(session), None, model.strip(),
                      prompt - read - write, output, read, write)  # fmt: skip
