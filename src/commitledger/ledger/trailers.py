"""Format and parse ``AI-Usage:`` and ``Assisted-by:`` trailers (format version 1).

Parsed by hand, not through pygit2: ``message_trailers`` is a dict (repeated
keys collapse to the last one) and libgit2 only looks at the final paragraph,
while a GitHub squash merge concatenates every commit's message, so our lines
can stand anywhere in a body. Garbage never raises: a line we cannot read is
skipped, a value we cannot read is unknown.
"""

from __future__ import annotations

import re

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs the hook ~3 ms
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any, ClassVar

from commitledger.slotted import Slotted
from commitledger.ledger.usage import COUNT_FIELDS, Usage

USAGE_KEY = "AI-Usage"
ASSISTED_KEY = "Assisted-by"

_USAGE_LINE = re.compile(r"^[ \t]*ai-usage[ \t]*:[ \t]*(?P<body>.*?)[ \t]*$", re.IGNORECASE | re.MULTILINE)
_NAME_OK = re.compile(r"[^A-Za-z0-9._:/@+\-]")
_INT = re.compile(r"^[0-9]{1,18}$")
_DEC = re.compile(r"^[0-9]{1,12}(\.[0-9]{1,12})?$")
_EXTRA_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_EXTRA_VALUE = re.compile(r"^[A-Za-z0-9._:/@+\-]{1,80}$")


def clean_name(name: str) -> str:
    """Agent and model names go into a space-separated key=value line.

    Anything that could break the line, or smuggle text into it, becomes
    ``_``; the length is capped so a hostile log cannot bloat a commit.
    """
    cleaned = _NAME_OK.sub("_", name.strip())[:80]
    return cleaned or "unknown"


class UsageLine(Slotted):
    """One ``AI-Usage:`` line: an (agent, model) pair and its counts."""

    __slots__ = ("agent", "model", "usage")
    _defaults: ClassVar[dict[str, Any]] = {"usage": Usage}
    agent: str
    model: str
    usage: Usage

    def format(self) -> str:
        return f"{USAGE_KEY}: " + format_fields(self.agent, self.model, self.usage)


def format_fields(agent: str, model: str, usage: Usage) -> str:
    parts = [f"agent={clean_name(agent)}", f"model={clean_name(model)}"]
    # Only values that read back as written: a count of more than 18 digits, a negative
    # count or a cost that is negative, NaN, infinite or of 13 integer digits is left
    # out (unknown), never written as text the parser would turn into something else.
    for name in COUNT_FIELDS:
        value = getattr(usage, name)
        if value is not None and not (type(value) is float and value - value != 0):
            text = str(int(value))
            if _INT.match(text):
                parts.append(f"{name}={text}")
    cost = usage.cost_usd
    if cost is not None:
        text = f"{cost:.4f}"
        if _DEC.match(text):
            parts.append(f"cost_usd={text}")
    for key in sorted(usage.extra):
        value = usage.extra[key]
        if _EXTRA_KEY.match(key) and _EXTRA_VALUE.match(value):
            parts.append(f"{key}={value}")
    return " ".join(parts)


def parse_fields(body: str) -> UsageLine | None:
    """Parse the part after ``AI-Usage:``; ``None`` when agent or model is missing."""
    agent = model = None
    usage = Usage()
    for token in body.split():
        key, sep, value = token.partition("=")
        if not sep or not key:
            continue
        key = key.lower()
        if key == "agent":
            agent = clean_name(value) if value else None
        elif key == "model":
            model = clean_name(value) if value else None
        elif key in COUNT_FIELDS:
            setattr(usage, key, int(value) if _INT.match(value) else None)
        elif key == "cost_usd":
            usage.cost_usd = float(value) if _DEC.match(value) else None
        elif _EXTRA_KEY.match(key) and _EXTRA_VALUE.match(value):
            usage.extra[key] = value
    if not agent or not model:
        return None
    if usage.cost_usd is None and usage.has_tokens():
        usage.cost_complete = False
    return UsageLine(agent, model, usage)


def parse_usage_lines(message: str) -> list[UsageLine]:
    """Every readable ``AI-Usage:`` line anywhere in a commit message, in order."""
    if "usage" not in message.lower():  # cheap reject for the common case
        return []
    out: list[UsageLine] = []
    for match in _USAGE_LINE.finditer(message):
        line = parse_fields(match.group("body"))
        if line is not None:
            out.append(line)
    return out


def format_assisted_by(lines: list[UsageLine]) -> list[str]:
    """One ``Assisted-by: agent:model`` per agent, naming its model with the most output."""
    best: dict[str, tuple[int, str]] = {}
    for line in lines:
        weight = (line.usage.output or 0) + (line.usage.input or 0)
        current = best.get(line.agent)
        if current is None or weight > current[0]:
            best[line.agent] = (weight, line.model)
    return [f"{ASSISTED_KEY}: {clean_name(agent)}:{clean_name(model)}" for agent, (_, model) in best.items()]


def format_trailers(lines: list[UsageLine]) -> list[str]:
    """The trailer lines a commit gets: ``Assisted-by:`` first, then ``AI-Usage:``."""
    return format_assisted_by(lines) + [line.format() for line in lines]


def merge_lines(a: list[UsageLine], b: list[UsageLine]) -> list[UsageLine]:
    """Sum two sets of lines per (agent, model), keeping first-seen order (amend)."""
    merged: dict[tuple[str, str], UsageLine] = {}
    for line in list(a) + list(b):
        key = (line.agent, line.model)
        if key in merged:
            merged[key] = UsageLine(line.agent, line.model, merged[key].usage + line.usage)
        else:
            merged[key] = UsageLine(line.agent, line.model, line.usage)
    return list(merged.values())


_OUR_TRAILER = re.compile(r"^[ \t]*(ai-usage|assisted-by)[ \t]*:", re.IGNORECASE)


def strip_our_trailers(message: str) -> str:
    """The message without any ``AI-Usage:``/``Assisted-by:`` line (for rewriting on amend)."""
    kept = [line for line in message.splitlines(keepends=True) if not _OUR_TRAILER.match(line)]
    return "".join(kept)


# --- other evidence that a commit was AI-assisted (read, never written) ---

_AI_NAMES = r"(claude|anthropic|codex|openai|chatgpt|copilot|gemini|cursor|aider)"
_MARKERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("co-authored-by", re.compile(r"^[ \t]*co-authored-by[ \t]*:.*\b" + _AI_NAMES + r"\b", re.I | re.M)),
    ("made-with-cursor", re.compile(r"^[ \t]*made-with[ \t]*:[ \t]*cursor\b", re.I | re.M)),
    ("assisted-by", re.compile(r"^[ \t]*assisted-by[ \t]*:", re.I | re.M)),
    ("claude-session", re.compile(r"^[ \t]*claude-session[ \t]*:", re.I | re.M)),
    ("entire-checkpoint", re.compile(r"^[ \t]*entire-checkpoint[ \t]*:", re.I | re.M)),
    ("generated-with", re.compile(r"generated with \[?(claude code|codex|gemini cli|cursor|aider)", re.I)),
)


def ai_markers(message: str, author_name: str = "") -> list[str]:
    """Names of the AI-assistance markers present (empty when none).

    A git-ai note under ``refs/notes/ai`` is also evidence, but needs the
    repository; ``git.repo`` checks that one.
    """
    found: list[str] = []
    if parse_usage_lines(message):
        found.append("ai-usage")
    for name, pattern in _MARKERS:
        if pattern.search(message):
            found.append(name)
    if author_name.rstrip().lower().endswith("(aider)"):
        found.append("aider-author")
    return found
