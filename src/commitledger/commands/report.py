"""``commitledger report --html FILE``: a static page with charts, for leads and finance."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import click

from commitledger.errors import CommitledgerError
from commitledger.git.paths import find_repo


@click.command("report")
@click.option("--html", "html_path", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="File to write the self-contained HTML page to.")
@click.option("--branch", "-b", default=None, help="Branch to read (default: the current branch).")
@click.option("--since", default=None, help="Window start: 90d, 12w, 6m, 1y, YYYY-MM-DD or 'all' (default: baseline_days).")
@click.option("--until", default=None, help="Window end: YYYY-MM-DD (inclusive).")
def report(html_path: Path, branch: str | None, since: str | None, until: str | None) -> None:
    """Write one self-contained HTML page: cost per merged change by week, revert rates,
    the costliest changes and their outcome, and the maintainability trend (no CDN, no JavaScript)."""
    from commitledger.commands.history import window
    from commitledger.config import load_config
    from commitledger.history.branch import load_history
    from commitledger.render.html_report import render_report

    paths = find_repo(Path.cwd())
    config = load_config(paths.worktree)
    now = datetime.now(timezone.utc)
    start, end, label = window(since, until, config.baseline_days, now)
    data = load_history(paths.worktree, branch, start, end, since_label=label,
                        test_patterns=tuple(config.test_patterns), bots=tuple(config.bots),
                        big_change_commits=config.big_change_commits, now=now)
    page = render_report(data, now)
    try:
        html_path.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise CommitledgerError(f"cannot write {html_path}: {exc.strerror or exc}") from None
    click.echo(f"wrote {html_path} ({data.summary['merged']} merged changes since {label})")
