"""Per-change facts, stored by runs of the chain in ``<git common dir>/commitledger/cache.sqlite``.

What is cached: the facts of each change (``first_parent..commit``) as
``history.scan`` read them. They never change for a given commit id, so they
stay valid forever and for every branch whose chain passes through them.
Reverts are *not* cached: they depend on the later history of whichever
branch is read, and resolving them from the cached facts is cheap.

How: a row per *segment*, a run of at most ``CHUNK`` consecutive chain
commits, keyed by its newest commit id, with the facts as packed columns
(``array``/``bytes`` in a ``marshal`` blob). A warm run over 130k changes
then reads ~30 blobs instead of 130k rows: per-row fetching alone cost more
than the whole budget (0.3 s per 100k rows), while the columns load in
milliseconds. Titles and full usage counts sit in a second blob, read only
for the rows a renderer shows.

Line counts are -1 where the scan did not count them (by default it counts
only AI-assisted changes, see ``history.scan``). Knowing more lines never
makes a row wrong, so a run that needs them (``--lines all``, a change that
git-ai's notes mark as AI-assisted) counts the missing ones and rewrites
those segments' columns in place (``update_lines``).

The file is shared with other commitledger tables (the ``pr`` cache): this
module only creates and touches its own table, in WAL mode with a busy
timeout so concurrent runs wait instead of failing. A cache that cannot be
opened or written is skipped: it only makes runs faster.
"""

from __future__ import annotations

import bisect
import hashlib
import marshal
import math
import sqlite3
from array import array
from pathlib import Path
from typing import Any, Callable, Iterator

from commitledger.history.scan import ChangeFacts, RevertRef

# Bump when the meaning of a column or of the scan changes: older rows are then ignored.
FACTS_VERSION = "8"  # 5: -1 line counts mean "not counted"; 6: bot column, markers' agents/models/evidence;
# 7: test and doc lines, priced-later column; 8: agents/models/evidence as shared tuples (one object per combination)
CHUNK = 4096
_TABLE = "history_segment"
KINDS = ("direct", "squash", "merge")
_KIND_CODE = {name: code for code, name in enumerate(KINDS)}
_NO_USAGE = b""
_UNCOUNTED = -1  # a line count the scan did not compute


def facts_version(test_patterns: tuple[str, ...], bots: tuple[str, ...] = ()) -> str:
    """Source-line counts depend on the test patterns, the bot column on the configured bots: both are in the version."""
    digest = hashlib.sha1("\n".join(test_patterns).encode() + b"\0" + "\n".join(bots).encode()).hexdigest()[:12]
    return f"{FACTS_VERSION}:{digest}"


class Segment:
    """Consecutive chain commits, newest first, down to (not including) ``stop``, as columns."""

    __slots__ = ("tip", "stop", "n", "sha", "time", "pr", "cost", "tokens", "added", "deleted", "source", "tests", "docs",
                 "commits", "ai", "kind", "has_usage", "depth", "sparse", "bot", "later", "info", "_titles", "_detail", "_loader")

    def __init__(self) -> None:
        self._titles: list[str] | None = None
        self._detail: tuple[list[bytes], dict[int, bytes]] | None = None
        self._loader: Callable[[str], tuple[list[str], list[bytes], dict[int, bytes]]] | None = None

    @classmethod
    def from_changes(cls, changes: list[ChangeFacts], stop: str | None) -> Segment:
        seg = cls()
        seg.tip, seg.stop, seg.n = changes[0].sha, stop, len(changes)
        seg.sha = b"".join(bytes.fromhex(c.sha) for c in changes)
        seg.time = array("q", (c.time for c in changes))
        seg.pr = array("q", (-1 if c.pr is None else c.pr for c in changes))
        seg.cost = array("d", (math.nan if c.cost is None else c.cost for c in changes))
        seg.tokens = array("q", (c.tokens for c in changes))
        seg.added = array("q", (_UNCOUNTED if c.added is None else c.added for c in changes))
        seg.deleted = array("q", (_UNCOUNTED if c.deleted is None else c.deleted for c in changes))
        seg.source = array("q", (_UNCOUNTED if c.source_lines is None else c.source_lines for c in changes))
        seg.tests = array("q", (_UNCOUNTED if c.test_lines is None else c.test_lines for c in changes))
        seg.docs = array("q", (_UNCOUNTED if c.doc_lines is None else c.doc_lines for c in changes))
        seg.commits = array("q", (c.commits for c in changes))
        seg.ai = bytes(int(bool(c.ai)) for c in changes)
        seg.kind = bytes(_KIND_CODE[c.kind] for c in changes)
        seg.has_usage = bytes(int(c.usage is not None) for c in changes)
        seg.depth = bytes(min(c.revert_depth, 255) for c in changes)
        seg.bot = bytes(int(c.bot) for c in changes)
        seg.later = bytes(int(bool(c.usage) and bool(c.usage[-1] & 2)) for c in changes)  # some line priced later
        # What AI markers state (agents, models, evidence): only AI-assisted rows have any. A repository
        # has a few dozen combinations, each one shared tuple: marshal then stores the others as
        # references, and a warm run loads 76k rows of them in 8 ms instead of 135 ms.
        combos: dict[tuple[tuple[str, ...], ...], tuple[tuple[str, ...], ...]] = {}
        seg.info = {}
        for i, c in enumerate(changes):
            if c.agents or c.models or c.evidence:
                combo = (tuple(c.agents), tuple(c.models), tuple(c.evidence))
                seg.info[i] = combos.setdefault(combo, combo)
        seg.sparse = {
            i: ([r.as_list() for r in c.reverts] if c.reverts else None, c.inner_title)
            for i, c in enumerate(changes)
            if c.reverts or c.revert_depth
        }
        seg._titles = [c.title for c in changes]
        seg._detail = ([c.usage or _NO_USAGE for c in changes], {i: c.side for i, c in enumerate(changes) if c.side})
        return seg

    def core_blob(self) -> bytes:
        return marshal.dumps((
            self.n, self.sha, self.time.tobytes(), self.pr.tobytes(), self.cost.tobytes(), self.tokens.tobytes(),
            self.added.tobytes(), self.deleted.tobytes(), self.source.tobytes(), self.tests.tobytes(),
            self.docs.tobytes(), self.commits.tobytes(),
            self.ai, self.kind, self.has_usage, self.depth, self.sparse, self.bot, self.info, self.later,
        ))

    def titles_blob(self) -> bytes:
        return marshal.dumps(self.titles())

    def detail_blob(self) -> bytes:
        return marshal.dumps(self.detail())

    @classmethod
    def from_blob(cls, tip: str, stop: str | None, core: bytes,
                  loader: Callable[[str], tuple[list[str], list[bytes], dict[int, bytes]]]) -> Segment:
        seg = cls()
        (seg.n, seg.sha, time, pr, cost, tokens, added, deleted, source, tests, docs, commits, seg.ai, seg.kind, seg.has_usage,
         seg.depth, seg.sparse, seg.bot, seg.info, seg.later) = marshal.loads(core)
        seg.tip, seg.stop, seg._loader = tip, stop, loader
        for name, raw, code in (("time", time, "q"), ("pr", pr, "q"), ("cost", cost, "d"), ("tokens", tokens, "q"),
                                ("added", added, "q"), ("deleted", deleted, "q"), ("source", source, "q"),
                                ("tests", tests, "q"), ("docs", docs, "q"), ("commits", commits, "q")):
            column = array(code)
            column.frombytes(raw)
            setattr(seg, name, column)
        if len(seg.sha) != 20 * seg.n or len(seg.time) != seg.n or len(seg.later) != seg.n:
            raise ValueError("inconsistent segment")
        return seg

    def _load(self) -> None:
        assert self._loader is not None
        titles, usage, side = self._loader(self.tip)
        self._titles, self._detail = titles, (usage, side)

    def titles(self) -> list[str]:
        if self._titles is None:
            self._load()
        assert self._titles is not None
        return self._titles

    def detail(self) -> tuple[list[bytes], dict[int, bytes]]:
        if self._detail is None:
            self._load()
        assert self._detail is not None
        return self._detail


_COUNT_COLUMNS = ("time", "pr", "cost", "tokens", "added", "deleted", "source", "tests", "docs", "commits")


class Chain:
    """The walked first-parent chain, newest first: columns for the hot loops, ``chain[i]`` for the rest."""

    def __init__(self) -> None:
        self.sha = bytearray()
        self.time = array("q")
        self.pr = array("q")
        self.cost = array("d")
        self.tokens = array("q")
        self.added = array("q")
        self.deleted = array("q")
        self.source = array("q")
        self.tests = array("q")
        self.docs = array("q")
        self.commits = array("q")
        self.ai = bytearray()
        self.kind = bytearray()
        self.has_usage = bytearray()
        self.depth = bytearray()
        self.bot = bytearray()
        self.later = bytearray()  # 1: the change's usage has a line priced later (its packed flags' bit 1)
        self.sparse: dict[int, tuple[list[list[Any]] | None, str | None]] = {}
        # Agents, models, evidence by chain index: rows of one combination share one tuple (``tally`` counts them).
        self.info: dict[int, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {}
        # Usage taken from a note instead of (or on top of) the messages, by chain index (``history.usage_notes``).
        # Kept beside the segments, never in them: the cache holds what the commits say, notes can change.
        self.usage_override: dict[int, bytes] = {}
        self._starts: list[int] = []
        self._parts: list[tuple[Segment, int]] = []

    def __len__(self) -> int:
        return len(self.time)

    def extend(self, seg: Segment, start: int = 0, end: int | None = None) -> None:
        """Append rows ``start:end`` of a segment."""
        end = seg.n if end is None else end
        if end <= start:
            return
        base = len(self)
        self._starts.append(base)
        self._parts.append((seg, start))
        self.sha += seg.sha[start * 20 : end * 20]
        for name in _COUNT_COLUMNS:
            getattr(self, name).extend(getattr(seg, name)[start:end])
        for name in ("ai", "kind", "has_usage", "depth", "bot", "later"):
            getattr(self, name).extend(getattr(seg, name)[start:end])
        for i, value in seg.sparse.items():
            if start <= i < end:
                self.sparse[base + i - start] = value
        if start == 0 and end == seg.n:  # the usual case: the whole segment, its keys shifted in C
            self.info.update(zip(map(base.__add__, seg.info), seg.info.values()))
        else:
            self.info.update((base + i - start, found) for i, found in seg.info.items() if start <= i < end)

    def sha_at(self, index: int) -> str:
        return self.sha[index * 20 : index * 20 + 20].hex()

    def lines_at(self, index: int) -> int | None:
        """Lines added + deleted by a change, None when they were not counted."""
        added = self.added[index]
        return None if added < 0 else added + self.deleted[index]

    def kind_lines(self, index: int) -> tuple[int | None, int | None, int | None, int | None]:
        """(code, tests, docs, config) lines of a change, each None when its lines were not counted."""
        added, code, tests, docs = self.added[index], self.source[index], self.tests[index], self.docs[index]
        if added < 0 or code < 0 or tests < 0 or docs < 0:
            return None, None, None, None
        return code, tests, docs, added + self.deleted[index] - code - tests - docs

    def first_parent(self, index: int) -> str | None:
        """The first parent of a chain commit: the next row of its segment, or the segment's ``stop``."""
        seg, row = self._part(index)
        return seg.sha[(row + 1) * 20 : (row + 2) * 20].hex() if row + 1 < seg.n else seg.stop

    def set_lines(self, index: int, added: int, deleted: int, source: int, tests: int, docs: int) -> Segment:
        """Record counted lines in the chain and in the segment it came from (returned, to be stored)."""
        seg, row = self._part(index)
        for column, value in (("added", added), ("deleted", deleted), ("source", source), ("tests", tests),
                              ("docs", docs)):
            getattr(self, column)[index] = value
            getattr(seg, column)[row] = value
        return seg

    def _part(self, index: int) -> tuple[Segment, int]:
        at = bisect.bisect_right(self._starts, index) - 1
        seg, offset = self._parts[at]
        return seg, offset + index - self._starts[at]

    def spans(self) -> Iterator[tuple[Segment, int, int]]:
        """(segment, first row, end row) of each part of the chain, in chain order (exports walk these)."""
        ends = self._starts[1:] + [len(self)]
        for (seg, offset), start, end in zip(self._parts, self._starts, ends):
            yield seg, offset, offset + end - start

    def titles(self, first: int = 0, stop: int | None = None) -> list[str]:
        """The titles of chain indices ``first..stop-1`` in chain order (one list copy per segment instead
        of a lookup per change; only the segments of that range are read)."""
        return self._column(lambda seg: seg.titles(), first, stop)

    def usage_blobs(self, first: int = 0, stop: int | None = None) -> list[bytes]:
        """The packed usage of chain indices ``first..stop-1`` in chain order (empty bytes: no AI-Usage line)."""
        return self._column(lambda seg: seg.detail()[0], first, stop)

    def _column(self, read: Callable[[Segment], list[Any]], first: int, stop: int | None) -> list[Any]:
        stop = len(self) if stop is None else min(stop, len(self))
        out: list[Any] = []
        base = 0
        for seg, start, end in self.spans():
            after = base + end - start
            if after > first and base < stop:
                lo, hi = max(first, base), min(stop, after)
                out += read(seg)[start + lo - base : start + hi - base]
            base = after
            if base >= stop:
                break
        return out

    def title(self, index: int) -> str:
        seg, row = self._part(index)
        return seg.titles()[row]

    def override_usage(self, index: int, blob: bytes, cost: float | None, tokens: int) -> None:
        """Use ``blob`` (a packed usage) as the change's usage in this chain only."""
        self.usage_override[index] = blob
        self.has_usage[index] = 1
        self.later[index] = 1 if blob and blob[-1] & 2 else 0
        self.ai[index] = 1
        self.cost[index] = math.nan if cost is None else cost
        self.tokens[index] = tokens

    def usage_blob(self, index: int) -> bytes | None:
        override = self.usage_override.get(index)
        if override is not None:
            return override
        if not self.has_usage[index]:
            return None
        seg, row = self._part(index)
        return seg.detail()[0][row] or None

    def side(self, index: int) -> bytes:
        if self.commits[index] <= 1:
            return b""
        seg, row = self._part(index)
        return seg.detail()[1].get(row, b"")

    def reverts(self, index: int) -> list[RevertRef] | None:
        entry = self.sparse.get(index)
        return [RevertRef(*r) for r in entry[0]] if entry and entry[0] else None

    def __getitem__(self, index: int) -> ChangeFacts:
        """One change as ``ChangeFacts`` (built on demand: renderers touch a few, hot loops use columns)."""
        entry = self.sparse.get(index)
        cost = self.cost[index]
        return ChangeFacts(
            sha=self.sha_at(index), time=self.time[index], title=self.title(index),
            pr=None if self.pr[index] < 0 else self.pr[index], kind=KINDS[self.kind[index]], ai=bool(self.ai[index]),
            usage=self.usage_blob(index), added=_counted(self.added[index]), deleted=_counted(self.deleted[index]),
            source_lines=_counted(self.source[index]), test_lines=_counted(self.tests[index]),
            doc_lines=_counted(self.docs[index]), commits=self.commits[index], reverts=self.reverts(index),
            revert_depth=self.depth[index], inner_title=entry[1] if entry else None,
            cost=None if math.isnan(cost) else cost, tokens=self.tokens[index], bot=bool(self.bot[index]),
            agents=tuple(self.info[index][0]) if index in self.info else (),
            models=tuple(self.info[index][1]) if index in self.info else (),
            evidence=tuple(self.info[index][2]) if index in self.info else (),
        )

    def author_kind(self, index: int) -> str:
        """``ai``, ``bot`` or ``human`` (ledger.authors)."""
        return "ai" if self.ai[index] else "bot" if self.bot[index] else "human"


def _counted(value: int) -> int | None:
    return None if value == _UNCOUNTED else value


class HistoryCache:
    def __init__(self, path: Path, version: str) -> None:
        self.path = path
        self.version = version
        self._stamp: str | None = None
        self.db: sqlite3.Connection | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(str(path), timeout=30.0)
            db.execute("PRAGMA busy_timeout = 30000")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute(
                f"CREATE TABLE IF NOT EXISTS {_TABLE} (tip TEXT NOT NULL, ver TEXT NOT NULL, stop TEXT,"
                " n INTEGER NOT NULL, core BLOB NOT NULL, titles BLOB NOT NULL, detail BLOB NOT NULL,"
                " PRIMARY KEY (tip, ver))"
            )
            db.commit()
            self.db = db
        except (sqlite3.Error, OSError):
            self.db = None

    # A segment holding a cost priced later (a line without cost_usd, priced from its tokens) is stored
    # under ``<version>|<price stamp>``: when genai-prices or the override file changes, the row no
    # longer matches, so only those spans are scanned (and priced) again; every other row stays valid.
    _MATCH = "(ver = ? OR substr(ver, 1, ?) = ?)"

    def _match_args(self) -> tuple[str, int, str]:
        prefix = self.version + "|"
        return self.version, len(prefix), prefix

    def _stamped(self) -> str:
        if self._stamp is None:
            from commitledger.ledger.pricing import table_stamp

            self._stamp = f"{self.version}|{table_stamp()}"
        return self._stamp

    def load(self) -> list[Segment]:
        """Every cached segment of this version, columns only (titles and usage load on first use)."""
        if self.db is None:
            return []
        out: list[Segment] = []
        try:
            rows = self.db.execute(f"SELECT tip, stop, core, ver FROM {_TABLE} WHERE {self._MATCH}", self._match_args())
            for tip, stop, core, ver in rows:
                if ver != self.version and ver != self._stamped():
                    continue  # priced later with another price table: scanned and priced again
                try:
                    out.append(Segment.from_blob(tip, stop, core, self._read_detail))
                except (ValueError, TypeError, EOFError):
                    continue  # a damaged row is only a cache miss
        except sqlite3.Error:
            return []
        return out

    def _ver_of(self, segment: Segment) -> str:
        return self._stamped() if any(segment.later) else self.version

    def _read_detail(self, tip: str) -> tuple[list[str], list[bytes], dict[int, bytes]]:
        # Its own short connection: renderers ask after the walk has closed the cache.
        db = sqlite3.connect(str(self.path), timeout=30.0)
        try:
            row = db.execute(f"SELECT titles, detail FROM {_TABLE} WHERE tip = ? AND ver IN (?, ?)",
                             (tip, self.version, self._stamped())).fetchone()
        finally:
            db.close()
        if row is None:
            raise LookupError(f"cache row {tip} vanished")
        titles = marshal.loads(row[0])
        usage, side = marshal.loads(row[1])
        return titles, usage, side

    def store(self, segments: list[Segment]) -> None:
        if self.db is None or not segments:
            return
        rows = ((s.tip, self._ver_of(s), s.stop, s.n, s.core_blob(), s.titles_blob(), s.detail_blob()) for s in segments)
        try:
            with self.db:
                # One row per tip and version: a stale priced-later row of the same span goes.
                self.db.executemany(f"DELETE FROM {_TABLE} WHERE tip = ? AND {self._MATCH}",
                                    ((s.tip, *self._match_args()) for s in segments))
                self.db.executemany(f"INSERT OR REPLACE INTO {_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        except sqlite3.Error:
            return

    def update_lines(self, segments: list[Segment]) -> None:
        """Rewrite the columns of segments whose line counts were filled in (titles and usage are unchanged)."""
        if self.db is None or not segments:
            return
        try:
            with self.db:
                self.db.executemany(f"UPDATE {_TABLE} SET core = ? WHERE tip = ? AND ver = ?",
                                    ((s.core_blob(), s.tip, self._ver_of(s)) for s in segments))
        except sqlite3.Error:
            return

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None


def segments_of(changes: list[ChangeFacts], stop: str | None) -> list[Segment]:
    """Cut a scanned run (newest first) into cacheable segments of at most ``CHUNK`` changes.

    ``changes`` is emptied as it goes, oldest segment first: each chunk's
    objects are freed once they are columns, so the run is never held twice
    (that was the peak RSS of a cold run, 14 MB over the budget at 100k changes).
    """
    out = []
    after = stop
    for start in reversed(range(0, len(changes), CHUNK)):
        part = changes[start:]
        out.append(Segment.from_changes(part, after))
        after = part[0].sha
        del part, changes[start:]
    out.reverse()
    return out
