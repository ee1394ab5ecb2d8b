"""``commitledger doctor``: what commitledger finds here: agents, logs, hooks, prices."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

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
    from commitledger.capture.seen import seen
    from commitledger.hook.pending import reader_env

    for agent, found in seen(reader_env(paths, config, os.environ)).items():
        click.echo(f"  {agent}: seen ({', '.join(map(str, found))}), records nothing by itself:"
                   f" add its usage with 'commitledger record --agent {agent} ...' (README)")
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
    table = nxt.prices.table
    for line in _price_report(table, _models_in_logs(paths, config)):
        click.echo(line)
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


def _models_in_logs(paths: object, config: object) -> dict[tuple[str, str, str], int]:
    """Every (agent, model, provider) of a request in the logs on disk, with its request count.

    A full read of every log, for this report only: the hook reads new bytes
    only, and keeps events of this worktree only.
    """
    from commitledger.capture.base import READERS, load_reader
    from commitledger.hook.pending import reader_env

    env = reader_env(paths, config, os.environ)  # type: ignore[arg-type]
    best: dict[tuple[str, str], Any] = {}  # one event per key, as the window keeps them
    for agent in READERS:
        reader = load_reader(agent)
        try:
            files = list(reader.files(env))
        except OSError:
            continue
        for path in files:
            try:
                result = reader.read(path, 0, {})
            except OSError:
                continue
            for e in result.events:
                if e.kind != "request":
                    continue
                kept = best.get((e.agent, e.key))
                if kept is None or e.weight > kept.weight or (e.weight == kept.weight and e.model and not kept.model):
                    best[(e.agent, e.key)] = e
    seen: dict[tuple[str, str, str], int] = {}
    for e in best.values():
        if e.cost_usd is None:
            name = (e.agent, e.model or "unknown", e.provider)
            seen[name] = seen.get(name, 0) + 1
    return seen


def _price_report(table: object, seen: dict[tuple[str, str, str], int]) -> list[str]:
    from commitledger.ledger.pricing import PriceTable

    assert isinstance(table, PriceTable)
    lines = [f"prices: {table.describe()}"]
    if table.snapshot is None:
        lines.append("  genai-prices is not installed: only the overrides price anything (pip install genai-prices)")
    if table.bad:
        lines.append(f"  {table.bad} bad entries in the COMMITLEDGER_PRICES file were skipped")
    unpriced = sorted(
        (agent, model, provider, n) for (agent, model, provider), n in seen.items()
        if table.lookup(model, provider or None, agent) is None
    )  # fmt: skip
    if not unpriced:
        lines.append("unpriced models in the logs: none")
        return lines
    lines.append("unpriced models in the logs (no cost_usd written; add them to [tool.commitledger.prices]):")
    for agent, model, provider, n in unpriced:
        via = f" via {provider}" if provider else ""
        lines.append(f"  {agent} {_safe(model)}{_safe(via)}: {n} request{'s' if n != 1 else ''}")
    return lines


def _safe(text: str) -> str:
    """Names from logs go to a terminal: no control characters."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)[:120]
