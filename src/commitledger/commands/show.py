"""``commitledger show``: the ledger, i.e. the AI usage recorded in commits."""

from __future__ import annotations

import json
from pathlib import Path

import click

from commitledger.git.paths import find_repo


@click.command("show")
@click.argument("rev", required=False, default=None)
@click.option("-n", "--max-count", type=click.IntRange(min=1), default=20, show_default=True,
              help="Commits to list when no REV or RANGE is given.")
@click.option("--json", "as_json", is_flag=True, help="Print commitledger.show/1 JSON.")
def show(rev: str | None, max_count: int, as_json: bool) -> None:
    """Show the AI-Usage lines and other AI markers of commits.

    REV shows one commit, RANGE (A..B, A...B) every commit in it; without
    either, the last commits of HEAD.
    """
    from commitledger.ledger.entries import ledger
    from commitledger.render.text import terminal_text

    paths = find_repo(Path.cwd())
    entries = ledger(paths.worktree, rev, max_count)
    if as_json:
        click.echo(json.dumps({"schema": "commitledger.show/1", "commits": [e.as_dict() for e in entries]}, indent=2))
        return
    if not entries:
        click.echo("No commits.")
        return
    for entry in entries:
        marks = f"  [{', '.join(entry.markers)}]" if entry.markers else ""
        # The subject is the committer's text: no escape sequence reaches the terminal.
        click.echo(f"{entry.sha[:12]}  {terminal_text(entry.subject)}{terminal_text(marks)}")
        for line in entry.lines:
            click.echo(f"    {line.format()}")
        if len(entry.lines) > 1:
            total = entry.total()
            cost = "unpriced" if total.cost_usd is None else f"${total.cost_usd:.4f}"
            click.echo(f"    total: {total.tokens:,} tokens, {cost}")
