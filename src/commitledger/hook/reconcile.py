"""Advance the window for a commit that landed: one redo-able transition, whoever runs it.

prepare-commit-msg saves what it wrote (``staged.json``: each trailer line
with the keys behind it) *before* it writes the message. The transition
"those keys are recorded" is then applied by post-commit, or, when
post-commit was killed or is not installed at all, by the next hook run
(prepare-commit-msg, ``usage``, ``doctor``), which looks for the commit that
now carries those lines. ``staged.json`` is removed only after the window
holding the recorded keys is saved, and applying it twice changes nothing,
so a kill at any point either leaves the transition to be redone or done:
a usage key is written into one commit, never two.
"""

from __future__ import annotations

import os
import time

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs the hook ~3 ms
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from commitledger.git.lite import AnyPaths
    from commitledger.hook.state import StrPath

from commitledger.git import lite as gitlite
from commitledger.hook import window as win
from commitledger.hook.state import load_json, save_json

MISSED_FILE = "post-commit-missed.json"
# How far back from HEAD a landed commit is looked for (commits made without our
# prepare-commit-msg in between, e.g. by a tool that skips hooks).
_WALK = 20


def parents(raw: str) -> list[str]:
    out: list[str] = []
    for line in raw.split("\n\n", 1)[0].splitlines():
        if line.startswith("parent "):
            out.append(line[7:].strip())
        elif line and not line.startswith(("tree ", "parent ")):
            break
    return out


def carried(message: str | None, staged: dict[str, Any]) -> dict[str, list[Any]]:
    """The keys (with their usage) of the staged lines that ``message`` carries."""
    if not message:
        return {}
    lines = set(message.splitlines())
    written: dict[str, list[Any]] = {}
    for item in staged.get("lines") or []:
        try:
            text, keys = item
        except (TypeError, ValueError):
            continue
        if text in lines and isinstance(keys, dict):  # a line deleted in the editor leaves its usage pending
            written.update(keys)
    return written


def landed(paths: AnyPaths, staged: dict[str, Any], head: str | None) -> tuple[str, dict[str, list[Any]]] | None:
    """The commit (HEAD or a first-parent ancestor made after the staging) that carries the staged lines."""
    if head is None or head == staged.get("head"):
        return None  # no commit since the staging (an aborted commit)
    sha = head
    for _ in range(_WALK):
        raw = gitlite.commit_raw(paths, sha)
        if raw is None:
            return None
        written = carried(raw.partition("\n\n")[2], staged)
        if written:
            return sha, written
        up = parents(raw)
        if not up or up[0] == staged.get("head"):
            return None
        sha = up[0]
    return None


def apply(state_dir: StrPath, written: dict[str, list[Any]]) -> None:
    """Mark ``written`` recorded and save the window (idempotent)."""
    window = win.Window.load(state_dir)
    window.mark_recorded(written)
    window.save()


def settle(paths: AnyPaths, *, by_post_commit: bool = False) -> str | None:
    """Apply a pending ``staged.json`` if its commit landed, then remove it; call under ``StateLock``.

    Returns the sha of the commit reconciled by someone other than
    post-commit (post-commit did not run for it), else None.
    """
    state_dir = paths.state_dir
    if not os.path.exists(os.path.join(state_dir, win.STAGED_FILE)):
        return None
    staged = win.load_staged(state_dir)
    if staged is None or not staged.get("lines"):
        win.drop_staged(state_dir)
        return None
    head = gitlite.head_sha(paths)
    if by_post_commit:
        found = None if head is None or head == staged.get("head") else (head, carried(gitlite.commit_message(paths, head), staged))
    else:
        found = landed(paths, staged, head)
    missed: str | None = None
    if found is not None and found[1]:
        apply(state_dir, found[1])
        if not by_post_commit:
            missed = found[0]
            note_missed(state_dir, missed)
    win.drop_staged(state_dir)  # only now: the window holding the recorded keys is saved
    return missed


def note_missed(state_dir: StrPath, sha: str) -> None:
    data = load_json(os.path.join(state_dir, MISSED_FILE), {})
    data = data if isinstance(data, dict) else {}
    count = data.get("count")
    save_json(
        os.path.join(state_dir, MISSED_FILE),
        {"count": (count if isinstance(count, int) else 0) + 1, "last": sha, "time": time.time()},
    )


def missed(state_dir: StrPath) -> dict[str, Any] | None:
    """What ``doctor`` reports: how many commits post-commit did not finish for, and the last one."""
    data = load_json(os.path.join(state_dir, MISSED_FILE), None)
    return data if isinstance(data, dict) and isinstance(data.get("count"), int) else None
