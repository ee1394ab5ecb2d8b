"""``commitledger doctor``: what commitledger finds here: agents, logs, hooks, prices."""

from __future__ import annotations

import os
import re
from pathlib import Path

import click

from commitledger.git.paths import find_repo


def _hook_report(worktree: Path) -> list[str]:
    from commitledger.hook import install as hookfiles

    lines: list[str] = []
    directory = hookfiles.hooks_dir(worktree)
    for name in ("pre-commit", *hookfiles.HOOKS):
        kind = hookfiles.kind_of(directory / name)
        if name == "pre-commit" and kind != "pre-commit":
            continue
        lines.append(f"  {name}: {kind}")
    config = worktree / ".pre-commit-config.yaml"
    if config.exists():
        text = config.read_text(encoding="utf-8", errors="replace")
        ids = sorted(set(re.findall(r"\bid:\s*['\"]?(commitledger(?:-post-commit|-commit-msg)?)\b", text)))
        lines.append(f"  .pre-commit-config.yaml: hook ids {', '.join(ids) if ids else 'none of ours'}")
        types = re.search(r"default_install_hook_types:\s*\[([^\]]*)\]", text)
        wanted = ("prepare-commit-msg", "post-commit", "commit-msg")
        missing = [t for t in wanted if not types or t not in types.group(1)]
        if ids and missing:
            lines.append(f"  (default_install_hook_types lacks {', '.join(missing)}: run pre-commit install -t for them)")
    return lines



def _utc(epoch: float) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")

@click.command("doctor")
def doctor() -> None:
    """Report the agents and log directories found, bad lines, hooks, and prices."""
    from commitledger.config import load_config
    from commitledger.hook.pending import next_commit
    from commitledger.hook.state import StateLock

    paths = find_repo(Path.cwd())
    config = load_config(paths.worktree)
    click.echo(f"worktree: {paths.worktree}")
    click.echo(f"state:    {paths.state_dir}")
    with StateLock(paths.state_dir):
        nxt = next_commit(paths, config, os.environ)
    click.echo("agents:")
    for agent, stats in nxt.collected.stats.items():
        found = [r for r in stats.roots if Path(r).exists()]
        where = ", ".join(found) if found else f"no logs ({', '.join(stats.roots) or 'not configured'})"
        problems = f", {stats.bad_lines} bad lines" if stats.bad_lines else ""
        problems += f", {stats.unreadable} unreadable files" if stats.unreadable else ""
        click.echo(f"  {agent}: {stats.files} files{problems} - {where}")
    click.echo("hooks:")
    for line in _hook_report(paths.worktree):
        click.echo(line)
    from commitledger.hook.reconcile import missed

    gone = missed(paths.state_dir)
    if gone:
        click.echo(
            f"  post-commit did not finish for {gone['count']} commit(s) (last {str(gone.get('last'))[:12]}): "
            "their usage was marked recorded by the next hook run; install the post-commit hook "
            "(commitledger install, or pre-commit id commitledger-post-commit) so it is done at once"
        )
    floor = nxt.window.floor
    click.echo(f"window: {len(nxt.window.pending)} pending events, {len(nxt.lines)} agent/model pairs"
               + ("" if floor is None else f", usage before {_utc(floor)} ignored"))
    table = nxt.prices.table if nxt.prices is not None else None
    if table is not None:
        click.echo(f"prices: taken {table.taken} ({'; '.join(table.sources)})")
        unpriced = sorted(
            {e.entry.event.model for e in nxt.items if e.entry.event.kind == "request" and table.lookup(e.entry.event.model) is None}
            | (nxt.prices.unpriced if nxt.prices else set())
        )
        if unpriced:
            click.echo(f"unpriced models (no cost_usd written): {', '.join(unpriced)}")
        else:
            click.echo("unpriced models: none pending")
    _after_merge(paths.worktree)


def _after_merge(worktree: Path) -> None:
    """Notes' travel (with a remote) and the squash setting (with GITHUB_TOKEN too)."""
    from commitledger.github.checks import github_lines, notes_lines, remote_of

    remote = remote_of(worktree)
    if remote is None:
        return
    click.echo("notes (refs/notes/commitledger):")
    for line in notes_lines(worktree, remote):
        click.echo(line)
    merges = github_lines(worktree, remote)
    if merges:
        click.echo("squash merges:")
        for line in merges:
            click.echo(line)
