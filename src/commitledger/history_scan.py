"""Read merged changes out of git: one streaming ``git log`` per uncached segment.

A *change* is one commit of the branch's first-parent chain together with
every commit it brought in (``first_parent..commit``): a merge commit owns
its side branch, a squash commit or direct push owns only itself. That set is
a property of the commit alone, so the facts computed here can be cached by
commit id and reused for any branch whose chain passes through the commit.

Why ``git log`` and not pygit2: measured on the 200k-commit benchmark
repository (``bench/history.py --pygit2``), reading every message in
topological order plus a diff with stats of each chain commit took pygit2
68 s, against 6.4 s for this scan (two ``git log`` processes piped through
one subprocess each, split on a separator): pygit2 builds a Python object
per commit, per diff and per patch.

Ownership without holding the graph: ``--topo-order`` shows no commit before
all its children, so by the time a side commit is read, every child has
proposed the chain commit it belongs to, and the oldest proposal is the owner
(``p`` is in ``fp(M)..M`` of the oldest chain commit ``M`` that reaches it).
Only the frontier of proposals is kept in memory, never the whole history.
"""

from __future__ import annotations

import math
import re
import struct
import subprocess
import threading
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import IO, Any, Callable, Iterator

from commitledger import commitmsg
from commitledger.errors import CommitledgerError
from commitledger.trailers import ai_markers
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
    owner: str | None = None  # the chain commit whose change contains ``sha``, when the scan met it

    def as_list(self) -> list[object]:
        return [self.by, self.sha, self.pr, self.owner]


class _Wanted:
    """Commit ids named by reverts read so far, matched against every later (older) commit of the scan.

    In topological order a reverted commit comes after the revert that names
    it, so most claims are resolved while streaming, for the price of a few
    dictionary lookups per commit; the rest are resolved from the cache.
    """

    def __init__(self) -> None:
        self.by_length: dict[int, dict[str, list[RevertRef]]] = {}

    def add(self, refs: list[RevertRef]) -> None:
        for ref in refs:
            if ref.sha:
                self.by_length.setdefault(len(ref.sha), {}).setdefault(ref.sha, []).append(ref)

    def meet(self, sha: str, owner: str) -> None:
        for length, wanted in list(self.by_length.items()):
            refs = wanted.pop(sha[:length], None)
            if refs is not None:
                for ref in refs:
                    ref.owner = owner
                if not wanted:
                    del self.by_length[length]


# Usage of a change, packed: the 8 counts (-1 = unknown), cost (NaN = unknown), cost-complete flag.
# 130k changes of Usage objects cost ~40 MB; packed they cost ~13 MB and load from the cache as they are.
_PACK = struct.Struct("<8qd?")
_NONE = -1
_MAX = 2**63 - 1  # a hostile trailer must not make the cache unwritable


def pack_usage(vec: list[Any]) -> bytes:
    counts = [_NONE if v is None else min(v, _MAX) for v in vec[:8]]
    return _PACK.pack(*counts, math.nan if vec[8] is None else vec[8], bool(vec[9]))


def unpack_usage(blob: bytes) -> Usage:
    values = _PACK.unpack(blob)
    usage = Usage(*(None if v == _NONE else v for v in values[:8]),
                  cost_usd=None if math.isnan(values[8]) else values[8])
    usage.cost_complete = values[9]
    return usage


def packed_cost_tokens(blob: bytes) -> tuple[float | None, int]:
    """Cost and total tokens without building a Usage (the summary's hot loop)."""
    values = _PACK.unpack(blob)
    tokens = sum(v for v in values[4:8] if v != _NONE)
    return (None if math.isnan(values[8]) else values[8]), tokens


@dataclass(slots=True)
class ChangeFacts:
    """Everything about one merged change that depends only on its commits."""

    sha: str
    time: int  # committer time of the chain commit: when the change reached the branch
    title: str
    pr: int | None
    kind: str  # "merge", "squash" or "direct"
    ai: bool
    usage: bytes | None  # packed sum of every AI-Usage line of the change's commits; None when there are none
    added: int = 0
    deleted: int = 0
    source_lines: int = 0  # added + deleted outside tests and docs
    commits: int = 1
    reverts: list[RevertRef] | None = None
    revert_depth: int = 0  # 'Revert "' wrappers on the subject (Reapply counts 2)
    inner_title: str | None = None  # the subject without those wrappers (None when depth is 0)
    side: bytes = b""  # binary ids of the other commits the change brought in
    cost: float | None = None  # AI cost from the usage (kept apart: the summary reads only these two)
    tokens: int = 0

    @property
    def lines(self) -> int:
        return self.added + self.deleted

    def usage_object(self) -> Usage | None:
        return unpack_usage(self.usage) if self.usage is not None else None


# --- AI-Usage lines, fast -----------------------------------------------------------------

_DEC = re.compile(r"[0-9]{1,12}(\.[0-9]{1,12})?")
# trailers._USAGE_LINE without its lazy ".*?[ \t]*$" tail (5x slower in CPython's engine); the
# surrounding blanks it trims are dropped by split() anyway.
_LINE = re.compile(r"^[ \t]*ai-usage[ \t]*:([^\n]*)", re.IGNORECASE | re.MULTILINE)
# The fields we read, as whole whitespace-separated tokens cut at their first "=" (what split() and
# partition("=") do), found in C instead of a Python loop over every token.
_FIELD = re.compile(r"(?<!\S)(agent|model|cost_usd|" + "|".join(COUNT_FIELDS) + r")=(\S*)")


def message_usage(message: str) -> list[Any] | None:
    """The summed usage vector of every AI-Usage line in a message, or None when there is none.

    Same grammar as ``trailers.parse_usage_lines`` (a property test in
    tests/test_history_scan.py checks both agree on arbitrary text), without
    a lazy regular expression, a ``UsageLine`` and a ``Usage`` per line:
    history reads every commit of the repository, and this is its hottest
    loop.
    """
    total: list[Any] | None = None
    for match in _LINE.finditer(message):
        # Keys are case-insensitive; lowering the values too changes nothing we read (digits, non-empty names).
        fields = dict(_FIELD.findall(match.group(1).lower()))
        if not fields.get("agent") or not fields.get("model"):
            continue
        vec: list[Any] = [None] * 9
        for index, name in enumerate(COUNT_FIELDS):
            value = fields.get(name)
            if value is not None:
                vec[index] = int(value) if len(value) <= 18 and value.isascii() and value.isdigit() else None
        cost = fields.get("cost_usd")
        if cost is not None:
            vec[8] = float(cost) if _DEC.fullmatch(cost) else None
        complete = not (vec[8] is None and any(vec[4:8]))
        if total is None:
            total = vec + [complete]
        else:
            add_vectors(total, vec + [complete])
    return total


def _sum_packed(blob: bytes | None, vec: list[Any]) -> list[Any]:
    """A packed usage plus a vector, as a vector (changes stay packed while the scan runs: less memory)."""
    if blob is None:
        return vec
    values = _PACK.unpack(blob)
    total: list[Any] = [None if v == _NONE else v for v in values[:8]]
    total += [None if math.isnan(values[8]) else values[8], values[9]]
    add_vectors(total, vec)
    return total


def add_vectors(total: list[Any], other: list[Any]) -> None:
    """``total += other`` with Usage's rules: unknown + known = known, unknown + unknown = unknown."""
    for i in range(9):
        b = other[i]
        if b is not None:
            a = total[i]
            total[i] = b if a is None else a + b
    total[9] = total[9] and other[9]


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


def _message_facts(sha: str, author: str, message: str) -> tuple[bool, list[Any] | None, list[RevertRef] | None]:
    usage: list[Any] | None = None
    ai = False
    lower = message.lower()
    if "usage" in lower:
        usage = message_usage(message)
        ai = usage is not None
    if not ai and (any(hint in lower for hint in _MARKER_HINTS) or author.endswith(")")):
        ai = bool(ai_markers(message, author))
    refs: list[RevertRef] | None = None
    if "revert" in lower:
        refs = [RevertRef(sha, sha=s) for s in commitmsg.reverted_shas(message)]
        refs.extend(RevertRef(sha, pr=n) for n in commitmsg.reverted_prs(message))
    return ai, usage, refs or None


def _records(handle: IO[bytes]) -> Iterator[list[str]]:
    """Split the raw ``git log`` stream into [sha, parents, ctime, author, message] lists."""
    buffer = b""
    while True:
        chunk = handle.read(1 << 20)
        if not chunk:
            break
        parts = (buffer + chunk).split(_RECORD)
        buffer = parts.pop()
        for part in parts:
            if part:
                yield part.decode("utf-8", "replace").split("\x00", 5)
    if buffer:
        yield buffer.decode("utf-8", "replace").split("\x00", 5)


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


def _read_all(handle: IO[bytes], into: list[bytes]) -> None:
    into.append(handle.read())


def _numstat_blocks(data: bytes) -> Iterator[tuple[str, str]]:
    """(sha, numstat text) of each commit in ``git log --format=%x00%H --numstat`` output.

    Walks the bytes with ``find`` rather than decoding and splitting the whole
    output at once, which tripled its size in memory on large histories.
    """
    pos = data.find(b"\x00")
    while pos >= 0:
        end = data.find(b"\x00", pos + 1)
        block = data[pos + 1 : end if end >= 0 else len(data)].decode("utf-8", "replace")
        sha, _, numstat = block.partition("\n")
        yield sha.strip(), numstat
        pos = end


def scan_segment(
    repo: Path,
    tip: str,
    stop: str | None,
    test_patterns: tuple[str, ...],
    counter: ScanCounter | None = None,
    progress: Any = None,
) -> list[ChangeFacts]:
    """Changes of the chain from ``tip`` down to (not including) ``stop``, newest first.

    Two git processes run side by side: one streams every commit's message
    in topological order (ownership, usage, reverts), the other diffs only
    the chain commits against their first parent (line counts). Diffing is
    the dearest part of the scan, and this way it overlaps the parsing
    instead of following it.
    """
    span = [tip, "^" + stop] if stop else [tip]
    stats = subprocess.Popen(
        [*git_base(repo), "log", "--first-parent", "--no-notes", "--numstat", "--diff-merges=first-parent",
         "--format=%x00%H", *span, "--"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )
    assert stats.stdout is not None
    stat_data: list[bytes] = []
    reader = threading.Thread(target=_read_all, args=(stats.stdout, stat_data), daemon=True)
    reader.start()
    proc = subprocess.Popen(
        [*git_base(repo), "log", "--topo-order", "--no-notes", f"--format={_FORMAT}", *span, "--"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    changes: list[ChangeFacts] = []
    side: dict[int, bytearray] = {}
    pending: dict[str, int] = {}  # commit -> index of the oldest chain commit proposing it as its own
    wanted = _Wanted()
    next_chain: str | None = tip
    parsed = 0
    try:
        for record in _records(proc.stdout):
            if len(record) < 5:
                continue
            sha, parent_text, ctime, author, message = record[:5]
            parents = parent_text.split()
            parsed += 1
            if progress is not None and not parsed % 4096:
                progress(parsed)
            ai, usage, refs = _message_facts(sha, author, message)
            if sha == next_chain:
                pending.pop(sha, None)
                index = len(changes)
                subject = commitmsg.subject_of(message)
                pr = commitmsg.pr_number(message)
                kind = "merge" if len(parents) > 1 else ("squash" if pr is not None else "direct")
                depth, inner = commitmsg.revert_depth(subject) if "evert" in subject or "eapply" in subject else (0, "")
                changes.append(ChangeFacts(
                    sha=sha, time=int(ctime or 0),
                    title=_title(kind, subject, message), pr=pr, kind=kind, ai=ai,
                    usage=pack_usage(usage) if usage is not None else None,
                    reverts=refs, revert_depth=depth, inner_title=inner if depth else None,
                ))
                next_chain = parents[0] if parents else None
                for parent in parents[1:]:
                    if pending.get(parent, -1) < index:
                        pending[parent] = index
                if wanted.by_length:
                    wanted.meet(sha, sha)
                if refs:
                    wanted.add(refs)
                continue
            owner_index = pending.pop(sha, None)
            if owner_index is None:  # unreachable from the chain we walk: cannot happen in topological order
                continue
            owner = changes[owner_index]
            owner.commits += 1
            if ai:
                owner.ai = True
            if usage is not None:
                owner.usage = pack_usage(_sum_packed(owner.usage, usage))
            if wanted.by_length:
                wanted.meet(sha, owner.sha)
            if refs:
                owner.reverts = (owner.reverts or []) + refs
                wanted.add(refs)
            side.setdefault(owner_index, bytearray()).extend(bytes.fromhex(sha))
            for parent in parents:
                if pending.get(parent, -1) < owner_index:
                    pending[parent] = owner_index
    finally:
        proc.stdout.close()
        err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
        code = proc.wait()
        reader.join()
        stats.wait()
    if code != 0:
        lines = err.strip().splitlines()
        raise CommitledgerError(f"git log failed: {lines[-1] if lines else code}")
    for facts in changes:
        if facts.usage is not None:
            facts.cost, facts.tokens = packed_cost_tokens(facts.usage)
    for index, blob in side.items():
        changes[index].side = bytes(blob)
    by_sha = {c.sha: c for c in changes}
    counting = _Lines(test_patterns)
    for sha, numstat in _numstat_blocks(stat_data[0] if stat_data else b""):
        facts = by_sha.get(sha)
        if facts is not None:
            facts.added, facts.deleted, facts.source_lines = counting.count(numstat)
    if counter is not None:
        counter.commits_parsed += parsed
        counter.changes_scanned += len(changes)
        counter.git_log_runs += 1
    return changes


def first_parent_until(
    repo: Path, tip: str, known: Callable[[str], bool], since_ts: int | None
) -> tuple[list[str], str | None, bool]:
    """Walk the first-parent chain from ``tip`` until a ``known`` commit or one older than ``since_ts``.

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
            if known(sha):
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
