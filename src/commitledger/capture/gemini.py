"""Gemini CLI chat recordings: ``~/.gemini/tmp/<project>/chats/session-*.jsonl`` (and legacy ``.json``).

Current gemini-cli appends one record per line: a metadata line
(``sessionId``, ``projectHash``), ``user`` and ``gemini`` messages, ``$set``
metadata updates and ``$rewindTo`` markers. Older versions rewrite a single
JSON document (``messages`` array) in place, so those files are read whole
(``incremental`` is False for them) and the hook re-reads them when they
change.

- A message rewritten with the same id (a tool call's status update) is the
  same request, keyed by session and message id: within a read the last
  write wins; across reads the window keeps the larger of the two.
- ``tokens.input`` already includes ``tokens.cached``: ``input`` is the
  difference, ``cache_read`` the cached part. ``tokens.tool`` (the prompt of a
  tool-use turn) is input too. Gemini bills thinking tokens at the output
  rate, so ``output = output + thoughts``.
- ``$rewindTo`` is not honoured: the rewound messages' tokens were spent and
  billed (ccusage counts them too).
- The project directory is named by a short id (current) or by
  ``sha256(project root)`` (legacy). ``projectHash`` goes into
  ``UsageEvent.project_hash``; the working directory is filled in only when
  ``~/.gemini/projects.json`` (gemini-cli's registry,
  ``{"projects": {"<root>": "<short id>"}}``) maps the directory back to a
  root.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs the hook ~3 ms
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any, Iterable

from commitledger.capture.base import Env, ReadResult, UsageEvent
from commitledger.capture.jsonl import LineReader, as_int, iso_to_epoch, read_document, rows

AGENT = "gemini-cli"



def _session_header(row: dict[str, Any], ctx: dict[str, Any]) -> None:
    """The session id and project hash a recording names once, at its top."""
    session = row.get("sessionId")
    if isinstance(session, str) and session:
        ctx["session"] = session
    project_hash = row.get("projectHash")
    if isinstance(project_hash, str) and project_hash:
        ctx["project_hash"] = project_hash

class GeminiReader:
    agent = AGENT

    def __init__(self) -> None:
        # projects.json per gemini dir, read once per reader instance (one hook run).
        self._registries: dict[Path, dict[str, str]] = {}

    def incremental(self, path: Path) -> bool:
        return path.suffix == ".jsonl"

    def roots(self, env: Env) -> list[Path]:
        home = env.environ.get("GEMINI_CLI_HOME", "").strip()
        base = Path(home).expanduser() if home else env.home
        return [base / ".gemini" / "tmp"]

    def files(self, env: Env) -> Iterable[Path]:
        for tmp in self.roots(env):
            try:
                projects = sorted(p for p in tmp.iterdir() if p.is_dir())
            except OSError:
                continue
            for project in projects:
                try:
                    chats = sorted((project / "chats").iterdir())
                except OSError:
                    continue
                for path in chats:
                    if path.name.startswith("session-") and path.suffix in (".jsonl", ".json"):
                        try:
                            if path.is_file():
                                yield path
                        except OSError:
                            continue

    def read(self, path: Path, start: int, ctx: dict[str, Any]) -> ReadResult:
        if path.suffix != ".jsonl":
            return self._read_document(path)
        if start and "session" not in ctx:
            start = 0  # the session id is on the first line; keys need it, and they are stable on a re-read
        result = ReadResult(end=start)
        for row in rows(LineReader(path, start), result):
            if "sessionId" in row and "type" not in row:
                _session_header(row, ctx)
                continue
            if "type" in row:
                self._message(row, path, ctx, result.events)
        result.events = _last_write_wins(result.events)
        return result

    def _read_document(self, path: Path) -> ReadResult:
        document, size = read_document(path)
        result = ReadResult(end=size)
        if type(document) is not dict:
            result.bad_lines = 1 if size else 0
            return result
        ctx: dict[str, Any] = {}
        _session_header(document, ctx)
        messages = document.get("messages")
        if isinstance(messages, list):
            for message in messages:
                if type(message) is dict:
                    self._message(message, path, ctx, result.events)
        result.events = _last_write_wins(result.events)
        return result

    def _message(self, row: dict[str, Any], path: Path, ctx: dict[str, Any], events: list[UsageEvent]) -> None:
        kind = row.get("type")
        if kind not in ("gemini", "user"):
            return
        message_id = row.get("id")
        if not isinstance(message_id, str) or not message_id:
            return
        session = ctx.get("session") or _session_from_name(path)
        project_hash = ctx.get("project_hash")
        cwd = self._cwd(path, project_hash)
        when = iso_to_epoch(row.get("timestamp")) or 0.0
        if kind == "user":
            events.append(UsageEvent(AGENT, "prompt", f"prompt:{session}:{message_id}", when, session, cwd, project_hash))
            return
        model = row.get("model")
        model = model if isinstance(model, str) else ""
        tokens = row.get("tokens")
        if type(tokens) is dict:
            prompt = as_int(tokens.get("input"))
            cached = min(as_int(tokens.get("cached")), prompt)
            events.append(
                UsageEvent(
                    AGENT,
                    "request",
                    f"{session}:{message_id}",
                    when,
                    session,
                    cwd,
                    project_hash,
                    model,
                    prompt - cached + as_int(tokens.get("tool")),
                    as_int(tokens.get("output")) + as_int(tokens.get("thoughts")),
                    cached,
                )
            )
        calls = row.get("toolCalls")
        if isinstance(calls, list):
            for call in calls:
                call_id = call.get("id") if type(call) is dict else None
                if isinstance(call_id, str) and call_id:
                    events.append(
                        UsageEvent(AGENT, "tool", f"tool:{session}:{call_id}", when, session, cwd, project_hash, model)
                    )

    def _cwd(self, path: Path, project_hash: Any) -> str | None:
        """The project root for ``tmp/<dir>/chats/<file>``, from gemini-cli's project registry."""
        try:
            project_dir = path.parents[1].name
            gemini_dir = path.parents[3]
        except IndexError:
            return None
        registry = self._registries.get(gemini_dir)
        if registry is None:
            registry = _load_registry(gemini_dir / "projects.json")
            self._registries[gemini_dir] = registry
        found = registry.get(project_dir)
        if found is None and isinstance(project_hash, str):
            found = registry.get(project_hash)
        return found


def _last_write_wins(events: list[UsageEvent]) -> list[UsageEvent]:
    """One event per key within a read, the last write's, at the place of the first.

    Across reads the window's keep-the-largest rule applies; a rewrite carries
    the same response's tokens, so the two rules agree on real logs.
    """
    index: dict[tuple[str, str], int] = {}
    out: list[UsageEvent] = []
    for event in events:
        slot = (event.kind, event.key)
        at = index.get(slot)
        if at is None:
            index[slot] = len(out)
            out.append(event)
        else:
            out[at] = event
    return out


def _load_registry(path: Path) -> dict[str, str]:
    """Short id and sha256 of each registered root → the root."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    projects = data.get("projects") if isinstance(data, dict) else None
    out: dict[str, str] = {}
    if isinstance(projects, dict):
        for root, short_id in projects.items():
            if isinstance(root, str) and root:
                if isinstance(short_id, str) and short_id:
                    out[short_id] = root
                out[hashlib.sha256(root.encode("utf-8")).hexdigest()] = root
    return out


def _session_from_name(path: Path) -> str:
    return path.stem
