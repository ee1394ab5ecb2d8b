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

import re
import zlib
from pathlib import Path

from commitledger.git.paths import RepoPaths

_SHA = re.compile(r"^[0-9a-f]{40}(?:[0-9a-f]{24})?$")


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None


def _git(paths: RepoPaths, *args: str) -> str | None:
    """git's answer, or None when git fails: the hook lets the commit through on its own failures."""
    from commitledger.git.run import GitError, run  # only on the slow path: subprocess costs more than a loose object

    try:
        return str(run(paths.worktree, *args).stdout)
    except GitError:
        return None


def head_sha(paths: RepoPaths) -> str | None:
    """The commit HEAD points at; None on an unborn branch."""
    ref = _read(paths.git_dir / "HEAD")
    for _ in range(5):  # symbolic refs may chain; git limits the depth too
        if ref is None:
            break
        if _SHA.match(ref):
            return ref
        if not ref.startswith("ref:"):
            break
        name = ref[4:].strip()
        # Per-worktree refs live in the worktree's git dir, shared ones in the common dir.
        target = None
        for base in (paths.git_dir, paths.common_dir):
            target = _read(base / name)
            if target is not None:
                break
        if target is None:
            return _packed_ref(paths.common_dir, name) if (paths.common_dir / "packed-refs").exists() else _unborn_or_git(paths)
        ref = target
    out = _git(paths, "rev-parse", "-q", "--verify", "HEAD^{commit}")
    return out.strip() if out else None


def _unborn_or_git(paths: RepoPaths) -> str | None:
    if (paths.common_dir / "reftable").exists():
        out = _git(paths, "rev-parse", "-q", "--verify", "HEAD^{commit}")
        return out.strip() if out else None
    return None


def _packed_ref(common_dir: Path, name: str) -> str | None:
    try:
        with open(common_dir / "packed-refs", encoding="utf-8") as handle:
            for line in handle:
                sha, _, ref = line.rstrip("\n").partition(" ")
                if ref == name and _SHA.match(sha):
                    return sha
    except (OSError, UnicodeDecodeError):
        return None
    return None


def resolve(paths: RepoPaths, rev: str) -> str | None:
    """A revision name as the hook receives it (``HEAD``, a sha, ``HEAD~1``) to a sha."""
    if rev == "HEAD":
        return head_sha(paths)
    if _SHA.match(rev):
        return rev
    out = _git(paths, "rev-parse", "-q", "--verify", rev + "^{commit}")
    return out.strip() if out else None


def commit_raw(paths: RepoPaths, sha: str) -> str | None:
    """The raw commit object (headers, blank line, message) as text."""
    obj = paths.common_dir / "objects" / sha[:2] / sha[2:]
    try:
        data = zlib.decompress(obj.read_bytes())
    except (OSError, zlib.error):
        out = _git(paths, "cat-file", "commit", sha)
        return out
    header, _, body = data.partition(b"\0")
    if not header.startswith(b"commit "):
        return None
    return body.decode("utf-8", errors="replace")


def commit_message(paths: RepoPaths, sha: str) -> str | None:
    raw = commit_raw(paths, sha)
    if raw is None:
        return None
    _, _, message = raw.partition("\n\n")
    return message


def committer_time(paths: RepoPaths, sha: str) -> float | None:
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
