"""Qwen Code: ``~/.qwen/projects/<project>/chats/<session>.jsonl`` (``$QWEN_DATA_DIR`` for ``~/.qwen``).

An append-only JSON-lines record per message (``uuid``, ``parentUuid``,
``sessionId``, ``timestamp``, ``type``, ``cwd``, ``model``), read
incrementally from the offset index.

- An ``assistant`` record with ``usageMetadata`` is one request, in Gemini's
  shape: ``promptTokenCount`` includes ``cachedContentTokenCount``, so
  ``input`` is the difference and ``cache_read`` the cached part;
  ``thoughtsTokenCount`` is billed as output and counted in ``output``.
  Keys are the session id and the record's ``uuid``.
- A ``user`` record without a ``subtype`` is a human prompt;
  ``functionCall`` parts of an assistant message are tool calls.
- The working directory is the record's own ``cwd``.
"""

from __future__ import annotations

from pathlib import Path

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs the hook ~3 ms
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any, Callable, Iterable

from commitledger.capture.base import Env, ReadResult, UsageEvent
from commitledger.capture.folders import folder_filter
from commitledger.capture.jsonl import LineReader, as_int, iso_to_epoch, rows

AGENT = "qwen-code"


class QwenReader:
    agent = AGENT

    def incremental(self, path: Path) -> bool:
        return True

    def roots(self, env: Env) -> list[Path]:
        return [base / "projects" for base in env.dirs("QWEN_DATA_DIR", env.home / ".qwen")]

    def listed_folders(self, env: Env, root: Path) -> Callable[[str], bool] | None:
        """A project folder is named after its encoded directory: the ones ``files`` lists from (None: all)."""
        return folder_filter(env.extra)

    def files(self, env: Env) -> Iterable[Path]:
        for root in self.roots(env):
            wanted = self.listed_folders(env, root)
            try:
                projects = sorted(p for p in root.iterdir() if p.is_dir() and (wanted is None or wanted(p.name)))
            except OSError:
                continue
            for project in projects:
                try:
                    chats = sorted((project / "chats").iterdir())
                except OSError:
                    continue
                for path in chats:
                    try:
                        if path.suffix == ".jsonl" and path.is_file():
                            yield path
                    except OSError:
                        continue

    def read(self, path: Path, start: int, ctx: dict[str, Any]) -> ReadResult:
        result = ReadResult(end=start)
        for row in rows(LineReader(path, start), result):
            event_rows(row, path, result.events)
        return result


def event_rows(row: dict[str, Any], path: Path, out: list[UsageEvent]) -> None:
    kind = row.get("type")
    if kind not in ("assistant", "user"):
        return
    uuid = row.get("uuid")
    if not isinstance(uuid, str) or not uuid:
        return
    session = row.get("sessionId")
    session = session if isinstance(session, str) and session else path.stem
    cwd = row.get("cwd")
    cwd = cwd if isinstance(cwd, str) and cwd else None
    when = iso_to_epoch(row.get("timestamp")) or 0.0
    if kind == "user":
        if not row.get("subtype"):
            out.append(UsageEvent(AGENT, "prompt", f"prompt:{session}:{uuid}", when, session, cwd))
        return
    model = row.get("model")
    model = model if isinstance(model, str) and model else "unknown"
    message = row.get("message")
    parts = message.get("parts") if type(message) is dict else None
    if isinstance(parts, list):
        for part in parts:
            call = part.get("functionCall") if type(part) is dict else None
            if type(call) is dict:
                call_id = call.get("id")
                name = call_id if isinstance(call_id, str) and call_id else f"{uuid}:{parts.index(part)}"
                out.append(UsageEvent(AGENT, "tool", f"tool:{session}:{name}", when, session, cwd, None, model))
    usage = row.get("usageMetadata")
    if type(usage) is not dict:
        return
    prompt = as_int(usage.get("promptTokenCount"))
    cached = min(as_int(usage.get("cachedContentTokenCount")), prompt)
    output = as_int(usage.get("candidatesTokenCount")) + as_int(usage.get("thoughtsTokenCount"))
    if not (prompt or output):
        return
    out.append(UsageEvent(AGENT, "request", f"{session}:{uuid}", when, session, cwd, None, model, prompt - cached, output, cached))
