"""Find the worktree, its own git dir and the common git dir without pygit2.

The commit hook needs these on every commit; importing pygit2 costs several
times Python's own start-up, and spawning ``git rev-parse`` costs a process.
Reading ``.git`` (a directory, or a file ``gitdir: ...`` in linked worktrees
and submodules) is all it takes.
"""

from __future__ import annotations

import os
from pathlib import Path

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs the hook ~3 ms
if TYPE_CHECKING:  # pragma: no cover
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


def _read_gitfile(path: Path) -> Path | None:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("gitdir:"):
            target = Path(line[len("gitdir:") :].strip())
            return (path.parent / target).resolve() if not target.is_absolute() else target.resolve()
    return None


def _common_dir(git_dir: Path) -> Path:
    try:
        text = (git_dir / "commondir").read_text(encoding="utf-8").strip()
    except OSError:
        return git_dir
    target = Path(text)
    return (git_dir / target).resolve() if not target.is_absolute() else target.resolve()


def find_repo(start: Path | None = None, environ: Mapping[str, str] | None = None) -> RepoPaths:
    """The repository containing ``start`` (default: the current directory)."""
    env = os.environ if environ is None else environ
    here = (start or Path.cwd()).resolve()
    if env.get("GIT_DIR"):
        git_dir = Path(env["GIT_DIR"])
        git_dir = (here / git_dir).resolve() if not git_dir.is_absolute() else git_dir.resolve()
        work = env.get("GIT_WORK_TREE")
        if work:
            worktree = Path(work).resolve()
        elif git_dir.name == ".git":
            worktree = git_dir.parent
        else:
            worktree = _worktree_of(git_dir) or here
        return RepoPaths(worktree, git_dir, _common_dir(git_dir))
    for candidate in (here, *here.parents):
        dot = candidate / ".git"
        if dot.is_dir():
            return RepoPaths(candidate, dot.resolve(), _common_dir(dot.resolve()))
        if dot.is_file():
            git_dir = _read_gitfile(dot)
            if git_dir is not None:
                return RepoPaths(candidate, git_dir, _common_dir(git_dir))
    raise CommitledgerError("not inside a git repository (run this in your project's checkout)")


def _worktree_of(git_dir: Path) -> Path | None:
    """A linked worktree's git dir names its checkout in ``gitdir`` (path to its .git file)."""
    try:
        text = (git_dir / "gitdir").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return Path(text).parent.resolve()
