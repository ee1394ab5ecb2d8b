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

import json
import os
from pathlib import Path
from typing import Any, Iterable

from commitledger.capture.base import Env, ReadResult, UsageEvent
from commitledger.capture.jsonl import LineReader, as_int, iso_to_epoch, walk_files

AGENT = "claude-code"

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
        loads = json.loads
        reader = LineReader(path, start)
        for batch in reader.batches():
            for line in batch:
                if b'"usage"' in line or b'"tool_use"' in line:
                    pass
                elif b'"type":"user"' in line and b'"tool_result"' not in line:
                    pass
                else:
                    stripped = line.strip()
                    if stripped and not (stripped[:1] == b"{" and stripped[-1:] == b"}"):
                        bad += 1
                    continue
                try:
                    row = loads(line)
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


def _session_from_path(path: Path) -> str:
    """The session a file belongs to when its rows do not say: ``<session>/subagents/x.jsonl`` → session."""
    if path.parent.name == "subagents":
        return path.parent.parent.name
    return path.stem


def _assistant(row: dict[str, Any], events: list[UsageEvent], fallback_session: str) -> None:
    message = row.get("message")
    if not isinstance(message, dict):
        return
    model = message.get("model")
    if model == "<synthetic>" or row.get("isApiErrorMessage"):
        return
    if not isinstance(model, str):
        model = ""
    session = row.get("sessionId")
    if not isinstance(session, str) or not session:
        session = fallback_session
    cwd = row.get("cwd")
    if not isinstance(cwd, str):
        cwd = None
    when = iso_to_epoch(row.get("timestamp")) or 0.0
    usage = message.get("usage")
    if isinstance(usage, dict):
        key = message.get("id") or row.get("requestId") or row.get("uuid")
        if isinstance(key, str) and key:
            write = as_int(usage.get("cache_creation_input_tokens"))
            split = usage.get("cache_creation")
            if isinstance(split, dict) and (
                "ephemeral_5m_input_tokens" in split or "ephemeral_1h_input_tokens" in split
            ):
                write_1h = as_int(split.get("ephemeral_1h_input_tokens"))
                write_5m = as_int(split.get("ephemeral_5m_input_tokens"))
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
                    as_int(usage.get("input_tokens")),
                    as_int(usage.get("output_tokens")),
                    as_int(usage.get("cache_read_input_tokens")),
                    write_5m,
                    write_1h,
                    float(cost) if isinstance(cost, (int, float)) and not isinstance(cost, bool) else None,
                )
            )
    content = message.get("content")
    if isinstance(content, list):
        for block in content:
            if isinstance(block, dict) and block.get("type") == "tool_use":
                tool_id = block.get("id")
                if isinstance(tool_id, str) and tool_id:
                    events.append(UsageEvent(AGENT, "tool", "tool:" + tool_id, when, session, cwd, None, model))


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
