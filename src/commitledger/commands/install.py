"""``commitledger install`` / ``uninstall``: plain git hooks, for users without pre-commit."""

from __future__ import annotations

from pathlib import Path

import click

from commitledger.git.paths import find_repo


@click.command("install")
@click.option("--force", is_flag=True, help="Replace hooks that are not ours (kept as *.commitledger-backup).")
def install(force: bool) -> None:
    """Install prepare-commit-msg, commit-msg and post-commit hooks (respects core.hooksPath)."""
    from commitledger.hook import install as hookfiles

    paths = find_repo(Path.cwd())
    for change in hookfiles.install(paths.worktree, force):
        click.echo(f"{change.hook}: {change.action}")
    click.echo(f"hooks in {hookfiles.hooks_dir(paths.worktree)}")


@click.command("uninstall")
def uninstall() -> None:
    """Remove the hooks 'install' wrote (and put back any hook it replaced); others are left alone."""
    from commitledger.hook import install as hookfiles

    paths = find_repo(Path.cwd())
    changes = hookfiles.uninstall(paths.worktree)
    if not changes:
        click.echo("no commitledger hooks installed")
    for change in changes:
        click.echo(f"{change.hook}: {change.action}")
