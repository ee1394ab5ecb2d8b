"""The task folders of Cline and its forks (Roo Code, Kilo Code): one format, three readers.

Each extension keeps, in the editor's ``globalStorage/<extension id>/tasks/<task id>/``:

- ``ui_messages.json``: the chat as shown, one JSON array rewritten as the
  task runs. A ``say: "api_req_started"`` row is one model request; its
  ``text`` is a JSON object with ``tokensIn`` (uncached input),
  ``tokensOut``, ``cacheWrites``, ``cacheReads`` and ``cost`` (the
  extension's own price, taken as ``cost_usd``). The row is written when the
  request starts and filled in as it streams; its ``ts`` (epoch ms) is its
  id, so a re-read keeps one event per request, the most complete.
  A cancelled request (``cancelReason``) still counts: its tokens were billed.
  ``say: "task"`` and ``say: "user_feedback"`` rows are human prompts;
  ``tool``/``command``/``use_mcp_server`` rows are tool calls.
- ``api_conversation_history.json``: what was sent to the model. Its
  ``<environment_details>`` name the working directory
  (``# Current Working Directory (<dir>) Files`` in Cline,
  ``# Current Workspace Directory (<dir>) Files`` in Roo Code and Kilo Code)
  and, in Roo Code and Kilo Code, the model (``<model>...</model>``); Cline
  names the model in ``task_metadata.json`` (``model_usage[]``, by time) and
  on assistant turns (``modelInfo.modelId``). Only those fields are taken.

Only ``ui_messages.json`` is listed in the offset index (read whole when its
size or mtime changes); the two side files are read with it. A task whose
model changed without a ``model_usage`` entry is booked to the last model
named: that is all the files record.

Roots: the editor's user-data directory for VS Code, VS Code Insiders,
Cursor and VSCodium, on Linux (``~/.config/<editor>``, or
``$XDG_CONFIG_HOME``) and macOS (``~/Library/Application Support/<editor>``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs the hook ~3 ms
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any, Iterable

from commitledger.capture.base import Env, ReadResult, UsageEvent
from commitledger.capture.jsonl import as_int, read_document

EDITORS = ("Code", "Code - Insiders", "Cursor", "VSCodium")
UI_FILE = "ui_messages.json"
HISTORY_FILE = "api_conversation_history.json"
METADATA_FILE = "task_metadata.json"
_CWD = re.compile(rb"# Current (?:Working|Workspace) Directory \(((?:[^()\\]|\\.){1,4096})\) Files")
_MODEL = re.compile(rb"<model>([^<>]{1,200})</model>")
_MODEL_INFO = re.compile(rb'"modelInfo"\s*:\s*\{[^{}]*?"modelId"\s*:\s*"([^"\\]{1,200})"')
_TOOLS = ("tool", "command", "use_mcp_server")


def editor_roots(env: Env, extension: str) -> list[Path]:
    xdg = env.environ.get("XDG_CONFIG_HOME", "").strip()
    linux = Path(xdg).expanduser() if xdg else env.home / ".config"
    mac = env.home / "Library" / "Application Support"
    return [base / editor / "User" / "globalStorage" / extension / "tasks" for base in (linux, mac) for editor in EDITORS]


class TaskFolderReader:
    """Shared by the Cline, Roo Code and Kilo Code readers; they differ in agent name and extension id."""

    leaf_file = UI_FILE  # the one file listed from a session folder (capture.index._dir_signature)
    agent = ""
    extension = ""
    # Every event of one file carries the file's one working directory (see capture.index).
    fixed_cwd = True

    def incremental(self, path: Path) -> bool:
        return False

    def roots(self, env: Env) -> list[Path]:
        return editor_roots(env, self.extension)

    def files(self, env: Env) -> Iterable[Path]:
        for root in self.roots(env):
            try:
                tasks = sorted(root.iterdir())
            except OSError:
                continue
            for task in tasks:
                path = task / UI_FILE
                try:
                    if path.is_file():
                        yield path
                except OSError:
                    continue

    def read(self, path: Path, start: int, ctx: dict[str, Any]) -> ReadResult:
        document, size = read_document(path)
        result = ReadResult(end=size)
        if not isinstance(document, list):
            result.bad_lines = 1 if size else 0
            return result
        task = path.parent.name
        cwd, models = _history(path.parent / HISTORY_FILE)
        timeline = _model_usage(path.parent / METADATA_FILE)
        agent = self.agent
        for row in document:
            if type(row) is not dict:
                result.bad_lines += 1
                continue
            ts = row.get("ts")
            if not isinstance(ts, (int, float)) or isinstance(ts, bool):
                continue
            when = float(ts) / 1000.0
            key = f"{task}:{int(ts)}"
            say = row.get("say")
            kind = row.get("type")
            if kind == "say" and say == "api_req_started":
                info = _json_text(row.get("text"))
                if info is None:
                    if row.get("text"):
                        result.bad_lines += 1
                    continue
                fresh = as_int(info.get("tokensIn"))
                output = as_int(info.get("tokensOut"))
                write = as_int(info.get("cacheWrites"))
                read = as_int(info.get("cacheReads"))
                if not (fresh or output or write or read):
                    continue
                cost = info.get("cost")
                cost_usd = float(cost) if isinstance(cost, (int, float)) and not isinstance(cost, bool) and cost > 0 else None
                model = _model_at(timeline, ts) or (models[-1] if models else "unknown")
                result.events.append(
                    UsageEvent(agent, "request", key, when, task, cwd, None, model, fresh, output, read, write, 0, cost_usd)
                )
            elif kind == "say" and say in ("task", "user_feedback"):
                result.events.append(UsageEvent(agent, "prompt", "prompt:" + key, when, task, cwd))
            elif (kind == "say" and say in _TOOLS) or (kind == "ask" and row.get("ask") in _TOOLS):
                result.events.append(UsageEvent(agent, "tool", "tool:" + key, when, task, cwd))
        return result


def _json_text(text: Any) -> dict[str, Any] | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _unescape(raw: bytes) -> str | None:
    """A JSON string body (the file holds the text JSON-escaped) as text."""
    try:
        value = json.loads(b'"' + raw + b'"')
    except ValueError:
        return None
    return value if isinstance(value, str) and value else None


def _history(path: Path) -> tuple[str | None, list[str]]:
    """The working directory (the first one named) and the models named, in order."""
    try:
        data = path.read_bytes()
    except OSError:
        return None, []
    found = _CWD.search(data)
    cwd = _unescape(found.group(1)) if found else None
    models = []
    for match in _MODEL.finditer(data):
        name = _unescape(match.group(1).strip())
        if name:
            models.append(name)
    if not models:
        models = [m.group(1).decode("utf-8", "replace") for m in _MODEL_INFO.finditer(data)]
    return cwd, models


def _model_usage(path: Path) -> list[tuple[float, str]]:
    """Cline's ``model_usage``: (ts, model id), by time."""
    document, _ = read_document(path)
    usage = document.get("model_usage") if type(document) is dict else None
    out: list[tuple[float, str]] = []
    if isinstance(usage, list):
        for item in usage:
            if type(item) is dict:
                ts, model = item.get("ts"), item.get("model_id")
                if isinstance(ts, (int, float)) and not isinstance(ts, bool) and isinstance(model, str) and model:
                    out.append((float(ts), model))
    out.sort()
    return out


def _model_at(timeline: list[tuple[float, str]], ts: float) -> str | None:
    model = None
    for at, name in timeline:
        if at > ts:
            break
        model = name
    return model


__all__ = ["TaskFolderReader", "editor_roots"]
