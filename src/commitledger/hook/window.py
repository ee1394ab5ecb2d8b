"""Which usage belongs to the next commit of this worktree: attribution and the window.

Attribution: an event belongs to this worktree when its working directory
(symlinks resolved) lies inside the worktree and no repository nested
inside it (a submodule, a linked worktree, a vendored checkout) contains
that directory more closely: the innermost repository wins. Gemini CLI names
a project by ``sha256(root)`` instead of a directory; aider's log names none,
so its reader is told the worktree that configured it.

The window, kept in ``state_dir``:

- ``pending.json``: events of this worktree not yet written into a commit,
  one per (agent, key), the heaviest by ``UsageEvent.weight`` (the final row
  of a streamed response), plus the ``floor`` time;
- ``recorded/NN.json``: keys already written into a commit, with the usage
  written. A later, bigger row of a recorded key (a streamed response whose
  final row landed after the commit) adds only the difference; a re-read of
  old bytes (a replaced or truncated log) adds nothing.

Events at or before the floor are ignored unless their key is recorded. The
floor starts at HEAD's committer time when the window is first created in a
repository with commits, so installing the hook does not dump months of old
usage into the next commit; it then rises only past recorded keys pruned
after ``GRACE_SECONDS``.

The window advances (keys become recorded) only in post-commit, and only
for exactly the keys the prepare-commit-msg run wrote (``staged.json``): an
aborted commit loses nothing, and usage logged while a commit was in
progress stays pending for the next one.
"""

from __future__ import annotations

import os
import time

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs the hook ~3 ms
if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path
    from typing import Any, Iterable

    from commitledger.hook.state import StrPath

from commitledger.capture.base import UsageEvent
from commitledger.hook.state import load_json, save_json

if TYPE_CHECKING:  # imported where used: a commit with nothing pending needs neither
    from commitledger.ledger.trailers import UsageLine

PENDING_FILE = "pending.json"
RECORDED_DIR = "recorded"
# Recorded keys are sharded so a commit with a few new events reads a few
# small files, not every key recorded in the grace period.
SHARDS = 64
PRUNE_EVERY = 86400.0
STAGED_FILE = "staged.json"
STATE_VERSION = 1
# Recorded keys are kept this long after their event time (a month-old
# transcript re-read after a copy or a restore must still add nothing).
GRACE_SECONDS = 45 * 86400
SEP = "\x1f"
# Agents whose logs never say what a human prompt or a tool call is: those
# counts are unknown (left out of the trailer), not zero.
_UNKNOWN_COUNTS: dict[str, tuple[str, ...]] = {
    "aider": ("prompts", "tool_calls"),
    # Session totals or a wire log only: no prompt or tool row on disk.
    "droid": ("prompts", "tool_calls"),
    "goose": ("prompts", "tool_calls"),
    "kimi": ("prompts", "tool_calls"),
    "zcode": ("prompts", "tool_calls"),  # a table of model requests only
    "hermes": ("prompts", "tool_calls"),  # session totals only
}
# Token fields of a request, in the order ``recorded.json`` stores them.
_TOKENS: tuple[str, ...] = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h")


def slot(agent: str, key: str) -> str:
    return agent + SEP + key


class Attributor:
    """Decides whether an event's working directory belongs to ``worktree``."""

    def __init__(self, worktree: StrPath, environ: dict[str, str] | None = None) -> None:
        self.root = os.path.realpath(worktree)
        self._prefix = self.root.rstrip(os.sep) + os.sep
        self._cache: dict[str, bool] = {}
        self._nested: dict[str, bool] = {}
        self._environ = environ
        self._hashes: set[str] | None = None

    @property
    def hashes(self) -> set[str]:
        """sha256 of the root's spellings (Gemini CLI's project names); computed on the first Gemini event."""
        if self._hashes is None:
            import hashlib

            spellings = _root_spellings(self.root, self._environ)
            self._hashes = {hashlib.sha256(r.encode("utf-8")).hexdigest() for r in spellings}
        return self._hashes

    def __call__(self, event: UsageEvent) -> bool:
        cwd = event.cwd
        if not cwd:
            return event.project_hash is not None and event.project_hash in self.hashes
        known = self._cache.get(cwd)
        if known is None:
            known = self._cache[cwd] = self._inside(cwd)
        return known

    def _inside(self, cwd: str) -> bool:
        real = os.path.realpath(cwd)
        if real != self.root and not real.startswith(self._prefix):
            return False
        # Walk up to (not including) the root: a nested repository claims the directory.
        here = real
        while here != self.root and len(here) > len(self.root):
            nested = self._nested.get(here)
            if nested is None:
                nested = self._nested[here] = os.path.lexists(os.path.join(here, ".git"))
            if nested:
                return False
            here = os.path.dirname(here)
        return True


def _root_spellings(root: str, environ: dict[str, str] | None) -> list[str]:
    """The resolved root and, when the shell's ``$PWD`` reaches it through a symlink, that spelling."""
    out = [root]
    pwd = (environ if environ is not None else os.environ).get("PWD", "")
    if pwd and os.path.isabs(pwd):
        real = os.path.realpath(pwd)
        if real == root or real.startswith(root.rstrip(os.sep) + os.sep):
            from pathlib import Path  # Gemini CLI events only

            depth = 0 if real == root else len(Path(real).relative_to(root).parts)
            spelled = Path(pwd)
            for _ in range(depth):
                spelled = spelled.parent
            if str(spelled) not in out:
                out.append(str(spelled))
    return out


class Entry:
    """One pending event, the usage already recorded under its key, and counts of a manual record.

    (Plain slotted classes in this module: a dataclass costs the hook most of
    a millisecond at import.)
    """

    __slots__ = ("event", "recorded", "counts")

    def __init__(
        self, event: UsageEvent, recorded: list[Any] | None = None, counts: dict[str, int] | None = None
    ) -> None:
        self.event = event
        self.recorded = recorded  # [input, output, cache_read, cw5m, cw1h, cost_usd, time]
        self.counts = counts  # manual records: requests, prompts, tool_calls


class Contribution:
    """What one pending entry adds to the next commit."""

    __slots__ = ("slot", "entry", "tokens", "cost", "new")

    def __init__(
        self, slot: str, entry: Entry, tokens: tuple[int, ...], cost: float | None, new: bool
    ) -> None:
        self.slot = slot
        self.entry = entry
        self.tokens = tokens
        self.cost = cost  # None: no known price
        self.new = new  # first time this key is written (counts a request/prompt/tool)


def _shard(name: str) -> int:
    import zlib

    return zlib.crc32(name.encode("utf-8", "surrogatepass")) % SHARDS


class Recorded:
    """Keys already written into commits, with the usage written; shards load on first use."""

    def __init__(self, directory: StrPath) -> None:
        self.directory = directory
        self._shards: dict[int, dict[str, list[Any]]] = {}
        self._dirty: set[int] = set()

    def _load(self, shard: int) -> dict[str, list[Any]]:
        data = self._shards.get(shard)
        if data is None:
            loaded = load_json(os.path.join(self.directory, f"{shard:02d}.json"), {})
            data = self._shards[shard] = loaded if isinstance(loaded, dict) else {}
        return data

    def get(self, name: str) -> list[Any] | None:
        return self._load(_shard(name)).get(name)

    def set(self, name: str, rec: list[Any]) -> None:
        shard = _shard(name)
        self._load(shard)[name] = rec
        self._dirty.add(shard)

    def prune(self, limit: float) -> float | None:
        """Drop keys whose event time is before ``limit``; the latest dropped time (the new floor)."""
        latest: float | None = None
        for shard in range(SHARDS):
            data = self._load(shard)
            old = [name for name, rec in data.items() if (rec[6] or 0) < limit]
            for name in old:
                when = data.pop(name)[6] or 0
                latest = when if latest is None or when > latest else latest
            if old:
                self._dirty.add(shard)
        return latest

    def save(self) -> None:
        for shard in sorted(self._dirty):
            save_json(os.path.join(self.directory, f"{shard:02d}.json"), self._shards[shard])
        self._dirty.clear()


class Window:
    __slots__ = ("state_dir", "floor", "pending", "fresh", "dirty", "pruned_at", "recorded")

    def __init__(
        self,
        state_dir: StrPath,
        floor: float | None = None,
        pending: dict[str, Entry] | None = None,
        fresh: bool = False,
    ) -> None:
        self.state_dir = state_dir
        self.floor = floor
        self.pending: dict[str, Entry] = pending if pending is not None else {}
        self.fresh = fresh  # no window existed before this run
        self.dirty = False
        self.pruned_at = 0.0
        self.recorded = Recorded(os.path.join(state_dir, RECORDED_DIR))

    @classmethod
    def load(cls, state_dir: StrPath) -> Window:
        data = load_json(os.path.join(state_dir, PENDING_FILE), None)
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
            return cls(state_dir, fresh=True)
        pending: dict[str, Entry] = {}
        for name, row in (data.get("events") or {}).items():
            try:
                pending[name] = Entry(UsageEvent.from_json(row[0]), row[1], row[2])
            except (TypeError, IndexError):
                continue
        floor = data.get("floor")
        pruned_at = data.get("pruned_at")
        window = cls(state_dir, floor if isinstance(floor, (int, float)) else None, pending)
        window.pruned_at = float(pruned_at) if isinstance(pruned_at, (int, float)) else 0.0
        return window

    def save(self) -> None:
        self.recorded.save()
        events = {name: [e.event.to_json(), e.recorded, e.counts] for name, e in self.pending.items()}
        save_json(
            os.path.join(self.state_dir, PENDING_FILE),
            {"version": STATE_VERSION, "floor": self.floor, "pruned_at": self.pruned_at, "events": events},
        )
        self.fresh = False
        self.dirty = False

    def ingest(self, events: Iterable[UsageEvent]) -> int:
        """Add attributed events; returns how many changed the pending set."""
        changed = 0
        for event in events:
            name = slot(event.agent, event.key)
            entry = self.pending.get(name)
            if entry is not None:
                if event.weight > entry.event.weight or (
                    # A copy of a request that names no model (a Codex fork's copied history read
                    # before the original): the original, which names it, wins the tie.
                    event.weight == entry.event.weight and event.model and not entry.event.model
                ):
                    entry.event = event
                    changed += 1
                continue
            rec = self.recorded.get(name)
            if rec is not None:
                if event.weight > _weight(rec):
                    self.pending[name] = Entry(event, rec)
                    changed += 1
                continue
            if self.floor is not None and event.time <= self.floor:
                continue
            self.pending[name] = Entry(event)
            changed += 1
        if changed:
            self.dirty = True
        return changed

    def add_manual(self, event: UsageEvent, counts: dict[str, int]) -> None:
        self.pending[slot(event.agent, event.key)] = Entry(event, None, counts)
        self.dirty = True

    def mark_recorded(self, written: dict[str, list[Any]], now: float | None = None) -> None:
        """Post-commit: the keys a commit now holds become recorded; pending keeps only what grew since."""
        for name, rec in written.items():
            self.recorded.set(name, rec)
            entry = self.pending.get(name)
            if entry is None:
                continue
            if entry.event.weight > _weight(rec):
                entry.recorded = rec
            else:
                del self.pending[name]
        now = now if now is not None else time.time()
        if now - self.pruned_at >= PRUNE_EVERY:
            self.prune(now)
        self.dirty = True

    def prune(self, now: float) -> None:
        """Forget recorded keys older than the grace period; the floor rises past them."""
        latest = self.recorded.prune(now - GRACE_SECONDS)
        if latest is not None and (self.floor is None or latest > self.floor):
            self.floor = latest
        self.pruned_at = now


def _weight(rec: list[Any]) -> tuple[int, int]:
    return (rec[1], rec[0] + rec[1] + rec[2] + rec[3] + rec[4])


def tokens_of(event: UsageEvent) -> tuple[int, int, int, int, int]:
    return (event.input, event.output, event.cache_read, event.cache_write_5m, event.cache_write_1h)


def contributions(window: Window, prices: Any) -> list[Contribution]:
    """What each pending entry adds: whole for a new key, the growth for a recorded one."""
    out: list[Contribution] = []
    for name, entry in window.pending.items():
        event = entry.event
        full = tokens_of(event)
        rec = entry.recorded
        if rec is None:
            cost = event.cost_usd
            if cost is None and event.kind == "request":
                cost = _price(prices, event, full)
            out.append(Contribution(name, entry, full, cost, True))
            continue
        delta = tuple(max(0, a - int(b or 0)) for a, b in zip(full, rec[:5]))
        if not any(delta):
            continue
        if event.cost_usd is not None and rec[5] is not None:
            cost: float | None = max(0.0, event.cost_usd - rec[5])
        else:
            now_cost = _price(prices, event, full)
            then_cost = _price(prices, event, tuple(int(v or 0) for v in rec[:5]))
            cost = None if now_cost is None or then_cost is None else max(0.0, now_cost - then_cost)
        out.append(Contribution(name, entry, delta, cost, False))  # type: ignore[arg-type]
    return out


def _price(prices: Any, e: UsageEvent, t: tuple[int, ...]) -> float | None:
    """One request at its own time, provider, variant and web searches."""
    if prices is None:
        return None
    return prices.cost(  # type: ignore[no-any-return]
        e.model, input=t[0], output=t[1], cache_read=t[2], cache_write_5m=t[3], cache_write_1h=t[4], when=e.time,
        provider=e.provider or None, tier=e.tier or None, web_searches=e.web_searches, agent=e.agent,
        standard_tier=e.tier == "standard",
    )


def recorded_row(c: Contribution) -> list[Any]:
    """What ``recorded.json`` keeps for a key written into a commit: its full usage then."""
    e = c.entry.event
    if c.new:
        cost = c.cost
    elif e.cost_usd is not None:
        cost = e.cost_usd
    else:
        cost = c.entry.recorded[5] if c.entry.recorded is not None else None
        cost = None if cost is None or c.cost is None else cost + c.cost
    return [*tokens_of(e), cost, e.time]


def aggregate(
    items: list[Contribution], normalise: Any, groups: dict[tuple[str, str], list[str]] | None = None
) -> list[UsageLine]:
    """Per (agent, normalised model): the AI-Usage lines these contributions make.

    Prompt events carry no model: a prompt goes to the model of the first
    request of its session at or after it (the model that answered), else
    the session's, else the agent's busiest model in this window.
    ``groups``, when given, receives the slots behind each (agent, model) line.
    """
    from commitledger.ledger.trailers import UsageLine
    from commitledger.ledger.usage import Usage

    session_requests: dict[tuple[str, str], list[tuple[float, str]]] = {}
    agent_models: dict[str, dict[str, int]] = {}
    for c in items:
        e = c.entry.event
        if e.kind == "request" and e.model:
            model = normalise(e.model)
            session_requests.setdefault((e.agent, e.session), []).append((e.time, model))
            counts = agent_models.setdefault(e.agent, {})
            counts[model] = counts.get(model, 0) + 1
    for requests in session_requests.values():
        requests.sort()

    def model_of(e: UsageEvent) -> str:
        if e.model:
            return normalise(e.model)
        if e.kind == "request":
            # A request whose log names no model (a Codex event before any turn_context) is
            # its own unpriced line: guessing would price it wrong or blank a priced line.
            return "unknown"
        requests = session_requests.get((e.agent, e.session))
        if requests:
            for when, model in requests:
                if when >= e.time:
                    return model
            return requests[-1][1]
        busiest = agent_models.get(e.agent)
        if busiest:
            return max(busiest.items(), key=lambda kv: kv[1])[0]
        return "unknown"

    pairs: dict[tuple[str, str], dict[str, Any]] = {}
    for c in items:
        e = c.entry.event
        pair_key = (e.agent, model_of(e))
        if groups is not None:
            groups.setdefault(pair_key, []).append(c.slot)
        pair = pairs.setdefault(
            pair_key,
            {"sessions": set(), "prompts": 0, "requests": 0, "tool_calls": 0, "tokens": [0, 0, 0, 0, 0],
             "cost": 0.0, "priced": True, "manual": False, "known": set()},
        )  # fmt: skip
        manual = c.entry.counts
        if manual is not None:
            pair["manual"] = True
            for name in ("requests", "prompts", "tool_calls"):
                if manual.get(name) is not None:
                    pair[name] += manual[name]
                    pair["known"].add(name)
        else:
            pair["known"].update(("requests", "prompts", "tool_calls"))
            pair["sessions"].add(e.session)
            if c.new:
                if e.kind == "request":
                    pair["requests"] += 1
                elif e.kind == "prompt":
                    pair["prompts"] += 1
                elif e.kind == "tool":
                    pair["tool_calls"] += 1
        if e.kind == "request":
            for i, value in enumerate(c.tokens):
                pair["tokens"][i] += value
            if c.cost is None:
                pair["priced"] = False
            else:
                pair["cost"] += c.cost
    lines: list[UsageLine] = []
    for (agent, model), p in sorted(pairs.items()):
        t = p["tokens"]
        usage = Usage(
            sessions=len(p["sessions"]) if not (p["manual"] and not p["sessions"]) else None,
            prompts=p["prompts"] if "prompts" in p["known"] else None,
            requests=p["requests"] if "requests" in p["known"] else None,
            tool_calls=p["tool_calls"] if "tool_calls" in p["known"] else None,
            input=t[0],
            output=t[1],
            cache_read=t[2],
            cache_write=t[3] + t[4],
            cost_usd=p["cost"] if p["priced"] else None,
        )
        for name in _UNKNOWN_COUNTS.get(agent, ()):
            setattr(usage, name, None)
        if not p["priced"]:
            usage.cost_complete = False
        if t[4]:
            usage.extra["cache_write_1h"] = str(t[4])
        lines.append(UsageLine(agent, model, usage))
    return lines


def load_staged(state_dir: StrPath) -> dict[str, Any] | None:
    data = load_json(os.path.join(state_dir, STAGED_FILE), None)
    return data if isinstance(data, dict) else None


def save_staged(
    state_dir: StrPath, head: str | None, lines: list[tuple[str, dict[str, list[Any]]]], extra: dict[str, Any] | None = None
) -> None:
    """What prepare-commit-msg wrote: each AI-Usage line with the keys (and usage) behind it.

    Post-commit records the keys of the lines the commit really carries, so
    a line the user deleted in the editor leaves its usage pending rather
    than recorded, and the lines kept are never counted again.
    """
    data: dict[str, Any] = {"version": STATE_VERSION, "head": head, "lines": [list(x) for x in lines]}
    data.update(extra or {})
    save_json(os.path.join(state_dir, STAGED_FILE), data)


def drop_staged(state_dir: StrPath) -> None:
    try:
        os.unlink(os.path.join(state_dir, STAGED_FILE))
    except FileNotFoundError:
        pass
