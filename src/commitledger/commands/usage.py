"""``commitledger usage``: what the next commit would record, without recording it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from commitledger.git.paths import find_repo


@click.command("usage")
@click.option("--json", "as_json", is_flag=True, help="Print commitledger.usage/1 JSON instead of a table.")
def usage(as_json: bool) -> None:
    """Show the AI usage the next commit in this worktree would record, by agent and model.

    Reads new log bytes into the pending window (as the hook would) but
    marks nothing recorded: the next commit still gets all of it.
    """
    from commitledger.config import load_config
    from commitledger.ledger.models import ModelUsage, UsageModel, UsageReport
    from commitledger.hook.pending import next_commit
    from commitledger.hook.state import StateLock
    from commitledger.ledger.usage import sum_usage

    paths = find_repo(Path.cwd())
    config = load_config(paths.worktree)
    with StateLock(paths.state_dir):
        nxt = next_commit(paths, config, os.environ)
    total = sum_usage([line.usage for line in nxt.lines])
    if total.sessions is not None:
        total.sessions = nxt.distinct_sessions()  # one session can use several models
    if nxt.lines and not all(line.usage.cost_usd is not None for line in nxt.lines):
        total.cost_usd = None
    if as_json:
        report = UsageReport(
            records=[ModelUsage(agent=l.agent, model=l.model, **l.usage.as_dict()) for l in nxt.lines],
            total=UsageModel.of(total),
        )
        click.echo(json.dumps(report.dump(), indent=2))
        return
    if not nxt.lines:
        click.echo("No AI usage pending for the next commit in this worktree.")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="AI usage the next commit would record", title_justify="left")
    for name in ("agent", "model", "sessions", "prompts", "requests", "tools", "input", "output",
                 "cache read", "cache write", "cost USD"):  # fmt: skip
        table.add_column(name, justify="left" if name in ("agent", "model") else "right")

    def cell(value: object) -> str:
        return "?" if value is None else f"{value:,}" if isinstance(value, int) else str(value)

    for line in nxt.lines + ([] if len(nxt.lines) < 2 else [None]):  # type: ignore[list-item]
        u = total if line is None else line.usage
        cost = "unpriced" if u.cost_usd is None else f"{u.cost_usd:.4f}"
        table.add_row(
            "total" if line is None else line.agent, "" if line is None else line.model,
            cell(u.sessions), cell(u.prompts), cell(u.requests), cell(u.tool_calls), cell(u.input),
            cell(u.output), cell(u.cache_read), cell(u.cache_write), cost,
        )  # fmt: skip
    console = Console()
    if not console.is_terminal:
        console = Console(width=200)  # piped: do not cut names to an 80-column guess
    console.print(table)
