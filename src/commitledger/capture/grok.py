"""Grok Build CLI: ``~/.grok/sessions/<encoded cwd>/<session>/updates.jsonl`` (``$GROK_HOME`` for ``~/.grok``).

``updates.jsonl`` is the session's append-only log of ACP ``session/update``
notifications, read incrementally from the offset index. Each line is
``{"timestamp": <epoch s>, "method": ..., "params": {"sessionId", "update": {...}, "_meta": {"eventId", ...}}}``.

- A ``turn_completed`` update closes one prompt turn and carries that turn's
  usage (per turn, not a running total): ``usage.modelUsage`` maps each model
  the turn called to ``inputTokens`` (the whole prompt: ``cachedReadTokens``
  and ``cacheCreationTokens`` are parts of it), ``outputTokens`` (reasoning
  included) and ``costUsdTicks`` (Grok's own price, 1e10 ticks to the dollar).
  Each model of a turn is one request; ``input`` is the uncached part.
  A turn without ``modelUsage`` is booked to the session's ``current_model_id``
  (``summary.json``); a cancelled turn's ``usage`` is null and counts nothing.
- Keys are the session and the update's ``_meta.eventId`` (``prompt_id`` when
  it has none), plus the model when a turn called several.
- Each ``turn_completed`` is one human prompt (keyed by ``prompt_id``); a
  ``tool_call`` update is one tool call (keyed by ``toolCallId``).
- The working directory is ``info.cwd`` of the session's ``summary.json``
  (then its ``git_root_dir``, then the folder name, the percent-encoded
  directory Grok was started in). Only folders whose decoded directory lies
  in this worktree are listed.
"""

from __future__ import annotations

import json
from pathlib import Path

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs the hook ~3 ms
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any, Callable, Iterable

from commitledger.capture.base import Env, ReadResult, UsageEvent
from commitledger.capture.folders import inside
from commitledger.capture.jsonl import LineReader, as_int, iso_to_epoch, rows

AGENT = "grok"
TICKS_PER_USD = 1e10


class GrokReader:
    leaf_file = "updates.jsonl"  # the one file listed from a session folder (capture.index._dir_signature)
    agent = AGENT

    def incremental(self, path: Path) -> bool:
        return True

    def roots(self, env: Env) -> list[Path]:
        return [base / "sessions" for base in env.dirs("GROK_HOME", env.home / ".grok")]

    def listed_folders(self, env: Env, root: Path) -> Callable[[str], bool]:
        """The folders ``files`` lists from: a session started outside this worktree cannot belong here."""

        def wanted(name: str) -> bool:
            where = decode_folder(name)
            return where is None or inside(where, env.extra)

        return wanted

    def files(self, env: Env) -> Iterable[Path]:
        for root in self.roots(env):
            try:
                folders = sorted(root.iterdir())
            except OSError:
                continue
            wanted = self.listed_folders(env, root)
            for folder in folders:
                if not wanted(folder.name):
                    continue  # started in a directory outside this worktree: its sessions cannot belong here
                try:
                    sessions = sorted(folder.iterdir())
                except OSError:
                    continue
                for session in sessions:
                    path = session / "updates.jsonl"
                    try:
                        if path.is_file():
                            yield path
                    except OSError:
                        continue

    def read(self, path: Path, start: int, ctx: dict[str, Any]) -> ReadResult:
        cwd, model, summary_id = _summary(path.parent)
        if cwd is None:
            cwd = decode_folder(path.parent.parent.name)
        fallback_session = summary_id or path.parent.name
        result = ReadResult(end=start)
        out = result.events
        for row in rows(LineReader(path, start), result, _wanted):
            params = row.get("params")
            update = params.get("update") if type(params) is dict else None
            if type(update) is not dict:
                continue
            kind = update.get("sessionUpdate")
            if kind != "turn_completed" and kind != "tool_call":
                continue
            session = params.get("sessionId")
            session = session if isinstance(session, str) and session else fallback_session
            meta = params.get("_meta")
            if type(meta) is not dict:
                meta = row.get("_meta")  # some writers put it beside params
                meta = meta if type(meta) is dict else {}
            when = _time(row.get("timestamp"), meta.get("agentTimestampMs"))
            if when is None:
                result.bad_lines += 1  # a turn Grok did not time cannot be placed before or after a commit
                continue
            if kind == "tool_call":
                call = update.get("toolCallId")
                if isinstance(call, str) and call:
                    out.append(UsageEvent(AGENT, "tool", f"tool:{session}:{call}", when, session, cwd, None, model))
                continue
            prompt = update.get("prompt_id")
            prompt = prompt if isinstance(prompt, str) and prompt else None
            event = meta.get("eventId")
            ident = event if isinstance(event, str) and event else prompt
            if ident is None:
                result.bad_lines += 1  # no id of Grok's own: a re-read could not be told from a new turn
                continue
            out.append(UsageEvent(AGENT, "prompt", f"prompt:{session}:{prompt or ident}", when, session, cwd))
            usage = update.get("usage")
            if usage is None:
                continue  # cancelled or failed turn: no usage recorded
            if type(usage) is not dict:
                result.bad_lines += 1
                continue
            per_model = usage.get("modelUsage")
            if type(per_model) is dict and per_model:
                entries = [(name, item) for name, item in per_model.items()]
            elif model:
                entries = [(model, usage)]
            else:
                result.bad_lines += 1  # tokens with no model named anywhere: they cannot be priced or booked
                continue
            several = len(entries) > 1
            for name, item in entries:
                if type(item) is not dict or not isinstance(name, str) or not name.strip():
                    result.bad_lines += 1
                    continue
                request = _request(item, f"{session}:{ident}:{name}" if several else f"{session}:{ident}",
                                   when, session, cwd, name.strip())  # fmt: skip
                if request is not None:
                    out.append(request)
        return result


def _wanted(line: bytes) -> bool:
    return b"turn_completed" in line or b"tool_call" in line


def _request(item: dict[str, Any], key: str, when: float, session: str, cwd: str | None, model: str) -> UsageEvent | None:
    prompt = as_int(item.get("inputTokens"))
    read = min(as_int(item.get("cachedReadTokens")), prompt)
    write = min(as_int(item.get("cacheCreationTokens")), prompt - read)
    output = as_int(item.get("outputTokens"))
    if not (prompt or output):
        return None
    ticks = item.get("costUsdTicks")
    cost = None
    if (type(ticks) is int or type(ticks) is float) and ticks >= 0:
        cost = ticks / TICKS_PER_USD
    return UsageEvent(AGENT, "request", key, when, session, cwd, None, model, prompt - read - write, output, read, write,
                      0, cost)  # fmt: skip


def _time(stamp: Any, agent_ms: Any) -> float | None:
    if isinstance(stamp, (int, float)) and not isinstance(stamp, bool) and stamp > 0:
        return iso_to_epoch(stamp)  # epoch seconds (milliseconds are recognised too)
    if isinstance(agent_ms, (int, float)) and not isinstance(agent_ms, bool) and agent_ms > 0:
        return float(agent_ms) / 1000.0
    return None


def _summary(session_dir: Path) -> tuple[str | None, str, str | None]:
    """``summary.json``: the working directory, the session's current model and its id (each may be missing)."""
    try:
        data = json.loads((session_dir / "summary.json").read_bytes())
    except (OSError, ValueError):
        return None, "", None
    if type(data) is not dict:
        return None, "", None
    info = data.get("info")
    info = info if type(info) is dict else {}
    cwd = info.get("cwd")
    if not (isinstance(cwd, str) and cwd):
        cwd = data.get("git_root_dir")
    cwd = cwd.rstrip("/") or "/" if isinstance(cwd, str) and cwd else None
    model = data.get("current_model_id")
    model = model.strip() if isinstance(model, str) else ""
    ident = info.get("id")
    return cwd, model, ident if isinstance(ident, str) and ident else None


def decode_folder(name: str) -> str | None:
    """The directory a session folder is named after (``%2Fhome%2Falice`` -> ``/home/alice``), if it names one."""
    if "%" not in name:
        return None
    raw = bytearray()
    i, n = 0, len(name)
    while i < n:
        pair = name[i + 1 : i + 3]
        if name[i] == "%" and len(pair) == 2 and all(c in _HEX for c in pair):
            raw.append(int(pair, 16))
            i += 3
            continue
        raw.extend(name[i].encode("utf-8"))
        i += 1
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if text.startswith("/") else None


_HEX = frozenset("0123456789abcdefABCDEF")
