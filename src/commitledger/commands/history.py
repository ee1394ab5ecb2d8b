"""``commitledger history``: merged changes of a branch, their reverts, and cost per merged change."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Iterator

import click

from commitledger.config import load_config
from commitledger.errors import CommitledgerError
from commitledger.git.paths import find_repo
from commitledger.render.text import terminal_text


def window(since: str | None, until: str | None, default_days: int, now: datetime) -> tuple[datetime | None, datetime | None, str]:
    """``--since``/``--until`` as moments; ``--since all`` reads the whole history."""
    from commitledger.history.branch import parse_when

    label = since or f"{default_days}d"
    start = None if label.strip().lower() == "all" else parse_when(label, now)
    end = parse_when(until, now, end_of_day=True) if until else None
    if start is not None and end is not None and end < start:
        raise CommitledgerError("--until is before --since")
    return start, end, label


@click.command("history")
@click.option("--branch", "-b", default=None, help="Branch to read (default: the current branch).")
@click.option("--since", default=None, help="Window start: 90d, 12w, 6m, 1y, YYYY-MM-DD or 'all' (default: baseline_days).")
@click.option("--until", default=None, help="Window end: YYYY-MM-DD (inclusive) or a relative age; later reverts still count.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "parquet"]), default="table",
              show_default=True, help="parquet needs --output and DuckDB (pip install 'commitledger[org]').")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write json, csv or parquet to this file instead of stdout.")
@click.option("--limit", default=30, show_default=True, help="Changes listed by the table (JSON and CSV list all).")
@click.option("--lines", "lines", type=click.Choice(["ai", "all"]), default="ai", show_default=True,
              help="Count changed lines of AI-assisted changes only (all the figures need; much faster cold) "
                   "or of every change (lines_changed/source_lines of human changes in JSON and CSV).")
@click.option("--no-cache", is_flag=True, help="Ignore and do not write the cache in the git directory.")
@click.option("--verbose", "-v", is_flag=True, help="Say on stderr how many commits were read from git and from the cache.")
def history(branch: str | None, since: str | None, until: str | None, fmt: str, output: Path | None, limit: int,
            lines: str, no_cache: bool, verbose: bool) -> None:
    """Merged changes of a branch, later reverts, and what the AI spend bought.

    Each first-parent commit is one merged change (a merge brings in its side
    branch; a squash or direct push is itself). Reverts by any later commit
    count, even after --until. Changed lines are counted for AI-assisted
    changes only unless --lines all: other changes show "—" (null in JSON,
    empty in CSV).
    """
    from commitledger.history.branch import load_history

    if fmt == "parquet":
        if output is None:
            raise CommitledgerError("--format parquet writes a file: add --output FILE")
        from commitledger.history.export import check_duckdb

        check_duckdb()  # before the walk: say which extra is missing without reading the history first
    if fmt != "table":
        # Imported before the walk, not after: what a module keeps would otherwise land in the holes the
        # walk's freed objects leave and pin those 1 MB arenas (~50 MB of RSS when DuckDB starts).
        from commitledger.history import export

        export.preload()
    paths = find_repo(Path.cwd())
    config = load_config(paths.worktree)
    start, end, label = window(since, until, config.baseline_days, datetime.now(timezone.utc))
    with _progress(enabled=sys.stderr.isatty()) as tick:
        data = load_history(paths.worktree, branch, start, end, since_label=label,
                            test_patterns=tuple(config.test_patterns), use_cache=not no_cache, progress=tick,
                            lines=lines, bots=tuple(config.bots), big_change_commits=config.big_change_commits,
                            summaries=fmt in ("table", "json"))  # CSV and Parquet print rows only
    for warning in data.warnings:
        click.echo(f"commitledger: warning: {warning}", err=True)
    if verbose:
        c = data.counter
        click.echo(f"commitledger: parsed {c.commits_parsed} commits in {c.git_log_runs} git log run(s); "
                   f"{c.changes_cached} changes from the cache; lines counted for "
                   f"{c.lines_counted + c.lines_filled} changes", err=True)
    if fmt == "table":
        render_table(data, limit)
        return
    from commitledger.history import export

    if fmt == "parquet":
        assert output is not None
        target = output.resolve()
        rows = export.stage_rows(data, target.parent)
        branch_name = data.branch
        del data  # the walked history goes before DuckDB comes: peak memory is the larger of the two
        export.parquet_in_a_fresh_image(rows, target, branch_name)  # removes the staged rows
    else:
        with _open(output) as out:
            (export.write_json if fmt == "json" else export.write_csv)(data, out)


@contextmanager
def _open(output: Path | None) -> Iterator[IO[bytes]]:
    """The output file, or stdout's binary buffer (rows are written as UTF-8 bytes)."""
    if output is None:
        sys.stdout.flush()
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    try:
        handle = open(output, "wb")
    except OSError as exc:
        raise CommitledgerError(f"cannot write {output}: {exc.strerror}") from None
    with handle:
        yield handle


class _progress:
    """A rich spinner with a commit count on a terminal; nothing at all when piped."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> Any:
        if not self.enabled:
            return None
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.bar = Progress(SpinnerColumn(), TextColumn("reading history: {task.completed:,} commits"),
                            TimeElapsedColumn(), transient=True, console=_stderr_console())
        self.bar.start()
        self.task = self.bar.add_task("history", total=None)
        return self.tick

    def tick(self, parsed: int) -> None:
        self.bar.update(self.task, completed=parsed)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


def _money(value: float | None) -> str:
    from commitledger.render.numbers import money

    return money(value, unknown="n/a")


def _rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _names(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} ({n:,})" for name, n in counts.items())


PERIOD_ROWS = 26  # half a year of weeks, two years of months: a terminal's worth


def render_periods(console: Any, data: Any) -> None:
    """The lead's view: one line per week (or month), the whole window, empty periods included."""
    from rich import box
    from rich.table import Table

    if not data.periods:
        return
    shown = data.periods[-PERIOD_ROWS:]
    earlier = len(data.periods) - len(shown)
    title = f"by {data.period}" + (f" (latest {len(shown)}; {earlier} earlier in --format json and the report)"
                                   if earlier else "")
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for name in (data.period, "merged", "AI share", "AI cost", "unknown", "per change", "reverted AI/human/bot"):
        table.add_column(name, justify="left" if name == data.period else "right", no_wrap=True)
    for row in shown:
        rates = "/".join(_rate(row[k]).replace("n/a", "–") for k in ("revert_rate_ai", "revert_rate_human",
                                                                       "revert_rate_bot"))
        table.add_row(row["start"][:7] if data.period == "month" else row["start"], f"{row['merged']:,}",
                      _rate(row["ai_share"]).replace("n/a", "–"),
                      _money(row["cost_usd"]).replace("n/a", "unknown" if row["ai_cost_unknown"] else "–"),
                      f"{row['ai_cost_unknown']:,}" if row["ai_cost_unknown"] else "",
                      _money(row["cost_per_merged_change"]).replace("n/a", "–"), rates)
    console.print(table, markup=False, highlight=False)


def render_table(data: Any, limit: int) -> None:
    """Summary first (what a lead reads), then the most recent changes; markup off, git text stays text."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    from commitledger.render.numbers import PRICED_LATER_NOTE, ai_cost_text

    console = Console()
    if not console.is_terminal:
        console = Console(width=160)  # piped: full titles rather than an 80-column guess
    s = data.summary
    window_text = f"since {data.since}" + (f" until {data.until}" if data.until else "")
    # Branch names and titles are the committers' text: rich keeps ESC and C1 controls, so they go first.
    head = Table(title=terminal_text(f"{data.branch}: {window_text}"), show_header=False, box=None, title_justify="left")
    head.add_column(style="bold")
    head.add_column()
    head.add_row("merged changes", f"{s['merged']:,} ({s['ai_merged']:,} AI-assisted, {s['human_merged']:,} human, "
                                   f"{s['bot_merged']:,} bot)")
    head.add_row("reverted", f"{s['reverted']:,} ({s['ai_reverted']:,} AI-assisted, {s['human_reverted']:,} human, "
                             f"{s['bot_reverted']:,} bot)")
    head.add_row("AI cost", ai_cost_text(s["cost_usd"], s["ai_merged"], s["ai_cost_unknown"], s["priced_later"])
                 + (f" (abandoned PRs {_money(s['abandoned_cost_usd'])})" if s["abandoned_cost_usd"] else ""))
    head.add_row("cost per merged change", _money(s["cost_per_merged_change"]))
    head.add_row("median AI cost per AI-assisted change", _money(s["median_ai_cost_usd"]))
    head.add_row("revert rate", f"AI-assisted {_rate(s['revert_rate_ai'])}, human {_rate(s['revert_rate_human'])}, "
                                f"bot {_rate(s['revert_rate_bot'])}")
    if s["agents"]:
        head.add_row("agents", _names(s["agents"]))
    if s["models"]:
        head.add_row("models", _names(s["models"]))
    if s["big_changes"]:
        head.add_row("big changes", f"{s['big_changes']:,} brought in more than {s['big_change_commits']:,} commits each")
    if s["lines_uncounted"]:
        head.add_row("lines not counted", f"{s['lines_uncounted']:,} changes (git could not read an object; see warnings)")
    if s["median_time_to_revert_hours"] is not None:
        head.add_row("median time to revert", f"{s['median_time_to_revert_hours']:,.1f} h")
    if s["tokens_per_changed_line"] is not None:
        head.add_row("tokens per changed line", f"{s['tokens_per_changed_line']:,.0f}")
    from_notes = sum(1 for i in data.in_window if i in data.usage_sources)
    if from_notes:
        head.add_row("usage from notes", f"{from_notes} change(s) whose merge dropped AI-Usage lines or whose PR "
                                         "discarded work (refs/notes/commitledger)")
    console.print(head, markup=False, highlight=False)
    if not s["merged"] and s["last_change_at"]:
        console.print(f"No change was merged in this window; the last change on {data.branch} was merged on "
                      f"{s['last_change_at'][:10]}. Try --since all.", markup=False, highlight=False)
    render_periods(console, data)
    total = len(data.in_window) + len(data.abandoned)
    if not total or limit <= 0:
        return
    table = Table(title=f"latest {min(limit, total)} of {total} changes", title_justify="left", box=box.SIMPLE_HEAD,
                  pad_edge=False, collapse_padding=True)
    # Fixed columns keep their width; only the title gives way (ellipsis), so each change stays one line.
    for name, justify, width in (("commit", "left", 8), ("merged", "left", 10), ("PR", "right", 4),
                                 ("AI cost", "right", 8), ("lines", "right", 6), ("outcome", "left", 7),
                                 ("tests", "right", 5)):
        table.add_column(name, justify=justify, no_wrap=True, min_width=width)
    table.add_column("title", ratio=1, overflow="ellipsis", no_wrap=True, min_width=10)  # one row per change
    later = False
    for row in data.rows(limit):
        tests = row["tests"]
        later = later or row["priced_later"]
        table.add_row(
            row["commit"][:8], row["merged_at"][:10], f"#{row['pr']}" if row["pr"] else "",
            (_money(row["cost"]).replace("n/a", "unknown") + ("*" if row["priced_later"] else "")) if row["ai"]
            else row["who"],
            "—" if row["lines"] is None else f"{row['lines']:,}", row["outcome"],  # not counted (--lines all counts)
            "" if tests is None else f"{tests[0]}/{tests[0] + tests[1]}",
            (f"[big: {row['commits']:,} commits] " if row["big"] else "") + terminal_text(row["title"]),
        )
    console.print(table, markup=False, highlight=False)
    if later:
        console.print(f"* {PRICED_LATER_NOTE}.", markup=False, highlight=False)


@click.command("_parquet-step", hidden=True)
@click.option("--output", "target", type=click.Path(path_type=Path), required=True)
@click.option("--branch", required=True)
@click.argument("rows", nargs=-1, type=click.Path(path_type=Path))
def parquet_step(target: Path, branch: str, rows: tuple[Path, ...]) -> None:
    """The DuckDB step of ``history --format parquet``, in the fresh process image it execs (internal)."""
    from commitledger.history import export

    try:
        export.parquet_from_rows(list(rows), target, {"branch": branch})
    finally:
        for path in rows:
            path.unlink(missing_ok=True)
