"""Maintainability of the changed Python files: radon MI and cyclomatic complexity, base vs head.

Metrics are computed from the blobs at the merge base and at head (never
the working tree), and each blob is parsed once: one ``ast.parse`` feeds
both the complexity visitor and the Halstead visitor, where ``radon mi``
and ``radon cc`` would each parse the file again. Results are cached by
blob id in ``<git common dir>/commitledger/cache.sqlite``, so an unchanged
file is never measured twice across runs, branches or pull requests.

A file radon cannot take (a Python 2 file, a SyntaxError, nesting deep
enough for a RecursionError, an undecodable encoding, over the size limit)
is ``unscored`` with its reason; the run goes on.
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
import os
import re
import sqlite3
import sys
import tokenize
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import radon
from radon.complexity import add_inner_blocks
from radon.metrics import h_visit_ast, mi_compute
from radon.raw import Module, analyze
from radon.visitors import ComplexityVisitor, Function

from commitledger.git.repo import FileChange

# Bump when what is stored per blob changes: old rows are then ignored, never misread.
METRICS_VERSION = 1
# What a blob's metrics depend on besides its bytes: the grammar of the running
# Python (a PEP 695 file is a SyntaxError on 3.11 only) and radon's formulas.
CACHE_VERSION = f"{METRICS_VERSION}:py{sys.version_info[0]}.{sys.version_info[1]}:radon{radon.__version__}"
CACHE_TABLE = "pr_blob_metrics"
# Below this many uncached blobs, starting worker processes costs more than it saves.
POOL_THRESHOLD = 24


@dataclass(frozen=True, slots=True)
class FunctionMetric:
    """One function or method: its cyclomatic complexity and a digest of its text."""

    name: str
    cc: int
    digest: str


@dataclass(frozen=True, slots=True)
class BlobMetrics:
    """Metrics of one blob; ``reason`` set means radon could not score it."""

    mi: float | None = None
    cc_total: int | None = None
    functions: tuple[FunctionMetric, ...] = ()
    reason: str | None = None

    @property
    def scored(self) -> bool:
        return self.reason is None

    @property
    def worst(self) -> FunctionMetric | None:
        return max(self.functions, key=lambda f: f.cc, default=None)

    def to_json(self) -> str:
        return json.dumps(
            {
                "mi": self.mi,
                "cc": self.cc_total,
                "fn": [[f.name, f.cc, f.digest] for f in self.functions],
                "reason": self.reason,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> BlobMetrics:
        data = json.loads(text)
        return cls(
            mi=data["mi"],
            cc_total=data["cc"],
            functions=tuple(FunctionMetric(str(n), int(c), str(d)) for n, c, d in data["fn"]),
            reason=data["reason"],
        )


@dataclass(frozen=True, slots=True)
class FileScore:
    """A changed Python file with its metrics on each side (``None``: the file is absent there)."""

    path: str
    old_path: str | None
    before: BlobMetrics | None
    after: BlobMetrics | None

    @property
    def unscored_reason(self) -> str | None:
        for side in (self.after, self.before):
            if side is not None and not side.scored:
                return side.reason
        return None


def _decode(data: bytes) -> str:
    """Source text by Python's own rules (PEP 263 cookie, BOM); raises on a bad encoding."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    text = data.decode(encoding)
    return text[1:] if text.startswith("\ufeff") else text


# --- raw metrics (LOC, LLOC, comments, docstrings) in one regex pass ---
#
# ``radon.raw.analyze`` tokenizes every stripped line again on its own, and a
# long multi-line statement again for each line it spans: the slowest part of
# ``radon mi``, quadratic on long literals. ``raw_metrics`` computes the same
# ``Module`` numbers from one scan that only tells apart what those numbers
# depend on (strings, comments, brackets, ``;``, ``:``, line ends), grouped into
# the chunks radon builds (a logical line at bracket depth 0). Checked equal to
# radon on the standard library and site-packages; where ``str.splitlines``
# would split lines differently (form feeds, ``\r``, Unicode separators) or the
# scanner meets anything it does not expect, it returns ``None`` and radon's
# own ``analyze`` runs instead.

_SCAN = re.compile(
    r"""(?P<str>(?:[rRbBuUfF]{1,2})?(?:\"\"\"(?:\\.|[^\\])*?\"\"\"|'''(?:\\.|[^\\])*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'))"""
    r"""|(?P<com>\#[^\n]*)"""
    r"""|(?P<nl>\n)"""
    r"""|(?P<cont>\\\n)"""
    r"""|(?P<walrus>:=)"""
    r"""|(?P<op>[()\[\]{};:])"""
    r"""|(?P<ws>[ \t]+)"""
    r"""|(?P<word>\w+)"""
    r"""|(?P<sym>[^\w\s'"\#()\[\]{};:\\]+|\\)""",
    re.S,
)
_STR, _COM, _NL, _OP, _OTHER, _END = range(1, 7)
_SPLITLINES_EXTRA = ("\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")
_Token = tuple[int, str, int, int]  # kind, text, first row, last row


def _logical_lines(tokens: list[_Token]) -> int:
    """``radon.raw._logical``: ``if x: y`` is two logical lines, ``a; b`` two, a comment none."""
    subs: list[list[_Token]] = [[]]
    for tok in tokens:
        if tok[0] == _OP and tok[1] == ";":
            subs.append([])
        else:
            subs[-1].append(tok)
    total = 0
    for sub in subs:
        kept = [t for t in sub if t[0] not in (_COM, _NL)]
        colon = next((i for i in range(len(kept) - 1, -1, -1) if kept[i][0] == _OP and kept[i][1] == ":"), None)
        if colon is not None:
            total += 2 - (colon == len(kept) - 2)
        elif any(t[0] not in (_NL, _END) for t in kept):
            total += 1
    return total


@dataclass(slots=True)
class _RawCounts:
    lloc: int = 0
    comments: int = 0
    single: int = 0
    multi: int = 0
    blank: int = 0
    sloc: int = 0

    def add_chunk(self, chunk: list[_Token], lines: list[str]) -> None:
        """One of radon's chunks: a comment line, a docstring, or code (with its blank lines)."""
        tokens = chunk + [(_END, "", 0, 0)]
        self.comments += sum(1 for t in tokens if t[0] == _COM)
        first = tokens[0]
        alone = all(t[0] in (_NL, _END) for t in tokens[1:])
        if alone and (first[0] == _COM or (first[0] == _STR and first[2] == first[3])):
            self.single += 1
        elif alone and first[0] == _STR:
            self.multi += sum(1 for line in lines if line)
            self.blank += sum(1 for line in lines if not line)
        else:
            code = sum(1 for line in lines if line)
            self.sloc += code
            self.blank += len(lines) - code
        self.lloc += _logical_lines(tokens)


def raw_metrics(text: str) -> Module | None:
    """``radon.raw.analyze(text)`` in one pass; ``None`` where it could differ."""
    if any(ch in text for ch in _SPLITLINES_EXTRA):
        return None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    counts = _RawCounts()
    chunk: list[_Token] = []
    depth = pos = 0
    row = start_row = 1
    for match in _SCAN.finditer(text):
        if match.start() != pos:
            return None
        pos = match.end()
        kind, value = match.lastgroup, match.group()
        if kind == "ws":
            continue
        if kind == "nl":
            if depth == 0:
                counts.add_chunk(chunk + [(_NL, value, row, row)], [x.strip() for x in lines[start_row - 1 : row]])
                chunk, start_row = [], row + 1
            row += 1
        elif kind == "cont":
            row += 1
        elif kind == "str":
            chunk.append((_STR, value, row, row + value.count("\n")))
            row += value.count("\n")
        elif kind == "com":
            chunk.append((_COM, value, row, row))
        elif kind == "op":
            depth += (value in "([{") - (value in ")]}")
            chunk.append((_OP, value, row, row))
        else:
            chunk.append((_OTHER, value, row, row))
    if pos != len(text):
        return None
    if chunk:
        counts.add_chunk(chunk + [(_NL, "", row, row)], [x.strip() for x in lines[start_row - 1 : row]])
        start_row = row + 1
    if start_row <= len(lines):
        return None
    loc = counts.sloc + counts.blank + counts.multi + counts.single
    return Module(loc, counts.lloc, counts.sloc, counts.comments, counts.multi, counts.blank, counts.single)


def _functions(visitor: ComplexityVisitor, lines: list[str]) -> tuple[FunctionMetric, ...]:
    """Functions and methods (closures included) with a digest of their text.

    The digest tells a changed function from an untouched one, so the
    complexity signal names only functions this change added or edited.
    """
    out: list[FunctionMetric] = []
    for block in add_inner_blocks(visitor.blocks):
        if not isinstance(block, Function):
            continue
        body = "\n".join(lines[block.lineno - 1 : block.endline])
        digest = hashlib.blake2b(body.encode("utf-8", "surrogatepass"), digest_size=6).hexdigest()
        out.append(FunctionMetric(block.fullname, int(block.complexity), digest))
    out.sort(key=lambda f: f.name)
    return tuple(out)


def measure_source(data: bytes) -> BlobMetrics:
    """MI (comments and docstrings counted, as ``radon mi`` does) and CC from one parse."""
    try:
        text = _decode(data)
    except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
        return BlobMetrics(reason=f"bad encoding ({exc.__class__.__name__})")
    try:
        tree = ast.parse(text)
        visitor = ComplexityVisitor.from_ast(tree)
        volume = h_visit_ast(tree).total.volume
        raw = raw_metrics(text) or analyze(text)
        functions = _functions(visitor, text.splitlines())
    except SyntaxError as exc:
        where = f" at line {exc.lineno}" if exc.lineno else ""
        return BlobMetrics(reason=f"{exc.__class__.__name__}{where}")
    except RecursionError:
        return BlobMetrics(reason="RecursionError (nested too deeply)")
    except MemoryError:
        return BlobMetrics(reason="MemoryError")
    except (ValueError, TypeError, tokenize.TokenError) as exc:  # null bytes, tokenizer limits
        return BlobMetrics(reason=f"{exc.__class__.__name__}")
    comments = raw.comments + raw.multi
    comment_pct = comments / float(raw.sloc) * 100 if raw.sloc else 0
    total_cc = visitor.total_complexity
    mi = mi_compute(volume, total_cc, raw.lloc, comment_pct)
    return BlobMetrics(mi=round(mi, 2), cc_total=int(total_cc), functions=functions)


def _measure_many(items: list[tuple[str, bytes]]) -> list[tuple[str, str]]:
    """Worker entry point: (blob id, metrics JSON) for a chunk of blobs."""
    return [(blob_id, measure_source(data).to_json()) for blob_id, data in items]


def measure_blobs(items: list[tuple[str, bytes]], workers: int | None = None) -> dict[str, BlobMetrics]:
    """Measure blobs, over several processes when there are enough to pay for them."""
    if not items:
        return {}
    cpus = workers if workers is not None else (os.cpu_count() or 1)
    if cpus < 2 or len(items) < POOL_THRESHOLD:
        return {blob_id: measure_source(data) for blob_id, data in items}
    # Several interleaved chunks per worker: a mix of large and small files in
    # each, and a worker that finishes early takes the next chunk.
    parts = cpus * 4
    chunks = [items[i::parts] for i in range(parts) if items[i::parts]]
    out: dict[str, BlobMetrics] = {}
    with ProcessPoolExecutor(max_workers=cpus) as pool:
        for results in pool.map(_measure_many, chunks):
            for blob_id, text in results:
                out[blob_id] = BlobMetrics.from_json(text)
    return out


class MetricsCache:
    """Per-blob metrics in SQLite; a cache that cannot be used only costs time, never the run."""

    def __init__(self, path: Path | None) -> None:
        self._conn: sqlite3.Connection | None = None
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(path), timeout=10.0)
            conn.execute("PRAGMA busy_timeout = 10000")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {CACHE_TABLE} ("
                "blob TEXT NOT NULL, version TEXT NOT NULL, data TEXT NOT NULL, "
                "PRIMARY KEY (blob, version)) WITHOUT ROWID"
            )
            conn.commit()
            self._conn = conn
        except (OSError, sqlite3.Error):
            self._conn = None

    def get_many(self, blob_ids: Iterable[str]) -> dict[str, BlobMetrics]:
        ids = list(dict.fromkeys(blob_ids))
        if self._conn is None or not ids:
            return {}
        out: dict[str, BlobMetrics] = {}
        try:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._conn.execute(
                    f"SELECT blob, data FROM {CACHE_TABLE} WHERE version = ? AND blob IN ({marks})",
                    [CACHE_VERSION, *chunk],
                )
                for blob_id, data in rows:
                    try:
                        out[blob_id] = BlobMetrics.from_json(data)
                    except (ValueError, KeyError, TypeError):
                        continue
        except sqlite3.Error:
            return out
        return out

    def put_many(self, metrics: dict[str, BlobMetrics]) -> None:
        if self._conn is None or not metrics:
            return
        try:
            with self._conn:
                self._conn.executemany(
                    f"INSERT OR REPLACE INTO {CACHE_TABLE} (blob, version, data) VALUES (?, ?, ?)",
                    [(blob_id, CACHE_VERSION, m.to_json()) for blob_id, m in metrics.items()],
                )
        except sqlite3.Error:
            return

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


@dataclass(slots=True)
class BlobSource:
    """How the analysis reaches blobs: injected so this module never opens a repository."""

    size: Callable[[str], int]
    read: Callable[[str], bytes]
    max_bytes: int


def is_python(path: str | None) -> bool:
    return path is not None and path.endswith((".py", ".pyi"))


def _sides(change: FileChange) -> tuple[str | None, str | None]:
    """The blob ids to measure on each side: only where that side is a Python file."""
    before = change.old_blob if change.old_blob and is_python(change.old_path) else None
    after = change.new_blob if change.new_blob and is_python(change.new_path) else None
    return before, after


def _measure_all(blob_ids: list[str], source: BlobSource, cache: MetricsCache, workers: int | None) -> dict[str, BlobMetrics]:
    """Oversized blobs first (never read), then the cache, then the rest measured and cached."""
    known: dict[str, BlobMetrics] = {}
    for blob_id in blob_ids:
        try:
            size = source.size(blob_id)
        except (KeyError, ValueError, OSError, RuntimeError) as exc:  # pygit2: a blob this clone does not hold
            known[blob_id] = BlobMetrics(reason=f"unreadable blob {blob_id[:12]} ({exc.__class__.__name__})")
            continue  # never read, never cached: a later run with the object scores it
        if size > source.max_bytes:
            known[blob_id] = BlobMetrics(reason=f"over max_file_bytes ({size} > {source.max_bytes} bytes)")
    known.update(cache.get_many(b for b in blob_ids if b not in known))
    fresh = measure_blobs([(b, source.read(b)) for b in blob_ids if b not in known], workers)
    cache.put_many(fresh)
    known.update(fresh)
    return known


def score_changes(
    changes: list[FileChange], source: BlobSource, cache: MetricsCache, workers: int | None = None
) -> list[FileScore]:
    """Metrics for every changed Python file, before and after; cached, then measured in parallel."""
    py_changes = [c for c in changes if not c.binary and (is_python(c.new_path) or is_python(c.old_path))]
    sides = [_sides(c) for c in py_changes]
    wanted = list(dict.fromkeys(blob for pair in sides for blob in pair if blob is not None))
    known = _measure_all(wanted, source, cache, workers)
    scores = [
        FileScore(
            change.path,
            change.old_path,
            known[before] if before else None,
            known[after] if after else None,
        )
        for change, (before, after) in zip(py_changes, sides)
    ]
    scores.sort(key=lambda s: s.path)
    return scores


def changed_functions(score: FileScore) -> list[tuple[FunctionMetric, FunctionMetric | None]]:
    """Functions at head that are new or whose text changed, each with its base version if any."""
    if score.after is None or not score.after.scored:
        return []
    old: dict[str, list[FunctionMetric]] = {}
    if score.before is not None and score.before.scored:
        for fn in score.before.functions:
            old.setdefault(fn.name, []).append(fn)
    out: list[tuple[FunctionMetric, FunctionMetric | None]] = []
    for fn in score.after.functions:
        previous = old.get(fn.name, [])
        if any(p.digest == fn.digest for p in previous):
            continue
        out.append((fn, max(previous, key=lambda p: p.cc) if previous else None))
    return out
