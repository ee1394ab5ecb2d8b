"""Logs of every agent commitledger reads besides Claude Code, for ``bench/hook.py --all-agents``.

Each generator writes one agent's files where the agent keeps them under a
HOME, in the agent's own format, rows modelled on the test fixtures
(``tests/fixtures/agent-logs/<agent>/``), sessions spread over the bench
repositories' working directories. Sizes are a byte budget per agent, so the
1.2 GB profile and the 10 MB one differ only in how much history there is.
"""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3
from pathlib import Path
from typing import Callable

Writer = Callable[[Path, list[Path], int, int, random.Random], None]
SONNET = "claude-sonnet-4-5-20250929"


def _dump(row: object) -> str:
    return json.dumps(row, separators=(",", ":")) + "\n"


def _sizes(budget: int, files: int, rng: random.Random) -> list[int]:
    raw = [rng.lognormvariate(0, 1.0) for _ in range(files)]
    total = sum(raw)
    return [max(2000, int(budget * r / total)) for r in raw]


def _stamp(i: int) -> str:
    return f"2026-{1 + (i // 28) % 12:02d}-{1 + i % 28:02d}T10:{i % 60:02d}:00.000Z"


def _text(rng: random.Random) -> str:
    return "x" * rng.randint(200, 6000)


def amp(home: Path, repos: list[Path], budget: int, files: int, rng: random.Random) -> None:
    root = home / ".local/share/amp/threads"
    root.mkdir(parents=True, exist_ok=True)
    for n, size in enumerate(_sizes(budget, files, rng)):
        messages: list[object] = []
        written, i = 0, 0
        while written < size:
            messages.append({"role": "user", "messageId": i, "content": [{"type": "text", "text": _text(rng)}]})
            usage = {"model": SONNET, "inputTokens": rng.randint(1, 50), "outputTokens": rng.randint(50, 2000),
                     "cacheCreationInputTokens": rng.randint(0, 5000), "cacheReadInputTokens": rng.randint(0, 90000),
                     "timestamp": _stamp(n)}  # fmt: skip
            messages.append({"role": "assistant", "messageId": i + 1, "content": [{"type": "text", "text": _text(rng)}], "usage": usage})
            written += 12000
            i += 2
        thread = f"T-{rng.getrandbits(128):032x}"
        doc = {"id": thread, "env": {"initial": {"trees": [{"uri": f"file://{repos[n % len(repos)]}"}]}}, "messages": messages}
        (root / f"{thread}.json").write_text(json.dumps(doc), encoding="utf-8")


def droid(home: Path, repos: list[Path], budget: int, files: int, rng: random.Random) -> None:
    for n, size in enumerate(_sizes(budget, files, rng)):
        repo = repos[n % len(repos)]
        folder = home / ".factory/sessions" / str(repo).replace("/", "-")
        folder.mkdir(parents=True, exist_ok=True)
        session = f"{rng.getrandbits(128):032x}"
        rows = [_dump({"type": "session_start", "id": session, "title": "t", "cwd": str(repo)})]
        while sum(map(len, rows)) < size:
            rows.append(_dump({"type": "message", "id": f"m{len(rows)}", "message": {"role": "assistant", "content": [{"type": "text", "text": _text(rng)}]}}))
        (folder / f"{session}.jsonl").write_text("".join(rows), encoding="utf-8")
        usage = {"inputTokens": rng.randint(1000, 9000), "outputTokens": rng.randint(1000, 9000), "cacheCreationTokens": 0,
                 "cacheReadTokens": rng.randint(0, 90000), "thinkingTokens": 0}  # fmt: skip
        (folder / f"{session}.settings.json").write_text(json.dumps({"model": SONNET, "tokenUsage": usage}), encoding="utf-8")


def _jsonl(path: Path, size: int, header: list[dict[str, object]], row: Callable[[int], dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    out = [_dump(h) for h in header]
    written, i = sum(map(len, out)), 0
    while written < size:
        line = _dump(row(i))
        out.append(line)
        written += len(line)
        i += 1
    path.write_text("".join(out), encoding="utf-8")


def pi(home: Path, repos: list[Path], budget: int, files: int, rng: random.Random, base: str = ".pi/agent/sessions") -> None:
    for n, size in enumerate(_sizes(budget, files, rng)):
        repo = repos[n % len(repos)]
        session = f"{rng.getrandbits(128):032x}"
        folder = home / base / (f"--{str(repo).strip('/').replace('/', '-')}--" if "pi" in base else "main/sessions")

        def row(i: int, n: int = n) -> dict[str, object]:
            usage = {"input": rng.randint(1, 50), "output": rng.randint(50, 2000), "cacheRead": rng.randint(0, 90000),
                     "cacheWrite": rng.randint(0, 5000), "cost": {"total": 0.01}}  # fmt: skip
            return {"type": "message", "id": f"{i:08x}", "timestamp": _stamp(n),
                    "message": {"role": "assistant", "content": [{"type": "text", "text": _text(rng)}], "model": "claude-sonnet-4-5", "usage": usage}}

        _jsonl(folder / f"{session}.jsonl", size, [{"type": "session", "id": session, "cwd": str(repo), "timestamp": _stamp(n)}], row)


def openclaw(home: Path, repos: list[Path], budget: int, files: int, rng: random.Random) -> None:
    pi(home, repos, budget, files, rng, base=".openclaw/agents")


def qwen(home: Path, repos: list[Path], budget: int, files: int, rng: random.Random) -> None:
    for n, size in enumerate(_sizes(budget, files, rng)):
        repo = repos[n % len(repos)]
        session = f"{rng.getrandbits(128):032x}"

        def row(i: int, n: int = n, repo: Path = repo, session: str = session) -> dict[str, object]:
            prompt = rng.randint(5000, 90000)
            return {"uuid": f"{session[:8]}-{i}", "sessionId": session, "timestamp": _stamp(n), "type": "assistant", "cwd": str(repo),
                    "model": "qwen3-coder-plus", "message": {"role": "model", "parts": [{"text": _text(rng)}]},
                    "usageMetadata": {"promptTokenCount": prompt, "candidatesTokenCount": rng.randint(50, 2000),
                                      "cachedContentTokenCount": prompt // 2}}  # fmt: skip

        _jsonl(home / ".qwen/projects" / str(repo).replace("/", "-") / "chats" / f"{session}.jsonl", size, [], row)


def kimi(home: Path, repos: list[Path], budget: int, files: int, rng: random.Random) -> None:
    (home / ".kimi").mkdir(parents=True, exist_ok=True)
    (home / ".kimi/kimi.json").write_text(json.dumps({"work_dirs": [{"path": str(r)} for r in repos]}), encoding="utf-8")
    for n, size in enumerate(_sizes(budget, files, rng)):
        repo = repos[n % len(repos)]
        folder = home / ".kimi/sessions" / hashlib.md5(str(repo).encode()).hexdigest() / f"{rng.getrandbits(128):032x}"  # noqa: S324

        def row(i: int, n: int = n) -> dict[str, object]:
            if i % 2:
                return {"timestamp": 1.77e9 + n * 60 + i, "message": {"type": "ContentPart", "payload": {"type": "text", "text": _text(rng)}}}
            usage = {"input_other": rng.randint(100, 5000), "output": rng.randint(50, 2000), "input_cache_read": rng.randint(0, 90000), "input_cache_creation": 0}
            return {"timestamp": 1.77e9 + n * 60 + i, "message": {"type": "StatusUpdate", "payload": {"token_usage": usage, "message_id": f"m{i}"}}}

        _jsonl(folder / "wire.jsonl", size, [{"type": "metadata", "protocol_version": "1.1"}], row)


def _vscode(extension: str, editor: str) -> Writer:
    def write(home: Path, repos: list[Path], budget: int, files: int, rng: random.Random) -> None:
        for n, size in enumerate(_sizes(budget, files, rng)):
            task = home / ".config" / editor / "User/globalStorage" / extension / "tasks" / str(1_770_000_000_000 + n * 1000)
            task.mkdir(parents=True, exist_ok=True)
            ui: list[object] = [{"ts": 1_770_000_000_000 + n * 1000, "type": "say", "say": "task", "text": "t"}]
            written = 0
            while written < size:
                info = {"request": _text(rng), "tokensIn": rng.randint(1, 50), "tokensOut": rng.randint(50, 2000),
                        "cacheWrites": rng.randint(0, 5000), "cacheReads": rng.randint(0, 90000), "cost": 0.01}  # fmt: skip
                ui.append({"ts": 1_770_000_000_000 + n * 1000 + len(ui), "type": "say", "say": "api_req_started", "text": json.dumps(info)})
                written += 6000
            (task / "ui_messages.json").write_text(json.dumps(ui), encoding="utf-8")
            details = f"# Current Working Directory ({repos[n % len(repos)]}) Files\n<model>{SONNET}</model>"
            (task / "api_conversation_history.json").write_text(json.dumps([{"role": "user", "content": [{"type": "text", "text": details}]}]), encoding="utf-8")

    return write


def _sqlite(path: Path, script: str, rows: list[tuple[object, ...]], insert: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.executescript(script)
    conn.executemany(insert, rows)
    conn.commit()
    conn.close()


def kilo(home: Path, repos: list[Path], budget: int, files: int, rng: random.Random) -> None:
    rows = []
    for i in range(max(1, budget // 800)):
        data = {"role": "assistant", "modelID": SONNET, "path": {"cwd": str(repos[i % len(repos)])}, "cost": 0.01,
                "tokens": {"input": 10, "output": rng.randint(50, 2000), "reasoning": 0, "cache": {"read": 1000, "write": 0}},
                "time": {"created": 1_770_000_000_000 + i}, "summary": _text(rng)[:500]}  # fmt: skip
        rows.append((f"msg_{i:08d}", f"ses_{i // 50:05d}", json.dumps(data)))
    _sqlite(home / ".local/share/kilo/kilo.db",
            "CREATE TABLE session (id TEXT PRIMARY KEY, parent_id TEXT, directory TEXT);"
            "CREATE TABLE message (id TEXT PRIMARY KEY, session_id TEXT, data TEXT);"
            "CREATE TABLE part (id TEXT PRIMARY KEY, message_id TEXT, session_id TEXT, data TEXT);",
            rows, "INSERT INTO message VALUES (?, ?, ?)")  # fmt: skip


def goose(home: Path, repos: list[Path], budget: int, files: int, rng: random.Random) -> None:
    rows = [(f"2026_{i}", str(repos[i % len(repos)]), "2026-05-06 12:00:00", 1000 + i, 100 + i, 1100 + 2 * i,
             json.dumps({"model_name": SONNET}), _text(rng)[:2000]) for i in range(max(1, budget // 2500))]  # fmt: skip
    _sqlite(home / ".local/share/goose/sessions/sessions.db",
            "CREATE TABLE sessions (id TEXT PRIMARY KEY, working_dir TEXT, updated_at TEXT, accumulated_input_tokens INTEGER,"
            " accumulated_output_tokens INTEGER, accumulated_total_tokens INTEGER, model_config_json TEXT, description TEXT);",
            rows, "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?)")  # fmt: skip


def grok(home: Path, repos: list[Path], budget: int, files: int, rng: random.Random) -> None:
    from urllib.parse import quote

    for n, size in enumerate(_sizes(budget, files, rng)):
        repo = repos[n % len(repos)]
        session = f"{rng.getrandbits(128):032x}"
        folder = home / ".grok/sessions" / quote(str(repo), safe="") / session
        folder.mkdir(parents=True, exist_ok=True)
        summary = {"info": {"id": session, "cwd": str(repo)}, "current_model_id": "grok-code-fast-1"}
        (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")

        def row(i: int, n: int = n, session: str = session) -> dict[str, object]:
            params: dict[str, object] = {"sessionId": session, "_meta": {"eventId": f"{session}-{i}"}}
            if i % 3:  # streamed text between turns, as Grok writes it
                params["update"] = {"sessionUpdate": "agent_message_chunk", "content": {"type": "text", "text": _text(rng)}}
                return {"timestamp": 1_770_000_000 + n * 600 + i, "method": "session/update", "params": params}
            prompt = rng.randint(5000, 90000)
            metrics = {"inputTokens": prompt, "outputTokens": rng.randint(50, 2000), "cachedReadTokens": prompt // 2,
                       "cacheCreationTokens": 0, "costUsdTicks": rng.randint(10**6, 10**9)}  # fmt: skip
            params["update"] = {"sessionUpdate": "turn_completed", "prompt_id": f"p-{i}",
                                "usage": {**metrics, "modelUsage": {"grok-code-fast-1": metrics}}}  # fmt: skip
            return {"timestamp": 1_770_000_000 + n * 600 + i, "method": "_x.ai/session/update", "params": params}

        _jsonl(folder / "updates.jsonl", size, [], row)


def zcode(home: Path, repos: list[Path], budget: int, files: int, rng: random.Random) -> None:
    count = max(1, budget // 300)
    sessions = [(f"ses_{i:05d}", str(repos[i % len(repos)])) for i in range(max(1, count // 40))]
    rows = [(f"mu_{i:08d}", sessions[i % len(sessions)][0], "glm-4.6", "completed", 1_770_000_000_000 + i * 1000,
             rng.randint(5000, 90000), rng.randint(50, 2000), 4000, 0) for i in range(count)]  # fmt: skip
    path = home / ".zcode/cli/db/db.sqlite"
    _sqlite(path,
            "CREATE TABLE session (id TEXT PRIMARY KEY, directory TEXT);"
            "CREATE TABLE model_usage (id TEXT PRIMARY KEY, session_id TEXT, model_id TEXT, status TEXT, started_at INTEGER,"
            " input_tokens INTEGER, output_tokens INTEGER, cache_read_input_tokens INTEGER, cache_creation_input_tokens INTEGER);",
            rows, "INSERT INTO model_usage VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")  # fmt: skip
    conn = sqlite3.connect(path)
    conn.executemany("INSERT INTO session VALUES (?, ?)", sessions)
    conn.commit()
    conn.close()


def hermes(home: Path, repos: list[Path], budget: int, files: int, rng: random.Random) -> None:
    rows = [(f"2026_{i:06d}", "cli", SONNET, 1_770_000_000.0 + i * 60, 1_770_000_000.0 + i * 60 + 30, str(repos[i % len(repos)]),
             rng.randint(100, 5000), rng.randint(50, 2000), rng.randint(0, 90000), rng.randint(0, 5000), _text(rng)[:2000])
            for i in range(max(1, budget // 2500))]  # fmt: skip
    _sqlite(home / ".hermes/state.db",
            "CREATE TABLE sessions (id TEXT PRIMARY KEY, source TEXT NOT NULL, model TEXT, started_at REAL NOT NULL,"
            " last_activity_at REAL, cwd TEXT, input_tokens INTEGER, output_tokens INTEGER, cache_read_tokens INTEGER,"
            " cache_write_tokens INTEGER, title TEXT);",
            rows, "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")  # fmt: skip


WRITERS: dict[str, Writer] = {
    "amp": amp, "droid": droid, "pi": pi, "qwen-code": qwen, "kilo": kilo, "goose": goose, "kimi": kimi,
    "openclaw": openclaw, "cline": _vscode("saoudrizwan.claude-dev", "Code"),
    "roo-code": _vscode("rooveterinaryinc.roo-cline", "Cursor"), "kilo-code": _vscode("kilocode.kilo-code", "VSCodium"),
    "grok": grok, "zcode": zcode, "hermes": hermes,
}  # fmt: skip


def generate(home: Path, repos: list[Path], budget: int, files: int, seed: int = 11) -> None:
    """Every agent's logs under ``home``: ``budget`` bytes and ``files`` files (or rows' worth) per agent."""
    rng = random.Random(seed)
    for writer in WRITERS.values():
        writer(home, repos, budget, files, rng)
