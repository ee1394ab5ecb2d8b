"""``commitledger note``: attach CI facts to a commit under ``refs/notes/commitledger``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from commitledger.errors import CommitledgerError
from commitledger.git.paths import find_repo


def read_result(path: Path | None) -> dict[str, Any] | None:
    """A ``commitledger pr --format json`` result file, checked to be one."""
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CommitledgerError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError:
        raise CommitledgerError(f"{path} is not JSON (expected the output of 'commitledger pr --format json')") from None
    if not isinstance(data, dict) or data.get("schema") != "commitledger.pr/1":
        raise CommitledgerError(f"{path} is not a 'commitledger pr --format json' result (schema commitledger.pr/1)")
    return data


@click.command("note")
@click.argument("rev")
@click.option("--pr", "pr", type=click.IntRange(min=1), default=None, help="Pull request number of the change.")
@click.option("--result", "result_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="A 'commitledger pr --format json' result: tests, maintainability, signals, usage.")
@click.option("--abandoned", is_flag=True,
              help="REV is the merge-base of a PR closed without merging: record its AI usage there (needs --pr).")
def note(rev: str, pr: int | None, result_path: Path | None, abandoned: bool) -> None:
    """Write a change's CI facts as JSON to refs/notes/commitledger on REV.

    REV is the merge or squash commit of a merged change, or, with
    --abandoned, the merge-base of an abandoned PR (several may share one
    commit: entries are merged by PR number, never overwritten). Share the
    notes with: git push origin refs/notes/commitledger
    """
    from commitledger.git import notes

    paths = find_repo(Path.cwd())
    result = read_result(result_path)
    if abandoned:
        if pr is None:
            raise CommitledgerError("--abandoned needs --pr N (the pull request that was closed)")
        commit, body = notes.record_abandoned(paths.worktree, rev, pr, result)
        click.echo(f"recorded abandoned PR #{pr} on {commit[:12]} ({len(body.get('abandoned', []))} abandoned PR(s) there)")
    else:
        commit, body = notes.record_change(paths.worktree, rev, pr, result)
        click.echo(f"recorded CI facts on {commit[:12]} in {notes.NOTES_REF}")
