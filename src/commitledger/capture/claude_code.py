"""Claude Code transcripts: ``<config dir>/projects/<project>/<session>.jsonl``.

Every API response is one ``assistant`` row per streamed content block, all
carrying the response's ``message.id`` and a ``usage`` that is final only on
the last row (output tokens ``1, 1, 412``). Requests are therefore keyed by
``message.id`` alone (falling back to ``requestId``, then the row's ``uuid``),
and the window keeps the row with the largest usage per key.

Why ``message.id`` alone and not ``message.id`` + ``requestId`` (ccusage's
historical key): a ``/btw`` side question replays the parent's last message
into its own subagent file with the *same* ``message.id`` but a *new*
``requestId`` (ccusage #913), and a resumed session copies rows into a new
file with both ids equal. The Anthropic message id names one API response no
matter which file it was copied into, so keying by it alone drops both kinds
of copy, whichever file happens to be read first. Because the copies are
identical in tokens, the window's tie rule (first one seen wins) keeps the
original: ``files()`` lists a project's main transcripts before the
``subagents/`` files, which is what keeps the original's 1-hour cache split
when a sidechain replay lacks the ``cache_creation`` breakdown.

Other rules:

- ``model == "<synthetic>"`` and ``isApiErrorMessage`` rows are API-error
  placeholders, not requests.
- ``input`` is ``usage.input_tokens``, which Anthropic reports without the
  cached tokens; cache writes split into 5-minute and 1-hour parts from
  ``usage.cache_creation`` when present, else all count as 5-minute writes
  (the only kind that existed before the split was logged).
- Pre-1.0.9 rows carry the client's own ``costUSD``; it becomes ``cost_usd``.
- A ``Task`` result's ``toolUseResult.usage`` is a summary of the subagent's
  rows, which are in the subagent's own file: it is never counted.
- Subagent and sidechain files carry the parent's ``sessionId``, so their
  usage counts toward the parent session.
- Prompts are non-sidechain ``user`` rows whose content is text (not a
  ``tool_result``); meta rows, compact summaries, slash-command echoes and
  interruption markers are not prompts that started an agent loop.
- Tools are ``tool_use`` blocks keyed by their id, so a block repeated by
  streaming is counted once.

Speed: a cold read of a large ``projects/`` tree is dominated by JSON
parsing, so a file is read in large binary chunks, line boundaries are
found in the chunk (no bytes object per line), and only rows that can
matter are parsed. The first ``"type":"`` of a row tells its kind cheaply:
``progress``, ``file-history-snapshot``, ``summary`` and ``queue-operation``
rows are skipped; a ``user`` row holding a ``"tool_result"`` (the bulk of
the bytes: file contents, command output) cannot be a prompt and is skipped;
anything else is parsed. The quoted forms cannot match text inside a JSON
string, where quotes are escaped. Rows without any type are checked only for
the ``{ ... }`` shape, so garbage and crash-truncated lines are still counted
as bad without being parsed.

Each chunk is walked backwards, so the final row of a streamed response is
met before its earlier rows; those earlier rows are skipped unparsed unless
they hold a ``tool_use``. One read therefore reports one request per
response (its last row in the bytes read). A read that stops inside a
response reports the usage seen so far, and the next read reports the final
row under the same key: the window's keep-the-largest rule gives the same
totals as one read. Large content arrays without a tool call are cut out
before parsing (see ``_parse_row``).
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs the hook ~3 ms
if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path
    from typing import Any, Callable, Iterable

from commitledger.capture.base import Env, ReadResult, UsageEvent
from commitledger.capture.jsonl import LineReader, as_int, iso_to_epoch, parse, walk_files

AGENT = "claude-code"


def _encode(path: str) -> str:
    """Claude Code's project-folder name for a launch directory: every non-alphanumeric becomes '-'."""
    return "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in path)


def project_filter(worktree: str | None) -> Any:
    """Which ``projects/`` folders can hold usage of ``worktree``, or None for all.

    Claude Code files a session under its launch directory and keeps the
    shell's working directory inside that directory's subtree, so a row whose
    cwd lies in the worktree can only be in the folder of the worktree itself,
    of a directory inside it, or of one of its ancestors (launched in ``~``,
    then ``cd`` into the repository). Reading only those folders keeps the
    hook's cost independent of how many other projects the user has; the
    encoding is lossy, so a match is a superset and the cwd check still
    decides. Non-ASCII paths (encoded differently by the agent's JavaScript)
    and an unknown worktree read every folder.
    """
    if not worktree:
        return None
    spellings = {worktree, os.path.realpath(worktree)}
    if not all(sp.isascii() for sp in spellings):
        return None
    from pathlib import Path  # listing only: a warm hook reads from the cached listing

    exact: set[str] = set()
    prefixes: list[str] = []
    for spelling in spellings:
        current = Path(spelling)
        for directory in (current, *current.parents):
            exact.add(_encode(str(directory)))
        prefixes.append(_encode(str(current)).rstrip("-") + "-")
    starts = tuple(prefixes)
    return lambda name: name in exact or name.startswith(starts)

# Row types that never carry a request, a prompt or a tool call, recognised by
# the first ``"type":"`` of a line. Any other first type (``user``, the
# ``message`` of an assistant row, a type we have never seen) is parsed.
_SKIP_TYPES: tuple[bytes, ...] = (
    b'progress"',
    b'file-history-snapshot"',
    b'summary"',
    b'queue-operation"',
)

_NOT_PROMPT_PREFIXES: tuple[str, ...] = (
    "<command-name>",
    "<command-message>",
    "<command-args>",
    "<local-command-stdout>",
    "<local-command-stderr>",
    "<local-command-caveat>",
    "[Request interrupted",
)


class ClaudeCodeReader:
    agent = AGENT
    # read() takes a str path and needs nothing roots() learns: a warm hook reading one grown
    # transcript imports no pathlib (see capture.index).
    reads_str = True

    def incremental(self, path: Path) -> bool:
        return True

    def roots(self, env: Env) -> list[Path]:
        from pathlib import Path

        configured = env.environ.get("CLAUDE_CONFIG_DIR", "").strip()
        if configured:
            dirs = [Path(part.strip()).expanduser() for part in configured.split(",") if part.strip()]
        else:
            dirs = [env.home / ".config" / "claude", env.home / ".claude"]
        out: list[Path] = []
        for directory in dirs:
            projects = directory / "projects"
            if projects not in out:
                out.append(projects)
        return out

    def listed_folders(self, env: Env, root: Path) -> Callable[[str], bool] | None:
        """The project folders ``files`` lists from (None: all); the others stay out of the listing signature."""
        return project_filter(env.extra.get("worktree"))

    def files(self, env: Env) -> Iterable[Path]:
        from pathlib import Path

        # One tree can be reachable through two roots (~/.claude symlinked to ~/.config/claude):
        # list it once. Compared per root, not per file, to keep a cold listing cheap.
        seen: set[str] = set()
        for root in self.roots(env):
            try:
                ident = os.path.realpath(root)
            except OSError:
                ident = str(root)
            if ident in seen:
                continue
            seen.add(ident)
            wanted = self.listed_folders(env, root)
            try:
                with os.scandir(root) as entries:
                    listed = list(entries)
            except OSError:
                continue
            top: list[Path] = []
            projects: list[str] = []
            for e in listed:
                try:
                    # A project folder may be a symlink (moved to another disk): follow it here;
                    # walk_files does not follow links further down.
                    if e.is_dir(follow_symlinks=True):
                        if wanted is None or wanted(e.name):
                            projects.append(e.path)
                    elif wanted is None and e.name.endswith(".jsonl") and e.is_file():
                        top.append(Path(e.path))
                except OSError:
                    continue
            yield from sorted(top)
            linked: set[str] = set()
            for project in sorted(projects):
                real = os.path.realpath(project)
                if real in linked:
                    continue
                linked.add(real)
                yield from walk_files(Path(project), ".jsonl")

    def read(self, path: Path, start: int, ctx: dict[str, Any]) -> ReadResult:
        result = ReadResult(end=start)
        bad = 0
        fallback_session = str(ctx.get("session") or _session_from_path(path))
        reader = LineReader(path, start)
        for buf, limit in reader.chunks():
            # Backwards, so the last (final) row of a streamed response is met first.
            chunk_events: list[UsageEvent] = []
            answered: dict[bytes, int] = {}  # message id -> output tokens of the row already read
            find = buf.find
            end = limit - 1 if buf[limit - 1] == 0x0A else limit
            while end >= 0:
                nl = buf.rfind(b"\n", 0, end)
                line_start = nl + 1
                line_end = end
                end = nl if nl >= 0 else -1
                at = find(b'"type":"', line_start, line_end)
                width = 8
                if at < 0:
                    # Rows re-serialised with spaces ("type": "assistant") are rows all the same.
                    at = find(b'"type": "', line_start, line_end)
                    width = 9
                if at < 0:
                    # Nothing typed: blank, garbage or a crash-truncated line; only its shape is checked.
                    if _misshapen(buf, line_start, line_end):
                        bad += 1
                    continue
                value = buf[at + width : at + width + 22]
                message_id = b""
                if value.startswith(b'user"'):
                    if find(b'"tool_result"', at, line_end) >= 0 or find(b'"toolUseResult"', line_start, line_end) >= 0:
                        continue
                elif value.startswith(_SKIP_TYPES):
                    continue
                else:
                    message_id = _message_id(buf, line_start, line_end)
                    if (
                        message_id
                        and message_id in answered
                        and find(b'"tool_use"', line_start, line_end) < 0
                        and _output_tokens(buf, line_start, line_end) <= answered[message_id]
                    ):
                        continue  # an earlier streamed row of a response whose final row is already read
                try:
                    row = _parse_row(buf, line_start, line_end)
                except ValueError:
                    bad += 1
                    continue
                if type(row) is not dict:
                    bad += 1
                    continue
                kind = row.get("type")
                if kind == "assistant":
                    before = len(chunk_events)
                    heavier = message_id in answered
                    if _assistant(row, chunk_events, fallback_session, True) and message_id:
                        fresh = [e for e in chunk_events[before:] if e.kind == "request"]
                        out = max((e.output for e in fresh if not e.key.endswith(_ADVISOR_TAG)), default=0)
                        if heavier:
                            # Logged larger first, smaller later: keep the larger (the window would too).
                            prior = {e.key: e for e in chunk_events[:before] if e.kind == "request"}
                            drop: set[int] = set()
                            for e in chunk_events[before:]:
                                old = prior.get(e.key) if e.kind == "request" else None
                                if old is not None:
                                    drop.add(id(e) if e.weight <= old.weight else id(old))
                            if drop:
                                chunk_events[:] = [e for e in chunk_events if id(e) not in drop]
                        answered[message_id] = max(out, answered.get(message_id, 0))
                elif kind == "user":
                    _user(row, chunk_events, fallback_session)
            chunk_events.reverse()
            result.events.extend(chunk_events)
        result.end = reader.end
        result.bad_lines = bad
        return result


def _message_id(buf: bytes, start: int, end: int) -> bytes:
    """The ``message.id`` of an assistant row, if it precedes the content (as the API writes it); else b""."""
    message = buf.find(b'"message":{', start, end)
    if message < 0:
        return b""
    content = buf.find(b'"content":', message, end)
    at = buf.find(b'"id":"', message, content if content >= 0 else end)
    if at < 0:
        return b""
    close = buf.find(b'"', at + 6, end)
    return buf[at + 6 : close] if close > at + 6 else b""


def _output_tokens(buf: bytes, start: int, end: int) -> int:
    """The first ``output_tokens`` of a row, read without parsing it (0 when absent)."""
    at = buf.find(b'"output_tokens":', start, end)
    if at < 0:
        return 0
    i = at + 16
    while i < end and buf[i] in b" \t":
        i += 1
    j = i
    while j < end and 0x30 <= buf[j] <= 0x39:
        j += 1
    return int(buf[i:j]) if j > i else 0


def _parse_row(buf: bytes, start: int, end: int) -> Any:
    """Parse one row, skipping the text of a large assistant message's content.

    Thinking blocks, answers and ``Write`` inputs make up most of an assistant
    row but carry nothing we count. When the content holds no ``tool_use``,
    the row is parsed with its content array cut out (``"content":[`` ... up
    to the ``],"stop_reason":`` that follows it in every Messages API
    response). Anything unexpected (no such markers, a cut that does not
    parse) falls back to parsing the whole row, so the shortcut can cost
    time but never change a result.
    """
    if end - start > _CUT_MIN:
        message = buf.find(b'"message":{', start, end)
        if message >= 0:
            open_at = buf.find(b'"content":[', message, end)
            close_at = buf.rfind(b'],"stop_reason":', open_at, end) if open_at >= 0 else -1
            if close_at > open_at + _CUT_MIN and buf.find(b'"tool_use"', open_at, close_at) < 0:
                try:
                    return parse(buf[start : open_at + 11] + buf[close_at:end])
                except ValueError:
                    pass
    return parse(buf[start:end])


# Rows (and content arrays) shorter than this are parsed whole: cutting costs more than it saves.
_CUT_MIN = 2048


def _misshapen(buf: bytes, start: int, end: int) -> bool:
    """True for a non-blank line that cannot be a JSON object (cheap: no parse)."""
    while start < end and buf[start] in b" \t\r":
        start += 1
    while end > start and buf[end - 1] in b" \t\r":
        end -= 1
    return start < end and not (buf[start] == 0x7B and buf[end - 1] == 0x7D)


def _stem(name: str) -> str:
    """``Path(name).stem``: the name without its last suffix."""
    dot = name.rfind(".")
    return name[:dot] if 0 < dot < len(name) - 1 else name


def _session_from_path(path: Path | str) -> str:
    """The session a file belongs to when its rows do not say: ``<session>/subagents/x.jsonl`` → session."""
    parent, name = os.path.split(os.path.normpath(os.fspath(path)))
    if os.path.basename(parent) == "subagents":
        return os.path.basename(os.path.dirname(parent))
    return _stem(name)


def _assistant(row: dict[str, Any], events: list[UsageEvent], fallback_session: str, with_request: bool) -> bool:
    """Append the row's request (unless its response is already counted in this read) and tool calls.

    Returns whether the row carried a request, so earlier rows of the same response can be skipped.
    """
    message = row.get("message")
    if type(message) is not dict:
        return False
    model = message.get("model")
    if model == "<synthetic>" or row.get("isApiErrorMessage"):
        return False
    if type(model) is not str:
        model = ""
    session = row.get("sessionId")
    if type(session) is not str or not session:
        session = fallback_session
    cwd = row.get("cwd")
    if type(cwd) is not str:
        cwd = None
    when = iso_to_epoch(row.get("timestamp")) or 0.0
    usage = message.get("usage")
    has_request = False
    if type(usage) is dict:
        key = message.get("id") or row.get("requestId") or row.get("uuid")
        has_request = type(key) is str
        if has_request and with_request:
            write = _count(usage.get("cache_creation_input_tokens"))
            split = usage.get("cache_creation")
            if type(split) is dict and (
                "ephemeral_5m_input_tokens" in split or "ephemeral_1h_input_tokens" in split
            ):
                write_1h = _count(split.get("ephemeral_1h_input_tokens"))
                write_5m = _count(split.get("ephemeral_5m_input_tokens"))
                if write_5m + write_1h != write and write >= write_1h:
                    # Trust the total; the split only says how much of it is 1-hour.
                    write_5m = write - write_1h
            else:
                write_5m, write_1h = write, 0
            cost = row.get("costUSD")
            speed = usage.get("speed")
            tier = "speed=fast" if speed == "fast" else ""
            searches = 0
            server = usage.get("server_tool_use")
            if type(server) is dict:
                searches = _count(server.get("web_search_requests"))
            events.append(
                UsageEvent(
                    AGENT,
                    "request",
                    key,
                    when,
                    session,
                    cwd,
                    None,
                    model,
                    _count(usage.get("input_tokens")),
                    _count(usage.get("output_tokens")),
                    _count(usage.get("cache_read_input_tokens")),
                    write_5m,
                    write_1h,
                    float(cost) if type(cost) is float or type(cost) is int else None,
                    "",
                    tier,
                    searches,
                )
            )
            iterations = usage.get("iterations")
            if type(iterations) is list:
                _advisors(iterations, key, when, session, cwd, events)
    content = message.get("content")
    if type(content) is list:
        for block in content:
            if type(block) is dict and block.get("type") == "tool_use":
                tool_id = block.get("id")
                if type(tool_id) is str and tool_id:
                    events.append(UsageEvent(AGENT, "tool", "tool:" + tool_id, when, session, cwd, None, model))
    return has_request


_ADVISOR_TAG = "#advisor"


def _advisors(
    iterations: list[Any], key: str, when: float, session: str, cwd: str | None, events: list[UsageEvent]
) -> None:
    """``advisor_message`` iterations: a second model's tokens, left out of the top-level usage.

    The advisor tool runs another model (an opus advisor inside a sonnet
    request) and bills its tokens at that model's rates; each iteration
    becomes its own request of the advisor's model, keyed under the
    response's id so a re-read adds nothing.
    """
    for i, it in enumerate(iterations):
        if type(it) is not dict or it.get("type") != "advisor_message":
            continue
        model = it.get("model")
        if type(model) is not str or not model:
            model = ""
        write = _count(it.get("cache_creation_input_tokens"))
        split = it.get("cache_creation")
        write_1h = _count(split.get("ephemeral_1h_input_tokens")) if type(split) is dict else 0
        write_1h = min(write_1h, write)
        events.append(
            UsageEvent(
                AGENT, "request", f"{key}:{i}{_ADVISOR_TAG}", when, session, cwd, None, model,
                _count(it.get("input_tokens")), _count(it.get("output_tokens")),
                _count(it.get("cache_read_input_tokens")), write - write_1h, write_1h,
            )
        )  # fmt: skip


def _count(value: Any) -> int:
    """Token counts are almost always plain non-negative ints; anything else goes the careful way."""
    if type(value) is int and value >= 0:
        return value
    return as_int(value)


def _user(row: dict[str, Any], events: list[UsageEvent], fallback_session: str) -> None:
    if row.get("isSidechain") or row.get("isMeta") or row.get("isCompactSummary"):
        return
    if row.get("isVisibleInTranscriptOnly") or "toolUseResult" in row:
        return
    message = row.get("message")
    if not isinstance(message, dict):
        return
    content = message.get("content")
    if isinstance(content, str):
        text = content
    elif isinstance(content, list):
        text = ""
        for block in content:
            if not isinstance(block, dict):
                continue
            kind = block.get("type")
            if kind == "tool_result":
                return
            if kind == "text" and not text:
                value = block.get("text")
                text = value if isinstance(value, str) else ""
            elif kind in ("image", "document") and not text:
                text = "\x00"  # an attachment-only prompt still starts a loop
    else:
        return
    text = text.lstrip()
    if not text or text.startswith(_NOT_PROMPT_PREFIXES):
        return
    key = row.get("uuid")
    if not isinstance(key, str) or not key:
        return
    session = row.get("sessionId")
    if not isinstance(session, str) or not session:
        session = fallback_session
    cwd = row.get("cwd")
    events.append(
        UsageEvent(
            AGENT,
            "prompt",
            "prompt:" + key,
            iso_to_epoch(row.get("timestamp")) or 0.0,
            session,
            cwd if isinstance(cwd, str) else None,
        )
    )
