"""Kilo CLI: ``$KILO_DATA_DIR/kilo.db`` (``~/.local/share/kilo/kilo.db``).

Kilo CLI is built on OpenCode and keeps the same SQLite store: a ``message``
table whose ``data`` column holds the message JSON (``role``, ``modelID``,
``tokens.{input,output,reasoning,cache.read,cache.write}``, ``cost``,
``path.cwd``, ``time``), ``part`` rows for tool calls and ``session`` rows
with ``parent_id`` and ``directory``. The OpenCode reader's database path
reads it; events are relabelled ``kilo``. Read whole when the file's size or
mtime changes; ``sqlite3`` is imported only then.
"""

from __future__ import annotations

from pathlib import Path

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs the hook ~3 ms
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any, Iterable

from commitledger.capture.base import Env, ReadResult
from commitledger.capture.opencode import OpenCodeReader

AGENT = "kilo"
DB_NAME = "kilo.db"


class KiloReader:
    agent = AGENT

    def __init__(self) -> None:
        self._opencode = OpenCodeReader()

    def incremental(self, path: Path) -> bool:
        return False

    def roots(self, env: Env) -> list[Path]:
        named = env.environ.get("KILO_DATA_DIR", "").strip()
        if named:
            return [Path(p.strip()).expanduser() for p in named.split(",") if p.strip()]
        return [env.home / ".local" / "share" / "kilo"]

    def files(self, env: Env) -> Iterable[Path]:
        for root in self.roots(env):
            db = root / DB_NAME
            try:
                if db.is_file():
                    yield db
            except OSError:
                continue

    def read(self, path: Path, start: int, ctx: dict[str, Any]) -> ReadResult:
        result = self._opencode._read_db(path)
        for event in result.events:
            event.agent = AGENT
        return result
