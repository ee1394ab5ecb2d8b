"""Reverts: every revert claim in history order, replayed over the first-parent chain.

A later commit that says ``This reverts commit <sha>`` (or reverts a PR's
title) undoes the change holding that commit; a revert of a revert re-lands
it. ``resolve_reverts`` replays the claims oldest first, so the final state
of each change is its last event's parity. Pure functions over a ``Chain``.
"""

from __future__ import annotations

import bisect
import struct
from array import array
from dataclasses import dataclass
from itertools import compress, count
from operator import itemgetter
from typing import Iterator

from commitledger.ledger import commitmsg
from commitledger.history.cache import Chain


@dataclass(frozen=True, slots=True)
class RevertEvent:
    """Change ``reverter`` (chain index) undoes (odd parity) or re-lands (even) change ``target``."""

    reverter: int
    by: str  # the commit whose message says so
    target: int
    parity: int

    @property
    def reverts(self) -> bool:
        return self.parity % 2 == 1


class Positions:
    """Where commit ids sit in the chain: built once, on first need (most runs resolve nothing).

    The chain's ids sorted by their first 8 bytes, as two arrays (the 64-bit
    prefixes and the chain index of each): 16 bytes a change, where a
    dictionary of 20-byte keys plus a sorted list of hex strings held ~25 MB
    at 100k changes, the largest thing a cold run kept after its walk. Full
    ids and abbreviations are both a bisection plus a check of the whole id.
    """

    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        self._keys: array | None = None
        self._order: array | None = None

    def _build(self) -> tuple[array, array]:
        if self._keys is None or self._order is None:
            raw = self.chain.sha
            prefixes = [int.from_bytes(raw[i : i + 8], "big") for i in range(0, len(raw), 20)]
            order = sorted(range(len(prefixes)), key=prefixes.__getitem__)
            self._keys = array("Q", (prefixes[i] for i in order))
            self._order = array("q", order)
        return self._keys, self._order

    def _matches(self, ref: str) -> Iterator[int]:
        """Chain indices whose id starts with ``ref`` (hex, lower case, 4 to 40 digits)."""
        keys, order = self._build()
        head = ref[:16]
        try:
            low = int(head.ljust(16, "0"), 16)
            high = int(head.ljust(16, "f"), 16)
        except ValueError:
            return
        raw = self.chain.sha
        for at in range(bisect.bisect_left(keys, low), bisect.bisect_right(keys, high)):
            index = order[at]
            if len(ref) <= 16 or raw[index * 20 : index * 20 + 20].hex().startswith(ref):
                yield index

    def exact_many(self, shas: set[str]) -> dict[str, int]:
        """Chain index of each full id found: one pass over the chain's ids, no index built (a warm run
        resolves its ~3k claims in ~20 ms this way, where sorting 100k prefixes first took ~150 ms)."""
        wanted: dict[bytes, str] = {}
        for sha in shas:
            if len(sha) == 40:
                try:
                    wanted[bytes.fromhex(sha)] = sha
                except ValueError:
                    continue
        found: dict[str, int] = {}
        if not wanted:
            return found
        raw = bytes(self.chain.sha)
        # The ids are cut and tested in C; only the hits reach Python (30% less than a loop of slices).
        hits = compress(count(), map(wanted.__contains__, map(itemgetter(0), struct.iter_unpack("20s", raw))))
        for index in hits:
            sha = wanted[raw[index * 20 : index * 20 + 20]]
            if sha not in found:
                found[sha] = index
                if len(found) == len(wanted):
                    break
        return found

    def exact(self, sha: str) -> int | None:
        if len(sha) != 40:
            return None
        return next(self._matches(sha.lower()), None)

    def prefix(self, ref: str) -> int | None:
        """The chain commit a unique abbreviation names."""
        found = None
        for index in self._matches(ref.lower()):
            if found is not None:
                return None  # ambiguous
            found = index
        return found


def locate(chain: Chain, shas: set[str], positions: Positions | None = None) -> dict[str, int]:
    """Chain index of the change containing each (possibly abbreviated) commit id.

    Chain commits are matched first (exact, then by unique prefix); only ids
    still unknown make us read the side commits of merge changes, once, each
    checked against the wanted ids by set lookups per prefix length.
    """
    if not shas:
        return {}
    positions = positions or Positions(chain)
    found = positions.exact_many({ref for ref in shas if len(ref) == 40})
    for ref in shas:
        at = positions.prefix(ref) if 4 <= len(ref) < 40 else None
        if at is not None:
            found[ref] = at
    missing = shas - found.keys()
    if missing:
        lengths = sorted({len(ref) for ref in missing})
        for i in range(len(chain)):
            if chain.commits[i] <= 1:
                continue
            text = chain.side(i).hex()
            for start in range(0, len(text), 40):
                commit = text[start : start + 40]
                for length in lengths:
                    key = commit[:length]
                    if key in missing:
                        found[key] = i
                        missing.discard(key)
            if not missing:
                break
    return found


def _normal_title(title: str) -> str:
    cut = title.rfind(" (#")
    return (title[:cut] if cut > 0 and title.endswith(")") else title).strip()


def _whole_change(chain: Chain, target: int, sha: str, big_change_commits: int) -> bool:
    """Does reverting ``sha`` undo change ``target``? Always, unless the change is big.

    A big change (more than ``big_change_commits`` commits, e.g. "Merge branch
    'main' into feat/x" on the chain) is undone only by a revert of the merge
    itself or of its last commit (the tip of what it brought in, read first
    by the topological scan); reverting one of its hundreds of commits is not
    reverting the change.
    """
    if chain.commits[target] <= big_change_commits:
        return True
    if chain.sha_at(target).startswith(sha):
        return True
    side = chain.side(target)
    return len(side) >= 20 and side[:20].hex().startswith(sha)


def resolve_reverts(chain: Chain, big_change_commits: int = 500) -> list[RevertEvent]:
    """Every revert and re-land, oldest first, each resolved to the original change it affects.

    A claim names a commit (``This reverts commit <sha>``) or a PR
    (``Reverts owner/repo#N``). When the named change is itself a revert,
    the claim flips parity and goes on to what that one reverted: reverting
    a revert re-lands, reverting a re-land reverts again. With no resolvable
    claim, a ``Revert "…"``/``Reapply "…"`` subject falls back to the PR
    number or title it wraps.
    """
    candidates = sorted(chain.sparse, reverse=True)  # oldest first
    if not candidates:
        return []
    refs = {i: chain.reverts(i) or [] for i in candidates}
    positions = Positions(chain)
    # Claims the scan resolved carry their owner; only the others need a search.
    located = locate(chain, {r.sha for claims in refs.values() for r in claims if r.sha and not r.owner}, positions)
    owners = positions.exact_many({r.owner for claims in refs.values() for r in claims if r.sha and r.owner})
    for claims in refs.values():
        for r in claims:
            if r.sha and r.owner:
                at = owners.get(r.owner)
                if at is not None:
                    located[r.sha] = at
    by_pr: dict[int, list[int]] | None = None
    by_title: dict[str, list[int]] | None = None

    def prs() -> dict[int, list[int]]:
        nonlocal by_pr
        if by_pr is None:
            # Only the PR numbers a claim or a wrapped title names (a few hundred of 60k), found in C:
            # only their changes reach Python. Oldest first, so each list descends.
            wanted = {r.pr for claims in refs.values() for r in claims if not r.sha and r.pr is not None and r.pr >= 0}
            wanted.update(number for number in (commitmsg.pr_number(chain.sparse[i][1] or "") for i in candidates)
                          if number is not None and number >= 0)
            by_pr = {}
            numbers = chain.pr
            for index in compress(count(), map(wanted.__contains__, numbers)):
                by_pr.setdefault(numbers[index], []).append(index)
            for indices in by_pr.values():
                indices.reverse()
        return by_pr

    def titles() -> dict[str, list[int]]:
        nonlocal by_title
        if by_title is None:
            by_title = {}
            for index in range(len(chain) - 1, -1, -1):
                if chain.depth[index] == 0:
                    by_title.setdefault(_normal_title(chain.title(index)), []).append(index)
        return by_title

    def newest_before(indices: list[int] | None, index: int) -> int | None:
        # indices descend (oldest first); the newest older one is the last index greater than `index`
        best = None
        for candidate in indices or ():
            if candidate > index:
                best = candidate
            else:
                break
        return best

    resolved: dict[int, tuple[int, int]] = {}  # reverter -> (original change, parity)
    events: list[RevertEvent] = []
    for index in candidates:
        claims: list[tuple[str, int, int]] = []  # (by, target, parity to target)
        for ref in refs[index]:
            target = located.get(ref.sha) if ref.sha else newest_before(prs().get(ref.pr or -1), index)
            if target is not None and ref.sha and not _whole_change(chain, target, ref.sha, big_change_commits):
                continue
            if target is not None and target > index:
                claims.append((ref.by, target, 1))
        inner = chain.sparse[index][1]
        depth = chain.depth[index]
        if not claims and depth > 0 and inner:
            wrapped_pr = commitmsg.pr_number(inner)
            target = newest_before(prs().get(wrapped_pr), index) if wrapped_pr is not None else None
            if target is None:
                target = newest_before(titles().get(_normal_title(inner)), index)
            if target is not None and chain.depth[target] == 0:
                claims.append((chain.sha_at(index), target, depth))
        for by, target, parity in dict.fromkeys(claims):
            seen = {index}
            while target in resolved and target not in seen:
                seen.add(target)
                target, extra = resolved[target]
                parity += extra
            resolved.setdefault(index, (target, parity))
            events.append(RevertEvent(index, by, target, parity))
    return events


@dataclass(frozen=True, slots=True)
class RevertState:
    by: str
    at: int  # when the reverting change reached the branch
    reverter: int


def final_states(chain: Chain, events: list[RevertEvent]) -> dict[int, RevertState]:
    """Which changes stay reverted at the tip (a later re-land clears the revert)."""
    state: dict[int, RevertState] = {}
    for event in events:
        if event.reverts:
            state[event.target] = RevertState(event.by, chain.time[event.reverter], event.reverter)
        else:
            state.pop(event.target, None)
    return state
