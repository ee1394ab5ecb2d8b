"""pygit2 access for the analysis commands: ranges, diffs, blobs and notes.

Everything here reads git objects only (never the working tree), so CI can
score any pair of revisions without a checkout, and two runs on the same
objects give the same answer. Errors a user can act on (a bad revision, a
shallow clone) become one-line ``CommitledgerError``s.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pygit2
from pygit2.enums import DeltaStatus, DiffFind, SortMode

from commitledger.errors import CommitledgerError
from commitledger.git.paths import STATE_DIRNAME

AI_NOTES_REF = "refs/notes/ai"
CACHE_FILENAME = "cache.sqlite"

_STATUS_CHAR = {
    DeltaStatus.ADDED: "A",
    DeltaStatus.DELETED: "D",
    DeltaStatus.MODIFIED: "M",
    DeltaStatus.RENAMED: "R",
    DeltaStatus.COPIED: "C",
    DeltaStatus.TYPECHANGE: "T",
}


@dataclass(frozen=True, slots=True)
class CommitInfo:
    """The facts of one commit the analysis needs, detached from pygit2."""

    sha: str
    message: str
    author_name: str
    author_time: int
    author_offset: int
    parents: int


@dataclass(frozen=True, slots=True)
class FileChange:
    """One file of a diff, after rename detection.

    ``old_blob``/``new_blob`` are ``None`` on the side where the file does
    not exist (added or deleted); line counts are 0 for binary files.
    """

    status: str
    old_path: str | None
    new_path: str | None
    old_blob: str | None
    new_blob: str | None
    added: int
    deleted: int
    binary: bool

    @property
    def path(self) -> str:
        """The path a reviewer knows the file by: the new one unless deleted."""
        return self.new_path or self.old_path or ""


def open_repo(path: Path) -> pygit2.Repository:
    """The repository containing ``path`` (a worktree or a bare repository)."""
    found = pygit2.discover_repository(str(path))
    if found is None:
        raise CommitledgerError(f"not inside a git repository: {path}")
    try:
        return pygit2.Repository(found)
    except pygit2.GitError as exc:
        from commitledger.git.run import require_sha1

        require_sha1(found, "commitledger pr")  # libgit2 says only "unknown object format"
        raise CommitledgerError(f"cannot open the git repository at {found}: {exc}") from None


def ensure_full_history(repo: pygit2.Repository) -> None:
    """Refuse a shallow clone: its missing history would give wrong figures, not fewer."""
    if repo.is_shallow:
        raise CommitledgerError(
            "this is a shallow clone, so the pull request's commits cannot all be read; "
            "check out with full history (actions/checkout with fetch-depth: 0)"
        )


def resolve_commit(repo: pygit2.Repository, rev: str) -> pygit2.Commit:
    """A revision (sha, branch, tag, ``HEAD~2``, ``origin/main``) peeled to its commit."""
    if not rev or rev.startswith("-"):
        raise CommitledgerError(f"invalid revision {rev!r}")
    try:
        obj = repo.revparse_single(rev)
    except (KeyError, ValueError, pygit2.GitError):
        raise CommitledgerError(
            f"unknown revision {rev!r} (is it fetched? CI needs actions/checkout with fetch-depth: 0)"
        ) from None
    try:
        commit = obj.peel(pygit2.Commit)
    except (ValueError, pygit2.GitError, pygit2.InvalidSpecError):
        raise CommitledgerError(f"revision {rev!r} does not name a commit") from None
    return commit


def commit_info(commit: pygit2.Commit) -> CommitInfo:
    """Detach a commit's facts (message decoded leniently: history may hold any bytes)."""
    try:
        message = commit.message
    except (UnicodeDecodeError, LookupError):
        message = commit.raw_message.decode("utf-8", errors="replace")
    try:
        author_name = commit.author.name
    except (UnicodeDecodeError, LookupError):
        author_name = commit.author.raw_name.decode("utf-8", errors="replace")
    return CommitInfo(
        sha=str(commit.id),
        message=message,
        author_name=author_name,
        author_time=commit.author.time,
        author_offset=commit.author.offset,
        parents=len(commit.parent_ids),
    )


def change_commits(repo: pygit2.Repository, base: pygit2.Commit, head: pygit2.Commit) -> list[CommitInfo]:
    """Commits reachable from ``head`` and not from ``base``, oldest first (GitHub's list)."""
    walker = repo.walk(head.id, SortMode.TOPOLOGICAL | SortMode.REVERSE)
    walker.hide(base.id)
    return [commit_info(commit) for commit in walker]


def merge_base(repo: pygit2.Repository, base: pygit2.Commit, head: pygit2.Commit) -> pygit2.Commit:
    """The commit GitHub diffs a pull request against."""
    oid = repo.merge_base(base.id, head.id)
    if oid is None:
        raise CommitledgerError("base and head have no common ancestor, so there is no change to score")
    return repo[oid].peel(pygit2.Commit)


def diff_files(repo: pygit2.Repository, old: pygit2.Commit, new: pygit2.Commit) -> list[FileChange]:
    """Files changed from ``old`` to ``new``, renames detected, binary files flagged."""
    diff = repo.diff(old.tree, new.tree)
    diff.find_similar(flags=DiffFind.FIND_RENAMES)
    changes: list[FileChange] = []
    for patch in diff:
        if patch is None:
            continue
        delta = patch.delta
        binary = bool(delta.is_binary)
        _, added, deleted = (0, 0, 0) if binary else patch.line_stats
        status = _STATUS_CHAR.get(delta.status, delta.status_char())
        has_old = status not in ("A",)
        has_new = status not in ("D",)
        changes.append(
            FileChange(
                status=status,
                old_path=delta.old_file.path if has_old else None,
                new_path=delta.new_file.path if has_new else None,
                old_blob=str(delta.old_file.id) if has_old else None,
                new_blob=str(delta.new_file.id) if has_new else None,
                added=added,
                deleted=deleted,
                binary=binary,
            )
        )
    return changes


def blob_size(repo: pygit2.Repository, blob_id: str) -> int:
    """Size of a blob from its header, without inflating it."""
    _, size = repo.odb.read_header(blob_id)
    return int(size)


def blob_bytes(repo: pygit2.Repository, blob_id: str) -> bytes:
    return bytes(repo[blob_id].data)


def ai_noted_commits(repo: pygit2.Repository) -> frozenset[str]:
    """Commits with a git-ai note under ``refs/notes/ai`` (evidence of AI assistance)."""
    try:
        repo.references[AI_NOTES_REF]
    except KeyError:
        return frozenset()
    try:
        return frozenset(str(note.annotated_id) for note in repo.notes(AI_NOTES_REF))
    except pygit2.GitError:
        return frozenset()


def find_commit_by_prefix(repo: pygit2.Repository, prefix: str) -> pygit2.Commit | None:
    """A commit named by a full or abbreviated sha, or ``None`` when unknown or ambiguous."""
    try:
        obj = repo.revparse_single(prefix)
        return obj.peel(pygit2.Commit)
    except (KeyError, ValueError, pygit2.GitError, pygit2.InvalidSpecError):
        return None


def common_dir(repo: pygit2.Repository) -> Path:
    """The git dir shared by every worktree (where objects, refs and our cache live)."""
    path = Path(repo.path)
    commondir = path / "commondir"
    if commondir.is_file():
        target = Path(commondir.read_text(encoding="utf-8").strip())
        return (path / target).resolve() if not target.is_absolute() else target
    return path.resolve()


def cache_path(repo: pygit2.Repository) -> Path:
    """``<common git dir>/commitledger/cache.sqlite``: shared by ``pr`` and ``history``."""
    return common_dir(repo) / STATE_DIRNAME / CACHE_FILENAME


def workdir_or_gitdir(repo: pygit2.Repository) -> Path:
    """Where ``pyproject.toml`` is looked for: the worktree, or the git dir of a bare repository."""
    return Path(repo.workdir) if repo.workdir else Path(repo.path)


def changed_paths(repo: pygit2.Repository, sha: str) -> list[str]:
    """Paths one commit touched against its parent (none for a merge: its diff is the base's work)."""
    commit = repo[sha].peel(pygit2.Commit)
    if len(commit.parent_ids) > 1:
        return []
    if commit.parent_ids:
        diff = repo.diff(commit.parents[0].tree, commit.tree)
    else:
        diff = commit.tree.diff_to_tree(swap=True)
    return [delta.new_file.path for delta in diff.deltas]


def reverted_work(repo: pygit2.Repository, sha: str) -> list[CommitInfo]:
    """The commit a revert names, then the commits it merged in when it is a merge.

    Reverting a merge commit (``git revert -m 1``) undoes everything the
    merge brought: the commits reachable from it and not from its first parent.
    """
    commit = find_commit_by_prefix(repo, sha)
    if commit is None:
        return []
    if len(commit.parent_ids) < 2:
        return [commit_info(commit)]
    walker = repo.walk(commit.id, SortMode.TOPOLOGICAL)
    walker.hide(commit.parent_ids[0])
    return [commit_info(c) for c in walker]


GENERATED_ATTR = "linguist-generated"


def _attributes_mention(tree: pygit2.Tree, paths: list[str], word: bytes) -> bool:
    """Whether any ``.gitattributes`` on the way to ``paths`` in ``tree`` mentions ``word`` (cheap lookups only)."""
    dirs = {""}
    for path in paths:
        parts = path.split("/")[:-1]
        dirs.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
    for directory in dirs:
        name = f"{directory}/.gitattributes" if directory else ".gitattributes"
        try:
            entry = tree[name]
        except KeyError:
            continue
        if isinstance(entry, pygit2.Blob) and word in entry.data:
            return True
    return False


def generated_paths(repo: pygit2.Repository, commit: pygit2.Commit, paths: list[str]) -> frozenset[str]:
    """The ``paths`` marked ``linguist-generated`` by the ``.gitattributes`` of ``commit``'s tree.

    From the commit, never the working tree or the index (libgit2 reads the
    index first): git reads the tree into a temporary index and
    ``check-attr --cached`` answers from it alone. Skipped when no
    ``.gitattributes`` on the way to a path mentions the attribute.
    """
    import tempfile

    from commitledger.git import run as gitrun

    if not paths or not _attributes_mention(commit.tree, paths, GENERATED_ATTR.encode()):
        return frozenset()
    where = workdir_or_gitdir(repo)
    with tempfile.TemporaryDirectory(prefix="commitledger-attr-") as tmp:
        env = gitrun.git_env({"GIT_INDEX_FILE": str(Path(tmp) / "index")})
        gitrun.run(where, "read-tree", str(commit.id), env=env)
        out = gitrun.run(where, "check-attr", "--cached", "-z", "--stdin", GENERATED_ATTR,
                         input="\0".join(paths) + "\0", env=env).stdout
    fields = out.split("\0")
    marked = {fields[i] for i in range(0, len(fields) - 2, 3) if fields[i + 2] in ("set", "true")}
    return frozenset(marked)
