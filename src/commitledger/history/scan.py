"""Read merged changes out of git: one streaming ``git log`` per uncached segment.

A *change* is one commit of the branch's first-parent chain together with
every commit it brought in (``first_parent..commit``): a merge commit owns
its side branch, a squash commit or direct push owns only itself. That set is
a property of the commit alone, so the facts computed here can be cached by
commit id and reused for any branch whose chain passes through the commit.

Why ``git log`` and not pygit2: measured on the 200k-commit benchmark
repository (``bench/history.py --pygit2``), reading every message in
topological order plus a diff with stats of each chain commit took pygit2
68 s, against 6.4 s for ``git log`` processes piped through one subprocess
each, split on a separator: pygit2 builds a Python object per commit, per
diff and per patch.

Ownership without holding the graph: ``--topo-order`` shows no commit before
all its children, so by the time a side commit is read, every child has
proposed the chain commit it belongs to, and the oldest proposal is the owner
(``p`` is in ``fp(M)..M`` of the oldest chain commit ``M`` that reaches it).
Only the frontier of proposals is kept in memory, never the whole history.
The default (date) order would save git ~0.25 s of 1.45 s on the benchmark,
but with clock skew a parent can come before its child, and owning commits
without that guarantee means holding every commit's parents (~60 MB at 200k
commits, against a 150 MB budget).

Line counts: diffing a commit against its first parent is the dearest thing
git does here (tree diffs and blob reads: ~3x the whole message stream), and
only AI-assisted changes need it, since the figures that use lines (tokens
per changed line, the baseline's cost per line) divide AI spend by the lines
it bought. So by default (``lines="ai"``) the scan feeds only AI-assisted
chain commits, as it finds them, to one ``git diff-tree --stdin`` running
beside the message stream; other changes keep ``None`` (not counted, which
is not zero). ``lines="all"`` feeds every chain commit.
"""

from __future__ import annotations

import functools
import math
import os
import re
import struct
import tempfile
from array import array
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import IO, Any, Callable, Iterator

from commitledger.ledger import commitmsg
from commitledger.git.run import GitError, failure, first_line, run, stream
from commitledger.ledger.authors import is_bot
from commitledger.ledger.pathkinds import path_kind
from commitledger.ledger.trailers import author_agent, clean_name, marker_details, marker_summary
from commitledger.ledger.usage import COUNT_FIELDS, Usage

# Substrings (lower case) any AI marker of trailers.ai_markers needs; a message
# with none of them skips the regular expressions (most commits of most repos).
_MARKER_HINTS = ("usage", "co-authored-by", "made-with", "assisted-by", "claude-session", "entire-checkpoint",
                 "generated with")
_HINTS = re.compile("|".join(map(re.escape, _MARKER_HINTS)))  # one C-level scan instead of one per hint
_RECORD = b"\x00\x01"
_RECORD_TEXT = _RECORD.decode()
# %at: a line priced later is priced at its commit's author time, as ``pr`` prices it (pr/signals/usage.py).
_FORMAT = "%x00%x01%H%x00%P%x00%ct%x00%at%x00%an%x00%ae%x00%B%x00"
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
    ``heads`` counts the wanted ids by their first 7 hex digits (the shortest
    abbreviation a claim may use): once any revert is pending every commit
    is offered, and one slice and one lookup turn nearly all of them away,
    where a lookup per abbreviation length in use cost ~4% of a scan.
    """

    def __init__(self) -> None:
        self.by_length: dict[int, dict[str, list[RevertRef]]] = {}
        self.heads: dict[str, int] = {}

    def add(self, refs: list[RevertRef]) -> None:
        for ref in refs:
            if ref.sha:
                wanted = self.by_length.setdefault(len(ref.sha), {})
                if ref.sha not in wanted:
                    wanted[ref.sha] = []
                    head = ref.sha[:_HEAD]
                    self.heads[head] = self.heads.get(head, 0) + 1
                wanted[ref.sha].append(ref)

    def meet(self, sha: str, owner: str) -> None:
        """Resolve the claims naming ``sha``: the caller checks ``sha[:_HEAD] in heads`` first (the hot path)."""
        emptied: list[int] = []
        for length, wanted in self.by_length.items():
            refs = wanted.pop(sha[:length], None)
            if refs is not None:
                for ref in refs:
                    ref.owner = owner
                head = sha[:_HEAD]
                self.heads[head] -= 1
                if not self.heads[head]:
                    del self.heads[head]
                if not wanted:
                    emptied.append(length)
        for length in emptied:
            del self.by_length[length]


_HEAD = 7  # commitmsg._REVERTS_COMMIT reads 7 to 40 hex digits


# Usage of a change, packed: the 8 counts (-1 = unknown), cost (NaN = unknown), flags (bit 0: cost
# complete; bit 1: some line was priced later, from its tokens, having no cost_usd in its trailer).
# 130k changes of Usage objects cost ~40 MB; packed they cost ~13 MB and load from the cache as they are.
_PACK = struct.Struct("<8qdB")
_NONE = -1
_MAX = 2**63 - 1  # a hostile trailer must not make the cache unwritable


def pack_usage(vec: list[Any]) -> bytes:
    counts = vec[:8]
    if None in counts or max(counts) > _MAX:  # the usual line has every count, each far below 2**63
        counts = [_NONE if v is None else min(v, _MAX) for v in counts]
    flags = (1 if vec[9] else 0) | (2 if len(vec) > 10 and vec[10] else 0)
    return _PACK.pack(*counts, math.nan if vec[8] is None else vec[8], flags)


def unpack_usage(blob: bytes) -> Usage:
    values = _PACK.unpack(blob)
    usage = Usage(*(None if v == _NONE else v for v in values[:8]),
                  cost_usd=None if math.isnan(values[8]) else values[8])
    usage.cost_complete = bool(values[9] & 1)
    usage.priced_later = 1 if values[9] & 2 else 0
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
    # Lines against the first parent; None when not counted (by default only AI-assisted changes are).
    added: int | None = None
    deleted: int | None = None
    source_lines: int | None = None  # added + deleted of code paths (pathkinds: not tests, docs, config or data)
    test_lines: int | None = None  # added + deleted of test paths (the configured test_patterns)
    doc_lines: int | None = None  # added + deleted of documentation; config/data lines are the rest of ``lines``
    commits: int = 1
    reverts: list[RevertRef] | None = None
    revert_depth: int = 0  # 'Revert "' wrappers on the subject (Reapply counts 2)
    inner_title: str | None = None  # the subject without those wrappers (None when depth is 0)
    side: bytes = b""  # binary ids of the other commits the change brought in
    cost: float | None = None  # AI cost from the usage (kept apart: the summary reads only these two)
    tokens: int = 0
    bot: bool = False  # not AI-assisted, and every non-merge commit is by a bot (ledger.authors)
    agents: tuple[str, ...] = ()  # what the AI markers and AI-Usage lines of its commits state
    models: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()  # marker names: ai-usage, co-authored-by, assisted-by, aider-author, ...

    @property
    def lines(self) -> int | None:
        return None if self.added is None or self.deleted is None else self.added + self.deleted

    @property
    def config_lines(self) -> int | None:
        """Lines of config files and data: what the other three kinds leave of ``lines``."""
        return config_lines(self.lines, self.source_lines, self.test_lines, self.doc_lines)

    def usage_object(self) -> Usage | None:
        return unpack_usage(self.usage) if self.usage is not None else None


def config_lines(lines: int | None, code: int | None, tests: int | None, docs: int | None) -> int | None:
    """Every changed path is code, tests, docs or config (``pathkinds``): config is the rest, None when any is."""
    if lines is None or code is None or tests is None or docs is None:
        return None
    return lines - code - tests - docs


# --- AI-Usage lines, fast -----------------------------------------------------------------

_DEC = re.compile(r"[0-9]{1,12}(\.[0-9]{1,12})?")
# trailers._USAGE_LINE without its lazy ".*?[ \t]*$" tail (5x slower in CPython's engine); the
# surrounding blanks it trims are dropped by split() anyway. Only for messages that are not ASCII:
# case-insensitive matching there is not the same as lower() (e.g. "ı" matches "i").
_LINE = re.compile(r"^[ \t]*ai-usage[ \t]*:([^\n]*)", re.IGNORECASE | re.MULTILINE)
# The fields we read, as whole whitespace-separated tokens cut at their first "=" (what split() and
# partition("=") do), found in C instead of a Python loop over every token.
_FIELD = re.compile(r"(?<!\S)(agent|model|cost_usd|" + "|".join(COUNT_FIELDS) + r")=(\S*)")
# The line as ``trailers.format_fields`` writes it (fields in that order, each at most once, single spaces,
# numbers that parse): one C-level match instead of a Python loop over its tokens. Whatever does not
# match goes through the general loop below, so this only decides how fast a line is read, never what.
_CANONICAL = re.compile(
    r"[ \t]*agent=(\S+) model=(\S+)" + "".join(f"(?: {name}=([0-9]{{1,18}}))?" for name in COUNT_FIELDS)
    + r"(?: cost_usd=([0-9]{1,12}(?:\.[0-9]{1,12})?))?[ \t\r]*"
)
# The line as the hook writes it, every field present: a third faster to match than ``_CANONICAL``, whose
# optional fields then need a check for the ones missing.
_COMPLETE = re.compile(
    r"[ \t]*agent=(\S+) model=(\S+)" + "".join(f" {name}=([0-9]{{1,18}})" for name in COUNT_FIELDS)
    + r" cost_usd=([0-9]{1,12}(?:\.[0-9]{1,12})?)[ \t\r]*"
)
# Where each field goes: the 8 counts, then cost; agent and model only need to be non-empty.
_SLOT = {**{name: index for index, name in enumerate(COUNT_FIELDS)}, "cost_usd": 8, "agent": 9, "model": 10}


def _usage_bodies(message: str, lower: str) -> Iterator[str]:
    """The lowered text after ``AI-Usage:`` of each line that starts with it (``_LINE``'s matches).

    For ASCII messages (nearly all) ``str.find`` on the lowered text finds the
    candidates at memchr speed; a case-insensitive multi-line regular
    expression tries every position of every message in Python's engine.
    """
    if not message.isascii():
        for match in _LINE.finditer(message):
            yield match.group(1).lower()
        return
    size = len(lower)
    at = lower.find("ai-usage")
    while at >= 0:
        start = lower.rfind("\n", 0, at) + 1
        end = at + 8
        if not lower[start:at].strip(" \t"):
            while end < size and lower[end] in " \t":
                end += 1
            if end < size and lower[end] == ":":
                stop = lower.find("\n", end)
                stop = size if stop < 0 else stop
                yield lower[end + 1 : stop]
                end = stop
        at = lower.find("ai-usage", end)


def message_usage(message: str, lower: str | None = None,
                  collected: list[tuple[str, str]] | None = None, when: str = "") -> list[Any] | None:
    """The summed usage vector of every AI-Usage line in a message, or None when there is none.

    Same grammar as ``trailers.parse_usage_lines`` (a property test in
    tests/test_history_scan.py checks both agree on arbitrary text), without
    a lazy regular expression, a ``UsageLine`` and a ``Usage`` per line:
    history reads every commit of the repository, and this is its hottest
    loop. ``lower`` is ``message.lower()`` when the caller has it already;
    ``collected`` gets the (agent, model) of each line read (lower case);
    ``when`` is the commit's author time (Unix seconds, as git prints it), at
    which a line without ``cost_usd`` is priced later (now when empty).
    """
    total: list[Any] | None = None
    for body in _usage_bodies(message, message.lower() if lower is None else lower):
        # Keys are case-insensitive; lowering the values too changes nothing we read (digits, non-empty names).
        complete = _COMPLETE.fullmatch(body)
        if complete is not None:  # every count and the cost: known, so complete and not priced later
            found = complete.groups()
            vec: list[Any] = [*map(int, found[2:10]), float(found[10]), True, 0]
            if collected is not None:
                collected.append((found[0], found[1]))
            if total is None:
                total = vec
            else:
                add_vectors(total, vec)
            continue
        canonical = _CANONICAL.fullmatch(body)
        if canonical is not None:
            found = canonical.groups()
            vec = [None if v is None else int(v) for v in found[2:10]]
            vec.append(None if found[10] is None else float(found[10]))
            names = [found[0], found[1]]
        else:
            vec = [None] * 9
            names = ["", ""]
            for key, value in _FIELD.findall(body):  # a repeated key: the last one wins, as in parse_fields
                slot = _SLOT[key]
                if slot < 8:
                    vec[slot] = int(value) if len(value) <= 18 and value.isascii() and value.isdigit() else None
                elif slot == 8:
                    vec[8] = float(value) if _DEC.fullmatch(value) else None
                else:
                    names[slot - 9] = value
            if not (names[0] and names[1]):
                continue
        if collected is not None:
            collected.append((names[0], names[1]))
        later = 0
        if vec[8] is None and any(vec[4:8]):
            vec[8] = _price_later(names[0], names[1], vec, when)
            later = 0 if vec[8] is None else 1
        vec += [not (vec[8] is None and any(vec[4:8])), later]
        if total is None:
            total = vec
        else:
            add_vectors(total, vec)
    return total


def _price_later(agent: str, model: str, vec: list[Any], when: str = "") -> float | None:
    """A line with tokens and no cost_usd, priced from its tokens at its commit's time (``pricing.price_later``)."""
    from commitledger.ledger.pricing import default_table, split_cost

    at = float(when) if when.isdigit() else None
    return split_cost(default_table(), model, vec[4] or 0, vec[5] or 0, vec[6] or 0, vec[7] or 0, vec[2], at, agent)


def _sum_packed(blob: bytes | None, vec: list[Any]) -> list[Any]:
    """A packed usage plus a vector, as a vector (changes stay packed while the scan runs: less memory)."""
    if blob is None:
        return vec
    values = _PACK.unpack(blob)
    total: list[Any] = [None if v == _NONE else v for v in values[:8]]
    total += [None if math.isnan(values[8]) else values[8], bool(values[9] & 1), 1 if values[9] & 2 else 0]
    add_vectors(total, vec)
    return total


def add_vectors(total: list[Any], other: list[Any]) -> None:
    """``total += other`` with Usage's rules: unknown + known = known, unknown + unknown = unknown."""
    for i, b in enumerate(other[:9]):  # faster than indexing by range(9); a map of the known case was slower still
        if b is not None:
            a = total[i]
            total[i] = b if a is None else a + b
    total[9] = total[9] and other[9]
    if len(other) > 10:
        if len(total) > 10:
            total[10] += other[10]
        else:
            total.append(other[10])


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


# (added, deleted, code, tests, docs) of one commit against its first parent; config/data lines are the
# rest of added + deleted (``pathkinds.path_kind`` puts every path in one of the four kinds).
LineCounts = tuple[int, int, int, int, int]
_KIND_SLOT = {"code": 0, "tests": 1, "docs": 2, "config": 3}


class _Lines:
    """Numstat totals with a per-path memo of the test/doc classification."""

    def __init__(self, test_patterns: tuple[str, ...]) -> None:
        self.patterns = test_patterns
        self.memo: dict[str, int] = {}  # numstat path -> its kind's slot

    def count(self, text: str) -> LineCounts:
        added = deleted = 0
        kinds = [0, 0, 0, 0]  # code, tests, docs, config
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
            slot = self.memo.get(path)
            if slot is None:
                slot = _KIND_SLOT[path_kind(_numstat_path(path), self.patterns)]
                if len(self.memo) < 200_000:
                    self.memo[path] = slot
            kinds[slot] += a + d
        return added, deleted, kinds[0], kinds[1], kinds[2]


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


MarkerInfo = tuple[list[str] | tuple[str, ...], list[str] | tuple[str, ...], list[str] | tuple[str, ...]]
_USAGE_EVIDENCE = ("ai-usage",)
_clean = functools.lru_cache(maxsize=4096)(clean_name)  # few distinct agent and model names per history
_OTHER_HINTS = re.compile("|".join(map(re.escape, _MARKER_HINTS[1:])))  # every marker but AI-Usage lines


@functools.lru_cache(maxsize=1024)
def _usage_names(names: tuple[tuple[str, str], ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(agents, models) the (agent, model) of a message's AI-Usage lines name, cleaned, each once.

    A history repeats a handful of combinations across most of its commits,
    so each is worked out once.
    """
    agents = tuple(dict.fromkeys(_clean(agent) for agent, _ in names))
    models = tuple(dict.fromkeys(_clean(model) for _, model in names))
    return agents, models


def _markers(message: str, author: str, email: str) -> MarkerInfo | None:
    """(agents, models, evidence) of the AI markers other than AI-Usage lines; None when there is none."""
    markers = [m for m in marker_details(message, author, email) if m.evidence != "ai-usage"]
    if not markers:
        return None
    agents, models, evidence = marker_summary(markers)
    return tuple(agents), tuple(models), tuple(evidence)


# The same few marker lines ("Co-Authored-By: Claude <noreply@anthropic.com>") close thousands of commits.
_line_markers = functools.lru_cache(maxsize=1024)(_markers)


def _marker_lines(message: str, lower: str) -> str:
    """The lines of an ASCII message that hold a marker hint, in order: all ``marker_details`` reads.

    Each of its patterns matches within one line (anchored to the line, or
    holding no line break) and needs its hint (``_OTHER_HINTS``); for ASCII
    text case-insensitive matching is ``lower()``, and ``lower`` has the
    message's offsets. So these lines give the same markers, in the same
    order, as the whole message, and as a key they repeat from commit to
    commit where messages never do.
    """
    lines: list[str] = []
    end = 0
    for hint in _OTHER_HINTS.finditer(lower):
        if hint.start() < end:
            continue  # another hint on a line already taken
        start = lower.rfind("\n", 0, hint.start()) + 1
        end = lower.find("\n", hint.end())
        end = len(lower) if end < 0 else end
        lines.append(message[start:end])
    return "\n".join(lines)


def _message_facts(
    sha: str, author: str, email: str, message: str, when: str = ""
) -> tuple[bool, list[Any] | None, list[RevertRef] | None, MarkerInfo | None]:
    usage: list[Any] | None = None
    info: MarkerInfo | None = None
    lower = message.lower()
    if "usage" in lower:
        names: list[tuple[str, str]] = []
        usage = message_usage(message, lower, names, when)
        if usage is not None:
            agents, models = _usage_names(tuple(names))
            info = (agents, models, _USAGE_EVIDENCE)
    # A commit with AI-Usage lines is AI-assisted and its lines name agent and model: other markers are not
    # looked for (as before; most commits of an agent-heavy history have both).
    if usage is None and (_OTHER_HINTS.search(lower) is not None or author.endswith(")") or (
            email.endswith("noreply.github.com") and author_agent(email))):
        if message.isascii():
            info = _line_markers(_marker_lines(message, lower), author, email)
        else:
            info = _markers(message, author, email)
    ai = usage is not None or info is not None
    refs: list[RevertRef] | None = None
    if "revert" in lower:
        refs = [RevertRef(sha, sha=s) for s in commitmsg.reverted_shas(message)]
        refs.extend(RevertRef(sha, pr=n) for n in commitmsg.reverted_prs(message))
    return ai, usage, refs or None, info


def _merge_info(facts: ChangeFacts, info: MarkerInfo) -> None:
    agents, models, evidence = info
    if not facts.evidence:  # the common case: the change's first AI evidence
        facts.agents, facts.models, facts.evidence = tuple(agents), tuple(models), tuple(evidence)
        return
    facts.agents = tuple(dict.fromkeys(facts.agents + tuple(agents)))
    facts.models = tuple(dict.fromkeys(facts.models + tuple(models)))
    facts.evidence = tuple(dict.fromkeys(facts.evidence + tuple(evidence)))


def _records(handle: IO[bytes]) -> Iterator[list[str]]:
    """Split the raw ``git log`` stream into [sha, parents, ctime, atime, author, email, message, ...] lists.

    Each chunk is decoded once, up to its last record separator, not record
    by record: UTF-8 resynchronises at every ASCII byte, so with "replace"
    the text is the same as decoding each record alone, for one call a
    megabyte instead of one a commit.
    """
    buffer = b""
    while True:
        chunk = handle.read(1 << 20)
        if not chunk:
            break
        data = buffer + chunk
        cut = data.rfind(_RECORD)
        if cut < 0:
            buffer = data
            continue
        buffer = data[cut + len(_RECORD) :]
        for part in data[:cut].decode("utf-8", "replace").split(_RECORD_TEXT):
            if part:
                yield part.split("\x00", 7)
    if buffer:
        yield buffer.decode("utf-8", "replace").split("\x00", 7)


@dataclass(slots=True)
class ScanCounter:
    """Observable work done by a scan: tests prove the cache by these counts, not by timing."""

    commits_parsed: int = 0
    changes_scanned: int = 0
    changes_cached: int = 0
    git_log_runs: int = 0
    lines_counted: int = 0  # chain commits the scan diffed for their line counts
    lines_filled: int = 0  # changes counted after the walk (``history.fill_lines``)
    # Chain commits whose lines git could not count -> git's reason (they stay None, and are never cached)
    line_failures: dict[str, str] = field(default_factory=dict)


# A commit id alone on its line: how ``git diff-tree --stdin`` starts each commit's output (numstat lines have tabs).
_DIFF_HEADER = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$", re.MULTILINE)
LINE_MODES = ("ai", "all")


class _DiffTree:
    """One ``git diff-tree --stdin`` process: fed without blocking, printing to an unlinked temporary file."""

    def __init__(self, repo: Path) -> None:
        self.output = tempfile.TemporaryFile()
        # -M: plumbing ignores diff.renames, and the counts must equal git log's (renames are not rewrites).
        try:
            self.git = stream(repo, "diff-tree", "--stdin", "-r", "--root", "-M", "--numstat", "--always",
                              stdin=True, stdout=self.output)
        except BaseException:
            self.output.close()
            raise
        self.proc = self.git.proc
        assert self.proc.stdin is not None
        self.fd = self.proc.stdin.fileno()
        os.set_blocking(self.fd, False)
        self.queue = bytearray()
        self.due = 4096  # queue length at which the next write is tried
        self.seqs = array("q")  # LineCounter's numbers of the commits fed here, in the order git prints them
        self.broken = False

    def push(self) -> None:
        """Write what the pipe takes now; the rest waits for the next push (git is busy, we are not).

        When the pipe is full, the next try waits for another 4 kB of queue:
        trying at every commit raised (and caught) an exception per commit,
        4% of a cold run.
        """
        if self.broken:
            self.queue.clear()
            return
        try:
            written = os.write(self.fd, self.queue)
        except BlockingIOError:
            written = 0
        except OSError:
            self.broken = True  # git died: finish() reports it
            self.queue.clear()
            return
        del self.queue[:written]
        self.due = len(self.queue) + 4096

    def finish(self) -> tuple[bytes, GitError | None]:
        """What git printed, and its failure (the output then holds the commits diffed before it)."""
        assert self.proc.stdin is not None
        os.set_blocking(self.fd, True)
        try:
            if not self.broken and self.queue:
                view = memoryview(self.queue)
                while view:
                    view = view[os.write(self.fd, view):]
                view.release()
            self.proc.stdin.close()
        except OSError:
            self.broken = True
        code = self.proc.wait()
        err = self.git.stderr_text()
        self.output.seek(0)
        data = self.output.read()
        self.close()
        if code != 0 or self.broken:
            return data, failure(["diff-tree"], code, err)
        return data, None

    def abort(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        except OSError:
            pass
        self.proc.wait()
        self.close()

    def close(self) -> None:
        self.git.errors.close()
        self.output.close()


class LineCounter:
    """``git diff-tree --stdin`` diffing, beside the caller, each commit fed to it against its first parent.

    Fed while the message stream is parsed, so git's diffing (the dearest part
    of a cold run) overlaps the parsing instead of following it. Neither side
    waits for the other: commits are written to git's stdin without blocking
    (what does not fit in the pipe waits in a buffer, retried at the next
    ``send``), and git writes to an unlinked temporary file rather than a
    pipe, so no reading thread competes with the parser for the GIL (and git,
    seeing a regular file, does not flush after every commit). ``--always``
    prints the id of a commit with an empty diff too, so "zero lines" is told
    apart from "not counted", and each git prints its commits in the order
    it was fed them: results are matched to commits by position (``deliver``),
    not through a dictionary of 76k ids (~25 MB at 100k changes).

    With two or more CPUs the commits go to two processes in alternate blocks
    of ``BLOCK`` consecutive chain commits: consecutive commits share most of
    their trees, so blocks keep git's object caches warm (same total CPU as
    one process, measured), and diffing gets two of the four busy processes'
    share of the machine instead of one of three, which is what a cold run
    waits for.
    """

    BLOCK = 1024

    def __init__(self, repo: Path, processes: int | None = None) -> None:
        count = processes if processes is not None else (2 if (os.cpu_count() or 1) > 1 else 1)
        self.workers: list[_DiffTree] = []
        try:
            for _ in range(max(1, count)):
                self.workers.append(_DiffTree(repo))
        except BaseException:
            self.abort()
            raise
        self.current = self.workers[0]
        self.fed = 0
        # Binary ids of each commit fed and of its first parent (20 zero bytes: a root), to diff again one by
        # one when git fails: 40 bytes a commit instead of two strings and a tuple.
        self.sent = bytearray()

    def send(self, sha: str, first_parent: str | None) -> int:
        """Queue a chain commit (``first_parent`` None for a root commit: everything it holds was added);
        returns its number (0, 1, ...), which ``deliver`` hands back with its counts."""
        worker = self.current
        worker.queue += (f"{sha} {first_parent}\n" if first_parent else f"{sha}\n").encode()
        self.sent += bytes.fromhex(sha) + (bytes.fromhex(first_parent) if first_parent else _ROOT)
        seq = self.fed
        worker.seqs.append(seq)
        self.fed += 1
        if len(worker.queue) >= worker.due:
            worker.push()
        if not self.fed % self.BLOCK and len(self.workers) > 1:
            self.current = self.workers[(self.fed // self.BLOCK) % len(self.workers)]
        return seq

    def sha_of(self, seq: int) -> str:
        return self.sent[seq * 40 : seq * 40 + 20].hex()

    def finish(self) -> list[tuple[bytes, GitError | None]]:
        """What each git printed once it had diffed all it was fed, with its failure if it failed."""
        outputs: list[tuple[bytes, GitError | None]] = []
        try:
            for worker in self.workers:
                outputs.append(worker.finish())
        except BaseException:
            self.abort()
            raise
        return outputs

    def deliver(self, repo: Path, counting: _Lines,
                sink: Callable[[int, LineCounts], None]) -> dict[str, str]:
        """``sink(number, counts)`` for every commit fed that git counted; returns the others, with git's reason.

        When a ``git diff-tree`` fails (an object it cannot read: a partial
        clone without its promisor, a damaged mirror), what it printed before
        stands, less its last commit (maybe cut short), and every commit it
        did not print is diffed again on its own: one unreadable object costs
        the figures of the commits that need it, never the others.
        """
        retry: list[int] = []
        for worker, (data, error) in zip(self.workers, self.finish()):
            done = 0
            pending: tuple[int, LineCounts] | None = None
            for sha, counts in diff_counts(data, counting):
                if done >= len(worker.seqs) or self.sha_of(worker.seqs[done]) != sha:
                    error = error or GitError("git diff-tree printed a commit it was not fed", 0, sha)
                    break
                if pending is not None:
                    sink(*pending)
                pending = (worker.seqs[done], counts)
                done += 1
            if error is None:
                if pending is not None:
                    sink(*pending)
                if done < len(worker.seqs):  # git said it succeeded yet left commits out: count those again
                    retry.extend(worker.seqs[done:])
            else:
                retry.extend(worker.seqs[done - 1 if pending is not None else done :])
            worker.seqs = array("q")
            del data
        failures: dict[str, str] = {}
        for seq in retry:
            sha = self.sha_of(seq)
            raw = self.sent[seq * 40 + 20 : seq * 40 + 40]
            try:
                sink(seq, count_one(repo, sha, None if raw == _ROOT else raw.hex(), counting))
            except GitError as exc:
                failures[sha] = exc.detail or str(exc)
        return failures

    def counts(self, repo: Path, counting: _Lines) -> tuple[dict[str, LineCounts], dict[str, str]]:
        """(counts by commit, failures): ``deliver`` into a dictionary, for callers with few commits."""
        counts: dict[str, LineCounts] = {}

        def keep(seq: int, found: LineCounts) -> None:
            counts[self.sha_of(seq)] = found

        failures = self.deliver(repo, counting, keep)
        return counts, failures

    def abort(self) -> None:
        """Stop git after a failure elsewhere: no stray process, no open pipe."""
        for worker in self.workers:
            if worker.proc.returncode is None:
                worker.abort()


_ROOT = bytes(20)


def diff_counts(data: bytes, counting: _Lines) -> Iterator[tuple[str, LineCounts]]:
    """(commit, (added, deleted, code, tests, docs)) of each commit in ``LineCounter`` output.

    The headers are found lazily by a regular expression, so the decoded
    text is the only copy of the output held (no list of its lines).
    """
    text = data.decode("utf-8", "replace")
    sha: str | None = None
    at = 0
    for match in _DIFF_HEADER.finditer(text):
        if sha is not None:
            yield sha, counting.count(text[at : match.start()])
        sha, at = match.group(), match.end()
    if sha is not None:
        yield sha, counting.count(text[at:])


def count_one(repo: Path, sha: str, parent: str | None, counting: _Lines) -> LineCounts:
    """One commit against its first parent, in its own git: raises ``GitError`` when git cannot."""
    span = [parent, sha] if parent else ["--root", sha]
    proc = run(repo, "diff-tree", "-r", "-M", "--numstat", *span, ok=(0, 1, 128))
    if proc.returncode != 0:
        raise GitError(f"git diff-tree failed for {sha}", proc.returncode, object_reason(proc.stderr))
    return counting.count(proc.stdout)


_OBJECT_ID = re.compile(r"\b[0-9a-f]{40}(?:[0-9a-f]{24})?\b")


def object_reason(stderr: str) -> str:
    """git's line that names the object it could not read ("could not fetch <id> from promisor remote"),
    else its first line: the warning must say which object, not only that the remote was unreachable."""
    for line in stderr.splitlines():
        if _OBJECT_ID.search(line):
            return line.strip().removeprefix("fatal: ").removeprefix("error: ")[:300]
    return first_line(stderr) or "git could not read an object"


def count_lines(
    repo: Path, commits: list[tuple[str, str | None]], test_patterns: tuple[str, ...]
) -> tuple[dict[str, LineCounts], dict[str, str]]:
    """``LineCounts`` of chain commits given as (commit, first parent), and those git could not diff."""
    if not commits:
        return {}, {}
    counter = LineCounter(repo)
    try:
        for sha, parent in commits:
            counter.send(sha, parent)
    except BaseException:
        counter.abort()
        raise
    return counter.counts(repo, _Lines(test_patterns))


def scan_segment(
    repo: Path,
    tip: str,
    stop: str | None,
    test_patterns: tuple[str, ...],
    counter: ScanCounter | None = None,
    progress: Any = None,
    lines: str = "ai",
    bots: tuple[str, ...] = (),
) -> list[ChangeFacts]:
    """Changes of the chain from ``tip`` down to (not including) ``stop``, newest first.

    One ``git log --topo-order`` streams every commit's message (ownership,
    usage, reverts). Line counts come from a ``LineCounter`` fed while that
    stream is parsed: with ``lines="ai"`` only the AI-assisted chain commits
    (a merge as soon as one of its side commits shows AI assistance), with
    ``lines="all"`` every chain commit.
    """
    if lines not in LINE_MODES:
        raise ValueError(f"lines must be one of {LINE_MODES}, not {lines!r}")
    every = lines == "all"
    span = [tip, "^" + stop] if stop else [tip]
    diff = LineCounter(repo)
    try:
        log = stream(repo, "log", "--topo-order", "--no-notes", f"--format={_FORMAT}", *span, "--")
    except BaseException:
        diff.abort()
        raise
    assert log.stdout is not None
    changes: list[ChangeFacts] = []
    side: dict[int, bytearray] = {}
    pending: dict[str, int] = {}  # commit -> index of the oldest chain commit proposing it as its own
    unfed: dict[int, str] = {}  # merge changes not (yet) AI-assisted -> their first parent, to feed if they become so
    wanted = _Wanted()
    who = bytearray()  # per change: bit 0 a bot's commit seen, bit 1 a human's (1 byte, not two sets of ints)
    bot_memo: dict[tuple[str, str], bool] = {}
    fed_index = array("q")  # LineCounter number -> index of the change it counts
    # The usage being summed, of change ``open_index``, unpacked until another change's usage comes and packed
    # then: topological order brings a merge's side commits together, and unpacking and repacking the sum at
    # every side commit cost ~7% of a scan. Packing is exact (counts only grow, so clamping once at the end
    # clamps as every step did), and the sums are the same additions in the same order.
    open_index = -1
    open_usage: list[Any] | None = None
    next_chain: str | None = tip
    parsed = 0
    failed = True
    try:
        for record in _records(log.stdout):
            if len(record) < 7:
                continue
            sha, parent_text, ctime, atime, author, email, message = record[:7]
            parents = parent_text.split()
            parsed += 1
            if progress is not None and not parsed % 4096:
                progress(parsed)
            ai, usage, refs, info = _message_facts(sha, author, email, message, atime)
            # Bots: a change is a bot's when all its non-merge commits are (the merge commit is whoever clicked).
            if len(parents) > 1:
                botty = None
            elif ai:
                botty = False
            else:
                botty = bot_memo.get((author, email))
                if botty is None:  # a history has few authors: one check each
                    botty = bot_memo[(author, email)] = is_bot(author, email, bots)
            if sha == next_chain:
                pending.pop(sha, None)
                index = len(changes)
                subject = commitmsg.subject_of(message)
                pr = commitmsg.subject_pr(subject)
                kind = "merge" if len(parents) > 1 else ("squash" if pr is not None else "direct")
                # Positional, the rest set only when not the default: keywords made this call twice as dear.
                facts = ChangeFacts(sha, int(ctime or 0), _title(kind, subject, message), pr, kind, ai, None)
                changes.append(facts)
                if refs:
                    facts.reverts = refs
                if "evert" in subject or "eapply" in subject:
                    facts.revert_depth, inner = commitmsg.revert_depth(subject)
                    if facts.revert_depth:
                        facts.inner_title = inner
                if usage is not None:
                    if open_usage is not None:
                        changes[open_index].usage = pack_usage(open_usage)
                    open_index, open_usage = index, usage
                if info is not None:
                    _merge_info(facts, info)
                who.append(0 if botty is None else 1 if botty else 2)
                if ai or every:
                    diff.send(sha, parents[0] if parents else None)
                    fed_index.append(index)
                elif len(parents) > 1:
                    unfed[index] = parents[0]
                next_chain = parents[0] if parents else None
                for parent in parents[1:]:
                    if pending.get(parent, -1) < index:
                        pending[parent] = index
                if wanted.heads and sha[:_HEAD] in wanted.heads:
                    wanted.meet(sha, sha)
                if refs:
                    wanted.add(refs)
                continue
            owner_index = pending.pop(sha, None)
            if owner_index is None:  # unreachable from the chain we walk: cannot happen in topological order
                continue
            owner = changes[owner_index]
            owner.commits += 1
            if info is not None:
                _merge_info(owner, info)
            if botty is not None:
                who[owner_index] |= 1 if botty else 2
            if ai and not owner.ai:
                owner.ai = True
                first_parent = unfed.pop(owner_index, None)
                if first_parent is not None:
                    diff.send(owner.sha, first_parent)
                    fed_index.append(owner_index)
            if usage is not None:
                if owner_index == open_index:
                    assert open_usage is not None
                    add_vectors(open_usage, usage)
                else:
                    if open_usage is not None:
                        changes[open_index].usage = pack_usage(open_usage)
                    open_index, open_usage = owner_index, _sum_packed(owner.usage, usage)
            if wanted.heads and sha[:_HEAD] in wanted.heads:
                wanted.meet(sha, owner.sha)
            if refs:
                owner.reverts = (owner.reverts or []) + refs
                wanted.add(refs)
            brought = side.get(owner_index)
            if brought is None:  # not setdefault: that would build a bytearray at every side commit
                brought = side[owner_index] = bytearray()
            brought.extend(bytes.fromhex(sha))
            for parent in parents:
                if pending.get(parent, -1) < owner_index:
                    pending[parent] = owner_index
        if open_usage is not None:
            changes[open_index].usage = pack_usage(open_usage)
        failed = False
    finally:
        if failed:
            log.stop()
        try:
            log.close()
        except GitError:
            diff.abort()
            raise
        finally:
            if failed:
                diff.abort()

    def record(seq: int, counts: LineCounts) -> None:
        facts = changes[fed_index[seq]]
        facts.added, facts.deleted, facts.source_lines, facts.test_lines, facts.doc_lines = counts

    failures = diff.deliver(repo, _Lines(test_patterns), record)
    for index, facts in enumerate(changes):
        if facts.usage is not None:
            facts.cost, facts.tokens = packed_cost_tokens(facts.usage)
        facts.bot = not facts.ai and who[index] == 1
    for index, blob in side.items():
        changes[index].side = bytes(blob)
    if counter is not None:
        counter.commits_parsed += parsed
        counter.changes_scanned += len(changes)
        counter.git_log_runs += 1
        counter.lines_counted += diff.fed
        counter.line_failures.update(failures)
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
    seen: list[str] = []
    stop: str | None = None
    by_age = False
    with stream(repo, "rev-list", "--first-parent", "--timestamp", tip, "--", text=True) as walk:
        assert walk.stdout is not None
        for line in walk.stdout:
            stamp, _, sha = line.strip().partition(" ")
            if known(sha):
                stop = sha
                break
            if since_ts is not None and int(stamp) < since_ts:
                stop, by_age = sha, True
                break
            seen.append(sha)
        if stop is not None:
            walk.stop()  # the answer is known: the rest of the history is not read
    return seen, stop, by_age
