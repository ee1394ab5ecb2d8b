"""Find the worktree, its own git dir and the common git dir without pygit2.

The commit hook needs these on every commit; importing pygit2 costs several
times Python's own start-up, and spawning ``git rev-parse`` costs a process.
Reading ``.git`` (a directory, or a file ``gitdir: ...`` in linked worktrees
and submodules) is all it takes.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs the hook ~3 ms
if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path
    from typing import Mapping

from commitledger.errors import CommitledgerError
from commitledger.slotted import Frozen

STATE_DIRNAME = "commitledger"


class RepoPaths(Frozen):
    """The checked-out tree (resolved), this worktree's own git dir (``.git``,
    or ``.git/worktrees/NAME``) and the common dir with the shared objects and refs."""

    __slots__ = ("worktree", "git_dir", "common_dir")
    worktree: Path
    git_dir: Path
    common_dir: Path

    @property
    def state_dir(self) -> Path:
        """Where commitledger keeps this worktree's state (never committed)."""
        return self.git_dir / STATE_DIRNAME


class GitDirs(Frozen):
    """``RepoPaths`` as plain strings, for the commit hook.

    The hook handles paths with ``os.path``: ``pathlib`` (with the ``re``,
    ``fnmatch`` and ``urllib.parse`` it imports) costs more than the hook's
    own work. Code shared with the commands takes either kind and goes
    through ``os.path`` too.
    """

    __slots__ = ("worktree", "git_dir", "common_dir")
    worktree: str
    git_dir: str
    common_dir: str

    @property
    def state_dir(self) -> str:
        return os.path.join(self.git_dir, STATE_DIRNAME)


def _resolve(base: str, target: str) -> str:
    """``(Path(base) / target).resolve()``: joined unless absolute, symlinks resolved."""
    return os.path.realpath(os.path.join(base, target))


def _read_gitfile(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("gitdir:"):
            return _resolve(os.path.dirname(path), line[len("gitdir:") :].strip())
    return None


def _common_dir(git_dir: str) -> str:
    try:
        with open(os.path.join(git_dir, "commondir"), encoding="utf-8") as handle:
            text = handle.read().strip()
    except (OSError, UnicodeDecodeError):
        return git_dir
    return _resolve(git_dir, text)


def locate(start: str | None = None, environ: Mapping[str, str] | None = None) -> GitDirs:
    """The repository containing ``start`` (default: the current directory), as strings."""
    env = os.environ if environ is None else environ
    here = os.path.realpath(start if start is not None else os.getcwd())
    if env.get("GIT_DIR"):
        git_dir = _resolve(here, env["GIT_DIR"])
        work = env.get("GIT_WORK_TREE")
        if work:
            worktree = os.path.realpath(work)
        elif os.path.basename(git_dir) == ".git":
            worktree = os.path.dirname(git_dir)
        else:
            worktree = _worktree_of(git_dir) or here
        return GitDirs(worktree, git_dir, _common_dir(git_dir))
    candidate = here
    while True:
        dot = os.path.join(candidate, ".git")
        if os.path.isdir(dot):
            real = os.path.realpath(dot)
            return GitDirs(candidate, real, _common_dir(real))
        if os.path.isfile(dot):
            git_dir = _read_gitfile(dot)
            if git_dir is not None:
                return GitDirs(candidate, git_dir, _common_dir(git_dir))
        parent = os.path.dirname(candidate)
        if parent == candidate:
            break
        candidate = parent
    raise CommitledgerError("not inside a git repository (run this in your project's checkout)")


def find_repo(start: Path | None = None, environ: Mapping[str, str] | None = None) -> RepoPaths:
    """The repository containing ``start`` (default: the current directory)."""
    from pathlib import Path

    found = locate(None if start is None else os.fspath(start), environ)
    return RepoPaths(Path(found.worktree), Path(found.git_dir), Path(found.common_dir))


def _worktree_of(git_dir: str) -> str | None:
    """A linked worktree's git dir names its checkout in ``gitdir`` (path to its .git file)."""
    try:
        with open(os.path.join(git_dir, "gitdir"), encoding="utf-8") as handle:
            text = handle.read().strip()
    except (OSError, UnicodeDecodeError):
        return None
    return os.path.realpath(os.path.dirname(text))
