"""GitHub Copilot CLI: the OpenTelemetry file export (JSON lines of spans).

Copilot CLI logs no token counts in its always-on session state, but with
``COPILOT_OTEL_ENABLED=true`` and ``COPILOT_OTEL_EXPORTER_TYPE=file`` it
writes spans to the file named by ``COPILOT_OTEL_FILE_EXPORTER_PATH``. We
read that file (from the environment, or ``copilot_otel_file`` in the
config, passed as ``Env.extra``) and any ``*.jsonl`` in ``~/.copilot/otel/``,
the directory ccusage also reads.

- Only ``chat`` spans are requests: the ``invoke_agent`` span around them
  re-reports the same tokens summed over its turn.
- ``gen_ai.usage.input_tokens`` includes the cache reads: ``input`` is the
  difference. Cache writes come from ``gen_ai.usage.cache_write.input_tokens``
  (or the ``cache_creation`` spelling). ``gen_ai.usage.output_tokens`` is
  taken as is: it already counts the reasoning tokens that
  ``gen_ai.usage.reasoning.output_tokens`` breaks out.
- A root ``invoke_agent`` span (no parent) is one agent loop started by a
  prompt; nested ones are subagents. ``execute_tool`` spans are tool calls.
- Spans carry no working directory. The session id
  (``gen_ai.conversation.id``) names ``~/.copilot/session-state/<id>/``,
  whose ``workspace.yaml`` has a ``cwd:`` line (parsed by hand: the hook
  takes no YAML dependency for one line) and whose ``events.jsonl`` starts
  with ``session.start`` carrying ``data.context.cwd``.
"""

from __future__ import annotations

from pathlib import Path

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs the hook ~3 ms
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any, Iterable

from commitledger.capture.base import Env, ReadResult, UsageEvent
from commitledger.capture.jsonl import LineReader, as_int, iso_to_epoch, parse, rows, walk_files

AGENT = "copilot-cli"
FILE_ENV = "COPILOT_OTEL_FILE_EXPORTER_PATH"
_SESSION_ATTRS: tuple[str, ...] = ("gen_ai.conversation.id", "session.id", "copilot_chat.session_id")


class CopilotReader:
    agent = AGENT

    def __init__(self) -> None:
        self._home: Path | None = None
        self._cwds: dict[str, str | None] = {}

    def incremental(self, path: Path) -> bool:
        return True

    def _copilot_home(self, env: Env) -> Path:
        configured = env.environ.get("COPILOT_HOME", "").strip()
        return Path(configured).expanduser() if configured else env.home / ".copilot"

    def roots(self, env: Env) -> list[Path]:
        self._home = self._copilot_home(env)
        out: list[Path] = []
        for named in (env.extra.get("copilot_otel_file", ""), env.environ.get(FILE_ENV, "")):
            named = named.strip()
            if named:
                path = Path(named).expanduser()
                if path not in out:
                    out.append(path)
        out.append(self._home / "otel")
        return out

    def files(self, env: Env) -> Iterable[Path]:
        seen: set[Path] = set()
        for root in self.roots(env):
            try:
                if root.is_file():
                    candidates = [root]
                else:
                    candidates = walk_files(root, ".jsonl")
            except OSError:
                continue
            for path in candidates:
                if path not in seen:
                    seen.add(path)
                    yield path

    def read(self, path: Path, start: int, ctx: dict[str, Any]) -> ReadResult:
        result = ReadResult(end=start)
        for row in rows(LineReader(path, start), result, lambda line: b'"gen_ai.' in line):
            event = self._span(row)
            if event is not None:
                result.events.append(event)
        return result

    def _span(self, row: dict[str, Any]) -> UsageEvent | None:
        attrs = row.get("attributes")
        if type(attrs) is not dict:
            return None
        if row.get("type", "span") != "span":
            return None
        name = row.get("name")
        name = name if isinstance(name, str) else ""
        operation = attrs.get("gen_ai.operation.name")
        if not isinstance(operation, str):
            operation = name.split(" ", 1)[0]
        trace = row.get("traceId")
        span = row.get("spanId")
        if not (isinstance(trace, str) and trace and isinstance(span, str) and span):
            return None
        session = _first_str(attrs, _SESSION_ATTRS) or trace
        when = _otel_time(row.get("endTime")) or _otel_time(row.get("startTime")) or 0.0
        cwd = self._cwd(session)
        model = _first_str(attrs, ("gen_ai.response.model", "gen_ai.request.model")) or ""
        key = f"{trace}:{span}"
        if operation == "chat":
            prompt = as_int(attrs.get("gen_ai.usage.input_tokens"))
            cached = min(as_int(attrs.get("gen_ai.usage.cache_read.input_tokens")), prompt)
            write = as_int(attrs.get("gen_ai.usage.cache_write.input_tokens")) or as_int(
                attrs.get("gen_ai.usage.cache_creation.input_tokens")
            )
            output = as_int(attrs.get("gen_ai.usage.output_tokens"))
            if not (prompt or output or write):
                return None
            return UsageEvent(AGENT, "request", key, when, session, cwd, None, model, prompt - cached, output, cached, write)
        if operation == "invoke_agent" and not row.get("parentSpanId"):
            return UsageEvent(AGENT, "prompt", "prompt:" + key, when, session, cwd, None, model)
        if operation == "execute_tool":
            call = attrs.get("gen_ai.tool.call.id")
            tool_key = f"tool:{call}" if isinstance(call, str) and call else "tool:" + key
            return UsageEvent(AGENT, "tool", tool_key, when, session, cwd, None, model)
        return None

    def _cwd(self, session: str) -> str | None:
        if session in self._cwds:
            return self._cwds[session]
        home = self._home or Path.home() / ".copilot"
        state = home / "session-state" / session
        found = _workspace_cwd(state / "workspace.yaml") or _events_cwd(state / "events.jsonl")
        self._cwds[session] = found
        return found


def _workspace_cwd(path: Path) -> str | None:
    """The top-level ``cwd:`` of a small YAML file (plain or quoted scalar)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    for line in text.splitlines():
        if line.startswith("cwd:"):
            value = line[4:].strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            return value or None
    return None


def _events_cwd(path: Path) -> str | None:
    reader = LineReader(path, 0, chunk=64 * 1024)
    for batch in reader.batches():
        for line in batch:
            if b'"session.start"' not in line:
                continue
            try:
                row = parse(line)
            except ValueError:
                continue
            data = row.get("data") if type(row) is dict else None
            context = data.get("context") if type(data) is dict else None
            cwd = context.get("cwd") if type(context) is dict else None
            if isinstance(cwd, str) and cwd:
                return cwd
        break  # session.start is the first event; no need to read a long log to its end
    return None


def _first_str(attrs: dict[str, Any], names: tuple[str, ...]) -> str | None:
    for name in names:
        value = attrs.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def _otel_time(value: Any) -> float | None:
    """OTel JS ``HrTime`` ``[seconds, nanoseconds]``, or epoch nanoseconds / an ISO string."""
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value):
        return float(value[0]) + float(value[1]) / 1e9
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value) / 1e9 if value > 1e14 else float(value)
    if isinstance(value, str):
        return iso_to_epoch(value)
    return None
