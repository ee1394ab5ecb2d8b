"""Codex CLI rollouts: ``$CODEX_HOME/sessions/YYYY/MM/DD/rollout-*.jsonl``.

Token usage is logged as ``event_msg``/``token_count`` events whose
``info.total_token_usage`` is the session's running total. A request is the
field-wise difference between one total and the last one seen, which is
what survives the log's quirks:

- ``info: null`` events carry rate limits only;
- a ``token_count`` is re-emitted with an unchanged total (its
  ``last_token_usage`` still filled): an unchanged total adds nothing;
- a total lower than the last one in any field means the counter restarted
  (a subagent's own history, a resumed process): the new total is the delta.

The running state (session id, cwd, model, last total) lives in ``ctx`` so
a later read continues where the previous one stopped. Keys are the rollout
id plus the cumulative total, so a re-read from offset 0 produces the same
keys and a copy of the rollout under ``archived_sessions/`` adds nothing.

A ``thread_spawn`` subagent rollout (``session_meta.source.subagent``)
starts with a copy of the parent's ``session_meta`` and a replay of the
parent's token history, all stamped within the same second as its own
``session_meta``; those events are skipped (the parent's file already has
them) until the first event outside that second. Its usage counts toward
the parent's session, and its ``user_message`` events are the parent agent
talking, not a human prompt.

``input_tokens`` includes ``cached_input_tokens``: ``input`` is the
difference, ``cache_read`` the cached part. ``output_tokens`` already
includes ``reasoning_output_tokens`` (billed as output). Codex logs no
cache writes.

``codex exec --json`` prints its ``turn.completed`` usage to stdout and
writes nothing of it to disk by default; the same run also writes a
rollout under ``sessions/``, which is what is read here, so a saved stdout
file is neither needed nor looked for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from commitledger.capture.base import Env, ReadResult, UsageEvent
from commitledger.capture.jsonl import LineReader, as_int, iso_to_epoch, rows, walk_files

AGENT = "codex"

_TOTAL_FIELDS: tuple[str, ...] = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens")
_TOOL_ITEMS = frozenset({"function_call", "custom_tool_call", "local_shell_call", "web_search_call"})
# Lines without any of these cannot change state or produce an event.
_WANTED: tuple[bytes, ...] = (b'"token_count"', b'"session_meta"', b'"turn_context"', b'"user_message"', b'_call"')


class CodexReader:
    agent = AGENT

    def incremental(self, path: Path) -> bool:
        return True

    def roots(self, env: Env) -> list[Path]:
        home = env.environ.get("CODEX_HOME", "").strip()
        base = Path(home).expanduser() if home else env.home / ".codex"
        return [base / "sessions", base / "archived_sessions"]

    def files(self, env: Env) -> Iterable[Path]:
        active, archived = self.roots(env)
        current = walk_files(active, ".jsonl", prefix="rollout-")
        names = {p.name for p in current}
        yield from current
        # An archived rollout is the same file moved; keep the active copy when both exist.
        for path in walk_files(archived, ".jsonl", prefix="rollout-"):
            if path.name not in names:
                yield path

    def read(self, path: Path, start: int, ctx: dict[str, Any]) -> ReadResult:
        if start and "rollout" not in ctx:
            # The running totals of the bytes before ``start`` are lost: without them the next
            # total would count as a whole delta. Keys are stable, so starting over is safe.
            start = 0
        result = ReadResult(end=start)
        events = result.events
        for row in rows(LineReader(path, start), result, lambda line: any(m in line for m in _WANTED)):
            payload = row.get("payload")
            if type(payload) is not dict:
                continue
            _apply(row, payload, ctx, events, path)
        return result


def _apply(row: dict[str, Any], payload: dict[str, Any], ctx: dict[str, Any], events: list[UsageEvent], path: Path) -> None:
    kind = row.get("type")
    stamp = row.get("timestamp")
    stamp = stamp if isinstance(stamp, str) else ""
    if kind == "session_meta":
        if "rollout" in ctx:
            return  # a thread_spawn rollout's copy of its parent's meta
        rollout = payload.get("id")
        ctx["rollout"] = rollout if isinstance(rollout, str) and rollout else _id_from_name(path)
        parent = _spawn_parent(payload.get("source"))
        ctx["session"] = parent or ctx["rollout"]
        ctx["subagent"] = parent is not None
        if parent is not None and stamp:
            ctx["replay"] = stamp[:19]
        cwd = payload.get("cwd")
        if isinstance(cwd, str) and cwd:
            ctx["cwd"] = cwd
        return
    if kind == "turn_context":
        model = payload.get("model")
        if isinstance(model, str) and model:
            ctx["model"] = model
        cwd = payload.get("cwd")
        if isinstance(cwd, str) and cwd:
            ctx["cwd"] = cwd
        return
    replay = ctx.get("replay")
    if replay is not None:
        if stamp[:19] == replay:
            if kind == "event_msg" and payload.get("type") == "token_count":
                total = _total(payload.get("info"))
                if total is not None:
                    ctx["last"] = total
            return
        ctx["replay"] = None
    if "rollout" not in ctx:
        ctx["rollout"] = ctx["session"] = _id_from_name(path)
    session = ctx["session"]
    when = iso_to_epoch(stamp) or 0.0
    cwd = ctx.get("cwd")
    model = ctx.get("model", "")
    item = payload.get("type")
    if kind == "event_msg":
        if item == "token_count":
            _token_count(payload.get("info"), ctx, events, when, session, cwd, model)
        elif item == "user_message" and not ctx.get("subagent"):
            events.append(UsageEvent(AGENT, "prompt", f"prompt:{ctx['rollout']}:{stamp}", when, session, cwd, None, model))
    elif kind == "response_item" and item in _TOOL_ITEMS:
        call = payload.get("call_id") or payload.get("id")
        if not isinstance(call, str) or not call:
            call = f"{ctx['rollout']}:{stamp}"
        events.append(UsageEvent(AGENT, "tool", f"tool:{session}:{call}", when, session, cwd, None, model))


def _token_count(
    info: Any, ctx: dict[str, Any], events: list[UsageEvent], when: float, session: str, cwd: Any, model: str
) -> None:
    total = _total(info)
    if total is None:
        return
    last = ctx.get("last")
    if last == total:
        return
    if last is None or any(now < before for now, before in zip(total, last)):
        delta = list(total)
    else:
        delta = [now - before for now, before in zip(total, last)]
    ctx["last"] = total
    fresh, cached, output, _reasoning = delta
    if not any(delta):
        return
    cached = min(cached, fresh)
    key = f"{ctx['rollout']}:" + ":".join(str(n) for n in total)
    events.append(
        UsageEvent(AGENT, "request", key, when, session, cwd, None, model, fresh - cached, output, cached)
    )


def _total(info: Any) -> list[int] | None:
    if type(info) is not dict:
        return None
    usage = info.get("total_token_usage")
    if type(usage) is not dict:
        return None
    return [as_int(usage.get(name)) for name in _TOTAL_FIELDS]


def _spawn_parent(source: Any) -> str | None:
    if type(source) is not dict:
        return None
    sub = source.get("subagent")
    spawn = sub.get("thread_spawn") if type(sub) is dict else None
    parent = spawn.get("parent_thread_id") if type(spawn) is dict else None
    return parent if isinstance(parent, str) and parent else None


def _id_from_name(path: Path) -> str:
    """``rollout-2026-05-04T10-00-00-<uuid>.jsonl`` → ``<uuid>`` (the session id Codex names it by)."""
    stem = path.stem
    parts = stem.split("-")
    return "-".join(parts[-5:]) if len(parts) >= 10 else stem
