"""Which per-directory folders of an agent's store can hold this worktree's usage.

pi, Qwen Code and Factory Droid file each session under a folder named after
the directory the agent was started in, encoded (``/`` and other separators
become ``-``; pi adds ``--`` around it), and the session's working directory
never changes. So only the folders of the worktree and of directories inside
it can hold usage of this worktree: listing only those keeps an idle commit
at one ``stat`` per file of this repository, not of every repository the
user has. The encodings are compared after mapping every non-alphanumeric
character to ``-`` (a lossy superset: the working-directory check still
decides). As for Claude Code, the worktree is matched as git names it and as
its real path; a non-ASCII path, or no known worktree, lists every folder.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs the hook ~3 ms
if TYPE_CHECKING:  # pragma: no cover
    from typing import Callable, Mapping


def _norm(name: str) -> str:
    return "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in name).strip("-")


def folder_filter(extra: Mapping[str, str]) -> Callable[[str], bool] | None:
    """A test on folder names, or None when every folder must be listed."""
    worktree = extra.get("worktree")
    if not worktree:
        return None
    spellings = {worktree, os.path.realpath(worktree)}
    if not all(s.isascii() for s in spellings):
        return None
    exact = {_norm(s) for s in spellings}
    prefixes = tuple(e + "-" for e in exact)

    def wanted(name: str) -> bool:
        if not name.isascii():
            return True
        normal = _norm(name)
        return normal in exact or normal.startswith(prefixes)

    return wanted


def inside(path: str, extra: Mapping[str, str]) -> bool:
    """Whether ``path`` (an agent's recorded directory) lies in the worktree; True when unknown."""
    worktree = extra.get("worktree")
    if not worktree:
        return True
    root = os.path.realpath(worktree)
    real = os.path.realpath(path)
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)
