"""Claude Code transcripts: ``<config dir>/projects/<project>/<session>.jsonl``.

Every API response is one ``assistant`` row per streamed content block, all
carrying the response's ``message.id`` and a ``usage`` that is final only on
the last row (output tokens ``1, 1, 412``). Requests are therefore keyed by
``message.id`` alone (falling back to ``requestId``, then the row's ``uuid``),
and the window keeps the row with the largest usage per key.

Why ``message.id`` alone and not ``message.id`` + ``requestId`` (ccusage's
historical key): a ``/btw`` side question replays the parent's last message
into its own subagent file with the *same* ``message.id`` but a *new*
``requestId`` (ccusage #913), and a resumed session copies rows into a new
file with both ids equal. The Anthropic message id names one API response no
matter which file it was copied into, so keying by it alone drops both kinds
of copy, whichever file happens to be read first. Because the copies are
identical in tokens, the window's tie rule (first one seen wins) keeps the
original: ``files()`` lists a project's main transcripts before the
``subagents/`` files, which is what keeps the original's 1-hour cache split
when a sidechain replay lacks the ``cache_creation`` breakdown.

Other rules:

- ``model == "<synthetic>"`` and ``isApiErrorMessage`` rows are API-error
  placeholders, not requests.
- ``input`` is ``usage.input_tokens``, which Anthropic reports without the
  cached tokens; cache writes split into 5-minute and 1-hour parts from
  ``usage.cache_creation`` when present, else all count as 5-minute writes
  (the only kind that existed before the split was logged).
- Pre-1.0.9 rows carry the client's own ``costUSD``; it becomes ``cost_usd``.
- A ``Task`` result's ``toolUseResult.usage`` is a summary of the subagent's
  rows, which are in the subagent's own file: it is never counted.
- Subagent and sidechain files carry the parent's ``sessionId``, so their
  usage counts toward the parent session.
- Prompts are non-sidechain ``user`` rows whose content is text (not a
  ``tool_result``); meta rows, compact summaries, slash-command echoes and
  interruption markers are not prompts that started an agent loop.
- Tools are ``tool_use`` blocks keyed by their id, so a block repeated by
  streaming is counted once.

Speed: a cold read of a large ``projects/`` tree is dominated by JSON
parsing, so lines are split from large binary chunks and only lines that can
matter are parsed: a line without ``"usage"``, without ``"type":"user"`` and
without ``"tool_use"`` cannot be a request, prompt or tool call, and a user
row with a ``"tool_result"`` (the bulk of the bytes: file contents, command
output) cannot be a prompt. The quoted forms cannot match text inside a JSON
string, where quotes are escaped. Lines no prefilter selects are checked only
for the ``{ ... }`` shape, so garbage and crash-truncated lines are still
counted as bad without being parsed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable

from commitledger.capture.base import Env, ReadResult, UsageEvent
from commitledger.capture.jsonl import LineReader, as_int, iso_to_epoch, parse, walk_files

AGENT = "claude-code"

# Row types that never carry a request, a prompt or a tool call, recognised by
# the first ``"type":"`` of a line. Any other first type (``user``, the
# ``message`` of an assistant row, a type we have never seen) is parsed.
_SKIP_TYPES: tuple[bytes, ...] = (
    b'progress"',
    b'file-history-snapshot"',
    b'summary"',
    b'queue-operation"',
)

_NOT_PROMPT_PREFIXES: tuple[str, ...] = (
    "<command-name>",
    "<command-message>",
    "<command-args>",
    "<local-command-stdout>",
    "<local-command-stderr>",
    "<local-command-caveat>",
    "[Request interrupted",
)


class ClaudeCodeReader:
    agent = AGENT

    def incremental(self, path: Path) -> bool:
        return True

    def roots(self, env: Env) -> list[Path]:
        configured = env.environ.get("CLAUDE_CONFIG_DIR", "").strip()
        if configured:
            dirs = [Path(part.strip()).expanduser() for part in configured.split(",") if part.strip()]
        else:
            dirs = [env.home / ".config" / "claude", env.home / ".claude"]
        out: list[Path] = []
        for directory in dirs:
            projects = directory / "projects"
            if projects not in out:
                out.append(projects)
        return out

    def files(self, env: Env) -> Iterable[Path]:
        seen: set[str] = set()
        for root in self.roots(env):
            for path in walk_files(root, ".jsonl"):
                # The same tree can be reachable through two roots (a symlinked config dir).
                try:
                    ident = os.path.realpath(path)
                except OSError:
                    ident = str(path)
                if ident not in seen:
                    seen.add(ident)
                    yield path

    def read(self, path: Path, start: int, ctx: dict[str, Any]) -> ReadResult:
        result = ReadResult(end=start)
        events = result.events
        bad = 0
        fallback_session = str(ctx.get("session") or _session_from_path(path))
        reader = LineReader(path, start)
        for buf, limit in reader.chunks():
            find = buf.find
            pos = 0
            while pos < limit:
                nl = find(b"\n", pos, limit)
                if nl < 0:
                    nl = limit
                line_start = pos
                pos = nl + 1
                at = find(b'"type":"', line_start, nl)
                if at < 0:
                    # Nothing typed: blank, garbage or a crash-truncated line; only its shape is checked.
                    if _misshapen(buf, line_start, nl):
                        bad += 1
                    continue
                value = buf[at + 8 : at + 30]
                if value.startswith(b'user"'):
                    if find(b'"tool_result"', at, nl) >= 0 or find(b'"toolUseResult"', line_start, nl) >= 0:
                        continue
                elif value.startswith(_SKIP_TYPES):
                    continue
                try:
                    row = _parse_row(buf, line_start, nl)
                except ValueError:
                    bad += 1
                    continue
                if not isinstance(row, dict):
                    bad += 1
                    continue
                kind = row.get("type")
                if kind == "assistant":
                    _assistant(row, events, fallback_session)
                elif kind == "user":
                    _user(row, events, fallback_session)
        result.end = reader.end
        result.bad_lines = bad
        return result


def _parse_row(buf: bytes, start: int, end: int) -> Any:
    """Parse one row, skipping the text of a large assistant message's content.

    Thinking blocks, answers and ``Write`` inputs make up most of an assistant
    row but carry nothing we count. When the content holds no ``tool_use``,
    the row is parsed with its content array cut out (``"content":[`` ... up
    to the ``],"stop_reason":`` that follows it in every Messages API
    response). Anything unexpected (no such markers, a cut that does not
    parse) falls back to parsing the whole row, so the shortcut can cost
    time but never change a result.
    """
    if end - start > _CUT_MIN:
        message = buf.find(b'"message":{', start, end)
        if message >= 0:
            open_at = buf.find(b'"content":[', message, end)
            close_at = buf.rfind(b'],"stop_reason":', open_at, end) if open_at >= 0 else -1
            if close_at > open_at + _CUT_MIN and buf.find(b'"tool_use"', open_at, close_at) < 0:
                try:
                    return parse(buf[start : open_at + 11] + buf[close_at:end])
                except ValueError:
                    pass
    return parse(buf[start:end])


# Rows (and content arrays) shorter than this are parsed whole: cutting costs more than it saves.
_CUT_MIN = 2048


def _misshapen(buf: bytes, start: int, end: int) -> bool:
    """True for a non-blank line that cannot be a JSON object (cheap: no parse)."""
    while start < end and buf[start] in b" \t\r":
        start += 1
    while end > start and buf[end - 1] in b" \t\r":
        end -= 1
    return start < end and not (buf[start] == 0x7B and buf[end - 1] == 0x7D)


def _session_from_path(path: Path) -> str:
    """The session a file belongs to when its rows do not say: ``<session>/subagents/x.jsonl`` → session."""
    if path.parent.name == "subagents":
        return path.parent.parent.name
    return path.stem


def _assistant(row: dict[str, Any], events: list[UsageEvent], fallback_session: str) -> None:
    message = row.get("message")
    if type(message) is not dict:
        return
    model = message.get("model")
    if model == "<synthetic>" or row.get("isApiErrorMessage"):
        return
    if type(model) is not str:
        model = ""
    session = row.get("sessionId")
    if type(session) is not str or not session:
        session = fallback_session
    cwd = row.get("cwd")
    if type(cwd) is not str:
        cwd = None
    when = iso_to_epoch(row.get("timestamp")) or 0.0
    usage = message.get("usage")
    if type(usage) is dict:
        key = message.get("id") or row.get("requestId") or row.get("uuid")
        if type(key) is str:
            write = _count(usage.get("cache_creation_input_tokens"))
            split = usage.get("cache_creation")
            if type(split) is dict and (
                "ephemeral_5m_input_tokens" in split or "ephemeral_1h_input_tokens" in split
            ):
                write_1h = _count(split.get("ephemeral_1h_input_tokens"))
                write_5m = _count(split.get("ephemeral_5m_input_tokens"))
                if write_5m + write_1h != write and write >= write_1h:
                    # Trust the total; the split only says how much of it is 1-hour.
                    write_5m = write - write_1h
            else:
                write_5m, write_1h = write, 0
            cost = row.get("costUSD")
            events.append(
                UsageEvent(
                    AGENT,
                    "request",
                    key,
                    when,
                    session,
                    cwd,
                    None,
                    model,
                    _count(usage.get("input_tokens")),
                    _count(usage.get("output_tokens")),
                    _count(usage.get("cache_read_input_tokens")),
                    write_5m,
                    write_1h,
                    float(cost) if type(cost) is float or type(cost) is int else None,
                )
            )
    content = message.get("content")
    if type(content) is list:
        for block in content:
            if type(block) is dict and block.get("type") == "tool_use":
                tool_id = block.get("id")
                if type(tool_id) is str and tool_id:
                    events.append(UsageEvent(AGENT, "tool", "tool:" + tool_id, when, session, cwd, None, model))


def _count(value: Any) -> int:
    """Token counts are almost always plain non-negative ints; anything else goes the careful way."""
    if type(value) is int and value >= 0:
        return value
    return as_int(value)


def _user(row: dict[str, Any], events: list[UsageEvent], fallback_session: str) -> None:
    if row.get("isSidechain") or row.get("isMeta") or row.get("isCompactSummary"):
        return
    if row.get("isVisibleInTranscriptOnly") or "toolUseResult" in row:
        return
    message = row.get("message")
    if not isinstance(message, dict):
        return
    content = message.get("content")
    if isinstance(content, str):
        text = content
    elif isinstance(content, list):
        text = ""
        for block in content:
            if not isinstance(block, dict):
                continue
            kind = block.get("type")
            if kind == "tool_result":
                return
            if kind == "text" and not text:
                value = block.get("text")
                text = value if isinstance(value, str) else ""
            elif kind in ("image", "document") and not text:
                text = "\x00"  # an attachment-only prompt still starts a loop
    else:
        return
    text = text.lstrip()
    if not text or text.startswith(_NOT_PROMPT_PREFIXES):
        return
    key = row.get("uuid")
    if not isinstance(key, str) or not key:
        return
    session = row.get("sessionId")
    if not isinstance(session, str) or not session:
        session = fallback_session
    cwd = row.get("cwd")
    events.append(
        UsageEvent(
            AGENT,
            "prompt",
            "prompt:" + key,
            iso_to_epoch(row.get("timestamp")) or 0.0,
            session,
            cwd if isinstance(cwd, str) else None,
        )
    )
