"""pi (pi-mono coding agent): ``~/.pi/agent/sessions/<cwd>/<time>_<session>.jsonl`` (``$PI_AGENT_DIR``).

An append-only JSON-lines tree: a ``session`` header (``id``, ``cwd``), then
``message`` entries (``id``, ``parentId``, ``timestamp``, ``message``) and
bookkeeping entries (model changes, compactions). Read incrementally from the
offset index; the header is on the first line, so a read that starts later
without it in ``ctx`` starts again from 0 (keys are stable on a re-read).

- An assistant ``message`` with ``usage`` is one request: ``input``
  (uncached), ``output``, ``cacheRead``, ``cacheWrite``; its ``cost.total``
  is pi's own price and becomes ``cost_usd``. Keys are the session id and the
  entry ``id``.
- A user message is a human prompt; ``toolCall`` content blocks are tool calls.
- The model is the message's own ``model``, else the last ``model_change``.
- The working directory is the header's ``cwd``. A session's folder is named
  after that directory, so only this worktree's folders are listed
  (``capture.folders``).
"""

from __future__ import annotations

from pathlib import Path

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs the hook ~3 ms
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any, Callable, Iterable

from commitledger.capture.base import Env, ReadResult, UsageEvent
from commitledger.capture.folders import folder_filter
from commitledger.capture.jsonl import LineReader, as_int, iso_to_epoch, rows, walk_files

AGENT = "pi"


class PiReader:
    agent = AGENT
    # Every event of one file carries the file's one working directory (see capture.index).
    fixed_cwd = True
    # Row types that carry no message; a model change names the model of the rows after it.
    _MODEL_ROWS = ("model_change",)

    def incremental(self, path: Path) -> bool:
        return True

    def roots(self, env: Env) -> list[Path]:
        return env.dirs("PI_AGENT_DIR", env.home / ".pi" / "agent" / "sessions")

    def listed_folders(self, env: Env, root: Path) -> Callable[[str], bool] | None:
        """The folders of ``root`` that ``files`` lists from (None: all): the rest stay out of the listing signature."""
        return folder_filter(env.extra)

    def files(self, env: Env) -> Iterable[Path]:
        for root in self.roots(env):
            yield from _per_folder(root, ".jsonl", self.listed_folders(env, root))

    def read(self, path: Path, start: int, ctx: dict[str, Any]) -> ReadResult:
        if start and "session" not in ctx:
            start = 0
        result = ReadResult(end=start)
        for row in rows(LineReader(path, start), result):
            kind = row.get("type")
            if kind == "session":
                session = row.get("id")
                if isinstance(session, str) and session:
                    ctx["session"] = session
                cwd = row.get("cwd")
                if isinstance(cwd, str) and cwd:
                    ctx["cwd"] = cwd
                continue
            if kind == "message":
                _message(self.agent, row, path, ctx, result.events)
            elif kind in self._MODEL_ROWS or (kind == "custom" and row.get("customType") == "model-snapshot"):
                source = row.get("data") if type(row.get("data")) is dict else row
                model = source.get("modelId") or source.get("model")
                if isinstance(model, str) and model:
                    ctx["model"] = model
        return result


def _per_folder(root: Path, suffix: str, wanted: Any) -> list[Path]:
    """Files under the folders of ``root`` that ``wanted`` admits (all when None), and files at its top."""
    import os

    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:
        return []
    out: list[Path] = []
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                if wanted is None or wanted(entry.name):
                    out.extend(walk_files(Path(entry.path), suffix))
            elif entry.name.endswith(suffix) and entry.is_file():
                out.append(Path(entry.path))
        except OSError:
            continue
    return out


def _message(agent: str, row: dict[str, Any], path: Path, ctx: dict[str, Any], out: list[UsageEvent]) -> None:
    entry_id = row.get("id")
    message = row.get("message")
    if not isinstance(entry_id, str) or not entry_id or type(message) is not dict:
        return
    session = ctx.get("session") or path.stem.rpartition("_")[2]
    cwd = ctx.get("cwd")
    when = iso_to_epoch(row.get("timestamp")) or iso_to_epoch(message.get("timestamp")) or 0.0
    role = message.get("role")
    if role == "user":
        out.append(UsageEvent(agent, "prompt", f"prompt:{session}:{entry_id}", when, session, cwd))
        return
    if role != "assistant":
        return
    model = message.get("modelId") or message.get("model") or ctx.get("model")
    model = model if isinstance(model, str) and model else "unknown"
    content = message.get("content")
    if isinstance(content, list):
        for block in content:
            if type(block) is dict and block.get("type") == "toolCall":
                call = block.get("id")
                if isinstance(call, str) and call:
                    out.append(UsageEvent(agent, "tool", f"tool:{session}:{call}", when, session, cwd, None, model))
    usage = message.get("usage")
    if type(usage) is not dict:
        return
    fresh = as_int(usage.get("input"))
    output = as_int(usage.get("output"))
    read = as_int(usage.get("cacheRead"))
    write = as_int(usage.get("cacheWrite"))
    if not (fresh or output or read or write):
        output = as_int(usage.get("totalTokens"))
        if not output:
            return
    cost = usage.get("cost")
    total = cost.get("total") if type(cost) is dict else None
    cost_usd = float(total) if isinstance(total, (int, float)) and not isinstance(total, bool) and total > 0 else None
    out.append(
        UsageEvent(agent, "request", f"{session}:{entry_id}", when, session, cwd, None, model, fresh, output, read, write, 0, cost_usd)
    )
