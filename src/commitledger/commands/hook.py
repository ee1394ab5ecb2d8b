"""``commitledger hook ...``: the git hook entry points, for ``--help`` and direct calls.

Git runs these through ``cli.py``'s fast path, which calls
``commitledger.hook.run.run`` without importing click; this group exists so
``commitledger hook --help`` explains them and so both paths run the same code.
"""

from __future__ import annotations

import sys

import click


@click.group("hook")
def hook() -> None:
    """Git hook entry points: run by git (or the pre-commit framework), not by hand."""


@hook.command("prepare-commit-msg", context_settings={"ignore_unknown_options": True})
@click.argument("msgfile")
@click.argument("source", required=False, default=None)
@click.argument("sha", required=False, default=None)
def prepare_commit_msg(msgfile: str, source: str | None, sha: str | None) -> None:
    """Add AI-Usage and Assisted-by trailers for the usage since the last commit.

    SOURCE and SHA are what git passes (message, template, merge, squash,
    commit); under pre-commit they come from PRE_COMMIT_COMMIT_MSG_SOURCE
    and PRE_COMMIT_COMMIT_OBJECT_NAME. Never blocks a commit unless
    strict = true in [tool.commitledger].
    """
    from commitledger.hook.run import run

    args = [msgfile] + [a for a in (source, sha) if a is not None]
    sys.exit(run(["prepare-commit-msg", *args]))


@hook.command("commit-msg")
@click.argument("msgfile")
def commit_msg(msgfile: str) -> None:
    """Remove our trailers from a message that has no other text, so git aborts it as empty."""
    from commitledger.hook.run import run

    sys.exit(run(["commit-msg", msgfile]))


@hook.command("post-commit")
def post_commit() -> None:
    """Mark the usage written by prepare-commit-msg as recorded, once the commit exists."""
    from commitledger.hook.run import run

    sys.exit(run(["post-commit"]))
