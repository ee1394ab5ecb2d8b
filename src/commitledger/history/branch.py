"""Merged changes of a branch, their later reverts, and what the AI spend bought.

The pipeline: ``walk`` reads the first-parent chain (cached per change, see
``history.cache``), ``resolve_reverts`` (``history.reverts``) replays every revert claim in
history order, and ``summarise`` turns changes inside the window into the
``commitledger.history/1`` contract. Only ``walk``, ``fill_lines`` and
``load_history`` do I/O; the rest are pure functions over the walked ``Chain``.

Changed lines are counted for AI-assisted changes only unless ``lines="all"``
is asked for: every figure that uses lines (tokens per changed line, the
baseline's cost per line) is about AI-assisted changes, and diffing every
other change was most of a cold run's time. Other changes carry ``None``
(``null`` in JSON, empty in CSV), never a made-up 0.

Definitions (README, DESIGN.md):

- cost per merged change = AI cost of every AI-assisted change in the window
  (reverted ones included) plus the AI cost of PRs abandoned in the window
  (from notes), divided by the AI-assisted changes merged in the window and
  not reverted. Human-only changes are on neither side.
- revert rate = reverted merged changes / merged changes, AI-assisted and
  others apart. A change counts as reverted when a later commit of the
  branch reverts it and no later commit re-lands it; reverts after
  ``--until`` count for changes inside the window.
"""

from __future__ import annotations

import gc
import math
import re
import statistics
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from itertools import compress
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from commitledger.config import DEFAULT_TEST_PATTERNS
from commitledger.errors import CommitledgerError
from commitledger.history.cache import Chain, HistoryCache, Segment, facts_version, segments_of
from commitledger.history.periods import periods as period_rows, tally
from commitledger.history.reverts import RevertState, final_states, locate, resolve_reverts
from commitledger.git.run import require_sha1
from commitledger.git.run import run as run_git
from commitledger.history.scan import _PACK, ScanCounter, count_lines, first_parent_until, scan_segment
from commitledger.git.notes import load_notes
from commitledger.history.usage_notes import apply_usage_notes
from commitledger.git.paths import find_repo

Progress = Callable[[int], None]


# --- window -------------------------------------------------------------------------------


_RELATIVE = re.compile(r"^(\d{1,6})\s*([dwmy])$")
_UNIT_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}


def parse_when(text: str, now: datetime, *, end_of_day: bool = False) -> datetime:
    """``90d``/``12w``/``6m``/``1y`` before ``now``, or an ISO date or date-time (UTC unless it says).

    A bare date as ``--until`` means the end of that day, so ``--until
    2026-03-31`` includes changes merged on the 31st.
    """
    value = text.strip().lower()
    match = _RELATIVE.match(value)
    if match:
        try:
            return now - timedelta(days=int(match.group(1)) * _UNIT_DAYS[match.group(2)])
        except OverflowError:  # 99999y: before year 1, which no date can hold
            raise CommitledgerError(f"'{text}' reaches back before the year 1: use a shorter span") from None
    try:
        if len(value) == 10:
            day = datetime.strptime(value, "%Y-%m-%d").date()
            moment = datetime.combine(day, time.max if end_of_day else time.min, tzinfo=timezone.utc)
            return moment
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise CommitledgerError(f"cannot read '{text}' as a date: use 90d, 12w, 6m, 1y or YYYY-MM-DD") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


# What datetime can show: a commit dated outside years 1-9999 (git takes any 64-bit time) is shown at the bound.
_MIN_TS, _MAX_TS = -62135596800, 253402300799


def iso(ts: int | float) -> str:
    ts = min(max(ts, _MIN_TS), _MAX_TS)
    return datetime.fromtimestamp(ts, timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# --- git edges ----------------------------------------------------------------------------


def current_branch(repo: Path) -> str:
    proc = run_git(repo, "symbolic-ref", "--short", "-q", "HEAD", ok=(0, 1), fixed=True)  # 1: detached
    return proc.stdout.strip() if proc.returncode == 0 and proc.stdout.strip() else "HEAD"


def resolve_tip(repo: Path, ref: str, *, current: bool = False) -> str:
    """The commit a branch (or any revision) points at; one-line errors for the usual mistakes."""
    if ref.startswith("-"):
        raise CommitledgerError(f"unknown branch '{ref}'")
    proc = run_git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", ref + "^{commit}", ok=(0, 1),
                   fixed=True)  # 1: no such commit
    sha = proc.stdout.strip()
    if proc.returncode != 0 or not sha:
        if current or ref == "HEAD":
            raise CommitledgerError(f"the current branch '{ref}' has no commits yet")
        raise CommitledgerError(f"unknown branch '{ref}'")
    return sha


def git_ai_commits(repo: Path) -> set[str]:
    """Commits git-ai annotated under ``refs/notes/ai`` (empty when that ref does not exist)."""
    if run_git(repo, "rev-parse", "--verify", "--quiet", "refs/notes/ai", ok=(0, 1)).returncode:
        return set()
    proc = run_git(repo, "notes", "--ref=refs/notes/ai", "list")
    return {parts[1] for parts in (line.split() for line in proc.stdout.splitlines()) if len(parts) == 2}


def check_not_shallow(common_dir: Path) -> None:
    """A shallow clone hides the history figures depend on: say so instead of under-counting."""
    if (common_dir / "shallow").exists():
        raise CommitledgerError(
            "this is a shallow clone; history needs the full history "
            "(git fetch --unshallow, or actions/checkout with fetch-depth: 0)"
        )


# --- walk ---------------------------------------------------------------------------------


@dataclass
class Walk:
    """The chain read from the tip down to the window's start, newest first."""

    chain: Chain
    counter: ScanCounter


def walk(
    repo: Path,
    tip: str,
    since_ts: int | None,
    *,
    cache: HistoryCache | None,
    test_patterns: tuple[str, ...] = DEFAULT_TEST_PATTERNS,
    progress: Progress | None = None,
    lines: str = "ai",
    bots: tuple[str, ...] = (),
) -> Walk:
    """Cached segments are reused; each uncached stretch of the chain costs one ``git log``.

    Every cached segment is a run of consecutive chain commits, so once the
    walk lands on a cached commit it takes the rest of that segment in one
    slice and jumps to the segment's ``stop``. With ``lines="all"``, changes
    a default run cached without line counts get them now (``fill_lines``).
    """
    was = gc.isenabled()
    gc.disable()  # the walk builds ~10 objects per change and no cycle: the collector's passes were 2 s of 12
    try:
        return _walk(repo, tip, since_ts, cache, test_patterns, progress, lines, bots)
    finally:
        if was:
            gc.enable()


def _walk(repo: Path, tip: str, since_ts: int | None, cache: HistoryCache | None, test_patterns: tuple[str, ...],
          progress: Progress | None, lines: str, bots: tuple[str, ...]) -> Walk:
    counter = ScanCounter()
    segments: list[Segment] = cache.load() if cache is not None else []
    tips: dict[bytes, Segment] = {segment.sha[:20]: segment for segment in segments}

    def find(raw: bytes) -> tuple[Segment, int] | None:
        # Walks land on segment tips almost always; otherwise one memchr-speed search per segment.
        segment = tips.get(raw)
        if segment is not None:
            return segment, 0
        for segment in segments:
            at = segment.sha.find(raw)
            while at >= 0 and at % 20:
                at = segment.sha.find(raw, at + 1)
            if at >= 0:
                return segment, at // 20
        return None

    every: set[bytes] = set()  # all cached chain commits, filled on first need by `cached`

    def cached(sha: str) -> bool:
        if not every:
            for segment in segments:
                raw = segment.sha
                every.update(raw[i : i + 20] for i in range(0, len(raw), 20))
        return bytes.fromhex(sha) in every

    def add(segment: Segment) -> None:
        segments.append(segment)
        tips[segment.sha[:20]] = segment
        if every:
            raw = segment.sha
            every.update(raw[i : i + 20] for i in range(0, len(raw), 20))

    chain = Chain()
    current: str | None = tip
    while current is not None:
        hit = find(bytes.fromhex(current))
        if hit is not None:
            segment, row = hit
            end = segment.n
            if since_ts is not None:
                times = segment.time
                end = next((i for i in range(row, segment.n) if times[i] < since_ts), segment.n)
            chain.extend(segment, row, end)
            counter.changes_cached += end - row
            if end < segment.n:
                break
            current = segment.stop
            continue
        if not segments and since_ts is None:
            stop, by_age = None, False  # nothing cached and no window: one pass over everything
        else:
            _, stop, by_age = first_parent_until(repo, current, cached, since_ts)
        scanned = scan_segment(repo, current, stop, test_patterns, counter, progress, lines, bots)
        if not scanned:
            break
        fresh = segments_of(scanned, stop)  # empties ``scanned``: the segments hold the same facts as columns
        if cache is not None:
            # A figure git could not produce is never cached: segments holding one are read again next time.
            failed = {bytes.fromhex(sha) for sha in counter.line_failures}
            cache.store([seg for seg in fresh
                         if not failed or not any(seg.sha[i : i + 20] in failed for i in range(0, len(seg.sha), 20))])
        for segment in fresh:
            add(segment)
            chain.extend(segment)
        if by_age or stop is None:
            break
        current = stop
    if lines == "all":
        fill_lines(repo, chain, range(len(chain)), test_patterns, cache, counter)

    return Walk(chain, counter)


def fill_lines(
    repo: Path,
    chain: Chain,
    indices: Iterable[int],
    test_patterns: tuple[str, ...],
    cache: HistoryCache | None,
    counter: ScanCounter | None = None,
) -> int:
    """Count the lines of the changes at ``indices`` that have none yet; store them in the cache too.

    One ``git diff-tree`` for all of them; the number of changes counted is
    returned (and added to ``counter.lines_filled``).
    """
    missing = [i for i in indices if chain.added[i] < 0]
    if not missing:
        return 0
    counts, failures = count_lines(repo, [(chain.sha_at(i), chain.first_parent(i)) for i in missing], test_patterns)
    if counter is not None:
        counter.line_failures.update(failures)
    touched: dict[int, Segment] = {}
    for i in missing:
        found = counts.get(chain.sha_at(i))
        if found is not None:
            segment = chain.set_lines(i, *found)
            touched[id(segment)] = segment
    if cache is not None:
        cache.update_lines(list(touched.values()))
    if counter is not None:
        counter.lines_filled += len(missing)
    return len(missing)


# --- abandoned PRs from notes -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Abandoned:
    pr: int | None
    commit: str  # the merge-base the note sits on
    time: int
    cost_usd: float | None
    tokens: int


def _abandoned(notes: dict[str, dict[str, Any]], chain: Chain, located: dict[str, int]) -> list[Abandoned]:
    out: list[Abandoned] = []
    for commit, note in notes.items():
        entries = note.get("abandoned") or []
        if not entries or commit not in located:
            continue
        fallback = chain.time[located[commit]]
        for entry in entries:
            when = _timestamp(entry.get("closed_at")) or fallback
            cost = entry.get("cost_usd")
            tokens = entry.get("tokens")
            pr = entry.get("pr")
            out.append(Abandoned(
                pr=pr if isinstance(pr, int) and not isinstance(pr, bool) else None, commit=commit, time=when,
                cost_usd=_amount(cost),
                tokens=int(tokens) if isinstance(tokens, int) and not isinstance(tokens, bool) and tokens >= 0 else 0,
            ))
    return out


def _timestamp(value: Any) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return int((parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).timestamp())


# --- the result ---------------------------------------------------------------------------


@dataclass
class History:
    """What ``load_history`` found: the facts, the revert outcome and the summary.

    The contract objects (``models.Change``) are built on demand, one at a
    time (``changes()``), so a table of the last 30 changes never pays for
    130k pydantic objects, and JSON output can be streamed in constant memory.
    """

    branch: str
    tip: str
    since: str | None
    until: str | None
    chain: Chain
    states: dict[int, RevertState]
    in_window: list[int]
    notes: dict[str, dict[str, Any]]
    abandoned: list[Abandoned]
    summary: dict[str, Any]
    counter: ScanCounter
    big_change_commits: int = 500
    period: str = "week"
    periods: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Chain index -> where a change's usage came from when a note counted ("notes" or "trailers+notes").
    usage_sources: dict[int, str] = field(default_factory=dict)
    # The cache file and facts version this history was read with (None: --no-cache); exports keep
    # their per-segment row fragments beside the facts (history.export).
    cache_file: tuple[Path, str] | None = None

    def usage_source(self, index: int, has_usage: bool) -> str | None:
        """``usage_source`` of the history/1 JSON: "trailers", "notes", "trailers+notes", or None (no usage)."""
        return self.usage_sources.get(index) or ("trailers" if has_usage else None)

    def changes(self, limit: int | None = None) -> Iterator[Any]:
        """``models.Change`` of each change in the window, newest first, then abandoned PRs."""
        from commitledger.ledger.models import Change, Tests, UsageModel

        count = 0
        for index in self.in_window:
            if limit is not None and count >= limit:
                return
            count += 1
            facts = self.chain[index]
            state = self.states.get(index)
            note = self.notes.get(facts.sha, {}).get("change") or {}
            usage = facts.usage_object()
            yield Change(
                commit=facts.sha, pr=facts.pr if facts.pr is not None else _int(note.get("pr")), title=facts.title,
                merged_at=iso(facts.time), ai=bool(facts.ai),
                usage=UsageModel.of(usage) if usage is not None else None,
                reverted_by=state.by if state else None, kind=facts.kind, lines_changed=facts.lines,  # None: not counted
                reverted_at=iso(state.at) if state else None, tests=_tests(note.get("tests"), Tests),
                source_lines=facts.source_lines, test_lines=facts.test_lines, doc_lines=facts.doc_lines,
                config_lines=facts.config_lines, author_kind=self.chain.author_kind(index),
                agents=list(facts.agents), models=list(facts.models), evidence=list(facts.evidence),
                commits=facts.commits, big=facts.commits > self.big_change_commits,
                lines_error=self.counter.line_failures.get(facts.sha),
                usage_source=self.usage_source(index, usage is not None),
            )
        for entry in self.abandoned:
            if limit is not None and count >= limit:
                return
            count += 1
            yield Change(
                commit=entry.commit, pr=entry.pr, title=f"abandoned PR #{entry.pr}" if entry.pr else "abandoned PR",
                merged_at=iso(entry.time), ai=True,
                usage=UsageModel(cost_usd=entry.cost_usd) if entry.cost_usd is not None else None,
                reverted_by=None, kind="abandoned", lines_changed=None, reverted_at=None, author_kind="ai",
                commits=0,
                usage_source="notes" if entry.cost_usd is not None else None,
            )

    def rows(self, limit: int) -> Iterator[dict[str, Any]]:
        """Plain rows for the terminal table: the same facts as ``changes()`` without pydantic's import."""
        count = 0
        for index in self.in_window[:limit]:
            count += 1
            cost = self.chain.cost[index]
            note = self.notes.get(self.chain.sha_at(index), {}).get("change") or {}
            tests = note.get("tests") if isinstance(note.get("tests"), dict) else None
            yield {
                "commit": self.chain.sha_at(index), "merged_at": iso(self.chain.time[index]),
                "pr": self.chain.pr[index] if self.chain.pr[index] >= 0 else _int(note.get("pr")),
                "ai": bool(self.chain.ai[index]), "cost": None if cost != cost else cost,
                "priced_later": priced_later(self.chain, index),
                "who": self.chain.author_kind(index), "big": self.chain.commits[index] > self.big_change_commits,
                "commits": self.chain.commits[index],
                "lines": self.chain.lines_at(index),
                "outcome": "reverted" if index in self.states else "merged",
                "tests": None if tests is None else (_int(tests.get("passed")) or 0,
                                                     (_int(tests.get("failed")) or 0) + (_int(tests.get("errors")) or 0)),
                "title": self.chain.title(index),
            }
        for entry in self.abandoned[: max(0, limit - count)]:
            yield {"commit": entry.commit, "merged_at": iso(entry.time), "pr": entry.pr, "ai": True, "who": "ai",
                   "big": False, "commits": 0, "priced_later": False,
                   "cost": entry.cost_usd, "lines": None, "outcome": "abandoned", "tests": None,
                   "title": f"abandoned PR #{entry.pr}" if entry.pr else "abandoned PR"}

    def summary_model(self) -> Any:
        from commitledger.ledger.models import HistorySummary

        return HistorySummary(**self.summary)

    @property
    def result(self) -> Any:
        """The whole ``commitledger.history/1`` object (fine for windows of thousands of changes)."""
        from commitledger.ledger.models import HistoryResult

        return HistoryResult(branch=self.branch, since=self.since, until=self.until, changes=list(self.changes()),
                             summary=self.summary_model(), period=self.period, periods=self.periods,
                             warnings=self.warnings)


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 6) if values else None


_FLAGS = _PACK.size - 1  # the flags byte of a packed usage (history.scan); bit 1: a line was priced later


def priced_later(chain: Chain, index: int) -> bool:
    """Whether a change's cost includes AI-Usage lines priced later (tokens, no cost_usd), which readers say."""
    blob = chain.usage_blob(index) if chain.has_usage[index] else None
    return bool(blob and blob[_FLAGS] & 2)


def count_priced_later(chain: Chain, indices: list[int]) -> int:
    """How many of ``indices`` are ``priced_later``: a sum over the cache's priced-later column
    (``Chain.later``, kept up to date by usage from notes), no usage blob loaded."""
    return sum(map(chain.later.__getitem__, indices))


def summarise(
    chain: Chain,
    states: dict[int, RevertState],
    in_window: list[int],
    abandoned: list[Abandoned],
    big_change_commits: int = 500,
) -> dict[str, Any]:
    """The summary figures of DESIGN.md for the changes at ``in_window`` (indices into ``chain``).

    Three kinds of author (AI-assisted, human, bot): ``revert_rate_other``
    is the human rate, so bots never dilute it. Unknown AI cost is counted
    (``ai_cost_unknown``), never added as 0; ``cost_usd`` is None when no
    AI-assisted change of the window has a known cost.
    """
    # Each figure is a pass in C over a column (map, compress, sum of booleans): the same figures as
    # a comprehension per figure, in window order where order matters (the float sums), 3x faster.
    merged = len(in_window)
    flags, costs, used, source, times = chain.ai, chain.cost, chain.tokens, chain.source, chain.time
    ai = list(compress(in_window, map(flags.__getitem__, in_window)))
    whole = merged == len(chain)  # the window holds every change (the indices are distinct)
    inside = None if whole else set(in_window)
    reverted = [i for i in states if whole or i in inside]  # any order: only counted and a median
    ai_reverted = sum(map(flags.__getitem__, reverted))
    ai_costs = [cost for cost in map(costs.__getitem__, ai) if cost == cost]  # NaN (unknown) is not equal to itself
    tokens = lines = 0
    for i in compress(ai, map(used.__getitem__, ai)):  # AI changes are always counted; -1 is "not counted"
        if source[i] >= 0:
            tokens += used[i]
            lines += source[i]
    abandoned_cost = sum(a.cost_usd or 0.0 for a in abandoned)
    survivors = len(ai) - ai_reverted
    spent = sum(ai_costs) + abandoned_cost
    hours = [(states[i].at - times[i]) / 3600 for i in reverted]
    bots = [i for i in compress(in_window, map(chain.bot.__getitem__, in_window)) if not flags[i]]
    humans = merged - len(ai) - len(bots)
    bot_reverted = sum(map(states.__contains__, bots))
    human_reverted = len(reverted) - ai_reverted - bot_reverted
    agents, models = tally(chain, in_window)
    no_usage = len(ai) - sum(map(chain.has_usage.__getitem__, ai))
    known_cost = bool(ai_costs or abandoned_cost)
    return {
        "merged": merged,
        "reverted": len(reverted),
        "ai_merged": len(ai),
        "ai_reverted": ai_reverted,
        "cost_usd": round(spent, 6) if known_cost or not ai else None,
        "cost_per_merged_change": round(spent / survivors, 6) if survivors and (ai_costs or abandoned_cost) else None,
        "revert_rate_ai": round(ai_reverted / len(ai), 6) if ai else None,
        "revert_rate_other": round(human_reverted / humans, 6) if humans else None,
        "median_time_to_revert_hours": _median(hours),
        "median_ai_cost_usd": _median(ai_costs),
        "tokens_per_changed_line": round(tokens / lines, 3) if lines else None,
        "abandoned_cost_usd": round(abandoned_cost, 6),
        "human_merged": humans,
        "human_reverted": human_reverted,
        "bot_merged": len(bots),
        "bot_reverted": bot_reverted,
        "revert_rate_human": round(human_reverted / humans, 6) if humans else None,
        "revert_rate_bot": round(bot_reverted / len(bots), 6) if bots else None,
        "ai_cost_known": len(ai_costs),
        "ai_cost_unknown": len(ai) - len(ai_costs),
        "ai_usage_unknown": no_usage,
        "big_changes": sum(map(big_change_commits.__lt__, map(chain.commits.__getitem__, in_window))),
        "big_change_commits": big_change_commits,
        "last_change_at": iso(times[0]) if len(chain) else None,
        "lines_uncounted": 0,
        "agents": agents,
        "models": models,
        "priced_later": count_priced_later(chain, ai),
    }


def window_indices(chain: Chain, since_ts: int | None, until_ts: int | None) -> list[int]:
    times = chain.time
    low = since_ts if since_ts is not None else -(2**63)
    high = until_ts if until_ts is not None else 2**63 - 1
    return [i for i in range(len(chain)) if low <= times[i] <= high]


def load_history(
    repo: Path,
    branch: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    since_label: str | None = None,
    test_patterns: tuple[str, ...] = DEFAULT_TEST_PATTERNS,
    use_cache: bool = True,
    progress: Progress | None = None,
    lines: str = "ai",
    bots: tuple[str, ...] = (),
    big_change_commits: int = 500,
    now: datetime | None = None,
    summaries: bool = True,
) -> History:
    """``commitledger history`` as a function: walk, resolve reverts, read notes, summarise.

    ``lines``: ``"ai"`` counts changed lines of AI-assisted changes only
    (what the figures use), ``"all"`` of every change. ``summaries=False``
    leaves ``summary`` and ``periods`` empty, for callers that print only the
    rows (CSV, Parquet): tallying 100k changes twice was a fifth of a warm CSV
    export.

    The collector is off throughout: what is built here holds no cycle, and
    its passes over the walked chain's objects tripled the time reverts take
    to resolve at 100k changes (0.35 s of a 1.4 s warm export).
    """
    was = gc.isenabled()
    gc.disable()
    try:
        return _load_history(repo, branch, since, until, since_label, test_patterns, use_cache, progress, lines, bots,
                             big_change_commits, now, summaries)
    finally:
        if was:
            gc.enable()


def _load_history(repo: Path, branch: str | None, since: datetime | None, until: datetime | None,
                  since_label: str | None, test_patterns: tuple[str, ...], use_cache: bool, progress: Progress | None,
                  lines: str, bots: tuple[str, ...], big_change_commits: int, now: datetime | None,
                  summaries: bool) -> History:
    paths = find_repo(repo)
    check_not_shallow(paths.common_dir)
    require_sha1(paths.worktree, "commitledger history")  # the cache packs ids as 20 bytes
    name = branch or current_branch(paths.worktree)
    tip = resolve_tip(paths.worktree, name, current=branch is None)
    since_ts = int(since.timestamp()) if since is not None else None
    until_ts = int(until.timestamp()) if until is not None else None
    cache = HistoryCache(paths.common_dir / "commitledger" / "cache.sqlite",
                         facts_version(tuple(test_patterns), tuple(bots))) if use_cache else None
    try:
        walked = walk(paths.worktree, tip, since_ts, cache=cache, test_patterns=tuple(test_patterns), progress=progress,
                      lines=lines, bots=tuple(bots))
        chain = walked.chain
        events = resolve_reverts(chain, big_change_commits)
        states = final_states(chain, events)
        notes = load_notes(paths.worktree)
        noted = locate(chain, set(notes)) if notes else {}
        # Usage recovered after a merge that dropped the PR's AI-Usage lines (github.postmerge).
        sources = apply_usage_notes(paths.worktree, chain, notes, noted)
        noted_ai = list(locate(chain, git_ai_commits(paths.worktree)).values()) + list(sources)
        for index in noted_ai:
            chain.ai[index] = 1  # git-ai's own record (refs/notes/ai) is evidence of AI assistance too
        # The scan could not know these were AI-assisted: count their lines now, as for every AI-assisted change.
        fill_lines(paths.worktree, chain, noted_ai, tuple(test_patterns), cache, walked.counter)
    finally:
        if cache is not None:
            cache.close()
    abandoned = [a for a in _abandoned(notes, chain, noted)
                 if (since_ts is None or a.time >= since_ts) and (until_ts is None or a.time <= until_ts)]
    in_window = window_indices(chain, since_ts, until_ts)
    summary = summarise(chain, states, in_window, abandoned, big_change_commits) if summaries else {}
    if summaries and (not len(chain) or chain.sha_at(0) != tip):  # the walk stopped before the tip (an old branch)
        stamp = run_git(paths.worktree, "show", "-s", "--format=%ct", tip, "--").stdout.strip()
        summary["last_change_at"] = iso(int(stamp)) if stamp.isdigit() else None
    failures = walked.counter.line_failures
    in_window_shas = {chain.sha_at(i) for i in in_window} if failures else set()
    warnings = [f"lines of {sha} not counted: {reason}" for sha, reason in failures.items() if sha in in_window_shas]
    kind, rows = "week", []
    if summaries:
        summary["lines_uncounted"] = len(warnings)
        end = until_ts if until_ts is not None else int((now or datetime.now(timezone.utc)).timestamp())
        kind, rows = period_rows(chain, states, in_window, since_ts, end)
    return History(
        branch=name, tip=tip,
        since=since_label if since_label is not None else (iso(since_ts) if since_ts is not None else None),
        until=iso(until_ts) if until_ts is not None else None,
        chain=chain, states=states, in_window=in_window, notes=notes, abandoned=abandoned,
        summary=summary, counter=walked.counter, big_change_commits=big_change_commits,
        period=kind, periods=rows, warnings=warnings, usage_sources=sources,
        cache_file=(cache.path, cache.version) if cache is not None else None,
    )


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _amount(value: Any) -> float | None:
    """A cost from a note: anyone who can push the notes ref wrote it, so NaN, infinity or a negative is unknown."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) and number >= 0 else None


def _tests(value: Any, model: Any) -> Any:
    if not isinstance(value, dict):
        return None
    try:
        return model.model_validate(value)
    except ValueError:
        return None


# --- reverts a push brings (for the GitHub action) ----------------------------------------


@dataclass(frozen=True, slots=True)
class RevertedChange:
    """A change that a commit of a pushed range reverted: what the action reports on PR ``pr``."""

    pr: int | None
    commit: str  # the reverted change's commit on the branch
    reverted_by: str
    reverted_at: str  # ISO time the revert reached the branch
    ai_cost_usd: float | None


def reverts_in_range(repo_path: Path, old: str, new: str) -> list[RevertedChange]:
    """Changes reverted by commits in ``old..new`` (a push to the default branch), oldest first.

    The whole history of ``new`` is read (through the cache), because the
    reverted change may be old; re-lands in the range are not reverts and
    are left out.
    """
    paths = find_repo(repo_path)
    check_not_shallow(paths.common_dir)
    tip = resolve_tip(paths.worktree, new)
    base = run_git(paths.worktree, "rev-parse", "--verify", "--quiet", "--end-of-options", old + "^{commit}",
                   ok=(0, 1)).stdout.strip()  # 1: the old tip is gone (a force-push); read the whole branch
    pushed = set(run_git(paths.worktree, "rev-list", "--first-parent", f"{base}..{tip}" if base else tip,
                         "--").stdout.split())
    from commitledger.config import load_config

    config = load_config(paths.worktree)  # the same bots and big-change rule as `history`
    bots = tuple(config.bots)
    cache = HistoryCache(paths.common_dir / "commitledger" / "cache.sqlite", facts_version(DEFAULT_TEST_PATTERNS, bots))
    try:
        walked = walk(paths.worktree, tip, None, cache=cache, bots=bots)
        chain = walked.chain
        events = resolve_reverts(chain, config.big_change_commits)
        notes = load_notes(paths.worktree)
        if notes:  # the spend a revert undid includes usage recovered after the merge
            apply_usage_notes(paths.worktree, chain, notes, locate(chain, set(notes)))
    finally:
        cache.close()
    out: list[RevertedChange] = []
    for event in events:
        if not event.reverts or chain.sha_at(event.reverter) not in pushed:
            continue
        target = chain[event.target]
        out.append(RevertedChange(pr=target.pr, commit=target.sha, reverted_by=event.by,
                                  reverted_at=iso(chain.time[event.reverter]), ai_cost_usd=target.cost))
    return out
