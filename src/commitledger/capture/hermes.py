"""Hermes Agent: ``~/.hermes/state.db`` (SQLite; ``$HERMES_HOME`` for ``~/.hermes``, comma-separated homes allowed).

Hermes keeps one row per session in table ``sessions`` with the session's
running totals, normalised by Hermes itself: ``input_tokens`` (uncached
input only), ``output_tokens``, ``cache_read_tokens``, ``cache_write_tokens``
and ``reasoning_tokens`` (telemetry: Hermes bills it inside the output, so it
is not added again), the ``model``, ``billing_provider``, the times
(``started_at``, ``last_activity_at``, ``ended_at``, epoch seconds) and the
working directory ``cwd`` (``git_repo_root`` when that is empty). Its own
price is taken when it is ``actual_cost_usd`` (reconciled with the provider);
``estimated_cost_usd`` is Hermes' lookup in its own price table, so those
sessions are priced from the tokens like any other, as ccusage does.

There is no per-request row, so each session is one event keyed by its id
carrying its running total, and the window takes the differences between
reads: a session already written into a commit adds only what it grew since.
A session's messages are not read (prompts and tool calls are unknown).

Read whole when the file's size or mtime changes (Hermes writes in WAL mode:
a change may first land in ``state.db-wal``, so that file is listed too and
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

AGENT = "hermes"
DB_NAME = "state.db"
_NEEDED = ("id", "model", "started_at", "input_tokens", "output_tokens")
_OPTIONAL = ("cache_read_tokens", "cache_write_tokens", "last_activity_at", "ended_at", "cwd", "git_repo_root",
             "billing_provider", "actual_cost_usd")  # fmt: skip


_NOT_A_PROVIDER = frozenset({"auto", "custom"})


class HermesReader:
    agent = AGENT

    def incremental(self, path: Path) -> bool:
        return False

    def roots(self, env: Env) -> list[Path]:
        return env.dirs("HERMES_HOME", env.home / ".hermes")

    def files(self, env: Env) -> Iterable[Path]:
        return store_files(self.roots(env), DB_NAME)

    def read(self, path: Path, start: int, ctx: dict[str, Any]) -> ReadResult:
        import sqlite3  # only a Hermes user whose database changed pays for the import

        conn, result = open_store(path, DB_NAME)
        if conn is None:
            return result
        try:
            columns = {row[1] for row in conn.execute("PRAGMA table_info(sessions)")}
            if not all(c in columns for c in _NEEDED):
                return result  # not a Hermes state database we know: nothing read, nothing guessed
            select = ", ".join(c if c in columns else "NULL" for c in _NEEDED + _OPTIONAL)
            out = result.events
            for row in conn.execute(f"SELECT {select} FROM sessions"):  # noqa: S608 - column names are ours
                event = _session_event(row)
                if event is None:
                    if _has_tokens(row):
                        result.bad_lines += 1  # tokens without an id, a model or a time: not a row Hermes writes
                    continue
                out.append(event)
        except sqlite3.Error:
            pass  # locked or an unknown schema: what was read stands; the next change retries
        finally:
            conn.close()
        return result


def _has_tokens(row: tuple[Any, ...]) -> bool:
    return any(as_int(v) for v in (row[3], row[4], row[5], row[6]))


def _time(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value) / 1000.0 if value > 1e11 else float(value)
    return None


def _cost(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    return None


def _session_event(row: tuple[Any, ...]) -> UsageEvent | None:
    (session, model, started, fresh, output, read, write, active, ended, cwd, repo_root,
     provider, actual) = row  # fmt: skip
    if not isinstance(session, str) or not session:
        return None
    if not isinstance(model, str) or not model.strip():
        return None
    when = _time(active) or _time(ended) or _time(started)
    if when is None:
        return None
    fresh, output, read, write = as_int(fresh), as_int(output), as_int(read), as_int(write)
    if not (fresh or output or read or write):
        return None
    where = cwd if isinstance(cwd, str) and cwd else repo_root if isinstance(repo_root, str) and repo_root else None
    cost = _cost(actual)  # the reconciled bill; Hermes' estimate is a price-table lookup, as ours is
    provider = provider.strip() if isinstance(provider, str) else ""
    if provider in _NOT_A_PROVIDER:
        provider = ""  # Hermes' billing buckets, not who served the model: the model id decides
    return UsageEvent(AGENT, "request", session, when, session, where, None, model.strip(), fresh, output, read, write,
                      0, cost, provider)  # fmt: skip
