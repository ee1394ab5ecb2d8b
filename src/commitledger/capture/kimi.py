"""Kimi Code CLI: ``~/.kimi/sessions/<md5 of work dir>/<session>/wire.jsonl`` (``$KIMI_DATA_DIR`` for ``~/.kimi``).

``wire.jsonl`` is the append-only wire log of a session, read incrementally.
A ``StatusUpdate`` message whose payload carries ``token_usage`` is one
request: ``input_other`` (uncached input), ``output``, ``input_cache_read``,
``input_cache_creation``; keys are the session and the payload's
``message_id`` (the line's time when it has none).

- The wire log names no model. The model is ``model`` in ``~/.kimi/config.json``
  or ``default_model`` in ``~/.kimi/config.toml`` (read with a pattern: the
  hook loads no TOML parser), else ``kimi-for-coding``, the CLI's default;
  a session run with ``--model`` is booked to that configured model.
- The working directory: the session folder's parent is named by the md5 of
  the work directory, and ``~/.kimi/kimi.json`` lists the work directories
  (``work_dirs[].path``), so the folder maps back to its path; only the
  folders of directories inside this worktree are listed.
- Prompts and tool calls are not counted (unknown, not zero).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs the hook ~3 ms
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any, Callable, Iterable

from commitledger.capture.base import Env, ReadResult, UsageEvent
from commitledger.capture.folders import inside
from commitledger.capture.jsonl import LineReader, as_int, rows

AGENT = "kimi"
DEFAULT_MODEL = "kimi-for-coding"
_TOML_MODEL = re.compile(r'^\s*default_model\s*=\s*"([^"]+)"', re.MULTILINE)


class KimiReader:
    leaf_file = "wire.jsonl"  # the one file listed from a session folder (capture.index._dir_signature)
    agent = AGENT

    def __init__(self) -> None:
        self._meta: dict[Path, tuple[str, dict[str, str]]] = {}

    def incremental(self, path: Path) -> bool:
        return True

    def roots(self, env: Env) -> list[Path]:
        bases = env.dirs("KIMI_DATA_DIR", env.home / ".kimi")
        # kimi.json is a root too: a directory registered there changes which folders are listed.
        return [path for base in bases for path in (base / "sessions", base / "kimi.json")]

    def listed_folders(self, env: Env, root: Path) -> Callable[[str], bool] | None:
        """The work-directory folders ``files`` lists from: those a registered directory of this worktree hashes to."""
        if root.name != "sessions":
            return None
        _model_name, dirs = self._metadata(root.parent)

        def wanted(name: str) -> bool:
            where = dirs.get(name)
            return where is not None and inside(where, env.extra)

        return wanted

    def files(self, env: Env) -> Iterable[Path]:
        for root in self.roots(env):
            if root.name != "sessions":
                continue
            try:
                work_dirs = sorted(root.iterdir())
            except OSError:
                continue
            wanted = self.listed_folders(env, root)
            for work_dir in work_dirs:
                if wanted is not None and not wanted(work_dir.name):
                    continue  # a folder no registered directory of this worktree hashes to: nothing to attribute
                try:
                    sessions = sorted(work_dir.iterdir())
                except OSError:
                    continue
                for session in sessions:
                    path = session / "wire.jsonl"
                    try:
                        if path.is_file():
                            yield path
                    except OSError:
                        continue

    def read(self, path: Path, start: int, ctx: dict[str, Any]) -> ReadResult:
        base = path.parents[3]
        model, dirs = self._metadata(base)
        session = path.parent.name
        cwd = dirs.get(path.parent.parent.name)
        result = ReadResult(end=start)
        for row in rows(LineReader(path, start), result, lambda line: b"token_usage" in line):
            message = row.get("message")
            if type(message) is not dict or message.get("type") != "StatusUpdate":
                continue
            payload = message.get("payload")
            usage = payload.get("token_usage") if type(payload) is dict else None
            if type(usage) is not dict:
                continue
            fresh = as_int(usage.get("input_other"))
            output = as_int(usage.get("output"))
            read = as_int(usage.get("input_cache_read"))
            write = as_int(usage.get("input_cache_creation"))
            if not (fresh or output or read or write):
                continue
            stamp = row.get("timestamp")
            when = float(stamp) if isinstance(stamp, (int, float)) and not isinstance(stamp, bool) else 0.0
            message_id = payload.get("message_id")
            ident = message_id if isinstance(message_id, str) and message_id else f"t{when!r}"
            result.events.append(
                UsageEvent(AGENT, "request", f"{session}:{ident}", when, session, cwd, None, model, fresh, output, read, write)
            )
        return result

    def _metadata(self, base: Path) -> tuple[str, dict[str, str]]:
        known = self._meta.get(base)
        if known is None:
            known = self._meta[base] = (_model(base), _work_dirs(base / "kimi.json"))
        return known


def _model(base: Path) -> str:
    try:
        data = json.loads((base / "config.json").read_text(encoding="utf-8"))
        if isinstance(data, dict) and isinstance(data.get("model"), str) and data["model"].strip():
            return str(data["model"]).strip()
    except (OSError, ValueError):
        pass
    try:
        found = _TOML_MODEL.search((base / "config.toml").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        found = None
    return found.group(1).strip() if found else DEFAULT_MODEL


def _work_dirs(path: Path) -> dict[str, str]:
    """md5 of each registered work directory -> the directory."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    dirs = data.get("work_dirs") if isinstance(data, dict) else None
    out: dict[str, str] = {}
    if isinstance(dirs, list):
        for item in dirs:
            where = item.get("path") if isinstance(item, dict) else None
            if isinstance(where, str) and where:
                out[hashlib.md5(where.encode("utf-8")).hexdigest()] = where  # noqa: S324 - Kimi's own folder naming
    return out
