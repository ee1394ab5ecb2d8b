"""``commitledger github``: publish a computed pull-request result on GitHub.

Thin by design: option parsing here, the flow in ``commitledger.github.client``.
``post`` is what the action runs on same-repository pull requests and what
the fork-safe ``workflow_run`` phase runs with ``--expected-head``;
``mark-reverted`` is what a push to the default branch runs when it reverts
a change that came from a pull request. The token comes from ``--token`` or
``GITHUB_TOKEN`` and is never printed, not even in ``--help``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from commitledger.errors import CommitledgerError

if TYPE_CHECKING:
    from commitledger.ledger.models import PrResult


def _load_result(path: Path) -> PrResult:
    """Validated at the boundary (ledger/models.py): the file may come from a fork's job."""
    from commitledger.ledger.models import load_pr_result

    return load_pr_result(path)


_token = click.option(
    "--token",
    envvar="GITHUB_TOKEN",
    show_envvar=True,
    show_default=False,
    help="GitHub token (default: $GITHUB_TOKEN). Never printed.",
)
_repo = click.option("--repo", envvar="GITHUB_REPOSITORY", show_envvar=True,
                     help="owner/name (default: $GITHUB_REPOSITORY).")
_bot = click.option("--bot-login", envvar="COMMITLEDGER_BOT_LOGIN", show_envvar=True,
                    help="Login whose comments are ours (default: the token's, or github-actions[bot]).")


def _configured_comment_when() -> str:
    """``comment_when`` from the checkout's pyproject.toml; "always" outside a repository."""
    from commitledger.config import load_config
    from commitledger.git.paths import find_repo

    try:
        root = find_repo().worktree
    except CommitledgerError:
        return "always"
    return load_config(root).comment_when


@click.group()
def github() -> None:
    """Post or update the pull-request comment on GitHub."""


@github.command()
@click.option("--result", "result_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Result file from 'commitledger pr --format json'.")
@_repo
@click.option("--pr", "pr", required=True, type=click.IntRange(min=1), help="Pull request number.")
@_token
@click.option("--comment", "mode", type=click.Choice(["update", "new", "off"]), default="update", show_default=True,
              help="Update our comment in place, add a new one each time, or post nothing.")
@click.option("--comment-when", type=click.Choice(["always", "ai-only"]), default=None,
              help="Post for every change, or only when it has AI-assisted commits "
                   "[default: comment_when in [tool.commitledger], else always].")
@click.option("--expected-head", help="Refuse unless the PR's current head is this sha (the fork-safe second phase).")
@click.option("--head-repo", help="With --expected-head: refuse unless the PR comes from this owner/name.")
@_bot
def post(result_path: Path, repo: str | None, pr: int, token: str | None, mode: str, comment_when: str | None,
         expected_head: str | None, head_repo: str | None, bot_login: str | None) -> None:
    """Post RESULT as the pull request's one commitledger comment (created, updated or left alone)."""
    from commitledger.github.client import GitHubClient, validate_repo
    from commitledger.github.comment import check_expected_head, post_result

    result = _load_result(result_path)
    repo = validate_repo(repo)
    if mode == "off":
        click.echo("commitledger: commenting is off")
        return
    client = GitHubClient(token or "")
    if expected_head:
        check_expected_head(client, repo, pr, expected_head.strip(), result.head, head_repo)
    if comment_when is None:
        comment_when = _configured_comment_when()
    posted = post_result(client, repo, pr, result, mode=mode, bot_login=bot_login, repo_path=Path.cwd(),
                         only_if_ai=comment_when == "ai-only")
    click.echo(f"commitledger: {posted.outcome.describe()}")


@github.command("mark-reverted")
@_repo
@click.option("--pr", "pr", required=True, type=click.IntRange(min=1), help="The pull request whose change was reverted.")
@click.option("--by", "reverted_by", required=True, help="The reverting commit (full sha).")
@click.option("--at", "reverted_at", required=True, help="When it landed (ISO 8601).")
@click.option("--ai-cost-usd", type=float, default=None, help="AI spend the revert undid.")
@_token
@_bot
def mark_reverted_cmd(repo: str | None, pr: int, reverted_by: str, reverted_at: str, ai_cost_usd: float | None,
                      token: str | None, bot_login: str | None) -> None:
    """Add a 'Reverted' line to the PR's comment (idempotent: once per reverting commit)."""
    from commitledger.github.client import GitHubClient, validate_repo
    from commitledger.github.comment import mark_reverted

    repo = validate_repo(repo)
    outcome = mark_reverted(GitHubClient(token or ""), repo, pr, reverted_by=reverted_by.strip().lower(),
                            reverted_at=reverted_at, ai_cost_usd=ai_cost_usd, bot_login=bot_login)
    click.echo(f"commitledger: {outcome.describe()}")
