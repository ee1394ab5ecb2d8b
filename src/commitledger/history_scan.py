"""Read merged changes out of git: one streaming ``git log`` per uncached segment.

A *change* is one commit of the branch's first-parent chain together with
every commit it brought in (``first_parent..commit``): a merge commit owns
its side branch, a squash commit or direct push owns only itself. That set is
a property of the commit alone, so the facts computed here can be cached by
commit id and reused for any branch whose chain passes through the commit.

Why ``git log`` and not pygit2: on the 200k-commit benchmark repository one
``git log --topo-order --numstat`` piped through a single subprocess read the
history faster than a pygit2 walk that also diffs each chain commit against its
first parent (pygit2 builds a Python object per commit, per diff and per
patch; git streams text we split on a separator). ``bench/history.py`` prints
both figures.

Ownership without holding the graph: ``--topo-order`` shows no commit before
all its children, so by the time a side commit is read, every child has
proposed the chain commit it belongs to, and the oldest proposal is the owner
(``p`` is in ``fp(M)..M`` of the oldest chain commit ``M`` that reaches it).
Only the frontier of proposals is kept in memory, never the whole history.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Iterator

from commitledger import commitmsg
from commitledger.errors import CommitledgerError
from commitledger.trailers import ai_markers, parse_usage_lines
from commitledger.usage import COUNT_FIELDS, Usage

# Substrings (lower case) any AI marker of trailers.ai_markers needs; a message
# with none of them skips the regular expressions (most commits of most repos).
_MARKER_HINTS = ("usage", "co-authored-by", "made-with", "assisted-by", "claude-session", "entire-checkpoint",
                 "generated with")
_RECORD = b"\x00\x01"
_FORMAT = "%x00%x01%H%x00%P%x00%ct%x00%an%x00%B%x00"
DOC_SUFFIXES = (".md", ".rst", ".txt", ".adoc", ".markdown")


@dataclass(slots=True)
class RevertRef:
    """One claim, in one commit of a change, that it undoes something earlier."""

    by: str  # the commit whose message makes the claim
    sha: str | None = None  # "This reverts commit <sha>" (maybe abbreviated)
    pr: int | None = None  # "Reverts owner/repo#N"

    def as_list(self) -> list[object]:
        return [self.by, self.sha, self.pr]


@dataclass(slots=True)
class ChangeFacts:
    """Everything about one merged change that depends only on its commits."""

    sha: str
    first_parent: str | None
    time: int  # committer time of the chain commit: when the change reached the branch
    title: str
    pr: int | None
    kind: str  # "merge", "squash" or "direct"
    ai: bool
    usage: Usage | None  # sum of every AI-Usage line of the change's commits; None when there are none
    added: int = 0
    deleted: int = 0
    source_lines: int = 0  # added + deleted outside tests and docs
    commits: int = 1
    reverts: list[RevertRef] = field(default_factory=list)
    revert_depth: int = 0  # 'Revert "' wrappers on the subject (Reapply counts 2)
    inner_title: str = ""  # the subject with those wrappers removed
    side: bytes = b""  # binary ids of the other commits the change brought in

    @property
    def lines(self) -> int:
        return self.added + self.deleted

    def side_shas(self) -> list[str]:
        return [self.side[i : i + 20].hex() for i in range(0, len(self.side), 20)]


def usage_to_json(usage: Usage | None) -> str | None:
    if usage is None:
        return None
    data = {name: getattr(usage, name) for name in COUNT_FIELDS}
    data["cost_usd"] = usage.cost_usd
    data["cost_complete"] = usage.cost_complete
    return json.dumps({k: v for k, v in data.items() if v is not None}, separators=(",", ":"))


def usage_from_json(text: str | None) -> Usage | None:
    if text is None:
        return None
    data = json.loads(text)
    usage = Usage(**{k: data.get(k) for k in (*COUNT_FIELDS, "cost_usd")})
    usage.cost_complete = bool(data.get("cost_complete", True))
    return usage


def is_test_path(path: str, patterns: tuple[str, ...]) -> bool:
    """fnmatch globs where a leading ``**/`` also matches at the top of the tree (as gitignore does)."""
    for pattern in patterns:
        if fnmatchcase(path, pattern) or (pattern.startswith("**/") and fnmatchcase(path, pattern[3:])):
            return True
    return False


def _numstat_path(raw: str) -> str:
    """The new path of a numstat line (renames print ``a => b`` or ``dir/{a => b}/f``)."""
    if " => " not in raw:
        return raw
    if "{" in raw and "}" in raw:
        head, _, rest = raw.partition("{")
        inner, _, tail = rest.partition("}")
        new = inner.split(" => ", 1)[1]
        return (head + new + tail).replace("//", "/")
    return raw.split(" => ", 1)[1]


class _Lines:
    """Numstat totals with a per-path memo of the test/doc classification."""

    def __init__(self, test_patterns: tuple[str, ...]) -> None:
        self.patterns = test_patterns
        self.memo: dict[str, bool] = {}

    def count(self, text: str) -> tuple[int, int, int]:
        added = deleted = source = 0
        for line in text.split("\n"):
            if not line:
                continue
            parts = line.split("\t", 2)
            if len(parts) != 3 or parts[0] == "-":
                continue  # binary files carry no lines
            try:
                a, d = int(parts[0]), int(parts[1])
            except ValueError:
                continue
            added += a
            deleted += d
            path = parts[2]
            counts = self.memo.get(path)
            if counts is None:
                new = _numstat_path(path)
                counts = not is_test_path(new, self.patterns) and not new.lower().endswith(DOC_SUFFIXES)
                if len(self.memo) < 200_000:
                    self.memo[path] = counts
            if counts:
                source += a + d
        return added, deleted, source


def _title(kind: str, subject: str, body: str) -> str:
    """What a reader calls the change: the PR title for GitHub merges, the subject without ``(#N)`` for squashes."""
    if kind == "merge" and subject.startswith("Merge pull request #"):
        for line in body.split("\n")[1:]:
            if line.strip():
                return line.strip()
        return subject
    if kind == "squash":
        cut = subject.rfind(" (#")
        return subject[:cut] if cut > 0 else subject
    return subject


def _message_facts(sha: str, author: str, message: str) -> tuple[bool, Usage | None, list[RevertRef]]:
    usage: Usage | None = None
    ai = False
    lower = message.lower()
    if any(hint in lower for hint in _MARKER_HINTS) or author.rstrip().endswith(")"):
        lines = parse_usage_lines(message)
        if lines:
            ai = True
            usage = lines[0].usage
            for line in lines[1:]:
                usage = usage + line.usage
        else:
            ai = bool(ai_markers(message, author))
    refs: list[RevertRef] = []
    if "revert" in lower:
        refs.extend(RevertRef(sha, sha=s) for s in commitmsg.reverted_shas(message))
        refs.extend(RevertRef(sha, pr=n) for n in commitmsg.reverted_prs(message))
    return ai, usage, refs


def _add_usage(a: Usage | None, b: Usage | None) -> Usage | None:
    if a is None:
        return b
    if b is None:
        return a
    return a + b


def _records(stream: Iterator[bytes]) -> Iterator[list[str]]:
    """Split the raw ``git log`` stream into [sha, parents, ctime, author, message, numstat] lists."""
    buffer = b""
    for chunk in stream:
        buffer += chunk
        parts = buffer.split(_RECORD)
        buffer = parts.pop()
        for part in parts:
            if part:
                yield part.decode("utf-8", "replace").split("\x00", 5)
    if buffer:
        yield buffer.decode("utf-8", "replace").split("\x00", 5)


def _chunks(handle, size: int = 1 << 20) -> Iterator[bytes]:  # type: ignore[no-untyped-def]
    while True:
        chunk = handle.read(size)
        if not chunk:
            return
        yield chunk


@dataclass(slots=True)
class ScanCounter:
    """Observable work done by a scan: tests prove the cache by these counts, not by timing."""

    commits_parsed: int = 0
    changes_scanned: int = 0
    changes_cached: int = 0
    git_log_runs: int = 0


def git_base(repo: Path) -> list[str]:
    # Fixed output whatever the user's config says: no pager, no colour, raw paths, no signature checks.
    return ["git", "-C", str(repo), "-c", "core.quotePath=false", "-c", "log.showSignature=false",
            "-c", "color.ui=false", "-c", "diff.renames=true"]


def scan_segment(
    repo: Path,
    tip: str,
    stop: str | None,
    test_patterns: tuple[str, ...],
    counter: ScanCounter | None = None,
    progress=None,  # type: ignore[no-untyped-def]
) -> list[ChangeFacts]:
    """Changes of the chain from ``tip`` down to (not including) ``stop``, newest first."""
    args = [*git_base(repo), "log", "--topo-order", "--no-notes", "--numstat", "--diff-merges=first-parent",
            f"--format={_FORMAT}", tip]
    if stop:
        args.append("^" + stop)
    args += ["--"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    lines = _Lines(test_patterns)
    changes: list[ChangeFacts] = []
    side: dict[int, bytearray] = {}
    pending: dict[str, int] = {}  # side commit -> index of the oldest chain commit proposing it
    next_chain: str | None = tip
    parsed = 0
    try:
        for record in _records(_chunks(proc.stdout)):
            if len(record) < 5:
                continue
            sha, parent_text, ctime, author, message = record[:5]
            numstat = record[5] if len(record) > 5 else ""
            parents = parent_text.split()
            parsed += 1
            if progress is not None and parsed % 2000 == 0:
                progress(parsed)
            ai, usage, refs = _message_facts(sha, author, message)
            if sha == next_chain:
                pending.pop(sha, None)
                index = len(changes)
                subject = commitmsg.subject_of(message)
                pr = commitmsg.pr_number(message)
                kind = "merge" if len(parents) > 1 else ("squash" if pr is not None else "direct")
                depth, inner = commitmsg.revert_depth(subject)
                added, deleted, source = lines.count(numstat)
                changes.append(ChangeFacts(
                    sha=sha, first_parent=parents[0] if parents else None, time=int(ctime or 0),
                    title=_title(kind, subject, message), pr=pr, kind=kind, ai=ai, usage=usage,
                    added=added, deleted=deleted, source_lines=source, reverts=refs,
                    revert_depth=depth, inner_title=inner,
                ))
                next_chain = parents[0] if parents else None
                for parent in parents[1:]:
                    if pending.get(parent, -1) < index:
                        pending[parent] = index
                continue
            owner_index = pending.pop(sha, None)
            if owner_index is None:  # not reachable through a chain commit we saw: cannot happen in topo order
                continue
            owner = changes[owner_index]
            owner.commits += 1
            owner.ai = owner.ai or ai
            owner.usage = _add_usage(owner.usage, usage)
            owner.reverts.extend(refs)
            side.setdefault(owner_index, bytearray()).extend(bytes.fromhex(sha))
            for parent in parents:
                if parent != next_chain and pending.get(parent, -1) < owner_index:
                    pending[parent] = owner_index
    finally:
        proc.stdout.close()
        err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
        code = proc.wait()
    if code != 0:
        raise CommitledgerError(f"git log failed: {err.strip().splitlines()[-1] if err.strip() else code}")
    for index, blob in side.items():
        changes[index].side = bytes(blob)
    if counter is not None:
        counter.commits_parsed += parsed
        counter.changes_scanned += len(changes)
        counter.git_log_runs += 1
    return changes


def first_parent_until(repo: Path, tip: str, known: set[str] | dict, since_ts: int | None) -> tuple[list[str], str | None, bool]:  # type: ignore[type-arg]
    """Walk the first-parent chain from ``tip`` until a commit in ``known`` or older than ``since_ts``.

    Returns the uncached chain commits, the commit we stopped at (``None`` at
    the root) and whether we stopped because of age. The git process is
    stopped as soon as the answer is known, so a warm cache costs a few
    commits of walking, not the whole history.
    """
    args = [*git_base(repo), "rev-list", "--first-parent", "--timestamp", tip, "--"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    seen: list[str] = []
    stop: str | None = None
    by_age = False
    try:
        for line in proc.stdout:
            stamp, _, sha = line.strip().partition(" ")
            if sha in known:
                stop = sha
                break
            if since_ts is not None and int(stamp) < since_ts:
                stop, by_age = sha, True
                break
            seen.append(sha)
    finally:
        proc.stdout.close()
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    return seen, stop, by_age
