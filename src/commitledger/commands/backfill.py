"""``commitledger backfill``: usage notes for pull requests merged before the Action ran."""

from __future__ import annotations

import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click

from commitledger.errors import CommitledgerError
from commitledger.git.paths import find_repo


def _since(text: str) -> str | None:
    if text.strip().lower() == "all":
        return None
    from commitledger.history.branch import parse_when

    moment = parse_when(text, datetime.now(timezone.utc)).astimezone(timezone.utc)
    return moment.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Bar:
    """A rich progress bar on a terminal; nothing when piped."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> Any:
        if not self.enabled:
            return None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(TextColumn("backfilling pull requests"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), transient=True, console=Console(stderr=True))
        self.bar.start()
        self.task = self.bar.add_task("backfill", total=None)
        return self.tick

    def tick(self, done: int, total: int) -> None:
        self.bar.update(self.task, completed=done, total=total)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


@click.command("backfill")
@click.option("--since", default="90d", show_default=True,
              help="PRs merged since: 90d, 12w, 6m, 1y, YYYY-MM-DD or 'all'.")
@click.option("--repo", "repo_name", default=None,
              help="owner/name on GitHub (default: GITHUB_REPOSITORY, else the remote's URL).")
@click.option("--remote", default="origin", show_default=True, help="Git remote with refs/pull/N/head and the notes.")
@click.option("--branch", default=None, help="Branch the PRs were merged into (default: the repository's default).")
@click.option("--no-push", is_flag=True, help="Write the notes here only; push them yourself later.")
@click.option("--bot-login", default=None, help="Login of the comments that carry commitledger's marker.")
def backfill(since: str, repo_name: str | None, remote: str, branch: str | None, no_push: bool,
             bot_login: str | None) -> None:
    """Recover the AI usage of PRs merged before the Action ran, as notes on their merged commits.

    For each PR merged in the window, reads its head (refs/pull/N/head, from the
    remote) and its comment's record of discarded work, and writes a usage note
    where the merge dropped AI-Usage lines (a squash under "Pull request title",
    an edited message) or work was discarded. Safe to run again: nothing is
    written twice. The token comes from GITHUB_TOKEN or GH_TOKEN.
    """
    from commitledger.github.backfill import remote_url, repo_from_remote, run_backfill
    from commitledger.github.client import GitHubClient, validate_repo

    paths = find_repo(Path.cwd())
    token = (os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN") or "").strip()
    if not token:
        raise CommitledgerError("backfill needs a GitHub token: set GITHUB_TOKEN (or GH_TOKEN)")
    name = repo_name or os.environ.get("GITHUB_REPOSITORY") or repo_from_remote(remote_url(paths.worktree, remote) or "")
    if not name:
        raise CommitledgerError(f"cannot tell the GitHub repository from remote '{remote}': pass --repo owner/name")
    repo = validate_repo(name)
    client = GitHubClient(token)
    with _Bar(enabled=sys.stderr.isatty()) as tick:
        report = run_backfill(paths.worktree, client, repo, since=_since(since), remote=remote, push=not no_push,
                              bot_login=bot_login, branch=branch, progress=tick,
                              log=lambda line: click.echo(client.scrub(line), err=True))
    click.echo(f"commitledger backfill: {repo} since {since}")
    for line in report.lines():
        click.echo(client.scrub(line))
