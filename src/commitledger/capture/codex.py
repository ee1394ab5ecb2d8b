"""Codex CLI rollouts: ``$CODEX_HOME/sessions/YYYY/MM/DD/rollout-*.jsonl``.

Token usage is logged as ``event_msg``/``token_count`` events carrying
``info.last_token_usage`` (this request) and ``info.total_token_usage`` (the
session's running total). A request's tokens are its ``last_token_usage``;
only an event without one falls back to the field-wise difference of two
totals (a difference loses the request before a counter restart). The totals
still decide *whether* an event is a new request:

- ``info: null`` events carry rate limits only;
- a ``token_count`` is re-emitted with an unchanged total (its
  ``last_token_usage`` still filled): an unchanged total adds nothing;
- a total lower than the last one in any field means the counter restarted
  (a subagent's own history, a resumed process).

Newer rollouts also write ``token_usage_record {response_id, usage}`` per
response, and ``compacted {compaction_response_id}`` when a compaction
request summarised the history (its usage is in a record, not in the
totals). Once a rollout has records, they are its requests (keyed by
response id) and ``token_count`` events add nothing more.

The running state (session id, cwd, model, last total) lives in ``ctx`` so
a later read continues where the previous one stopped. Keys are the rollout
id plus the cumulative total, so a re-read from offset 0 produces the same
keys and a copy of the rollout under ``archived_sessions/`` adds nothing.

Forks and subagents: a rollout whose ``session_meta`` names
``forked_from_id`` or a ``thread_spawn`` parent starts with a copy of its
ancestor's ``session_meta`` and history, re-stamped at the fork instant.
No timing rule tells where the copy ends, so none is used: every copied
event is keyed under the *ancestor's* rollout id (``copied session_meta.id``
+ total), exactly the key the ancestor's own file gives it, so the window
keeps one of the two whichever file is read first and however long the copy
took to write. The copy ends where the child's own counter starts (a total
lower than the copied one); a forked child whose counter continues keeps the
ancestor's prefix for its own totals, which are new totals and so new keys.
A ``thread_spawn`` subagent's usage counts toward the parent's session, and
its ``user_message`` events are the parent agent talking, not a human prompt.

Requests logged before any ``turn_context`` name no model: they take the
session's model once a ``turn_context`` names it within the same read, and
otherwise stay model-less (their own ``model=unknown`` line, which leaves
the other lines priced). ``service_tier`` (``priority``, ``flex``) in
``turn_context`` or ``session_meta`` is the request's price variant.

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

import os

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs the hook ~3 ms
if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path
    from typing import Any, Iterable

from commitledger.capture.base import Env, ReadResult, UsageEvent
from commitledger.capture.jsonl import LineReader, as_int, iso_to_epoch, rows, walk_files

AGENT = "codex"

_TOTAL_FIELDS: tuple[str, ...] = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens")
_TOOL_ITEMS = frozenset({"function_call", "custom_tool_call", "local_shell_call", "web_search_call"})
# Lines without any of these cannot change state or produce an event.
_WANTED: tuple[bytes, ...] = (
    b'"token_count"', b'"session_meta"', b'"turn_context"', b'"user_message"', b'_call"', b'"token_usage_record"',
    b'"compacted"',
)  # fmt: skip
_TIERS = frozenset({"priority", "flex", "fast"})


class CodexReader:
    agent = AGENT
    reads_str = True  # read() takes a str path and needs nothing roots() learns (see capture.index)

    def incremental(self, path: Path) -> bool:
        return True

    def roots(self, env: Env) -> list[Path]:
        from pathlib import Path  # listing only: a warm hook reads from the cached listing

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
        if ctx.get("records"):
            # A token_count written before the rollout's first record may be the same response.
            recorded = {(e.input, e.output, e.cache_read) for e in events if e.key.startswith("resp:")}
            events[:] = [
                e for e in events
                if not (e.kind == "request" and not e.key.startswith("resp:")
                        and (e.input, e.output, e.cache_read) in recorded)
            ]  # fmt: skip
        return result


def _tier(payload: dict[str, Any], ctx: dict[str, Any]) -> None:
    tier = payload.get("service_tier")
    if isinstance(tier, str) and tier.lower() in _TIERS:
        ctx["tier"] = "service_tier=" + tier.lower()
    elif isinstance(tier, str):
        ctx.pop("tier", None)


def _apply(row: dict[str, Any], payload: dict[str, Any], ctx: dict[str, Any], events: list[UsageEvent], path: Path) -> None:
    kind = row.get("type")
    stamp = row.get("timestamp")
    stamp = stamp if isinstance(stamp, str) else ""
    if kind == "session_meta":
        meta_id = payload.get("id")
        if "rollout" in ctx:
            if isinstance(meta_id, str) and meta_id and meta_id != ctx["rollout"] and ctx.get("child"):
                # The ancestor's meta, copied at the fork: what follows is its history.
                ctx.setdefault("copy_of", meta_id)
            return
        ctx["rollout"] = meta_id if isinstance(meta_id, str) and meta_id else _id_from_name(path)
        parent = _spawn_parent(payload.get("source"))
        forked = payload.get("forked_from_id")
        ctx["session"] = parent or ctx["rollout"]
        ctx["subagent"] = parent is not None
        ctx["child"] = parent is not None or (isinstance(forked, str) and bool(forked))
        cwd = payload.get("cwd")
        if isinstance(cwd, str) and cwd:
            ctx["cwd"] = cwd
        _tier(payload, ctx)
        return
    if kind == "turn_context":
        model = payload.get("model")
        if isinstance(model, str) and model:
            ctx["model"] = model
            if not ctx.get("copy_of"):
                # Requests of this session logged before its first turn_context: the session's model.
                for e in events:
                    if e.kind == "request" and not e.model and e.session == ctx.get("session"):
                        e.model = model
                        e.tier = "?"  # the variant of this turn_context, set below
        cwd = payload.get("cwd")
        if isinstance(cwd, str) and cwd:
            ctx["cwd"] = cwd
        _tier(payload, ctx)
        if isinstance(model, str) and model and not ctx.get("copy_of"):
            for e in events:
                if e.tier == "?":
                    e.tier = ctx.get("tier", "")
        return
    if "rollout" not in ctx:
        ctx["rollout"] = ctx["session"] = _id_from_name(path)
    copy_of = ctx.get("copy_of")
    session = copy_of or ctx["session"]
    when = iso_to_epoch(stamp) or 0.0
    cwd = ctx.get("cwd")
    model = ctx.get("model", "")
    item = payload.get("type")
    if kind == "token_usage_record" or (kind == "event_msg" and item == "token_usage_record"):
        _record(payload, ctx, events, when, session, cwd, model)
        return
    if kind == "compacted":
        return  # the compaction request's usage is in its token_usage_record
    if kind == "event_msg":
        if item == "token_count":
            _token_count(payload.get("info"), ctx, events, when, cwd, model)
        elif item == "user_message" and not ctx.get("subagent") and not copy_of:
            events.append(UsageEvent(AGENT, "prompt", f"prompt:{ctx['rollout']}:{stamp}", when, session, cwd, None, model))
    elif kind == "response_item" and item in _TOOL_ITEMS and not copy_of:
        call = payload.get("call_id") or payload.get("id")
        if not isinstance(call, str) or not call:
            call = f"{ctx['rollout']}:{stamp}"
        events.append(UsageEvent(AGENT, "tool", f"tool:{session}:{call}", when, session, cwd, None, model))


def _tokens(usage: Any) -> list[int] | None:
    if type(usage) is not dict:
        return None
    return [as_int(usage.get(name)) for name in _TOTAL_FIELDS]


def _record(
    payload: dict[str, Any], ctx: dict[str, Any], events: list[UsageEvent], when: float, session: str, cwd: Any,
    model: str,
) -> None:  # fmt: skip
    response = payload.get("response_id")
    tokens = _tokens(payload.get("usage"))
    if not isinstance(response, str) or not response or tokens is None or not any(tokens):
        return
    ctx["records"] = True
    own = payload.get("model")
    fresh, cached, output, _reasoning = tokens
    cached = min(cached, fresh)
    events.append(
        UsageEvent(AGENT, "request", "resp:" + response, when, session, cwd, None,
                   own if isinstance(own, str) and own else model, fresh - cached, output, cached, 0, 0, None,
                   "", ctx.get("tier", ""))
    )  # fmt: skip


def _token_count(info: Any, ctx: dict[str, Any], events: list[UsageEvent], when: float, cwd: Any, model: str) -> None:
    if type(info) is not dict:
        return
    total = _tokens(info.get("total_token_usage"))
    last_usage = _tokens(info.get("last_token_usage"))
    if total is None and last_usage is None:
        return
    last = ctx.get("last")
    if total is not None:
        if last == total:
            return  # re-emitted: same total, no new request
        restarted = last is not None and any(now < before for now, before in zip(total, last))
        if restarted and ctx.get("copy_of"):
            ctx["copy_of"] = None  # the child's own counter starts: the copy is over
        if last_usage is not None:
            delta = last_usage
        elif last is None or restarted:
            delta = list(total)
        else:
            delta = [now - before for now, before in zip(total, last)]
        ctx["last"] = total
    else:
        delta = last_usage  # type: ignore[assignment]
    if ctx.get("records"):
        return  # this rollout's requests are its token_usage_records
    if not any(delta):
        return
    fresh, cached, output, _reasoning = delta
    cached = min(cached, fresh)
    copy_of = ctx.get("copy_of")
    prefix = copy_of or ctx["rollout"]
    if total is not None:
        key = f"{prefix}:" + ":".join(str(n) for n in total)
    else:
        key = f"{prefix}:last:{when}:" + ":".join(str(n) for n in delta)
    session = copy_of or ctx["session"]
    events.append(
        UsageEvent(AGENT, "request", key, when, session, cwd, None, "" if copy_of and not model else model,
                   fresh - cached, output, cached, 0, 0, None, "", ctx.get("tier", ""))
    )  # fmt: skip


def _spawn_parent(source: Any) -> str | None:
    if type(source) is not dict:
        return None
    sub = source.get("subagent")
    spawn = sub.get("thread_spawn") if type(sub) is dict else None
    parent = spawn.get("parent_thread_id") if type(spawn) is dict else None
    return parent if isinstance(parent, str) and parent else None


def _id_from_name(path: Path | str) -> str:
    """``rollout-2026-05-04T10-00-00-<uuid>.jsonl`` → ``<uuid>`` (the session id Codex names it by)."""
    name = os.path.basename(os.path.normpath(os.fspath(path)))
    dot = name.rfind(".")
    stem = name[:dot] if 0 < dot < len(name) - 1 else name
    parts = stem.split("-")
    return "-".join(parts[-5:]) if len(parts) >= 10 else stem
