"""OpenCode: ``$XDG_DATA_HOME/opencode`` (``~/.local/share/opencode``).

Two layouts hold the same JSON:

- up to 1.1, one file per object under ``storage/``: ``message/<session>/<msg>.json``,
  ``part/<msg>/<part>.json``, ``session/<project>/<session>.json``;
- from 1.2, ``opencode.db`` (SQLite): tables ``message`` and ``part`` with the
  object in their ``data`` column next to ``id``/``session_id``/``message_id``
  columns (the JSON itself may omit the ids), and ``session`` with
  ``parent_id`` and ``directory`` columns.

Both are read whole (``incremental`` is False): a message file is rewritten
as its response streams in, and a database is not an append-only log. Keys
are OpenCode's own message ids and tool call ids, so a message found in both
the old files and the database (a migration that left the files behind)
counts once.

- An assistant message is one request: ``tokens.input`` (uncached),
  ``tokens.output`` plus ``tokens.reasoning`` (billed as output),
  ``tokens.cache.read`` and ``tokens.cache.write``; the working directory is
  its ``path.cwd``. A message whose tokens are all zero (still streaming,
  or failed before any usage) is not a request.
- ``cost`` above zero is OpenCode's own figure and becomes ``cost_usd``;
  ``cost: 0`` is what a subscription provider (``github-copilot``) reports,
  so it is left unknown and priced from the tokens instead.
- A child session (``parentID``: a subagent) counts toward its root
  session; its user messages are the parent agent's instructions, not human
  prompts.
- Tool calls are ``tool`` parts, keyed by ``callID``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs the hook ~3 ms
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any, Iterable

from commitledger.capture.base import Env, ReadResult, UsageEvent
from commitledger.capture.jsonl import as_int, loads, walk_files

AGENT = "opencode"
DB_NAME = "opencode.db"


class OpenCodeReader:
    agent = AGENT

    def __init__(self) -> None:
        # storage dir -> session id -> (parent id, directory); built once per reader instance.
        self._sessions: dict[Path, dict[str, tuple[str | None, str | None]]] = {}
        self._models: dict[Path, str] = {}

    def incremental(self, path: Path) -> bool:
        return False

    def roots(self, env: Env) -> list[Path]:
        xdg = env.environ.get("XDG_DATA_HOME", "").strip()
        base = Path(xdg).expanduser() if xdg else env.home / ".local" / "share"
        return [base / "opencode"]

    def files(self, env: Env) -> Iterable[Path]:
        for root in self.roots(env):
            db = root / DB_NAME
            try:
                if db.is_file():
                    yield db
            except OSError:
                pass
            storage = root / "storage"
            yield from walk_files(storage / "message", ".json")
            yield from walk_files(storage / "part", ".json")

    def read(self, path: Path, start: int, ctx: dict[str, Any]) -> ReadResult:
        if path.name == DB_NAME:
            return self._read_db(path)
        try:
            raw = path.read_bytes()
        except OSError:
            return ReadResult(end=start)
        result = ReadResult(end=len(raw))
        kind = path.parent.parent.name
        if kind == "part" and b'"tool"' not in raw:
            return result  # text, reasoning, step parts: nothing we count
        data = loads(raw)
        if type(data) is not dict:
            result.bad_lines = 1 if raw.strip() else 0
            return result
        storage = path.parent.parent.parent
        sessions = self._session_index(storage)
        if kind == "message":
            event = _message_event(data, data.get("id"), data.get("sessionID"), sessions)
            if event is not None:
                result.events.append(event)
        elif kind == "part":
            message_id = data.get("messageID")
            model = self._legacy_model(storage, data.get("sessionID"), message_id)
            event = _tool_event(data, data.get("sessionID"), model, sessions)
            if event is not None:
                result.events.append(event)
        return result

    def _session_index(self, storage: Path) -> dict[str, tuple[str | None, str | None]]:
        index = self._sessions.get(storage)
        if index is None:
            index = {}
            for path in walk_files(storage / "session", ".json"):
                data = loads(_read(path))
                if type(data) is dict and isinstance(data.get("id"), str):
                    index[data["id"]] = (_str(data.get("parentID")), _str(data.get("directory")))
            self._sessions[storage] = index
        return index

    def _legacy_model(self, storage: Path, session: Any, message_id: Any) -> str:
        if not isinstance(session, str) or not isinstance(message_id, str):
            return ""
        path = storage / "message" / session / f"{message_id}.json"
        model = self._models.get(path)
        if model is None:
            data = loads(_read(path))
            model = (_str(data.get("modelID")) or "") if type(data) is dict else ""
            self._models[path] = model
        return model

    def _read_db(self, path: Path) -> ReadResult:
        import sqlite3  # only OpenCode >= 1.2 users pay for the import

        try:
            size = os.stat(path).st_size
        except OSError:
            return ReadResult()
        result = ReadResult(end=size)
        try:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=2.0)
        except sqlite3.Error:
            return result
        try:
            sessions = _db_sessions(conn)
            models: dict[str, str] = {}
            messages: list[tuple[Any, Any, Any]] = []
            for message_id, session_id, data in conn.execute("SELECT id, session_id, data FROM message"):
                messages.append((message_id, session_id, data))
            for message_id, session_id, data in messages:
                row = _json_column(data)
                if row is None:
                    result.bad_lines += 1
                    continue
                models[message_id] = _str(row.get("modelID")) or ""
                event = _message_event(row, message_id, session_id, sessions)
                if event is not None:
                    result.events.append(event)
            for part_id, message_id, session_id, data in conn.execute(
                "SELECT id, message_id, session_id, data FROM part WHERE data LIKE '%\"tool\"%'"
            ):
                row = _json_column(data)
                if row is None:
                    result.bad_lines += 1
                    continue
                row.setdefault("id", part_id)
                event = _tool_event(row, session_id, models.get(message_id, ""), sessions)
                if event is not None:
                    result.events.append(event)
        except sqlite3.Error:
            # Locked, or a schema we do not know: report what was read so far; the next change retries.
            pass
        finally:
            conn.close()
        return result


def _db_sessions(conn: Any) -> dict[str, tuple[str | None, str | None]]:
    import sqlite3

    try:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(session)")}
    except sqlite3.Error:
        return {}
    if "id" not in columns:
        return {}
    parent = "parent_id" if "parent_id" in columns else "NULL"
    directory = "directory" if "directory" in columns else "NULL"
    out: dict[str, tuple[str | None, str | None]] = {}
    for sid, parent_id, where in conn.execute(f"SELECT id, {parent}, {directory} FROM session"):  # noqa: S608
        if isinstance(sid, str):
            out[sid] = (_str(parent_id), _str(where))
    return out


def _json_column(value: Any) -> dict[str, Any] | None:
    if isinstance(value, bytes):
        data = loads(value)
    elif isinstance(value, str):
        try:
            data = json.loads(value)
        except ValueError:
            return None
    else:
        return None
    return data if type(data) is dict else None


def _root(session: Any, sessions: dict[str, tuple[str | None, str | None]]) -> tuple[str, bool, str | None]:
    """The root session of ``session``, whether it is a child, and the nearest known directory."""
    sid = session if isinstance(session, str) and session else "unknown"
    directory = sessions.get(sid, (None, None))[1]
    current, seen = sid, {sid}
    while True:
        parent = sessions.get(current, (None, None))[0]
        if parent is None or parent in seen:
            break
        seen.add(parent)
        current = parent
        if directory is None:
            directory = sessions.get(current, (None, None))[1]
    return current, current != sid, directory


def _message_event(
    data: dict[str, Any], message_id: Any, session_id: Any, sessions: dict[str, tuple[str | None, str | None]]
) -> UsageEvent | None:
    if not isinstance(message_id, str) or not message_id:
        return None
    root, is_child, directory = _root(session_id, sessions)
    times = data.get("time")
    times = times if type(times) is dict else {}
    role = data.get("role")
    if role == "user":
        if is_child:
            return None
        when = _ms(times.get("created"))
        return UsageEvent(AGENT, "prompt", "prompt:" + message_id, when, root, directory)
    if role != "assistant":
        return None
    tokens = data.get("tokens")
    if type(tokens) is not dict:
        return None
    cache = tokens.get("cache")
    cache = cache if type(cache) is dict else {}
    fresh = as_int(tokens.get("input"))
    output = as_int(tokens.get("output")) + as_int(tokens.get("reasoning"))
    read = as_int(cache.get("read"))
    write = as_int(cache.get("write"))
    if not (fresh or output or read or write):
        return None
    where = data.get("path")
    cwd = _str(where.get("cwd")) if type(where) is dict else None
    cost = data.get("cost")
    cost_usd = float(cost) if isinstance(cost, (int, float)) and not isinstance(cost, bool) and cost > 0 else None
    when = _ms(times.get("completed") or times.get("created"))
    model = _str(data.get("modelID")) or ""
    # The provider decides the price of one model id (Bedrock's regional premium, Vertex's table).
    provider = _str(data.get("providerID")) or ""
    return UsageEvent(
        AGENT, "request", message_id, when, root, cwd or directory, None, model, fresh, output, read, write, 0, cost_usd,
        provider,
    )


def _tool_event(
    data: dict[str, Any], session_id: Any, model: str, sessions: dict[str, tuple[str | None, str | None]]
) -> UsageEvent | None:
    if data.get("type") != "tool":
        return None
    call = data.get("callID") or data.get("id")
    if not isinstance(call, str) or not call:
        return None
    root, _child, directory = _root(session_id if session_id else data.get("sessionID"), sessions)
    state = data.get("state")
    times = state.get("time") if type(state) is dict else None
    when = _ms(times.get("start")) if type(times) is dict else 0.0
    return UsageEvent(AGENT, "tool", "tool:" + call, when, root, directory, None, model)


def _ms(value: Any) -> float:
    return float(value) / 1000.0 if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""
