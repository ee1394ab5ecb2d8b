"""Amp: one JSON document per thread, ``$AMP_DATA_DIR/threads/T-*.json`` (``~/.local/share/amp``).

A thread file is rewritten whole as the thread grows, so it is read whole
(``incremental`` is False) whenever its size or mtime changes.

- Usage is on assistant messages: ``messages[].usage`` with ``model``,
  ``inputTokens`` (uncached), ``outputTokens``, ``cacheCreationInputTokens``,
  ``cacheReadInputTokens`` and a ``timestamp``. Older threads carry a
  ``usageLedger.events[]`` list (``tokens.input``/``tokens.output``, cache
  figures only on the message named by ``toMessageId``); when it is present it
  is the record of what was billed and messages are not counted again.
- Keys are the thread id and Amp's own ``messageId`` (or the ledger event id).
- The working directory is the first workspace tree of the thread,
  ``env.initial.trees[].uri`` (a ``file://`` URI).
- Amp's ``credits`` are not dollars and are not used; cost is priced from tokens.
"""

from __future__ import annotations

from pathlib import Path

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs the hook ~3 ms
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any, Iterable

from urllib.parse import unquote, urlparse

from commitledger.capture.base import Env, ReadResult, UsageEvent
from commitledger.capture.jsonl import as_int, iso_to_epoch, read_document, walk_files

AGENT = "amp"


class AmpReader:
    agent = AGENT
    # Every event of one file carries the file's one working directory (see capture.index).
    fixed_cwd = True

    def incremental(self, path: Path) -> bool:
        return False

    def roots(self, env: Env) -> list[Path]:
        return [base / "threads" for base in env.dirs("AMP_DATA_DIR", env.home / ".local" / "share" / "amp")]

    def files(self, env: Env) -> Iterable[Path]:
        for root in self.roots(env):
            yield from walk_files(root, ".json", prefix="T-")

    def read(self, path: Path, start: int, ctx: dict[str, Any]) -> ReadResult:
        document, size = read_document(path)
        result = ReadResult(end=size)
        if type(document) is not dict:
            result.bad_lines = 1 if size else 0
            return result
        thread = document.get("id")
        if not isinstance(thread, str) or not thread:
            thread = path.stem
        cwd = _workspace(document)
        messages = document.get("messages")
        messages = messages if isinstance(messages, list) else []
        ledger = document.get("usageLedger")
        events = ledger.get("events") if type(ledger) is dict else None
        out = result.events
        for message in messages:
            if type(message) is not dict:
                result.bad_lines += 1
                continue
            _non_request(message, thread, cwd, out)
        if isinstance(events, list):
            cache = _cache_by_message(messages)
            for event in events:
                if type(event) is not dict:
                    result.bad_lines += 1
                    continue
                request = _ledger_event(event, thread, cwd, cache)
                if request is not None:
                    out.append(request)
            return result
        for message in messages:
            if type(message) is dict:
                request = _message_request(message, thread, cwd)
                if request is not None:
                    out.append(request)
        return result


def _workspace(document: dict[str, Any]) -> str | None:
    env = document.get("env")
    initial = env.get("initial") if type(env) is dict else None
    trees = initial.get("trees") if type(initial) is dict else None
    if not isinstance(trees, list):
        return None
    for tree in trees:
        uri = tree.get("uri") if type(tree) is dict else None
        if isinstance(uri, str) and uri.startswith("file://"):
            path = unquote(urlparse(uri).path)
            if path:
                return path
    return None


def _message_id(message: dict[str, Any]) -> str | None:
    value = message.get("messageId")
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, str)) and str(value):
        return str(value)
    return None


def _message_request(message: dict[str, Any], thread: str, cwd: str | None) -> UsageEvent | None:
    if message.get("role") != "assistant":
        return None
    usage = message.get("usage")
    if type(usage) is not dict:
        return None
    message_id = _message_id(message)
    model = usage.get("model") or message.get("model")
    if message_id is None or not isinstance(model, str) or not model:
        return None
    fresh = as_int(usage.get("inputTokens"))
    output = as_int(usage.get("outputTokens"))
    write = as_int(usage.get("cacheCreationInputTokens"))
    read = as_int(usage.get("cacheReadInputTokens"))
    if not (fresh or output or write or read):
        output = as_int(usage.get("totalTokens"))  # only a total: the reference reader counts it as output
        if not output:
            return None
    when = iso_to_epoch(usage.get("timestamp")) or iso_to_epoch(message.get("timestamp")) or 0.0
    return UsageEvent(AGENT, "request", f"{thread}:{message_id}", when, thread, cwd, None, model, fresh, output, read, write)


def _ledger_event(
    event: dict[str, Any], thread: str, cwd: str | None, cache: dict[str, tuple[int, int]]
) -> UsageEvent | None:
    event_id = event.get("id")
    model = event.get("model")
    tokens = event.get("tokens")
    if not isinstance(event_id, str) or not event_id or not isinstance(model, str) or not model or type(tokens) is not dict:
        return None
    target = event.get("toMessageId")
    write, read = cache.get(str(target), (0, 0)) if target is not None and not isinstance(target, bool) else (0, 0)
    fresh = as_int(tokens.get("input"))
    output = as_int(tokens.get("output"))
    if not (fresh or output or write or read):
        output = as_int(tokens.get("total"))
        if not output:
            return None
    when = iso_to_epoch(event.get("timestamp")) or 0.0
    return UsageEvent(AGENT, "request", f"{thread}:ledger:{event_id}", when, thread, cwd, None, model, fresh, output, read, write)


def _cache_by_message(messages: list[Any]) -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    for message in messages:
        if type(message) is not dict or message.get("role") != "assistant":
            continue
        message_id = _message_id(message)
        usage = message.get("usage")
        if message_id is not None and type(usage) is dict:
            out[message_id] = (as_int(usage.get("cacheCreationInputTokens")), as_int(usage.get("cacheReadInputTokens")))
    return out


def _non_request(message: dict[str, Any], thread: str, cwd: str | None, out: list[UsageEvent]) -> None:
    """Human prompts (a user message with text and no tool result) and tool_use blocks."""
    message_id = _message_id(message)
    content = message.get("content")
    blocks = content if isinstance(content, list) else []
    meta = message.get("meta")
    when = iso_to_epoch(meta.get("sentAt")) if type(meta) is dict else None
    when = when or iso_to_epoch(message.get("timestamp")) or 0.0
    role = message.get("role")
    if role == "user" and message_id is not None:
        kinds = {b.get("type") for b in blocks if type(b) is dict}
        if (isinstance(content, str) and content) or ("text" in kinds and "tool_result" not in kinds):
            out.append(UsageEvent(AGENT, "prompt", f"prompt:{thread}:{message_id}", when, thread, cwd))
    elif role == "assistant":
        usage = message.get("usage")
        model = usage.get("model") if type(usage) is dict else None
        model = model if isinstance(model, str) else ""
        if type(usage) is dict:
            when = iso_to_epoch(usage.get("timestamp")) or when
        for block in blocks:
            if type(block) is dict and block.get("type") == "tool_use":
                call = block.get("id")
                if isinstance(call, str) and call:
                    out.append(UsageEvent(AGENT, "tool", f"tool:{thread}:{call}", when, thread, cwd, None, model))
