"""Format and parse ``AI-Usage:`` and ``Assisted-by:`` trailers (format version 1).

Parsed by hand, not through pygit2: ``message_trailers`` is a dict (repeated
keys collapse to the last one) and libgit2 only looks at the final paragraph,
while a GitHub squash merge concatenates every commit's message, so our lines
can stand anywhere in a body. Garbage never raises: a line we cannot read is
skipped, a value we cannot read is unknown.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs the hook ~3 ms
if TYPE_CHECKING:  # pragma: no cover
    import re
    from typing import Any, ClassVar

from commitledger.slotted import Slotted
from commitledger.ledger.usage import COUNT_FIELDS, Usage

USAGE_KEY = "AI-Usage"
ASSISTED_KEY = "Assisted-by"

# The format and parse path is written with string operations, not regular expressions:
# the commit hook formats trailers on every commit, and ``import re`` plus compiling the
# patterns costs it more than all the rest of its work.
_DIGITS = frozenset("0123456789")
_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:/@+-")
_KEY_FIRST = frozenset("abcdefghijklmnopqrstuvwxyz")
_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
# Characters other than the ASCII letter and its upper case that ``re.IGNORECASE`` matches
# for a letter of our keys (dotted and dotless i, long s): the keys are found as before.
_FOLD_EXTRA = {"\u0130": "i", "\u0131": "i", "\u017f": "s"}


def _is_int(text: str) -> bool:
    """``[0-9]{1,18}``: a count that reads back as written."""
    return 0 < len(text) <= 18 and _DIGITS.issuperset(text)


def _is_dec(text: str) -> bool:
    """``[0-9]{1,12}(\\.[0-9]{1,12})?``: a cost that reads back as written."""
    whole, dot, fraction = text.partition(".")
    return 0 < len(whole) <= 12 and _DIGITS.issuperset(whole) and (
        not dot or (0 < len(fraction) <= 12 and _DIGITS.issuperset(fraction)))


def _is_extra_key(text: str) -> bool:
    return 0 < len(text) <= 40 and text[0] in _KEY_FIRST and _KEY_CHARS.issuperset(text)


def _is_extra_value(text: str) -> bool:
    return 0 < len(text) <= 80 and _NAME_CHARS.issuperset(text)


def key_at(line: str, start: int, key: str) -> int:
    """Where the text after ``[ \\t]*KEY[ \\t]*:`` begins in ``line`` from ``start``, else -1.

    ``key`` is lower-case ASCII and matched case-insensitively, as
    ``re.IGNORECASE`` matches it.
    """
    size = len(line)
    i = start
    while i < size and line[i] in " \t":
        i += 1
    if size - i < len(key):
        return -1
    for k in key:
        c = line[i]
        if c != k and c.lower() != k and _FOLD_EXTRA.get(c) != k:
            return -1
        i += 1
    while i < size and line[i] in " \t":
        i += 1
    return i + 1 if i < size and line[i] == ":" else -1


def clean_name(name: str) -> str:
    """Agent and model names go into a space-separated key=value line.

    Anything that could break the line, or smuggle text into it, becomes
    ``_``; the length is capped so a hostile log cannot bloat a commit.
    """
    stripped = name.strip()
    if not _NAME_CHARS.issuperset(stripped):
        stripped = "".join(c if c in _NAME_CHARS else "_" for c in stripped)
    return stripped[:80] or "unknown"


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
            if _is_int(text):
                parts.append(f"{name}={text}")
    cost = usage.cost_usd
    if cost is not None:
        text = f"{cost:.4f}"
        if _is_dec(text):
            parts.append(f"cost_usd={text}")
    for key in sorted(usage.extra):
        value = usage.extra[key]
        if _is_extra_key(key) and _is_extra_value(value):
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
            setattr(usage, key, int(value) if _is_int(value) else None)
        elif key == "cost_usd":
            usage.cost_usd = float(value) if _is_dec(value) else None
        elif _is_extra_key(key) and _is_extra_value(value):
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
    for text in message.split("\n"):  # a line as ``re.MULTILINE`` sees one: only \\n ends it
        at = key_at(text, 0, "ai-usage")
        if at >= 0:
            line = parse_fields(text[at:].strip(" \t"))
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


def is_our_trailer(line: str) -> bool:
    """Whether a line starts ``[ \\t]*(AI-Usage|Assisted-by)[ \\t]*:`` (any case)."""
    return key_at(line, 0, "ai-usage") >= 0 or key_at(line, 0, "assisted-by") >= 0


def strip_our_trailers(message: str) -> str:
    """The message without any ``AI-Usage:``/``Assisted-by:`` line (for rewriting on amend)."""
    kept = [line for line in message.splitlines(keepends=True) if not is_our_trailer(line)]
    return "".join(kept)


# --- other evidence that a commit was AI-assisted (read, never written) ---
#
# By identity, never by company: a Co-authored-by line is an agent when its name is an agent's name
# ("Claude", "Claude Opus 4.6", "aider (gpt-4o)", "Codex", "Copilot", "Cursor Agent", ...) or its address is
# one the agents write (noreply@anthropic.com, noreply@aider.chat, ...). A person whose address is at
# anthropic.com or openai.com is a person.


class Marker(Slotted):
    """One piece of evidence, with the agent and model it states (``None`` when it names none)."""

    __slots__ = ("evidence", "agent", "model", "tools")
    _defaults: ClassVar[dict[str, Any]] = {"agent": None, "model": None, "tools": tuple}
    evidence: str
    agent: str | None
    model: str | None
    tools: tuple[str, ...]


# Agent names as people spell them -> the agent ids our trailers use (capture/ modules' names).
_AGENT_IDS = {
    "claude": "claude-code", "claude code": "claude-code", "claude-code": "claude-code", "anthropic": "claude-code",
    "codex": "codex", "codex cli": "codex", "openai codex": "codex", "chatgpt": "codex", "chatgpt codex": "codex",
    "copilot": "copilot", "github copilot": "copilot", "copilot-swe-agent": "copilot",
    "gemini": "gemini", "gemini cli": "gemini", "gemini-cli": "gemini", "gemini code assist": "gemini",
    "cursor": "cursor", "cursor agent": "cursor", "cursoragent": "cursor",
    "aider": "aider", "opencode": "opencode", "devin": "devin", "devin-ai-integration": "devin",
    "windsurf": "windsurf", "amp": "amp", "jules": "jules", "kiro": "kiro",
}
# Addresses only agents write (lower case); GitHub noreply addresses of agent apps are matched by login below.
_AGENT_ADDRESSES = {
    "noreply@anthropic.com": "claude-code",
    "claude@anthropic.com": "claude-code",
    "noreply@aider.chat": "aider",
    "aider@aider.chat": "aider",
    "codex@openai.com": "codex",
    "noreply@openai.com": "codex",
    "cursoragent@cursor.com": "cursor",
    "noreply@cursor.com": "cursor",
    "gemini-cli@google.com": "gemini",
    "noreply@opencode.ai": "opencode",
}
_AGENT_LOGINS = {
    "copilot": "copilot", "copilot-swe-agent[bot]": "copilot", "claude[bot]": "claude-code",
    "chatgpt-codex-connector[bot]": "codex", "gemini-code-assist[bot]": "gemini", "google-labs-jules[bot]": "jules",
    "devin-ai-integration[bot]": "devin", "cursor[bot]": "cursor", "cursoragent": "cursor",
}
class _Lazy:
    """A regular expression compiled on first use: the commit hook imports this module, never ``re``."""

    __slots__ = ("_args", "_compiled")

    def __init__(self, pattern: str, *flags: str) -> None:
        self._args = (pattern, flags)
        self._compiled: re.Pattern[str] | None = None

    def _get(self) -> re.Pattern[str]:
        if self._compiled is None:
            import re

            pattern, flags = self._args
            value = 0
            for flag in flags:
                value |= getattr(re, flag)
            self._compiled = re.compile(pattern, value)
        return self._compiled

    def match(self, text: str) -> re.Match[str] | None:
        return self._get().match(text)

    def search(self, text: str) -> re.Match[str] | None:
        return self._get().search(text)

    def finditer(self, text: str) -> Any:
        return self._get().finditer(text)


_GH_NOREPLY = _Lazy(r"^(?:\d+\+)?(?P<login>[^@]+)@users\.noreply\.github\.com$")
_COAUTHOR = _Lazy(r"^[ \t]*co-authored-by[ \t]*:[ \t]*(?P<name>[^<\n]*?)[ \t]*(?:<(?P<email>[^>\n]*)>)?[ \t]*$",
                  "I", "M")
# "Claude", "Claude Code", "Claude Opus 4.6", "Claude 3.7 Sonnet", "Claude Sonnet 4.5 (1M context)"
_CLAUDE_NAME = _Lazy(r"^claude(?:[ -]code)?(?P<model>(?:[ -](?:opus|sonnet|haiku|instant|\d+(?:\.\d+)*))+)?"
                     r"(?:\s*\(.*\))?$", "I")
# "aider (openai/gpt-4o)" (the co-author aider writes) and "Jane Doe (aider)" (the author it writes)
_AIDER_NAME = _Lazy(r"^aider\s*(?:\((?P<model>[^)]*)\))?$", "I")
_ASSISTED = _Lazy(r"^[ \t]*assisted-by[ \t]*:[ \t]*(?P<body>[^\n]*?)[ \t]*$", "I", "M")
_SIMPLE: tuple[tuple[str, str | None, _Lazy], ...] = (
    ("made-with-cursor", "cursor", _Lazy(r"^[ \t]*made-with[ \t]*:[ \t]*cursor\b", "I", "M")),
    ("claude-session", "claude-code", _Lazy(r"^[ \t]*claude-session[ \t]*:", "I", "M")),
    ("entire-checkpoint", None, _Lazy(r"^[ \t]*entire-checkpoint[ \t]*:", "I", "M")),
)
_GENERATED = _Lazy(r"generated with \[?(?P<agent>claude code|codex|gemini cli|cursor|aider|opencode)", "I")


def agent_id(name: str) -> str | None:
    """The agent id a spelled-out agent name stands for; ``None`` when it is not an agent's name."""
    key = " ".join(name.strip().lower().replace("_", " ").split())
    return _AGENT_IDS.get(key)


def model_id(name: str) -> str | None:
    """A model as a marker spells it, as trailer models are spelled: "Claude Opus 4.6" -> claude-opus-4-6.

    A provider prefix ("openai/gpt-4o") is dropped, as the price lookup does.
    """
    import re

    text = name.strip().lower()
    if "/" in text:
        text = text.rsplit("/", 1)[1]
    text = re.sub(r"\s*\(.*?\)\s*", " ", text).strip()  # "(1M context)"
    text = re.sub(r"[\s_]+", "-", text).strip("-")
    if text.startswith("claude"):
        text = text.replace(".", "-")  # Anthropic's ids are dashed (claude-opus-4-6); gpt-5.4 keeps its dot
    return clean_name(text) if text else None


def _coauthor(name: str, email: str) -> tuple[str, str | None] | None:
    """(agent, model) of a co-author that is an agent, by its name or by an address only agents use."""
    address = email.strip().lower()
    by_address = _AGENT_ADDRESSES.get(address)
    if by_address is None:
        login = _GH_NOREPLY.match(address)
        if login is not None:
            by_address = _AGENT_LOGINS.get(login.group("login"))
    claude = _CLAUDE_NAME.match(name.strip())
    if claude is not None:
        model = claude.group("model")
        return "claude-code", model_id("claude" + model) if model else None
    aider = _AIDER_NAME.match(name.strip())
    if aider is not None:
        model = aider.group("model")
        return "aider", model_id(model) if model else None
    by_name = agent_id(name) or _AGENT_LOGINS.get(name.strip().lower())
    if by_name is not None:
        return by_name, None
    if by_address is not None:
        return by_address, None
    return None


def author_agent(email: str) -> str | None:
    """The agent a commit's *author* is, by its GitHub app login only (a person's name may be "Claude")."""
    login = _GH_NOREPLY.match(email.strip().lower())
    return _AGENT_LOGINS.get(login.group("login")) if login is not None else None


def marker_details(message: str, author_name: str = "", author_email: str = "") -> list[Marker]:
    """Every AI-assistance marker of a commit, with the agent and model each states.

    ``Assisted-by: AGENT:MODEL [TOOL...]`` is the Linux kernel's form (and
    ours, without tools); an author named "... (aider)" is aider's own
    attribution. A git-ai note under ``refs/notes/ai`` is evidence too, but
    needs the repository; ``git.repo`` checks that one.
    """
    found: list[Marker] = []
    for line in parse_usage_lines(message):
        found.append(Marker("ai-usage", line.agent, line.model))
    lower = message.lower()
    if "co-authored-by" in lower:
        for match in _COAUTHOR.finditer(message):
            hit = _coauthor(match.group("name") or "", match.group("email") or "")
            if hit is not None:
                found.append(Marker("co-authored-by", hit[0], hit[1]))
    for name, agent, pattern in _SIMPLE:
        if pattern.search(message):
            found.append(Marker(name, agent))
    if "assisted-by" in lower:
        for match in _ASSISTED.finditer(message):
            words = match.group("body").split()
            if not words:
                continue
            head, _, model = words[0].partition(":")
            agent = agent_id(head) or clean_name(head.lower())
            found.append(Marker("assisted-by", agent, model_id(model) if model else None,
                                tuple(clean_name(w.strip("[]")) for w in words[1:] if w.strip("[]"))))
    generated = _GENERATED.search(message)
    if generated is not None:
        found.append(Marker("generated-with", agent_id(generated.group("agent"))))
    if author_name.rstrip().lower().endswith("(aider)"):
        found.append(Marker("aider-author", "aider"))
    else:
        agent = author_agent(author_email)
        if agent is not None:
            found.append(Marker("agent-author", agent))
    return found


def ai_markers(message: str, author_name: str = "", author_email: str = "") -> list[str]:
    """Names of the AI-assistance markers present (empty when none), each once."""
    return list(dict.fromkeys(m.evidence for m in marker_details(message, author_name, author_email)))


def marker_summary(markers: list[Marker]) -> tuple[list[str], list[str], list[str]]:
    """(agents, models, evidence) a list of markers states, each once, in first-seen order."""
    agents = list(dict.fromkeys(m.agent for m in markers if m.agent))
    models = list(dict.fromkeys(m.model for m in markers if m.model))
    evidence = list(dict.fromkeys(m.evidence for m in markers))
    return agents, models, evidence
