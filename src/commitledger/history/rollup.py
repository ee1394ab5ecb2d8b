"""``commitledger rollup``: the history of many repositories in one DuckDB database, Parquet files and a page.

Each repository is read by ``load_history`` in a worker process (its own
cache in its own git directory makes a second roll-up read only new commits),
which writes its flat rows (``export.FLAT_COLUMNS``, plus the repository's
name) to an NDJSON staging file and returns a small summary. The parent then
loads every staging file into DuckDB in one statement per table: rows never
travel through a pipe between processes, and the parent never holds them.

Tables: ``changes`` (one row per change, every flat column but the token
counts, plus ``agent``/``model``), ``usage`` (the counts of the changes that
have an AI-Usage line) and ``repos`` (one row per repository, with its error
when it could not be read). The views are ``data/org_views.sql``, plain SQL a
warehouse runs unchanged over the same Parquet files.
"""

from __future__ import annotations

import os
import re
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterable

from commitledger.errors import CommitledgerError
from commitledger.history import export

VIEWS_FILE = "org_views.sql"
TABLES = ("changes", "usage", "repos")
_USAGE_COLUMNS = ("input", "output", "cache_read", "cache_write", "cost_usd", "sessions", "prompts", "requests",
                  "tool_calls")
# repos: (column, SQL type); one line per column, as for the flat rows.
REPO_COLUMNS: tuple[tuple[str, str], ...] = (
    ("repo", "VARCHAR"),
    ("path", "VARCHAR"),
    ("branch", "VARCHAR"),
    ("tip", "VARCHAR"),
    ("since", "VARCHAR"),
    ("merged", "BIGINT"),
    ("ai_merged", "BIGINT"),
    ("commits_parsed", "BIGINT"),
    ("changes_cached", "BIGINT"),
    ("seconds", "DOUBLE"),
    ("error", "VARCHAR"),
    ("read_at", "TIMESTAMPTZ"),
)


@dataclass
class Job:
    repo: str  # the name rows carry (unique within a roll-up)
    path: str
    rows: str  # the staging file this worker writes
    branch: str | None
    since: str | None
    lines: str


@dataclass
class RepoResult:
    repo: str
    path: str
    branch: str | None = None
    tip: str | None = None
    since: str | None = None
    merged: int = 0
    ai_merged: int = 0
    commits_parsed: int = 0
    changes_cached: int = 0
    seconds: float = 0.0
    error: str | None = None
    read_at: str = ""


# --- which repositories -------------------------------------------------------------------------


def _is_clone(path: Path) -> bool:
    return (path / ".git").exists() or ((path / "HEAD").is_file() and (path / "objects").is_dir())


def find_clones(paths: Iterable[Path], listing: Path | None = None) -> list[Path]:
    """Clones named directly, the clones one level inside a directory that is not one, and those a file lists.

    The listing has one path per line (relative to the file), ``#`` starting
    a comment. A path that is neither a clone nor holds any is an error, so a
    typo is not silently an empty organisation.
    """
    named = list(paths)
    if listing is not None:
        try:
            text = listing.read_text(encoding="utf-8")
        except OSError as exc:
            raise CommitledgerError(f"cannot read {listing}: {exc.strerror or exc}") from None
        for line in text.splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                entry = Path(line).expanduser()
                named.append(entry if entry.is_absolute() else listing.parent / entry)
    found: list[Path] = []
    for path in named:
        if not path.is_dir():
            raise CommitledgerError(f"{path} is not a directory")
        if _is_clone(path):
            found.append(path.resolve())
            continue
        inside = sorted(child.resolve() for child in path.iterdir() if child.is_dir() and _is_clone(child))
        if not inside:
            raise CommitledgerError(f"{path} is not a git clone and holds none")
        found.extend(inside)
    unique = list(dict.fromkeys(found))
    if not unique:
        raise CommitledgerError("no repositories given: name clones, a directory of clones, or --from FILE")
    return unique


def repo_names(paths: list[Path]) -> list[str]:
    """The directory name, with as many parent names as it takes to tell two clones apart."""
    depth = {p: 1 for p in paths}
    while True:
        names = {p: "/".join(p.parts[-depth[p]:]) for p in paths}
        seen: dict[str, list[Path]] = {}
        for p, name in names.items():
            seen.setdefault(name, []).append(p)
        clashes = [p for group in seen.values() if len(group) > 1 for p in group if depth[p] < len(p.parts)]
        if not clashes:
            return [names[p] for p in paths]
        for p in clashes:
            depth[p] += 1


# --- one repository, in a worker --------------------------------------------------------------


def read_repo(job: Job) -> RepoResult:
    """``history`` of one clone into its staging file; a failure is recorded, not raised (others go on)."""
    from commitledger.commands.history import window
    from commitledger.config import load_config
    from commitledger.git.paths import find_repo
    from commitledger.history.branch import load_history

    started = time.perf_counter()
    out = RepoResult(repo=job.repo, path=job.path, read_at=_now())
    try:
        paths = find_repo(Path(job.path))
        config = load_config(paths.worktree)
        start, end, label = window(job.since, None, config.baseline_days, datetime.now(timezone.utc))
        data = load_history(paths.worktree, job.branch, start, end, since_label=label,
                            test_patterns=tuple(config.test_patterns), lines=job.lines, bots=tuple(config.bots),
                            big_change_commits=config.big_change_commits)
        with open(job.rows, "wb") as handle:
            export.ndjson_rows(data, handle, {"repo": job.repo})
        out.branch, out.tip, out.since = data.branch, data.tip, data.since
        out.merged, out.ai_merged = data.summary["merged"], data.summary["ai_merged"]
        out.commits_parsed, out.changes_cached = data.counter.commits_parsed, data.counter.changes_cached
    except CommitledgerError as exc:
        out.error = str(exc)
        Path(job.rows).unlink(missing_ok=True)
    out.seconds = round(time.perf_counter() - started, 3)
    return out


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def run_jobs(jobs: list[Job], processes: int, progress: Callable[[RepoResult], None] | None = None) -> list[RepoResult]:
    """Every job in a pool of ``processes`` workers (spawned: the parent may run a progress thread)."""
    if processes <= 1 or len(jobs) <= 1:
        results = []
        for job in jobs:
            results.append(read_repo(job))
            if progress is not None:
                progress(results[-1])
        return results
    import multiprocessing

    by_job: dict[int, RepoResult] = {}
    with ProcessPoolExecutor(max_workers=min(processes, len(jobs)),
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        futures: dict[Future[RepoResult], int] = {pool.submit(read_repo, job): i for i, job in enumerate(jobs)}
        from concurrent.futures import as_completed

        for future in as_completed(futures):
            index = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # a worker that died (out of memory, killed): that repository failed
                result = RepoResult(repo=jobs[index].repo, path=jobs[index].path, error=f"worker failed: {exc}",
                                    read_at=_now())
            by_job[index] = result
            if progress is not None:
                progress(result)
    return [by_job[i] for i in range(len(jobs))]


# --- the database -------------------------------------------------------------------------------


def views_sql() -> str:
    return resources.files("commitledger").joinpath("data", VIEWS_FILE).read_text(encoding="utf-8")


def statements(sql: str) -> list[str]:
    """The statements of a SQL file whose statements end with ';' at the end of a line (comments dropped)."""
    body = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    return [part.strip() for part in re.split(r";\s*$", body, flags=re.MULTILINE) if part.strip()]


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def build_database(db_path: Path, staged: list[Path], results: list[RepoResult], staging: Path) -> Any:
    """Tables and views in a fresh DuckDB file; returns the open connection."""
    duckdb = export.require_duckdb()
    for suffix in ("", ".wal"):
        Path(str(db_path) + suffix).unlink(missing_ok=True)
    db = export.connect(duckdb, str(db_path), threads=2, memory="256MB")
    flat = export.column_types({"repo": "VARCHAR"})
    usage = ", ".join(_USAGE_COLUMNS)
    rest = ", ".join(name for name, _, _ in export.FLAT_COLUMNS if name not in _USAGE_COLUMNS or name == "cost_usd")
    if staged:
        files = "[" + ", ".join(_text(str(p)) for p in staged) + "]"
        db.execute(f"CREATE TEMP VIEW staged AS SELECT * FROM read_ndjson({files}, columns = {flat})")
    else:  # no repository could be read: the same tables, empty
        db.execute(f"CREATE TEMP VIEW staged AS SELECT * FROM read_ndjson({_text(str(_empty(staging)))}, columns = {flat})")
    db.execute(
        f"CREATE TABLE changes AS SELECT repo, {rest}, "
        "CASE len(agents) WHEN 0 THEN NULL WHEN 1 THEN agents[1] ELSE 'several' END AS agent, "
        "CASE len(models) WHEN 0 THEN NULL WHEN 1 THEN models[1] ELSE 'several' END AS model FROM staged"
    )
    db.execute(
        f"CREATE TABLE usage AS SELECT repo, commit, kind, pr, merged_at, {usage} FROM staged "
        "WHERE " + " OR ".join(f"{name} IS NOT NULL" for name in _USAGE_COLUMNS)
    )
    db.execute("CREATE TABLE repos (" + ", ".join(f"{name} {kind}" for name, kind in REPO_COLUMNS) + ")")
    if results:
        db.executemany(
            f"INSERT INTO repos VALUES ({', '.join('?' for _ in REPO_COLUMNS)})",
            [[asdict(r)[name] if name != "read_at" else (r.read_at or None) for name, _ in REPO_COLUMNS]
             for r in results],
        )
    for statement in statements(views_sql()):
        db.execute(statement)
    return db


def _empty(staging: Path) -> Path:
    path = staging / "empty.ndjson"
    path.write_bytes(b"")
    return path


def write_parquet_tables(db: Any, out_dir: Path) -> list[Path]:
    written = []
    for table in TABLES:
        target = out_dir / f"{table}.parquet"
        db.execute(f"COPY {table} TO {_text(str(target))} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 100000, "
                   f"KV_METADATA {{schema: {_text(export.FLAT_SCHEMA)}, \"table\": {_text(table)}}})")
        written.append(target)
    return written


def query(db: Any, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    duckdb = export.require_duckdb()
    try:
        cursor = db.execute(sql)
    except duckdb.Error as exc:
        raise CommitledgerError(f"--sql failed: {str(exc).splitlines()[0]}") from None
    if cursor.description is None:
        return [], []
    return [d[0] for d in cursor.description], cursor.fetchall()


def default_processes() -> int:
    return max(1, min(os.cpu_count() or 1, 8))
