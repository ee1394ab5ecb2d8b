"""Maintainability of the changed files in every language: MI and complexity, base vs head.

Metrics are computed from the blobs at the merge base and at head (never
the working tree). Which engine measures a file is decided by its language
(``pr.engines.languages``): radon for Python, bca for the languages it
parses, lizard for the few it does not (Swift, Scala, ...). bca runs as one
batch process on every core while radon and lizard work in a process pool
beside it; bca also gives Python its cognitive complexity.

Results are cached by blob id plus engine version in
``<git common dir>/commitledger/cache.sqlite``, so an unchanged file is
never measured twice across runs, branches or pull requests.

A file no engine can score (a syntax error, a generated file, one over
``max_file_bytes``, a language without an engine) is ``unscored`` with its
reason; the run goes on.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from commitledger.git.repo import FileChange
from commitledger.pr.engines import bca_engine, lizard_engine, radon_engine
from commitledger.pr.engines.languages import Language, bca_suffix, language_of
from commitledger.pr.engines.metrics import BlobMetrics, FunctionMetric
from commitledger.pr.engines.pool import POOL_THRESHOLD, Item, measure_blobs, measure_items
from commitledger.pr.engines.radon_engine import measure_source, raw_metrics

__all__ = [
    "CACHE_TABLE", "CACHE_VERSION", "POOL_THRESHOLD", "BlobMetrics", "BlobSource", "FileScore", "FunctionMetric",
    "MetricsCache", "changed_functions", "function_label", "measure_blobs", "measure_source", "raw_metrics", "score_changes",
]

# Bump when what is stored per blob changes: old rows are then ignored, never misread.
METRICS_VERSION = 2  # 2: function kind, cognitive complexity and line; every language
CACHE_TABLE = "pr_blob_metrics"
# Python's rows: radon's figures, plus bca's cognitive complexity (so a new bca re-measures them).
CACHE_VERSION = f"{METRICS_VERSION}:{radon_engine.VERSION}:{bca_engine.version_tag()}"
GENERATED_REASON = "generated (linguist-generated in .gitattributes)"


def cache_version(language: Language) -> str:
    """What a blob's figures depend on besides its bytes: the engine, its version, and the grammar used."""
    if language.engine == "radon":
        return CACHE_VERSION
    engine = bca_engine.version_tag() if language.engine == "bca" else lizard_engine.VERSION
    return f"{METRICS_VERSION}:{language.name}:{engine}"


@dataclass(frozen=True, slots=True)
class FileScore:
    """A changed file with its metrics on each side (``None``: the file is absent there)."""

    path: str
    old_path: str | None
    before: BlobMetrics | None
    after: BlobMetrics | None
    language: str | None = None  # ``Language.name``
    engine: str | None = None

    @property
    def unscored_reason(self) -> str | None:
        for side in (self.after, self.before):
            if side is not None and not side.scored:
                return side.reason
        return None


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

    def get_many(self, blob_ids: Iterable[str], version: str = CACHE_VERSION) -> dict[str, BlobMetrics]:
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
                    [version, *chunk],
                )
                for blob_id, data in rows:
                    try:
                        out[blob_id] = BlobMetrics.from_json(data)
                    except (ValueError, KeyError, TypeError):
                        continue
        except sqlite3.Error:
            return out
        return out

    def put_many(self, metrics: dict[str, BlobMetrics], version: str = CACHE_VERSION) -> None:
        if self._conn is None or not metrics:
            return
        try:
            with self._conn:
                self._conn.executemany(
                    f"INSERT OR REPLACE INTO {CACHE_TABLE} (blob, version, data) VALUES (?, ?, ?)",
                    [(blob_id, version, m.to_json()) for blob_id, m in metrics.items()],
                )
        except sqlite3.Error:
            return

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


@dataclass(slots=True)
class BlobSource:
    """How the analysis reaches blobs: injected so this module never opens a repository.

    ``generated`` tells whether a path is marked ``linguist-generated`` in
    ``.gitattributes`` (at head); such files are not read at all.
    """

    size: Callable[[str], int]
    read: Callable[[str], bytes]
    max_bytes: int
    generated: Callable[[str], bool] | None = None


def is_python(path: str | None) -> bool:
    return path is not None and path.endswith((".py", ".pyi"))


# A blob measured as one language: (blob id, language, a path it has, for its extension).
_Want = tuple[str, Language, str]


def _key(blob_id: str, language: Language) -> str:
    return f"{blob_id}:{language.name}"


def _measure_all(wanted: list[_Want], source: BlobSource, cache: MetricsCache, workers: int | None) -> dict[str, BlobMetrics]:
    """Oversized blobs first (never read), then the cache, then the rest measured and cached.

    bca is started first and works on its own cores while radon and lizard
    run in the pool; Python blobs go to both, bca adding cognitive complexity.
    """
    known: dict[str, BlobMetrics] = {}
    todo: list[_Want] = []
    seen: set[str] = set()
    for blob_id, language, path in wanted:
        key = _key(blob_id, language)
        if key in seen:
            continue  # one blob at both sides (a pure rename), or in two files
        seen.add(key)
        size = source.size(blob_id)
        if size > source.max_bytes:
            known[key] = BlobMetrics(reason=f"over max_file_bytes ({size} > {source.max_bytes} bytes)")
        else:
            todo.append((blob_id, language, path))
    by_version: dict[str, list[_Want]] = {}
    for want in todo:
        by_version.setdefault(cache_version(want[1]), []).append(want)
    missing: list[_Want] = []
    for version, group in by_version.items():
        hits = cache.get_many([b for b, _, _ in group], version)
        for blob_id, language, path in group:
            if blob_id in hits:
                known[_key(blob_id, language)] = hits[blob_id]
            else:
                missing.append((blob_id, language, path))
    data = {_key(b, lang): source.read(b) for b, lang, _ in missing}
    # Two bca batches side by side: every metric for the languages bca scores, cognitive alone for Python.
    to_bca = [(_key(b, lang), bca_suffix(path, lang), data[_key(b, lang)]) for b, lang, path in missing
              if lang.engine == "bca"]
    batch = bca_engine.start(to_bca, {key for key, _, _ in to_bca})
    python = [(_key(b, lang), ".py", data[_key(b, lang)]) for b, lang, _ in missing if lang.engine == "radon"]
    cognitive = bca_engine.start(python, metrics=bca_engine.COGNITIVE) if bca_engine.find_binary() else None
    items: list[Item] = [(_key(b, lang), lang.engine, path, data[_key(b, lang)]) for b, lang, path in missing
                         if lang.engine in ("radon", "lizard")]
    try:
        fresh = measure_items(items, workers)
    finally:
        from_bca = batch.results()
        if cognitive is not None:
            from_bca.update(cognitive.results())
    for blob_id, language, _ in missing:
        key = _key(blob_id, language)
        if language.engine == "bca":
            fresh[key] = from_bca[key]
        elif language.engine == "radon" and key in from_bca and fresh[key].scored and from_bca[key].scored:
            fresh[key] = fresh[key].with_cognitive(
                {(f.name.rsplit(".", 1)[-1], f.line): f.cognitive for f in from_bca[key].functions
                 if f.cognitive is not None}
            )
    stored: dict[str, dict[str, BlobMetrics]] = {}
    for blob_id, language, _ in missing:
        key = _key(blob_id, language)
        known[key] = fresh[key]
        stored.setdefault(cache_version(language), {})[blob_id] = fresh[key]
    for version, metrics in stored.items():
        cache.put_many(metrics, version)
    return known


def _side(blob_id: str | None, path: str | None, allowed: frozenset[str] | None) -> tuple[str, Language, str] | None:
    language = language_of(path)
    if blob_id is None or path is None or language is None:
        return None
    if allowed is not None and language.name not in allowed:
        return None
    return blob_id, language, path


def score_changes(
    changes: list[FileChange],
    source: BlobSource,
    cache: MetricsCache,
    workers: int | None = None,
    languages: Iterable[str] | None = None,
) -> list[FileScore]:
    """Metrics for every changed file in a language we know, before and after.

    ``languages`` restricts which are measured (names of ``pr.engines.languages``);
    ``None`` measures every one.
    """
    allowed = frozenset(languages) if languages is not None else None
    plans: list[tuple[FileChange, _Want | None, _Want | None]] = []
    for change in changes:
        if change.binary:
            continue
        before = _side(change.old_blob, change.old_path, allowed)
        after = _side(change.new_blob, change.new_path, allowed)
        if before is None and after is None:
            continue
        plans.append((change, before, after))
    generated = source.generated
    fixed: dict[str, BlobMetrics] = {}  # path -> the reason the file is not measured at all
    wanted: list[_Want] = []
    for change, before, after in plans:
        language = (after or before)[1]  # type: ignore[index]
        if generated is not None and generated(change.path):
            fixed[change.path] = BlobMetrics(reason=GENERATED_REASON)
        elif language.engine == "none":
            fixed[change.path] = BlobMetrics(reason=f"no metrics engine for {language.label}")
        else:
            wanted += [side for side in (before, after) if side is not None and side[1].engine != "none"]
    known = _measure_all(wanted, source, cache, workers)

    def metrics(side: _Want | None, path: str) -> BlobMetrics | None:
        if side is None:
            return None
        if path in fixed:
            return fixed[path]
        if side[1].engine == "none":
            return BlobMetrics(reason=f"no metrics engine for {side[1].label}")
        return known[_key(side[0], side[1])]

    scores = []
    for change, before, after in plans:
        language = (after or before)[1]  # type: ignore[index]
        scores.append(
            FileScore(
                change.path,
                change.old_path,
                metrics(before, change.path),
                metrics(after, change.path),
                language.name,
                None if language.engine == "none" else language.engine,
            )
        )
    scores.sort(key=lambda s: s.path)
    return scores


def changed_functions(score: FileScore) -> list[tuple[FunctionMetric, FunctionMetric | None]]:
    """Functions at head that are new or whose text changed, each with its base version if any.

    Base and head are matched by qualified name and kind, so a method and a
    free function of the same name are not taken for one another.
    """
    if score.after is None or not score.after.scored:
        return []
    old: dict[tuple[str, str], list[FunctionMetric]] = {}
    if score.before is not None and score.before.scored:
        for fn in score.before.functions:
            old.setdefault((fn.name, fn.kind), []).append(fn)
    out: list[tuple[FunctionMetric, FunctionMetric | None]] = []
    for fn in score.after.functions:
        previous = old.get((fn.name, fn.kind), [])
        if any(p.digest == fn.digest for p in previous):
            continue
        out.append((fn, max(previous, key=lambda p: p.cc) if previous else None))
    return out


def function_label(path: str, language: str | None, name: str) -> str:
    """How a signal names a function: ``module.func`` for Python, as radon users read it; ``func (file)`` elsewhere."""
    filename = path.rsplit("/", 1)[-1]
    if language in (None, "python"):
        return f"{filename.removesuffix('.py').removesuffix('.pyi')}.{name}"
    return f"{name} ({filename})"
