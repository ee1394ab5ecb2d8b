"""What ``doctor`` says about the record after the merge: the notes' travel and the squash setting.

Two things silently lose usage after a merge: notes that never leave the
machine (or never arrive: ``git fetch`` does not fetch notes unless told),
and a squash setting that drops the commits' AI-Usage lines. Each check is
one line a user can act on; nothing here fails the command.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

from commitledger.git.notes import NOTES_REF
from commitledger.git.run import GitError, git_env
from commitledger.git.run import run as run_git

FETCH_SPEC = f"+{NOTES_REF}:{NOTES_REF}"


def remote_of(worktree: Path) -> str | None:
    """``origin`` when it exists, else the only remote, else None."""
    names = run_git(worktree, "remote").stdout.split()
    if "origin" in names:
        return "origin"
    return names[0] if len(names) == 1 else None


def notes_lines(worktree: Path, remote: str) -> list[str]:
    """Are the notes fetched by ``git fetch``, are they on the remote, are ours pushed?"""
    lines: list[str] = []
    specs = run_git(worktree, "config", "--get-all", f"remote.{remote}.fetch", ok=(0, 1)).stdout.split()
    if any(NOTES_REF in spec or spec.rstrip("*").endswith("refs/notes/") for spec in specs):
        lines.append(f"  fetched by git fetch: yes ({remote})")
    else:
        lines.append(f"  fetched by git fetch: no; history here misses usage recovered after merges. Run: "
                     f"git config --add remote.{remote}.fetch '{FETCH_SPEC}'")
    mine = run_git(worktree, "rev-parse", "--verify", "--quiet", NOTES_REF, ok=(0, 1)).stdout.strip()
    try:
        quiet = {"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true"}  # never a prompt: doctor only reports
        if not os.environ.get("GIT_SSH_COMMAND"):
            quiet["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes -o ConnectTimeout=10"
        proc = run_git(worktree, "ls-remote", remote, NOTES_REF, env=git_env(quiet))
        theirs = proc.stdout.split()[0] if proc.stdout.strip() else ""
    except GitError as exc:
        lines.append(f"  on {remote}: unknown ({exc.detail or exc})")
        return lines
    if not theirs:
        lines.append(f"  on {remote}: none yet (the Action's push job writes and pushes them)")
    elif not mine:
        lines.append(f"  on {remote}: yes, not fetched here: git fetch {remote} '{FETCH_SPEC}'")
    elif mine == theirs:
        lines.append(f"  on {remote}: yes, same as here")
    else:
        ancestor = run_git(worktree, "merge-base", "--is-ancestor", theirs, mine, ok=(0, 1, 128)).returncode == 0
        if ancestor:
            lines.append(f"  on {remote}: behind this clone; notes written here are not pushed: "
                         f"git push {remote} {NOTES_REF}")
        else:
            lines.append(f"  on {remote}: differ from here; fetch them: git fetch {remote} '{FETCH_SPEC}'")
    return lines


def github_lines(worktree: Path, remote: str, env: Mapping[str, str] = os.environ) -> list[str]:
    """The repository's squash setting and what commitledger does about it (needs ``GITHUB_TOKEN``)."""
    from commitledger.github.backfill import remote_url, repo_from_remote
    from commitledger.github.client import GitHubClient, GitHubError
    from commitledger.github.postmerge import settings_status

    token = (env.get("GITHUB_TOKEN") or env.get("GH_TOKEN") or "").strip()
    if not token:
        return []
    repo = env.get("GITHUB_REPOSITORY") or repo_from_remote(remote_url(worktree, remote) or "")
    if not repo:
        return [f"  repository: unknown (remote {remote} is not owner/name on GitHub; set GITHUB_REPOSITORY)"]
    client = GitHubClient(token)
    try:
        settings = client.merge_settings(repo)
    except GitHubError as exc:
        return [f"  {repo}: {client.scrub(str(exc))}"]
    except Exception as exc:  # a network failure must not end doctor's report
        return [f"  {repo}: could not ask GitHub ({exc.__class__.__name__})"]
    return [f"  {repo}: {settings_status(settings)}"]
