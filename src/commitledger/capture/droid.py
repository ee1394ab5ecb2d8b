"""Factory Droid: ``~/.factory/sessions/**/<session>.settings.json`` (``$DROID_SESSIONS_DIR``).

Droid keeps no per-request usage on disk: each session's settings file holds
``tokenUsage`` (``inputTokens``, ``outputTokens``, ``cacheCreationTokens``,
``cacheReadTokens``, ``thinkingTokens``), the session's running total,
rewritten in place. So a session is one event keyed by its id, carrying the
running total; the window turns totals into differences: a key already
written into a commit adds only what it grew since (the same rule that
handles a streamed response's final row).

- ``thinkingTokens`` are billed as output and counted in ``output``.
- The model is the settings' ``model`` (``custom:`` prefix and ``[...]``
  provider tags dropped, as Droid names BYOK models); a session that
  switched models is all booked to the last one: that is all it records.
- The working directory is ``cwd`` on the first line (``session_start``) of
  the session transcript next to it, ``<session>.jsonl``.
- Prompts and tool calls are not counted (unknown, not zero, in the trailer).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs the hook ~3 ms
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any, Callable, Iterable

from commitledger.capture.base import Env, ReadResult, UsageEvent
from commitledger.capture.folders import folder_filter
from commitledger.capture.jsonl import as_int, loads, read_document
from commitledger.capture.pi import _per_folder

AGENT = "droid"
SUFFIX = ".settings.json"


class DroidReader:
    agent = AGENT

    def incremental(self, path: Path) -> bool:
        return False

    def roots(self, env: Env) -> list[Path]:
        return env.dirs("DROID_SESSIONS_DIR", env.home / ".factory" / "sessions")

    def listed_folders(self, env: Env, root: Path) -> Callable[[str], bool] | None:
        """Sessions are filed under their encoded working directory: the folders ``files`` lists from (None: all)."""
        return folder_filter(env.extra)

    def files(self, env: Env) -> Iterable[Path]:
        for root in self.roots(env):
            yield from _per_folder(root, SUFFIX, self.listed_folders(env, root))

    def read(self, path: Path, start: int, ctx: dict[str, Any]) -> ReadResult:
        document, size = read_document(path)
        result = ReadResult(end=size)
        if type(document) is not dict:
            result.bad_lines = 1 if size else 0
            return result
        usage = document.get("tokenUsage")
        if type(usage) is not dict:
            return result
        fresh = as_int(usage.get("inputTokens"))
        output = as_int(usage.get("outputTokens")) + as_int(usage.get("thinkingTokens"))
        write = as_int(usage.get("cacheCreationTokens"))
        read = as_int(usage.get("cacheReadTokens"))
        if not (fresh or output or write or read):
            return result
        session = path.name[: -len(SUFFIX)]
        model = document.get("model")
        model = normalise_model(model) if isinstance(model, str) else ""
        try:
            when = os.stat(path).st_mtime
        except OSError:
            when = 0.0
        cwd = ctx.get("cwd")
        if not cwd:
            cwd = _session_cwd(path.with_name(session + ".jsonl"))
            if cwd:
                ctx["cwd"] = cwd
        result.events.append(
            UsageEvent(AGENT, "request", session, when, session, cwd, None, model or "unknown", fresh, output, read, write)
        )
        return result


def normalise_model(model: str) -> str:
    """``custom:Claude-Opus-4.5-[Anthropic]`` -> ``claude-opus-4-5``: Droid's display name to a model id."""
    raw = model.strip()
    if raw.startswith("custom:"):
        raw = raw[len("custom:") :]
    raw = re.sub(r"\[[^\]]*\]", "", raw).strip().lower()
    raw = re.sub(r"[.\s-]+", "-", raw)
    return raw.strip("-")


def _session_cwd(transcript: Path) -> str | None:
    """``cwd`` of the transcript's first line (``session_start``)."""
    try:
        with open(transcript, "rb") as handle:
            first = handle.readline(1 << 20)
    except OSError:
        return None
    row = loads(first)
    cwd = row.get("cwd") if type(row) is dict else None
    return cwd if isinstance(cwd, str) and cwd else None
