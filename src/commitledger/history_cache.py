"""Per-change facts cached in ``<git common dir>/commitledger/cache.sqlite``.

Keyed by the chain commit's id: the set of commits a change owns
(``first_parent..commit``) and everything read from their messages never
change for a given id, so a row stays valid forever and for every branch.
Reverts are deliberately *not* cached: they depend on the later history of
whichever branch is being read, and resolving them from the cached facts
is cheap.

The file is shared with other commitledger tables (the ``pr`` cache), so
this module only ever creates and touches its own table, in WAL mode with a
busy timeout so concurrent runs wait instead of failing. A cache that cannot
be opened or written is skipped: it only makes runs faster.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

from commitledger.history_scan import ChangeFacts, RevertRef

# Bump when the meaning of a column or of the scan changes: older rows are then ignored.
FACTS_VERSION = "2"
_TABLE = "history_change"
_COLUMNS = ("sha", "ver", "first_parent", "time", "title", "pr", "kind", "ai", "usage", "added", "deleted",
            "source_lines", "commits", "reverts", "revert_depth", "inner_title", "side")


def facts_version(test_patterns: tuple[str, ...]) -> str:
    """Source-line counts depend on the test patterns, so they are part of the version."""
    digest = hashlib.sha1("\n".join(test_patterns).encode()).hexdigest()[:12]
    return f"{FACTS_VERSION}:{digest}"


class HistoryCache:
    def __init__(self, path: Path, version: str) -> None:
        self.path = path
        self.version = version
        self.db: sqlite3.Connection | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(str(path), timeout=30.0)
            db.execute("PRAGMA busy_timeout = 30000")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute(
                f"CREATE TABLE IF NOT EXISTS {_TABLE} ("
                "sha TEXT PRIMARY KEY, ver TEXT NOT NULL, first_parent TEXT, time INTEGER NOT NULL,"
                " title TEXT NOT NULL, pr INTEGER, kind TEXT NOT NULL, ai INTEGER NOT NULL, usage BLOB,"
                " added INTEGER NOT NULL, deleted INTEGER NOT NULL, source_lines INTEGER NOT NULL,"
                " commits INTEGER NOT NULL, reverts TEXT, revert_depth INTEGER NOT NULL,"
                " inner_title TEXT, side BLOB) WITHOUT ROWID"
            )
            db.commit()
            self.db = db
        except (sqlite3.Error, OSError):
            self.db = None

    def load(self) -> dict[str, ChangeFacts]:
        """Every cached change of this version (side commit ids are left out: see ``side_of``)."""
        if self.db is None:
            return {}
        out: dict[str, ChangeFacts] = {}
        try:
            rows = self.db.execute(
                f"SELECT sha, first_parent, time, title, pr, kind, ai, usage, added, deleted, source_lines,"
                f" commits, reverts, revert_depth, inner_title FROM {_TABLE} WHERE ver = ?",
                (self.version,),
            )
            # Columns in ChangeFacts' field order: one positional call per row is the cheapest load.
            for row in rows:
                facts = ChangeFacts(*row)
                if facts.reverts:
                    facts.reverts = [RevertRef(*r) for r in json.loads(facts.reverts)]  # type: ignore[arg-type]
                out[facts.sha] = facts
        except (sqlite3.Error, ValueError, TypeError):
            return {}
        return out

    def side_of(self, shas: list[str]) -> dict[str, bytes]:
        """Side commit ids of the given merge changes (read only when a revert names a side commit)."""
        if self.db is None or not shas:
            return {}
        out: dict[str, bytes] = {}
        try:
            for start in range(0, len(shas), 500):
                chunk = shas[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for sha, side in self.db.execute(
                    f"SELECT sha, side FROM {_TABLE} WHERE ver = ? AND side IS NOT NULL AND sha IN ({marks})",
                    (self.version, *chunk),
                ):
                    out[sha] = bytes(side)
        except sqlite3.Error:
            return {}
        return out

    def store(self, changes: list[ChangeFacts]) -> None:
        if self.db is None or not changes:
            return
        rows = [
            (c.sha, self.version, c.first_parent, c.time, c.title, c.pr, c.kind, int(c.ai), c.usage,
             c.added, c.deleted, c.source_lines, c.commits,
             json.dumps([r.as_list() for r in c.reverts]) if c.reverts else None,
             c.revert_depth, c.inner_title, c.side or None)
            for c in sorted(changes, key=lambda c: c.sha)  # key order: B-tree appends, not random inserts
        ]
        try:
            with self.db:
                self.db.executemany(
                    f"INSERT OR REPLACE INTO {_TABLE} ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
                    rows,
                )
        except sqlite3.Error:
            return

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None
