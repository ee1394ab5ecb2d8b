"""``history --format json|csv|parquet``: rows straight from the walked chain's columns.

Why not ``models.Change``: building a pydantic object per change and dumping
it was most of a warm JSON run (2.7x ``git log`` at 100k changes, against 0.5x
for the table). Here each change is one plain dict built from the ``Chain``
columns and serialised by orjson, in batches, so memory stays flat and the
cost per row is a few microseconds. The shape is still exactly
``commitledger.history/1``: tests validate the stream against the pydantic
model and against ``data/history.schema.json`` (shipped in the package).

Two row shapes:

- ``change_dicts``: the nested ``Change`` objects of ``commitledger.history/1``
  (JSON output);
- ``flat_rows``: one flat row per change (CSV, Parquet, ``rollup``), its
  columns and their SQL types in ``FLAT_COLUMNS``. Adding a column is one line
  there (name, type, how to read it from the nested row).

Notes (``refs/notes/commitledger``) are rare: the few rows with a note go
through the pydantic ``Tests`` model, so what JSON shows of them is validated
exactly as before.
"""

from __future__ import annotations

import bisect
import csv
import gc
import io
import math
import os
import tempfile
from array import array
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Callable, Iterator

from commitledger.errors import CommitledgerError
from commitledger.history.cache import KINDS
from commitledger.history.scan import _PACK

if TYPE_CHECKING:
    from commitledger.history.branch import History

SCHEMA = "commitledger.history/1"
# Version of the flat row (CSV header, Parquet columns, rollup tables): columns may be added, never renamed.
FLAT_SCHEMA = "commitledger.changes/1"
_BATCH = 2048
_NAN_COUNT = -1


class _Iso:
    """``branch.iso`` for many timestamps: the date formatted once per day, the time from two tables."""

    MINUTES = tuple(f"{m // 60:02d}:{m % 60:02d}:" for m in range(1440))
    SECONDS = tuple(f"{s:02d}Z" for s in range(60))

    def __init__(self) -> None:
        self.days: dict[int, str] = {}

    def __call__(self, ts: int) -> str:
        if not -62135596800 <= ts <= 253402300799:  # outside datetime's years 1-9999: shown at the bound
            from commitledger.history.branch import iso

            return iso(ts)
        day, rest = divmod(ts, 86400)
        text = self.days.get(day)
        if text is None:
            text = datetime.fromtimestamp(day * 86400, timezone.utc).strftime("%Y-%m-%dT")
            self.days[day] = text
        minute, second = divmod(rest, 60)
        return text + self.MINUTES[minute] + self.SECONDS[second]


def _usage_dict(blob: bytes) -> dict[str, Any]:
    """``UsageModel.of(unpack_usage(blob)).model_dump()`` without either object."""
    s, p, r, t, i, o, cr, cw, cost, flags = _PACK.unpack(blob)
    out = {
        "input": None if i == _NAN_COUNT else i, "output": None if o == _NAN_COUNT else o,
        "cache_read": None if cr == _NAN_COUNT else cr, "cache_write": None if cw == _NAN_COUNT else cw,
        "cost_usd": None if math.isnan(cost) else round(cost, 6),
        "sessions": None if s == _NAN_COUNT else s, "prompts": None if p == _NAN_COUNT else p,
        "requests": None if r == _NAN_COUNT else r, "tool_calls": None if t == _NAN_COUNT else t,
    }
    if flags & 2:  # some line had no cost_usd and was priced from its tokens (UsageModel shows it only then)
        out["priced_later"] = 1
    return out


def _note_tests(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        return None
    from commitledger.ledger.models import Tests

    try:
        return Tests.model_validate(value).model_dump()
    except ValueError:
        return None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def change_dicts(history: History) -> Iterator[dict[str, Any]]:
    """The ``changes`` of ``commitledger.history/1``, newest first, then abandoned PRs: plain dicts."""
    chain, states, notes = history.chain, history.states, history.notes
    iso = _Iso()
    sha, times, prs, ai, kinds = chain.sha, chain.time, chain.pr, chain.ai, chain.kind
    added, deleted, source, tests, docs = chain.added, chain.deleted, chain.source, chain.tests, chain.docs
    # Titles and usage of the window's range only (``first`` on): a span's rows or a single row read
    # their own segment's, not 100k of each (two lists of the whole chain per segment of a cold export).
    window = history.in_window
    first = min(window) if window else 0
    stop = max(window) + 1 if window else 0
    titles = chain.titles(first, stop) if window else []
    blobs = chain.usage_blobs(first, stop) if window else []
    if blobs:
        for at, blob in chain.usage_override.items():  # usage recovered from notes (history.usage_notes)
            if first <= at < stop:
                blobs[at - first] = blob
    sources = history.usage_sources
    info, commits_of = chain.info, chain.commits
    big_limit, failures = history.big_change_commits, history.counter.line_failures
    no_info: tuple[list[str], list[str], list[str]] = ([], [], [])
    for index in history.in_window:
        commit = sha[index * 20 : index * 20 + 20].hex()
        state = states.get(index)
        a = added[index]
        s = source[index]
        te, do = tests[index], docs[index]
        counted = a >= 0 and s >= 0 and te >= 0 and do >= 0
        pr: int | None = prs[index]
        row = {
            "commit": commit, "pr": pr if pr >= 0 else None, "title": titles[index - first],
            "merged_at": iso(times[index]), "ai": bool(ai[index]),
            "usage": _usage_dict(blob) if (blob := blobs[index - first]) else None,
            "reverted_by": state.by if state else None, "kind": KINDS[kinds[index]],
            "lines_changed": None if a < 0 else a + deleted[index],
            "reverted_at": iso(state.at) if state else None, "tests": None,
            "source_lines": None if s < 0 else s,
            "test_lines": te if counted else None, "doc_lines": do if counted else None,
            "config_lines": a + deleted[index] - s - te - do if counted else None,
            "author_kind": chain.author_kind(index),
            "agents": list(info.get(index, no_info)[0]), "models": list(info.get(index, no_info)[1]),
            "evidence": list(info.get(index, no_info)[2]),
            "commits": commits_of[index], "big": commits_of[index] > big_limit,
            "lines_error": failures.get(commit),
            "usage_source": sources.get(index) or ("trailers" if blob else None),
        }
        if notes:
            note = notes.get(commit, {}).get("change") or {}
            if note:
                if row["pr"] is None:
                    row["pr"] = _int(note.get("pr"))
                row["tests"] = _note_tests(note.get("tests"))
        yield row
    for entry in history.abandoned:
        yield {
            "commit": entry.commit, "pr": entry.pr,
            "title": f"abandoned PR #{entry.pr}" if entry.pr else "abandoned PR", "merged_at": iso(entry.time),
            "ai": True, "usage": _abandoned_usage(entry.cost_usd), "reverted_by": None, "kind": "abandoned",
            "lines_changed": None, "reverted_at": None, "tests": None, "source_lines": None,
            "test_lines": None, "doc_lines": None, "config_lines": None,
            "author_kind": "ai", "agents": [], "models": [], "evidence": [], "commits": 0, "big": False,
            "lines_error": None, "usage_source": "notes" if entry.cost_usd is not None else None,
        }


def _abandoned_usage(cost: float | None) -> dict[str, Any] | None:
    if cost is None:
        return None
    return {"input": None, "output": None, "cache_read": None, "cache_write": None, "cost_usd": cost,
            "sessions": None, "prompts": None, "requests": None, "tool_calls": None}


def _dumps() -> Callable[[Any], bytes]:
    try:
        import orjson
    except ImportError:  # pragma: no cover - orjson is a dependency; a broken install still gets JSON
        import json

        return lambda value: json.dumps(value, separators=(",", ":"), allow_nan=False).encode()
    return orjson.dumps


@contextmanager
def _no_gc() -> Iterator[None]:
    """The collector off while rows are built: they hold no cycles, and its passes over the live
    chain were a third of a large export's time."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _batches(rows: Iterator[Any]) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def write_json(history: History, out: IO[bytes]) -> None:
    """``commitledger.history/1`` streamed: the head, the changes in batches of rows, then the summary."""
    dumps = _dumps()
    head = {"schema": SCHEMA, "branch": history.branch, "since": history.since, "until": history.until}
    out.write(b"{" + b",".join(dumps(k) + b":" + dumps(v) for k, v in head.items()) + b',"changes":[')
    first = True
    with _no_gc():
        for piece in fragment_rows(history, "json"):
            out.write(piece[1:] if first else piece)  # every row comes led by a comma
            first = False
    # The summary dict has the keys of ``HistorySummary`` already (a test checks): no pydantic import here.
    out.write(b'],"summary":' + dumps(history.summary, default=_model_dump)
              + b',"period":' + dumps(history.period) + b',"periods":' + dumps(history.periods, default=_model_dump)
              + b',"warnings":' + dumps(history.warnings) + b"}\n")


def _model_dump(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    if dump is None:
        raise TypeError(f"cannot write {type(value).__name__} as JSON")
    return dump()


# --- flat rows: CSV, Parquet, rollup --------------------------------------------------------

# (column, SQL type, its value as an expression over the nested row ``r`` of ``change_dicts``, its ``usage``
# ``u`` and its ``tests`` ``t``). The order is the CSV header and the Parquet schema; adding a column is one line.
# Keys the history rows do not carry yet (realrepos' per-change facts) read as their default until they do.
FLAT_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("commit", "VARCHAR", "r['commit']"),
    ("pr", "BIGINT", "r['pr']"),
    ("kind", "VARCHAR", "r['kind']"),
    ("title", "VARCHAR", "r['title']"),
    ("merged_at", "TIMESTAMPTZ", "r['merged_at']"),
    ("ai", "BOOLEAN", "r['ai']"),
    ("cost_usd", "DOUBLE", "u['cost_usd'] if u else None"),
    ("input", "BIGINT", "u['input'] if u else None"),
    ("output", "BIGINT", "u['output'] if u else None"),
    ("cache_read", "BIGINT", "u['cache_read'] if u else None"),
    ("cache_write", "BIGINT", "u['cache_write'] if u else None"),
    ("sessions", "BIGINT", "u['sessions'] if u else None"),
    ("prompts", "BIGINT", "u['prompts'] if u else None"),
    ("requests", "BIGINT", "u['requests'] if u else None"),
    ("tool_calls", "BIGINT", "u['tool_calls'] if u else None"),
    ("lines_changed", "BIGINT", "r['lines_changed']"),
    ("source_lines", "BIGINT", "r['source_lines']"),
    ("reverted_by", "VARCHAR", "r['reverted_by']"),
    ("reverted_at", "TIMESTAMPTZ", "r['reverted_at']"),
    ("tests_passed", "BIGINT", "t['passed'] if t else None"),
    ("tests_failed", "BIGINT", "t['failed'] if t else None"),
    ("tests_errors", "BIGINT", "t['errors'] if t else None"),
    ("tests_skipped", "BIGINT", "t['skipped'] if t else None"),
    ("author_kind", "VARCHAR", "r.get('author_kind') or ('ai' if r['ai'] else 'human')"),
    ("agents", "VARCHAR[]", "r.get('agents') or []"),
    ("models", "VARCHAR[]", "r.get('models') or []"),
    ("evidence", "VARCHAR[]", "r.get('evidence') or []"),
    ("commits", "BIGINT", "r.get('commits')"),
    ("big", "BOOLEAN", "r.get('big', False)"),
    ("lines_error", "VARCHAR", "r.get('lines_error')"),
    ("usage_source", "VARCHAR", "r.get('usage_source')"),
    # Changed lines by path kind (ledger.pathkinds): code is source_lines again, under the name of its kind.
    ("code_lines", "BIGINT", "r['source_lines']"),
    ("test_lines", "BIGINT", "r.get('test_lines')"),
    ("doc_lines", "BIGINT", "r.get('doc_lines')"),
    ("config_lines", "BIGINT", "r.get('config_lines')"),
)
# The CSV's first 23 columns are its columns since 0.1.0 (same order); later ones were added after them.
CSV_COLUMNS = tuple(name for name, _, _ in FLAT_COLUMNS)
# One compiled function for the whole row: a call per column per change would cost more than the rest of the row.
_FLAT: Callable[[dict[str, Any]], list[Any]] = eval(  # noqa: S307 - our own constant expressions above
    "lambda r: (lambda u, t: [" + ", ".join(expr for _, _, expr in FLAT_COLUMNS) + "])(r['usage'], r['tests'])"
)


def flat_rows(history: History) -> Iterator[list[Any]]:
    flat = _FLAT
    for row in change_dicts(history):
        yield flat(row)


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: no formula from a commit title, lists joined by ';'."""
    if value is None:
        return ""
    if value is True or value is False:
        return int(value)
    if isinstance(value, list):
        value = ";".join(value)
    if isinstance(value, str):
        if value.isascii() and value.isprintable() and not value.startswith(_FORMULA):
            return value  # what csv_cell returns for it (no control, bidi or formula character), 5x faster
        from commitledger.render.text import csv_cell

        return csv_cell(value)
    return value


def write_csv(history: History, out: IO[bytes]) -> None:
    """One flat row per change (``CSV_COLUMNS``), UTF-8; empty cells for unknown, 1/0 for booleans."""
    out.write((",".join(CSV_COLUMNS) + "\n").encode())
    with _no_gc():
        for piece in fragment_rows(history, "csv"):
            out.write(piece)


# --- Parquet (DuckDB) ------------------------------------------------------------------------


def require_duckdb() -> Any:
    """DuckDB, or the one-line message that says which extra brings it."""
    try:
        import duckdb
    except ImportError:
        raise CommitledgerError("this needs DuckDB: pip install 'commitledger[org]'") from None
    return duckdb


def check_duckdb() -> None:
    """Fail early, before a walk, when DuckDB is not installed, without importing it: its import
    alone costs ~28 MB of RSS, which a walk of 100k changes cannot carry inside the 150 MB budget
    (``require_duckdb`` imports it once the walked history is gone)."""
    import importlib.util

    if importlib.util.find_spec("duckdb") is None:
        raise CommitledgerError("this needs DuckDB: pip install 'commitledger[org]'")


def ndjson_rows(history: History, out: IO[bytes], extra: dict[str, Any] | None = None) -> int:
    """Flat rows as newline-delimited JSON (what DuckDB reads, typed by ``FLAT_COLUMNS``); returns the count."""
    dumps = _dumps()
    names = CSV_COLUMNS
    prefix = dumps(extra)[:-1] + b"," if extra else b"{"
    count = 0
    flat = _FLAT
    with _no_gc():
        for batch in _batches(change_dicts(history)):
            out.write(b"\n".join(prefix + dumps(dict(zip(names, flat(row))))[1:] for row in batch) + b"\n")
            count += len(batch)
    return count


def column_types(extra: dict[str, str] | None = None) -> str:
    """The ``columns={...}`` struct of ``read_ndjson`` for the flat rows (plus ``extra`` columns first)."""
    pairs = list((extra or {}).items()) + [(name, kind) for name, kind, _ in FLAT_COLUMNS]
    return "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in pairs) + "}"


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def connect(duckdb: Any, database: str = ":memory:", *, threads: int = 1, memory: str = "64MB") -> Any:
    """A DuckDB connection held to a small share of the machine: it streams (a file in, a file out) and
    spills to disk past ``memory``, so an export stays inside history's own memory budget."""
    db = duckdb.connect(database)
    db.execute(f"SET threads = {int(threads)}")
    db.execute(f"SET memory_limit = '{memory}'")
    db.execute("SET preserve_insertion_order = false")
    db.execute("SET TimeZone = 'UTC'")  # months and days of TIMESTAMPTZ columns in UTC, whatever the machine's zone
    db.execute("SET enable_progress_bar = false")  # DuckDB's own bar would print over ours
    return db


def preload() -> None:
    """Import, before a walk, what writing its rows will: a module imported later lands in the holes the
    walk's freed objects leave, and each of its few long-lived objects keeps a 1 MB arena of them
    resident (60 arenas holding 7 MB of live objects when DuckDB started, at 100k changes)."""
    _dumps()
    _libc()


_LIBC: list[Any] = []


def _libc() -> Any:
    if not _LIBC:
        try:
            import ctypes

            _LIBC.append(ctypes.CDLL("libc.so.6"))
        except (OSError, ImportError):
            _LIBC.append(None)
    return _LIBC[0]


def release_memory() -> None:
    """Hand freed memory back to the system before DuckDB starts (glibc keeps ~20 MB of a 100k-change
    walk otherwise); elsewhere a collection is all there is."""
    gc.collect()
    libc = _libc()
    try:
        if libc is not None:
            libc.malloc_trim(0)
    except AttributeError:
        pass


class _Parts:
    """A writer that starts a new staging file past ``limit`` bytes, at a write boundary (whole lines).

    DuckDB's JSON reader sizes its buffer by the file, up to 32 MB: files of
    ~8 MB kept a 100k-change export ~24 MB smaller at its peak than one file,
    and files of ~4 MB another 5-10 MB (peak 144-146 MB against 147-159 MB
    over three cold runs each, measured).
    """

    def __init__(self, directory: Path, limit: int = 4 << 20) -> None:
        self.directory, self.limit = directory, limit
        self.paths: list[Path] = []
        self.handle: IO[bytes] | None = None
        self.size = 0

    def write(self, data: bytes | memoryview) -> int:
        if self.handle is None or self.size >= self.limit:
            self.close()
            fd, name = tempfile.mkstemp(prefix=".commitledger-", suffix=".ndjson", dir=str(self.directory))
            self.paths.append(Path(name))
            self.handle = os.fdopen(fd, "wb")
            self.size = 0
        self.size += len(data)
        return self.handle.write(data)

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None


def stage_rows(history: History, directory: Path) -> list[Path]:
    """The flat rows as NDJSON temporary files beside the target (same disk; the caller removes them)."""
    directory.mkdir(parents=True, exist_ok=True)
    parts = _Parts(directory)
    try:
        with _no_gc():
            # Rows of a cached segment come as slices of 1024 (~0.7 MB): files end close to ``_Parts``' limit.
            for piece in fragment_rows(history, "ndjson", max_rows=1024):
                parts.write(piece)  # type: ignore[arg-type]
        if not parts.paths:
            parts.write(b"")
    except BaseException:
        parts.close()
        for path in parts.paths:
            path.unlink(missing_ok=True)
        raise
    parts.close()
    return parts.paths


def parquet_from_rows(rows: list[Path], target: Path, metadata: dict[str, str]) -> None:
    """NDJSON flat rows to a typed Parquet file (zstd, row groups of 16k changes), ``metadata`` in its footer.

    Separate from ``stage_rows`` so a caller can free the walked history
    before DuckDB starts: the two together would not fit in history's
    memory budget at 100k changes, one after the other they do.
    """
    duckdb = require_duckdb()
    meta = ", ".join(f"{key}: {_sql_text(value)}" for key, value in {"schema": FLAT_SCHEMA, **metadata}.items())
    files = "[" + ", ".join(_sql_text(str(path)) for path in rows) + "]"
    copy = (f"COPY (SELECT * FROM read_ndjson({files}, columns = {column_types()})) "
            f"TO {_sql_text(str(target))} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 16384, "
            f"KV_METADATA {{{meta}}})")
    # 64 MB covers the JSON reader's 32 MB buffer and a row group (40 MB ran out of memory at 100k
    # changes); rows with huge titles get a second try with room to spare.
    for memory in ("64MB", "512MB"):
        db = connect(duckdb, memory=memory)
        try:
            db.execute(copy)
            return
        except duckdb.OutOfMemoryException:
            if memory == "512MB":
                raise CommitledgerError(f"cannot write {target}: DuckDB ran out of memory") from None
        except duckdb.Error as exc:
            raise CommitledgerError(f"cannot write {target}: {str(exc).splitlines()[0]}") from None
        finally:
            db.close()


def parquet_in_a_fresh_image(rows: list[Path], target: Path, branch: str) -> None:
    """Run ``parquet_from_rows`` after replacing this process (``exec``) with a new Python.

    Why not in this process: CPython cannot give back the memory a long walk
    leaves behind. A few long-lived objects (module state, small caches) end up
    scattered over the walk's 1 MB arenas, so at 100k changes about 60 arenas
    holding 6 MB of live objects stayed resident. DuckDB then added ~60 MB on
    top of that (26 MB just to connect), and the export peaked at 150-164 MB.
    A fresh image starts at ~35 MB with DuckDB loaded, so the peak becomes the
    walk's own. The new image removes the staged files and reports errors like
    any command (``commitledger _parquet-step``).

    The package is found where this one was loaded from, with ``-P``: a
    ``commitledger`` folder in the repository being read is never imported.
    Where ``exec`` is not available (not POSIX, a frozen build) or fails, the
    step runs here.
    """
    import sys

    if os.name == "posix" and not getattr(sys, "frozen", False):
        import subprocess

        import commitledger

        home = os.path.dirname(os.path.dirname(os.path.abspath(commitledger.__file__)))
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (home, env.get("PYTHONPATH", "")) if p)
        flags = [f for f in subprocess._args_from_interpreter_flags() if f != "-P"]  # type: ignore[attr-defined]
        argv = [sys.executable, *flags, "-P", "-m", "commitledger", "_parquet-step", "--output", str(target),
                "--branch", branch, "--", *map(str, rows)]
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            os.execve(sys.executable, argv, env)
        except OSError:
            pass  # no new image: the step runs here, at the old peak
    release_memory()
    try:
        parquet_from_rows(rows, target, {"branch": branch})
    finally:
        for path in rows:
            path.unlink(missing_ok=True)


def write_parquet(history: History, target: Path) -> None:
    """One typed row per change (``FLAT_COLUMNS``) in a Parquet file, versioned in its key-value metadata."""
    target = target.resolve()
    rows = stage_rows(history, target.parent)
    try:
        parquet_from_rows(rows, target, {"branch": history.branch})
    finally:
        for path in rows:
            path.unlink(missing_ok=True)


# --- the JSON Schema shipped in the package ---------------------------------------------------

SCHEMA_FILE = "history.schema.json"
# Keys a model leaves out when they are null (UsageModel.priced_later): every other key is always written.
OMITTED_WHEN_NULL = frozenset({"priced_later"})


def json_schema() -> dict[str, Any]:
    """``commitledger.history/1`` as JSON Schema: the pydantic contract, with every key required.

    ``data/history.schema.json`` is this, written out (a test keeps the two
    equal and validates real output against the file); regenerate it with
    ``python -c "from commitledger.history.export import write_schema; write_schema()"``.
    The stream always writes every key, so a consumer may rely on each one.
    """
    from commitledger.ledger.models import HistoryResult

    schema = HistoryResult.model_json_schema(by_alias=True)
    for part in [schema, *schema.get("$defs", {}).values()]:
        if "properties" in part:
            part["required"] = [key for key in part["properties"] if key not in OMITTED_WHEN_NULL]
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA, **schema}


def write_schema() -> Path:
    target = Path(__file__).resolve().parent.parent / "data" / SCHEMA_FILE
    target.write_text(__import__("json").dumps(json_schema(), indent=2) + "\n", encoding="utf-8")
    return target


# --- warm exports: per-segment rows, cached beside the facts -------------------------------------
#
# Why: even as plain dicts, building 100k rows costs more than half of ``git log`` in Python. But
# most of a row depends only on its segment's facts, which never change for a commit id: only
# ``reverted_by``/``reverted_at`` (the later history of the branch read) and a note's facts do. So
# a segment's rows are stored once as one body of bytes with the offsets where those two values go,
# and a warm export writes each segment as a slice or a few, around the rows a later commit reverted.
# Rows with a note, usage from notes or a git failure (rare) and abandoned PRs are built the ordinary way.

FRAGMENTS_VERSION = "5"  # 2: usage_source, priced_later; 3: author kind, agents, models, evidence, big, lines_error;
# 4: lines by kind (test_lines, doc_lines, config_lines; code_lines in the flat rows);
# 5: a segment's rows as one body plus offsets (was a list of three fragments per row)
_FRAG_TABLE = "history_export"
_PIECE = 256 << 10  # bytes written into a stored blob at a time
_JSON_CUTS = (b'"reverted_by":null', b'"reverted_at":null')
_NULL = len(b"null")  # what a stored JSON row holds where a revert's values go (a CSV row holds nothing there)


class _Rows:
    """A span's rows (each JSON row led by a comma, each CSV or NDJSON row ended by a newline) and ``cuts``:
    three offsets a row, where it starts, where ``reverted_by`` goes, where ``reverted_at`` goes.

    Loaded from the cache, the rows are one ``body``: 4096 rows load as one blob (three bytes objects
    per row were 0.1 s of ``marshal.loads`` at 100k changes) and a span without reverts is written as
    one slice instead of 4096 joined rows. Built afresh, they stay the row ``texts`` they were made as:
    joining them as well would hold a segment twice (2.4 MB more at a cold export's peak). Stored as
    the cuts then the rows, written into the blob in place (``_Fragments.keep``).
    """

    __slots__ = ("body", "texts", "cuts", "n", "length")

    def __init__(self, cuts: array, body: memoryview | None = None, texts: list[bytes] | None = None) -> None:
        self.body, self.texts, self.cuts, self.n = body, texts, cuts, len(cuts) // 3
        self.length = len(body) if body is not None else sum(map(len, texts or ()))

    def end(self, row: int) -> int:
        """Where row ``row`` ends (the next one's start)."""
        return self.cuts[3 * row + 3] if row + 1 < self.n else self.length

    def size(self) -> int:
        return len(self.cuts) * self.cuts.itemsize + self.length

    def part(self, row: int, start: int, stop: int) -> bytes | memoryview:
        """Bytes ``start..stop-1`` (offsets of the whole span) of row ``row``."""
        if self.body is not None:
            return self.body[start:stop]
        assert self.texts is not None
        at = self.cuts[3 * row]
        return self.texts[row][start - at : stop - at]

    def run(self, first: int, last: int, max_rows: int = 0) -> Iterator[bytes | memoryview]:
        """Rows ``first..last-1`` as they are stored, in slices of at most ``max_rows`` rows."""
        if self.texts is not None:
            yield from self.texts[first:last]
            return
        assert self.body is not None
        step = max_rows or last - first
        cuts = self.cuts
        for at in range(first, last, step):
            stop = at + step
            yield self.body[cuts[3 * at] : cuts[3 * stop] if stop < last else self.end(last - 1)]

    def stored(self) -> Iterator[bytes | memoryview]:
        """The blob ``from_blob`` reads, in pieces of about ``_PIECE`` bytes."""
        yield memoryview(self.cuts).cast("B")
        if self.body is not None:
            for at in range(0, len(self.body), _PIECE):
                yield self.body[at : at + _PIECE]
            return
        assert self.texts is not None
        piece = bytearray()
        for text in self.texts:
            piece += text
            if len(piece) >= _PIECE:
                yield piece
                piece = bytearray()
        if piece:
            yield piece

    @classmethod
    def from_blob(cls, blob: bytes, n: int) -> _Rows | None:
        """The stored rows, or None when the blob is not ``n`` rows of this layout (only a cache miss)."""
        cuts = array("q")
        head = 3 * n * cuts.itemsize
        if not isinstance(blob, bytes) or len(blob) < head:
            return None
        cuts.frombytes(blob[:head])
        body = memoryview(blob)[head:]  # no copy of the rows
        if n and not 0 <= cuts[0] <= cuts[-1] <= len(body):
            return None
        return cls(cuts, body=body)


def _build_rows(history: History, base: int, count: int, fmt: str, dumps: Callable[[Any], bytes]) -> _Rows:
    """The rows of chain indices ``base..base+count`` without revert or note facts, laid out as ``_Rows``."""
    texts: list[bytes] = []
    cuts = array("q")
    at = 0
    by_key, at_key = (len(cut) - _NULL for cut in _JSON_CUTS)
    for row in _span_dicts(history, base, count):
        if fmt != "csv":  # json: led by a comma; ndjson: the flat row, ended by a newline
            text = b"," + dumps(row) if fmt == "json" else dumps(dict(zip(CSV_COLUMNS, _FLAT(row)))) + b"\n"
            by = text.index(_JSON_CUTS[0]) + by_key
            cuts.extend((at, at + by, at + text.index(_JSON_CUTS[1], by) + at_key))
        else:
            head, tail = _csv_parts(row)
            text = head + b"," + tail
            cuts.extend((at, at + len(head), at + len(head) + 1))
        texts.append(text)
        at += len(text)
    return _Rows(cuts, texts=texts)


class _Fragments:
    """Rows of one format, per segment, in ``<git dir>/commitledger/cache.sqlite`` (a table of its own)."""

    def __init__(self, cache_file: tuple[Path, str] | None, fmt: str) -> None:
        import sqlite3

        self.fmt = fmt
        self.db: Any = None
        self.version = self.facts = ""
        if cache_file is None:
            return
        path, facts = cache_file
        self.facts = f"{facts}:"  # rows of other facts versions belong to other configurations (worktrees)
        self.version = f"{self.facts}{FRAGMENTS_VERSION}:{SCHEMA}:{FLAT_SCHEMA}"
        try:
            db = sqlite3.connect(str(path), timeout=30.0)
            db.execute("PRAGMA busy_timeout = 30000")
            db.execute(f"CREATE TABLE IF NOT EXISTS {_FRAG_TABLE} (tip TEXT NOT NULL, ver TEXT NOT NULL,"
                       " fmt TEXT NOT NULL, stamp INTEGER NOT NULL, rows BLOB NOT NULL, PRIMARY KEY (tip, ver, fmt))")
            db.commit()
            self.db = db
        except (sqlite3.Error, OSError):
            self.db = None

    @staticmethod
    def stamp(chain: Any, base: int, count: int) -> int:
        """What, besides the facts version, a segment's rows depend on, read from the walked chain: line
        counts filled later, and the AI flag, cost and usage that notes (git-ai's, usage notes) may
        change in this run without touching the cached facts."""
        import zlib

        end = base + count
        data = b"".join((chain.added[base:end].tobytes(), chain.deleted[base:end].tobytes(),
                         chain.source[base:end].tobytes(), chain.tests[base:end].tobytes(),
                         chain.docs[base:end].tobytes(), chain.cost[base:end].tobytes(),
                         chain.tokens[base:end].tobytes(), bytes(chain.ai[base:end]),
                         bytes(chain.has_usage[base:end])))
        return zlib.crc32(data) ^ count

    def load(self, seg: Any, stamp: int) -> _Rows | None:
        if self.db is None:
            return None
        import sqlite3

        try:
            row = self.db.execute(f"SELECT stamp, rows FROM {_FRAG_TABLE} WHERE tip = ? AND ver = ? AND fmt = ?",
                                  (seg.tip, self.version, self.fmt)).fetchone()
            if row is None or row[0] != stamp:
                return None
            return _Rows.from_blob(row[1], seg.n)
        except (sqlite3.Error, ValueError, EOFError, TypeError):
            return None

    def keep(self, seg: Any, stamp: int, rows: _Rows) -> None:
        """Written at once (committed at ``close``): holding every segment's rows would cost ~35 MB at 100k.

        The blob is reserved, then filled in pieces straight from the rows: binding 2.4 MB of bytes
        made SQLite copy them twice more, and those copies were 10 MB of a cold export's peak RSS.
        Rows of this segment and facts version in another layout go: no run reads them again, and
        each layout bump left a copy of every export in the cache file.
        """
        if self.db is None:
            return
        import sqlite3

        try:
            self.db.execute(f"DELETE FROM {_FRAG_TABLE} WHERE tip = ? AND fmt = ? AND ver != ?"
                            " AND substr(ver, 1, ?) = ?", (seg.tip, self.fmt, self.version, len(self.facts), self.facts))
            rowid = self.db.execute(f"INSERT OR REPLACE INTO {_FRAG_TABLE} VALUES (?, ?, ?, ?, zeroblob(?))",
                                    (seg.tip, self.version, self.fmt, stamp, rows.size())).lastrowid
            with self.db.blobopen(_FRAG_TABLE, "rows", rowid) as blob:
                for piece in rows.stored():
                    blob.write(piece)
        except sqlite3.Error:
            self.db.close()
            self.db = None

    def close(self) -> None:
        if self.db is None:
            return
        import sqlite3

        try:
            self.db.commit()
        except sqlite3.Error:
            pass
        self.db.close()
        self.db = None


def _span_dicts(history: History, base: int, count: int) -> Iterator[dict[str, Any]]:
    """``change_dicts`` rows of chain indices ``base..base+count`` without revert or note facts."""
    from dataclasses import replace

    return change_dicts(replace(history, states={}, notes={}, abandoned=[], usage_sources={},
                                in_window=list(range(base, base + count))))


def _csv_parts(row: dict[str, Any]) -> tuple[bytes, bytes]:
    """A CSV row without its two revert cells: what comes before them (with its comma), what after."""
    values = _csv_values(_FLAT(row))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="")
    at = _REVERTED_BY
    writer.writerow(values[:at])
    head = out.getvalue()
    out.seek(0)
    out.truncate()
    writer.writerow(values[at + 2 :])
    return (head + ",").encode(), ("," + out.getvalue() + "\n").encode()


_REVERTED_BY = CSV_COLUMNS.index("reverted_by")
assert CSV_COLUMNS[_REVERTED_BY + 1] == "reverted_at"
_TEXT = frozenset(i for i, (_, kind, _) in enumerate(FLAT_COLUMNS) if kind.startswith("VARCHAR"))


# Text columns holding only our own words or hex ids, never text from a commit: nothing to neutralise.
_OWN_TEXT = frozenset(CSV_COLUMNS.index(name) for name in ("commit", "kind", "author_kind", "usage_source"))


def _csv_expression(index: int, name: str, kind: str) -> str:
    value = f"r[{index}]"
    if kind.startswith("VARCHAR") and index not in _OWN_TEXT:
        return f"_cell({value})"
    if kind == "BOOLEAN":
        return f"('' if {value} is None else int({value}))"
    return f"('' if {value} is None else {value})"


# The CSV cells of a flat row, one compiled expression per column: a Python loop over 35 columns of
# 100k rows was a third of a cold CSV export's own time.
_CSV_CELLS: Callable[[list[Any]], list[Any]] = eval(  # noqa: S307 - our own constant expressions
    "lambda r: [" + ", ".join(_csv_expression(i, name, kind) for i, (name, kind, _) in enumerate(FLAT_COLUMNS)) + "]",
    {"_cell": _cell},
)


def _csv_values(row: list[Any]) -> list[Any]:
    return _CSV_CELLS(row)


def _spans_in_window(history: History) -> Iterator[tuple[Any, int, int, int, int, int]]:
    """(segment, first row, end row, chain index of the first row, window slice ``lo:hi`` inside) in chain
    order, for the spans the window touches. The window ascends, so each slice is two bisections."""
    window = history.in_window
    base = 0
    for seg, start, end in history.chain.spans():
        stop = base + end - start
        lo = bisect.bisect_left(window, base)
        hi = bisect.bisect_left(window, stop, lo)
        if hi > lo:
            yield seg, start, end, base, lo, hi
        base = stop


def _slow_indices(history: History) -> set[int]:
    """Chain indices whose row is built whole: usage from notes, a note of their own, a git failure."""
    from commitledger.history.reverts import Positions

    slow = set(history.usage_sources)
    shas = set(history.notes) | set(history.counter.line_failures)
    if shas:
        slow.update(Positions(history.chain).exact_many(shas).values())
    return slow


def fragment_rows(history: History, fmt: str, max_rows: int = 0) -> Iterator[bytes | memoryview]:
    """The window's rows in order as ``json`` (each led by a comma), ``csv`` or ``ndjson`` (flat rows, one
    a line) bytes, from cached rows where it can: runs of rows come as one piece (of at most ``max_rows``
    rows when set), so a consumer writes pieces as they are."""
    dumps = _dumps()
    states = history.states
    slow = _slow_indices(history)
    special = sorted(slow.union(states))  # rows that differ from their stored bytes
    store = _Fragments(history.cache_file, f"{fmt}:big>{history.big_change_commits}")  # ``big`` depends on it
    failures = history.counter.line_failures  # rows with a git failure are never kept
    window = history.in_window
    iso = _Iso()
    csv_fmt = fmt == "csv"

    def changed(rows: _Rows, index: int, row: int) -> bytes:
        if index in slow:
            return _slow_row(history, index, fmt, dumps)
        state = states[index]
        cuts = rows.cuts
        start, by, when, end = cuts[3 * row], cuts[3 * row + 1], cuts[3 * row + 2], rows.end(row)
        if csv_fmt:
            return b"".join((rows.part(row, start, by), _csv_text(state.by), rows.part(row, by, when),
                             iso(state.at).encode(), rows.part(row, when, end)))
        return b"".join((rows.part(row, start, by), dumps(state.by), rows.part(row, by + _NULL, when), b'"',
                         iso(state.at).encode(), b'"', rows.part(row, when + _NULL, end)))

    try:
        for seg, start, end, base, lo, hi in _spans_in_window(history):
            count = end - start
            whole = start == 0 and end == seg.n
            stamp = store.stamp(history.chain, base, count) if whole and store.db is not None else 0
            rows = store.load(seg, stamp) if whole else None
            if rows is None:  # built for the span only; kept when the span is the whole segment
                rows = _build_rows(history, base, count, fmt, dumps)
                if whole and not (failures and any(history.chain.sha_at(i) in failures
                                                   for i in range(base, base + count))):
                    store.keep(seg, stamp, rows)
            first = 0  # the first row not written yet
            if hi - lo == count:  # the whole span is in the window: slices between the changed rows
                for index in special[bisect.bisect_left(special, base) : bisect.bisect_left(special, base + count)]:
                    row = index - base
                    if row > first:
                        yield from rows.run(first, row, max_rows)
                    yield changed(rows, index, row)
                    first = row + 1
                if first < count:
                    yield from rows.run(first, count, max_rows)
                continue
            last = -1  # the pending run of unchanged rows is ``first..last-1`` (none while -1)
            for index in window[lo:hi]:
                row = index - base
                if index in states or index in slow:
                    if last >= 0:
                        yield from rows.run(first, last, max_rows)
                        last = -1
                    yield changed(rows, index, row)
                    continue
                if last != row:
                    if last >= 0:
                        yield from rows.run(first, last, max_rows)
                    first = row
                last = row + 1
            if last >= 0:
                yield from rows.run(first, last, max_rows)
        for row in change_dicts(_only_abandoned(history)):
            yield _row_bytes(row, fmt, dumps)
    finally:
        store.close()


def _row_bytes(row: dict[str, Any], fmt: str, dumps: Callable[[Any], bytes]) -> bytes:
    """One whole row of ``change_dicts`` as ``fragment_rows`` gives it."""
    if fmt == "json":
        return b"," + dumps(row)
    if fmt == "csv":
        return _csv_line(row)
    return dumps(dict(zip(CSV_COLUMNS, _FLAT(row)))) + b"\n"


def _csv_text(value: str) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow([_cell(value), ""])
    return out.getvalue()[:-1].encode()


def _csv_line(row: dict[str, Any]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(_csv_values(_FLAT(row)))
    return out.getvalue().encode()


def _slow_row(history: History, index: int, fmt: str, dumps: Callable[[Any], bytes]) -> bytes:
    return _row_bytes(next(change_dicts(_window_of(history, [index]))), fmt, dumps)


def _window_of(history: History, indices: list[int]) -> History:
    from dataclasses import replace

    return replace(history, in_window=indices, abandoned=[])


def _only_abandoned(history: History) -> History:
    from dataclasses import replace

    return replace(history, in_window=[])
