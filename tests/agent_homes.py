"""The newer agents' fixtures placed where each agent keeps its data under a HOME.

``fixtures/agent-logs/<agent>/`` holds each agent's files in its own format
(SQLite stores as the SQL that builds them). ``place`` copies them under a
home directory at the agent's default location, builds the databases and,
for a test repository, points every working directory at it and moves every
time after today's commits (ISO dates, epoch seconds and epoch milliseconds
alike), renaming what is named after the directory (Kimi's md5 folder).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from urllib.parse import quote

from conftest import AGENT_LOGS

FIXTURE_CWD = "/home/alice/src/acme-web"
# Where each agent keeps its data, relative to HOME (Linux defaults).
PLACES: dict[str, list[tuple[str, str]]] = {
    "amp": [("amp", ".local/share/amp")],
    "droid": [("droid/sessions", ".factory/sessions")],
    "pi": [("pi/sessions", ".pi/agent/sessions")],
    "qwen-code": [("qwen", ".qwen")],
    "kilo": [("kilo", ".local/share/kilo")],
    "goose": [("goose", ".local/share/goose/sessions")],
    "cline": [("cline", ".config")],
    "roo-code": [("roo-code", ".config")],
    "kilo-code": [("kilo-code", ".config")],
    "kimi": [("kimi", ".kimi")],
    "openclaw": [("openclaw", ".openclaw")],
    "grok": [("grok", ".grok")],
    "zcode": [("zcode", ".zcode")],
    "hermes": [("hermes", ".hermes")],
}
# The database each agent's SQL fixture builds, relative to where the fixture is placed.
DATABASES = {"goose": "sessions.db", "kilo": "kilo.db", "zcode": "cli/db/db.sqlite", "hermes": "state.db"}
# Variables that would send a reader (ours or ccusage) elsewhere.
AGENT_VARS = ("AMP_DATA_DIR", "DROID_SESSIONS_DIR", "PI_AGENT_DIR", "QWEN_DATA_DIR", "KILO_DATA_DIR", "GOOSE_PATH_ROOT",
              "KIMI_DATA_DIR", "OPENCLAW_DIR", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "GROK_HOME", "ZCODE_HOME",
              "HERMES_HOME")  # fmt: skip
# Agents that name a session's folder after its working directory, and how (learned from each agent's source).
FOLDER_NAMES = {
    "pi": lambda cwd: "--" + cwd.lstrip("/").replace("/", "-").replace(":", "-") + "--",
    "qwen-code": lambda cwd: "".join(ch if ch.isalnum() else "-" for ch in cwd),
    "droid": lambda cwd: cwd.replace("/", "-"),
    "grok": lambda cwd: quote(cwd, safe=""),
}
# 2030-01-01T00:00:00Z: every fixture time is moved to this day.
FUTURE_S = 1893456000
_ISO = re.compile(r"20\d\d-\d\d-\d\d(?=[T ]\d\d:)")
_MS = re.compile(r"(?<![\d.])17\d{11}(?![\d])")
_S = re.compile(r"(?<![\d.])17\d{8}(?=\.\d+\b|[,}\s])")


def _future(text: str) -> str:
    """Move every time in a fixture to 2030-01-01, keeping the time of day and the order."""
    text = _ISO.sub("2030-01-01", text)
    text = _MS.sub(lambda m: str(FUTURE_S * 1000 + int(m.group(0)) % 86_400_000), text)
    return _S.sub(lambda m: str(FUTURE_S + int(m.group(0)) % 86_400), text)


def place(home: Path, agents: list[str] | None = None, repo: Path | None = None) -> dict[str, Path]:
    """Each agent's fixture under ``home``; returns where each went."""
    out: dict[str, Path] = {}
    for agent in agents or list(PLACES):
        for source, target in PLACES[agent]:
            dest = home / target
            shutil.copytree(AGENT_LOGS / source, dest, dirs_exist_ok=True)
            out[agent] = dest
            if repo is not None:
                for path in dest.rglob("*"):
                    if path.is_file() and (".json" in path.name or path.suffix == ".sql"):  # .jsonl.reset.<time> too
                        text = path.read_text(encoding="utf-8")
                        text = _future(text.replace(FIXTURE_CWD, str(repo)))
                        path.write_text(text, encoding="utf-8")
            for script in list(dest.glob("*.sql")):
                db = dest / DATABASES[agent]
                db.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(db)
                conn.executescript(script.read_text(encoding="utf-8"))
                conn.commit()
                conn.close()
                script.unlink()
            if repo is not None and agent in FOLDER_NAMES:
                for folder in [p for p in dest.rglob("*") if p.is_dir() and p.name == FOLDER_NAMES[agent](FIXTURE_CWD)]:
                    folder.rename(folder.with_name(FOLDER_NAMES[agent](str(repo))))
            if agent == "kimi" and repo is not None:
                old = dest / "sessions" / hashlib.md5(FIXTURE_CWD.encode()).hexdigest()  # noqa: S324
                old.rename(dest / "sessions" / hashlib.md5(str(repo).encode()).hexdigest())  # noqa: S324
            if agent == "droid" and repo is not None:
                for path in dest.rglob("*.settings.json"):
                    touch_future(path)
    return out


def touch_future(path: Path, offset: int = 0) -> None:
    """Droid's time is the settings file's mtime: put it after today's commits."""
    os.utime(path, (FUTURE_S + 46800 + offset, FUTURE_S + 46800 + offset))


def reader_env(home: Path) -> Any:
    from commitledger.capture.base import Env

    return Env(home=home, environ={}, extra={})


def fresh_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, agents: list[str] | None = None) -> Path:
    """A HOME holding the fixtures of ``agents`` (all when None), with no variable pointing a reader elsewhere."""
    for var in AGENT_VARS:
        monkeypatch.delenv(var, raising=False)
    target = tmp_path / "home"
    target.mkdir()
    place(target, agents)
    return target
