"""Aider: the ``--analytics-log FILE`` JSON lines (``{event, properties, user_id, time}``).

Aider's chat history (``.aider.chat.history.md``) has usage only as rounded
text ("8.2k sent"); its analytics log has the exact figures:
``message_send`` events carry ``main_model``, ``prompt_tokens``,
``completion_tokens`` and ``cost`` (Aider's own price), one per model call.

The log names no directory, and users point ``--analytics-log`` where they
like, so the file is found through configuration (``aider_analytics_log``,
resolved to an absolute path by the hook and passed in ``Env.extra``) and
its usage is attributed to the worktree that configured it
(``Env.extra["worktree"]``). A log shared by several repositories would be
attributed to whichever one reads it; that is the limit of what it records.

Sessions start at a ``launched`` event (or a ``cli session`` event after
usage was already seen), tracked in ``ctx``. Aider's ``prompt_tokens`` is the
whole prompt; the log does not split out cache reads or writes, so all of
it is ``input``. The log has no reliable marker for a human prompt (one
prompt may cause several sends: reflections, lint fixes) and no tool calls,
so only requests are produced and those counts stay unknown.
"""

from __future__ import annotations

from pathlib import Path

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs the hook ~3 ms
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any, Iterable

from commitledger.capture.base import Env, ReadResult, UsageEvent
from commitledger.capture.jsonl import LineReader, as_int, rows

AGENT = "aider"
EXTRA_LOG = "aider_analytics_log"


class AiderReader:
    agent = AGENT

    def __init__(self) -> None:
        # log file -> worktree that configured it, learnt in roots()/files().
        self._worktrees: dict[str, str] = {}

    def incremental(self, path: Path) -> bool:
        return True

    def roots(self, env: Env) -> list[Path]:
        named = env.extra.get(EXTRA_LOG, "").strip()
        if not named:
            return []
        path = Path(named).expanduser()
        worktree = env.extra.get("worktree")
        if worktree:
            self._worktrees[str(path)] = worktree
        return [path]

    def files(self, env: Env) -> Iterable[Path]:
        for path in self.roots(env):
            try:
                if path.is_file():
                    yield path
            except OSError:
                continue

    def read(self, path: Path, start: int, ctx: dict[str, Any]) -> ReadResult:
        cwd = self._worktrees.get(str(path)) or ctx.get("cwd")
        if cwd:
            ctx["cwd"] = cwd
        if start and "session" not in ctx:
            start = 0  # sessions are named by their launch event; keys need it, and they are stable on a re-read
        result = ReadResult(end=start)
        for row in rows(LineReader(path, start), result):
            event = _apply(row, ctx, cwd)
            if event is not None:
                result.events.append(event)
        return result


def _apply(row: dict[str, Any], ctx: dict[str, Any], cwd: str | None) -> UsageEvent | None:
    name = row.get("event")
    when = row.get("time")
    when = float(when) if isinstance(when, (int, float)) and not isinstance(when, bool) else 0.0
    user = row.get("user_id")
    user = user if isinstance(user, str) and user else "local"
    if name == "launched" or (name == "cli session" and (ctx.get("sent") or "session" not in ctx)):
        ctx["session"] = f"{user}:{int(when)}"
        ctx["sent"] = False
        return None
    if name != "message_send":
        return None
    props = row.get("properties")
    if type(props) is not dict:
        return None
    session = ctx.get("session")
    if not session:
        session = ctx["session"] = f"{user}:{int(when)}"
    ctx["sent"] = True
    model = props.get("main_model")
    model = model if isinstance(model, str) else ""
    prompt = as_int(props.get("prompt_tokens"))
    completion = as_int(props.get("completion_tokens"))
    cost = props.get("cost")
    cost_usd = float(cost) if isinstance(cost, (int, float)) and not isinstance(cost, bool) else None
    total_cost = props.get("total_cost")
    key = f"{session}:{row.get('time')}:{prompt}:{completion}:{total_cost}"
    return UsageEvent(AGENT, "request", key, when, session, cwd, None, model, prompt, completion, 0, 0, 0, cost_usd)
