"""``commitledger rollup``: many repositories' history in one DuckDB database, Parquet files and an HTML page."""

from __future__ import annotations

import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click

from commitledger.errors import CommitledgerError


@click.command("rollup")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--from", "listing", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="A file listing clones, one path per line ('#' starts a comment).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("commitledger-org"),
              show_default=True, help="Directory for org.duckdb, the Parquet files, views.sql and report.html.")
@click.option("--since", default="all", show_default=True,
              help="Window start for every repository: 90d, 12w, 6m, 1y, YYYY-MM-DD or 'all'.")
@click.option("--branch", "-b", default=None, help="Branch to read in every clone (default: each clone's current branch).")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=None,
              help="Repositories read at once (default: the number of CPUs, at most 8).")
@click.option("--lines", type=click.Choice(["ai", "all"]), default="ai", show_default=True,
              help="Count changed lines of AI-assisted changes only, or of every change.")
@click.option("--sql", "sql", default=None,
              help="Run this query against the database and print its result (with no clones given: against "
                   "the database already in --out).")
def rollup(paths: tuple[Path, ...], listing: Path | None, out_dir: Path, since: str, branch: str | None,
           jobs: int | None, lines: str, sql: str | None) -> None:
    """Read the history of several clones, a directory of clones, or the clones a file lists, and write
    one DuckDB database (tables changes, usage, repos; views of cost per merged change, AI share and
    revert rates by repository, month and agent/model), the tables as Parquet, the views as plain SQL,
    and a static HTML org report.

    Each repository's own cache is used and kept, so a second roll-up reads only new commits.
    """
    from commitledger.history import export, rollup as org

    duckdb = export.require_duckdb()
    db_path = out_dir / "org.duckdb"
    if not paths and listing is None:
        if sql is None:
            raise CommitledgerError("no repositories given: name clones, a directory of clones, or --from FILE")
        if not db_path.is_file():
            raise CommitledgerError(f"no database at {db_path}: run rollup with clones first")
        db = duckdb.connect(str(db_path), read_only=True)
        db.execute("SET TimeZone = 'UTC'")
        try:
            _print_query(*org.query(db, sql))
        finally:
            db.close()
        return

    clones = org.find_clones(paths, listing)
    names = org.repo_names(clones)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CommitledgerError(f"cannot create {out_dir}: {exc.strerror or exc}") from None
    staging = out_dir / ".staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        jobs_list = [org.Job(repo=name, path=str(path), rows=str(staging / f"{i:05d}.ndjson"), branch=branch,
                             since=since, lines=lines)
                     for i, (name, path) in enumerate(zip(names, clones))]
        with _Bar(len(jobs_list), enabled=sys.stderr.isatty()) as tick:
            results = org.run_jobs(jobs_list, jobs or org.default_processes(), tick)
        staged = [Path(job.rows) for job, result in zip(jobs_list, results) if result.error is None]
        db = org.build_database(db_path, staged, results, staging)
        try:
            written = org.write_parquet_tables(db, out_dir)
            (out_dir / "views.sql").write_text(org.views_sql(), encoding="utf-8")
            from commitledger.render.org_report import render_org_report

            (out_dir / "report.html").write_text(render_org_report(db, datetime.now(timezone.utc)), encoding="utf-8")
            _print_org(db)
            for result in results:
                if result.error is not None:
                    click.echo(f"commitledger: {result.repo}: {result.error}", err=True)
            click.echo(f"wrote {db_path}, {', '.join(p.name for p in written)}, views.sql and report.html in {out_dir}",
                       err=True)
            if sql is not None:
                _print_query(*org.query(db, sql))
        finally:
            db.close()
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if all(r.error is not None for r in results):
        raise CommitledgerError("no repository could be read")


class _Bar:
    """A rich progress bar over the repositories on a terminal; nothing when piped."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.enabled = total, enabled
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> Any:
        if not self.enabled:
            return None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(TextColumn("reading repositories"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), transient=True, console=Console(stderr=True))
        self.bar.start()
        self.task = self.bar.add_task("rollup", total=self.total)
        return self.tick

    def tick(self, _result: Any) -> None:
        self.bar.advance(self.task)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def _money(value: float | None) -> str:
    return "n/a" if value is None else f"${value:,.2f}"


def _rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _print_org(db: Any) -> None:
    """The org table: one row per repository, then the organisation (markup off: names are text)."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:
        console = Console(width=160)
    table = Table(title="organisation", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for name, justify in (("repository", "left"), ("merged", "right"), ("AI share", "right"), ("AI spend", "right"),
                          ("cost/merged change", "right"), ("reverted AI", "right"), ("human", "right"),
                          ("bot", "right")):
        table.add_column(name, justify=justify, no_wrap=justify == "right")  # type: ignore[arg-type]
    cursor = db.execute("SELECT repo, merged, ai_share, ai_cost_usd, cost_per_merged_change, revert_rate_ai, "
                        "revert_rate_human, revert_rate_bot FROM org_by_repo ORDER BY merged DESC, repo")
    for repo, merged, share, spend, per, ai, human, bot in cursor.fetchall():
        table.add_row(repo, f"{merged:,}", _rate(share), _money(spend), _money(per), _rate(ai), _rate(human), _rate(bot))
    total = db.execute("SELECT repos, merged, ai_share, ai_cost_usd, cost_per_merged_change, revert_rate_ai, "
                       "revert_rate_human, revert_rate_bot FROM org_total").fetchone()
    if total is not None and total[0]:
        repos, merged, share, spend, per, ai, human, bot = total
        table.add_section()
        table.add_row(f"all {repos} repositories", f"{merged or 0:,}", _rate(share), _money(spend), _money(per),
                      _rate(ai), _rate(human), _rate(bot), style="bold")
    console.print(table, markup=False, highlight=False)


def _print_query(names: list[str], rows: list[tuple[Any, ...]]) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:
        console = Console(width=200)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for name in names:
        table.add_column(name)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    console.print(table, markup=False, highlight=False)
