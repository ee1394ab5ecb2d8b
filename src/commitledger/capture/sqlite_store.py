"""What every SQLite-backed agent store (Goose, Hermes, ZCode) lists and how it opens one.

These agents write in WAL mode: a change may first land in ``<db>-wal``, so
that file is listed too, and a change to either re-reads the database. The
database is opened read-only, never created, and ``sqlite3`` is imported only
here, when a database changed: an idle commit never pays for it.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs the hook ~3 ms
if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path
    from typing import Any, Iterable, Iterator

from commitledger.capture.base import ReadResult


def store_files(roots: Iterable[Path], name: str) -> Iterator[Path]:
    """The database ``name`` and its ``-wal`` file in each root, where they exist."""
    for root in roots:
        for file_name in (name, name + "-wal"):
            path = root / file_name
            try:
                if path.is_file():
                    yield path
            except OSError:
                continue


def open_store(path: Path, name: str) -> tuple[Any, ReadResult]:
    """(read-only connection or None, the result to fill, ending at the database's size).

    ``path`` may be the ``-wal`` file that changed: the database beside it is
    what is read. None when the file vanished or SQLite cannot open it (the
    result is then empty: nothing read, nothing guessed).
    """
    import sqlite3

    if path.name.endswith("-wal"):
        path = path.with_name(name)
    try:
        size = path.stat().st_size
    except OSError:
        return None, ReadResult()
    result = ReadResult(end=size)
    try:
        return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=2.0), result
    except sqlite3.Error:
        return None, result
