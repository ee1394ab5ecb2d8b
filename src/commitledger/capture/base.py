"""The small interface every agent-log reader implements.

A reader turns bytes of one log file into normalised ``UsageEvent`` objects.
It is called incrementally: with the byte offset where the previous read
stopped and a small JSON-able ``ctx`` dict it may use to carry per-file
state across reads (Codex's running totals, the session id of a file whose
first line named it). It must stop before a partial last line, so the line
is read again, whole, next time.

Events carry a dedupe ``key`` that is stable across re-reads of the same
bytes: a file read twice from the start, or the same API response written to
two files, yields the same key, and the window keeps one event per key (the
one with the most tokens). That is what keeps totals exact when a file is
truncated, replaced or copied.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs the hook ~3 ms
if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path  # imported where used: a warm commit hook needs none
    from typing import Any, ClassVar, Iterable, Literal, Mapping, Protocol
else:
    Protocol = object

from commitledger.slotted import Frozen, Slotted

if TYPE_CHECKING:  # pragma: no cover
    EventKind = Literal["request", "prompt", "tool"]


class UsageEvent(Slotted):
    """One request, prompt or tool call, normalised across agents.

    Fields, in order: ``agent`` ("claude-code", "codex", "gemini-cli", "opencode",
    "copilot-cli", "aider", the other keys of ``READERS``, or a name given to
    ``commitledger record``); ``kind`` (a model API call, a human prompt,
    or a tool invocation); ``key`` (dedupe key, unique within the agent);
    ``time`` (epoch seconds, UTC); ``session`` (subagents count toward their
    parent); ``cwd`` (the directory the agent worked in, as the log says);
    ``project_hash`` (Gemini CLI names a project by sha256(root) instead of a
    cwd); ``model``; token counts (``input`` excludes cached tokens, ``output``
    includes reasoning); ``cost_usd`` (the agent's own figure, where it logs one);
    what else changes the price of the request: ``provider`` (as the log names it,
    e.g. OpenCode's ``amazon-bedrock``; empty when the agent implies it), ``tier``
    (a request variant as ``key=value``: ``speed=fast``, ``service_tier=priority``)
    and ``web_searches`` (server-side searches the request ran).
    """

    __slots__ = (
        "agent", "kind", "key", "time", "session", "cwd", "project_hash", "model",
        "input", "output", "cache_read", "cache_write_5m", "cache_write_1h", "cost_usd",
        "provider", "tier", "web_searches",
    )  # fmt: skip
    _defaults: ClassVar[dict[str, Any]] = {
        "cwd": None, "project_hash": None, "model": "", "input": 0, "output": 0, "cache_read": 0,
        "cache_write_5m": 0, "cache_write_1h": 0, "cost_usd": None, "provider": "", "tier": "", "web_searches": 0,
    }  # fmt: skip
    agent: str
    kind: EventKind
    key: str
    time: float
    session: str
    cwd: str | None
    project_hash: str | None
    model: str
    input: int
    output: int
    cache_read: int
    cache_write_5m: int
    cache_write_1h: int
    cost_usd: float | None
    provider: str
    tier: str
    web_searches: int

    def __init__(  # spelled out: readers build one per request, and a generic init is 5x slower
        self, agent: str, kind: EventKind, key: str, time: float, session: str, cwd: str | None = None,
        project_hash: str | None = None, model: str = "", input: int = 0, output: int = 0, cache_read: int = 0,
        cache_write_5m: int = 0, cache_write_1h: int = 0, cost_usd: float | None = None,
        provider: str = "", tier: str = "", web_searches: int = 0,
    ) -> None:  # fmt: skip
        self.agent = agent
        self.kind = kind
        self.key = key
        self.time = time
        self.session = session
        self.cwd = cwd
        self.project_hash = project_hash
        self.model = model
        self.input = input
        self.output = output
        self.cache_read = cache_read
        self.cache_write_5m = cache_write_5m
        self.cache_write_1h = cache_write_1h
        self.cost_usd = cost_usd
        self.provider = provider
        self.tier = tier
        self.web_searches = web_searches

    @property
    def cache_write(self) -> int:
        return self.cache_write_5m + self.cache_write_1h

    @property
    def weight(self) -> tuple[int, int]:
        """Which of two rows with one key to keep: most output, then most tokens."""
        return (self.output, self.input + self.cache_read + self.cache_write + self.output)

    def to_json(self) -> list[Any]:
        return [
            self.agent, self.kind, self.key, self.time, self.session, self.cwd, self.project_hash,
            self.model, self.input, self.output, self.cache_read, self.cache_write_5m,
            self.cache_write_1h, self.cost_usd, self.provider, self.tier, self.web_searches,
        ]  # fmt: skip

    @classmethod
    def from_json(cls, row: list[Any]) -> UsageEvent:
        return cls(*row)


class ReadResult(Slotted):
    """Events read, ``end`` (offset after the last complete line consumed) and
    ``bad_lines`` (malformed, truncated-in-the-middle or non-UTF-8 lines skipped)."""

    __slots__ = ("events", "end", "bad_lines")
    _defaults: ClassVar[dict[str, Any]] = {"events": list, "end": 0, "bad_lines": 0}
    events: list[UsageEvent]
    end: int
    bad_lines: int


class Env(Frozen):
    """Where a reader looks: the user's home and environment, plus config paths
    in ``extra`` (e.g. ``aider_analytics_log``, ``worktree``)."""

    __slots__ = ("home", "environ", "extra")
    _defaults: ClassVar[dict[str, Any]] = {"extra": dict}
    home: Path
    environ: Mapping[str, str]
    extra: Mapping[str, str]

    def __hash__(self) -> int:  # environ is a mapping: identity is enough for a hash
        return id(self)

    def dirs(self, variable: str, *defaults: Path) -> list[Path]:
        """The directories a comma-separated ``variable`` names (``~`` expanded), else ``defaults``.

        Agents let users move their data with one variable; several paths are
        allowed because people run one agent under two homes.
        """
        named = self.environ.get(variable, "").strip()
        if named:
            from pathlib import Path

            return [Path(part.strip()).expanduser() for part in named.split(",") if part.strip()]
        return list(defaults)


class Reader(Protocol):
    agent: str

    def incremental(self, path: Path) -> bool:
        """False for files that must be read whole (one JSON document, SQLite):
        they are re-read from the start whenever their size or mtime changes."""
        ...

    def roots(self, env: Env) -> list[Path]:
        """Directories (or files) where this agent's logs live, existing or not."""
        ...

    def files(self, env: Env) -> Iterable[Path]:
        """Every log file this reader would read now."""
        ...

    def read(self, path: Path, start: int, ctx: dict[str, Any]) -> ReadResult:
        """Events from ``path`` starting at byte ``start``; may update ``ctx`` in place."""
        ...


# What an ``AI-Usage:`` trailer can hold and read back (ledger/trailers.py): counts of
# at most 18 digits, costs below 10**12 dollars. A row beyond these is refused, never
# written as a value that would read back as unknown.
MAX_TOKENS = 10**18 - 1
MAX_COST = 1e12
# Event times from 1970 to the year 3000: anything else is a corrupt row, not a request.
MAX_TIME = 32503680000.0
# Server-side web searches in one request: Anthropic caps a request's max_uses far below this.
MAX_SEARCHES = 100_000


def _number(value: Any) -> bool:
    return (type(value) is float or type(value) is int) and value - value == 0  # finite (inf - inf is nan)


def valid_event(event: UsageEvent) -> bool:
    """Whether an event's values are what a log can honestly hold and a trailer can carry.

    Shared by every reader through ``capture.index``: a row with an infinite
    or NaN time, a negative, NaN or 13-digit cost, or a token count that is
    not a non-negative integer of at most 18 digits is a bad row (counted in
    ``doctor``); it never reaches the window, and the rest of the file counts.
    """
    when = event.time
    if not _number(when) or not 0 <= when <= MAX_TIME:
        return False
    for value in (event.input, event.output, event.cache_read, event.cache_write_5m, event.cache_write_1h):
        if type(value) is not int or not 0 <= value <= MAX_TOKENS:
            return False
    searches = event.web_searches
    if type(searches) is not int or not 0 <= searches <= MAX_SEARCHES or type(event.tier) is not str:
        return False
    cost = event.cost_usd
    return cost is None or (_number(cost) and 0 <= cost < MAX_COST)


# Lazy on purpose: the hook imports only the readers it runs.
READERS: dict[str, str] = {
    "claude-code": "commitledger.capture.claude_code:ClaudeCodeReader",
    "codex": "commitledger.capture.codex:CodexReader",
    "gemini-cli": "commitledger.capture.gemini:GeminiReader",
    "opencode": "commitledger.capture.opencode:OpenCodeReader",
    "copilot-cli": "commitledger.capture.copilot:CopilotReader",
    "aider": "commitledger.capture.aider:AiderReader",
    "amp": "commitledger.capture.amp:AmpReader",
    "droid": "commitledger.capture.droid:DroidReader",
    "pi": "commitledger.capture.pi:PiReader",
    "qwen-code": "commitledger.capture.qwen:QwenReader",
    "kilo": "commitledger.capture.kilo:KiloReader",
    "goose": "commitledger.capture.goose:GooseReader",
    "cline": "commitledger.capture.cline:ClineReader",
    "roo-code": "commitledger.capture.roo_code:RooCodeReader",
    "kilo-code": "commitledger.capture.kilo_code:KiloCodeReader",
    "kimi": "commitledger.capture.kimi:KimiReader",
    "openclaw": "commitledger.capture.openclaw:OpenClawReader",
    "grok": "commitledger.capture.grok:GrokReader",
    "zcode": "commitledger.capture.zcode:ZCodeReader",
    "hermes": "commitledger.capture.hermes:HermesReader",
}


def load_reader(agent: str) -> Reader:
    module_name, _, class_name = READERS[agent].partition(":")
    # __import__, not importlib.import_module: the importlib package (and warnings) costs the hook.
    module = __import__(module_name, fromlist=[class_name])
    return getattr(module, class_name)()  # type: ignore[no-any-return]
