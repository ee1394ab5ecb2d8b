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

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Literal, Mapping, Protocol

EventKind = Literal["request", "prompt", "tool"]


@dataclass(slots=True)
class UsageEvent:
    agent: str  # "claude-code", "codex", "gemini-cli", "opencode", "copilot-cli", "aider", "manual"
    kind: EventKind  # a model API call, a human prompt, or a tool invocation
    key: str  # dedupe key, unique within the agent
    time: float  # epoch seconds, UTC
    session: str  # the agent session it belongs to (subagents count toward their parent)
    cwd: str | None = None  # directory the agent worked in, as the log says
    project_hash: str | None = None  # Gemini CLI names a project by sha256(root) instead of a cwd
    model: str = ""
    input: int = 0  # non-cached input tokens
    output: int = 0  # output tokens, reasoning included
    cache_read: int = 0
    cache_write_5m: int = 0
    cache_write_1h: int = 0
    cost_usd: float | None = None  # the agent's own figure, where it logs one (legacy costUSD)

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
            self.cache_write_1h, self.cost_usd,
        ]  # fmt: skip

    @classmethod
    def from_json(cls, row: list[Any]) -> UsageEvent:
        return cls(*row)


@dataclass(slots=True)
class ReadResult:
    events: list[UsageEvent] = field(default_factory=list)
    end: int = 0  # offset after the last complete line consumed
    bad_lines: int = 0  # malformed, truncated-in-the-middle or non-UTF-8 lines skipped


@dataclass(frozen=True, slots=True)
class Env:
    """Where a reader looks: the user's home and environment, plus config paths."""

    home: Path
    environ: Mapping[str, str]
    extra: Mapping[str, str] = field(default_factory=dict)  # e.g. aider_analytics_log


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


# Lazy on purpose: the hook imports only the readers it runs.
READERS: dict[str, str] = {
    "claude-code": "commitledger.capture.claude_code:ClaudeCodeReader",
    "codex": "commitledger.capture.codex:CodexReader",
    "gemini-cli": "commitledger.capture.gemini:GeminiReader",
    "opencode": "commitledger.capture.opencode:OpenCodeReader",
    "copilot-cli": "commitledger.capture.copilot:CopilotReader",
    "aider": "commitledger.capture.aider:AiderReader",
}


def load_reader(agent: str) -> Reader:
    import importlib

    module_name, _, class_name = READERS[agent].partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, class_name)()  # type: ignore[no-any-return]
