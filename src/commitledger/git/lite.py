"""The few facts the hook needs from git, read from ``.git`` directly.

The hook runs on every commit and must stay within a few times Python's
start-up; pygit2 costs more than that to import and each ``git`` process a
few milliseconds. HEAD and a freshly written commit are cheap to read by
hand: HEAD is a file naming a ref (or a sha), the ref is a loose file or a
line of ``packed-refs``, and a commit git has just written is a loose,
zlib-compressed object. Anything less simple (a packed object, a reftable
repository) falls back to one ``git`` process.
"""

from __future__ import annotations

import os
import zlib

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs the hook ~3 ms
if TYPE_CHECKING:  # pragma: no cover
    from commitledger.git.paths import GitDirs, RepoPaths

    AnyPaths = RepoPaths | GitDirs  # paths are joined with os.path: the hook imports no pathlib

_HEX = frozenset("0123456789abcdef")


def is_sha(text: str) -> bool:
    """A full object name: 40 (SHA-1) or 64 (SHA-256) lowercase hex digits (no regex: ``re`` costs the hook)."""
    return (len(text) == 40 or len(text) == 64) and _HEX.issuperset(text)


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip()
    except (OSError, UnicodeDecodeError):
        return None


def _git(paths: AnyPaths, *args: str) -> str | None:
    """git's answer, or None when git fails: the hook lets the commit through on its own failures."""
    from commitledger.git.run import GitError, run  # only on the slow path: subprocess costs more than a loose object

    try:
        return str(run(paths.worktree, *args).stdout)
    except GitError:
        return None


def head_sha(paths: AnyPaths) -> str | None:
    """The commit HEAD points at; None on an unborn branch."""
    ref = _read(os.path.join(paths.git_dir, "HEAD"))
    for _ in range(5):  # symbolic refs may chain; git limits the depth too
        if ref is None:
            break
        if is_sha(ref):
            return ref
        if not ref.startswith("ref:"):
            break
        name = ref[4:].strip()
        # Per-worktree refs live in the worktree's git dir, shared ones in the common dir.
        target = None
        for base in (paths.git_dir, paths.common_dir):
            target = _read(os.path.join(base, name))
            if target is not None:
                break
        if target is None:
            return _packed_ref(paths.common_dir, name) if os.path.exists(os.path.join(paths.common_dir, "packed-refs")) else _unborn_or_git(paths)
        ref = target
    out = _git(paths, "rev-parse", "-q", "--verify", "HEAD^{commit}")
    return out.strip() if out else None


def _unborn_or_git(paths: AnyPaths) -> str | None:
    if os.path.exists(os.path.join(paths.common_dir, "reftable")):
        out = _git(paths, "rev-parse", "-q", "--verify", "HEAD^{commit}")
        return out.strip() if out else None
    return None


def _packed_ref(common_dir: str | os.PathLike[str], name: str) -> str | None:
    try:
        with open(os.path.join(common_dir, "packed-refs"), encoding="utf-8") as handle:
            for line in handle:
                sha, _, ref = line.rstrip("\n").partition(" ")
                if ref == name and is_sha(sha):
                    return sha
    except (OSError, UnicodeDecodeError):
        return None
    return None


def resolve(paths: AnyPaths, rev: str) -> str | None:
    """A revision name as the hook receives it (``HEAD``, a sha, ``HEAD~1``) to a sha."""
    if rev == "HEAD":
        return head_sha(paths)
    if is_sha(rev):
        return rev
    out = _git(paths, "rev-parse", "-q", "--verify", rev + "^{commit}")
    return out.strip() if out else None


def commit_raw(paths: AnyPaths, sha: str) -> str | None:
    """The raw commit object (headers, blank line, message) as text."""
    obj = os.path.join(paths.common_dir, "objects", sha[:2], sha[2:])
    try:
        with open(obj, "rb") as handle:
            data = zlib.decompress(handle.read())
    except (OSError, zlib.error):
        out = _git(paths, "cat-file", "commit", sha)
        return out
    header, _, body = data.partition(b"\0")
    if not header.startswith(b"commit "):
        return None
    return body.decode("utf-8", errors="replace")


def commit_message(paths: AnyPaths, sha: str) -> str | None:
    raw = commit_raw(paths, sha)
    if raw is None:
        return None
    _, _, message = raw.partition("\n\n")
    return message


def committer_time(paths: AnyPaths, sha: str) -> float | None:
    raw = commit_raw(paths, sha)
    if raw is None:
        return None
    for line in raw.split("\n\n", 1)[0].splitlines():
        if line.startswith("committer "):
            parts = line.rsplit(" ", 2)
            try:
                return float(parts[-2])
            except (IndexError, ValueError):
                return None
    return None
