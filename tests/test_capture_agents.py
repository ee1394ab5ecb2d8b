"""The readers added for Amp, Factory Droid, pi, Qwen Code, Kilo CLI, Goose, Cline, Roo Code, Kilo Code, Kimi, OpenClaw.

Each reads its fixture (``fixtures/agent-logs/<agent>/``, placed where the
agent keeps it under a HOME) to exact per-model totals, counts the bad row
each fixture carries, and, where ccusage 20.0.24 reads the agent, agrees with
``ccusage <agent> daily --json --offline`` on the same files. Where we differ
on purpose the test says so:

- Reasoning/thinking tokens (Droid ``thinkingTokens``, Qwen
  ``thoughtsTokenCount``, Kilo ``tokens.reasoning``, Goose's total beyond
  input + output): ccusage keeps them out of ``outputTokens`` (they are in its
  ``totalTokens``); we count them as output, as they are billed.
- Qwen ``promptTokenCount`` includes the cached tokens; ccusage reports it
  whole as input and again as cache reads, we count the uncached part as input.
- pi and OpenClaw: ccusage names models ``[pi] <model>`` / ``[openclaw] <model>``; we keep the model id.
- Kilo ``cost: 0`` (a subscription provider): ccusage takes 0 dollars, we
  price the tokens; so cost is compared only where the agent priced the request.
- Cline, Roo Code and Kilo Code are not read by ccusage: totals only.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from agent_homes import AGENT_VARS, fresh_home, place, reader_env
from capture_helpers import counts, read_all, totals, window
from commitledger.capture.base import ReadResult, load_reader

from conftest import ROOT

CCUSAGE = ROOT / ".ci" / "node" / "node_modules" / ".bin" / "ccusage"

SONNET, HAIKU = "claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001"
# agent -> model -> (requests, input, output, cache_read, cache_write, agent's own cost or None)
EXPECTED: dict[str, dict[str, tuple[int, int, int, int, int, float | None]]] = {
    "amp": {SONNET: (2, 20, 360, 4100, 4700, None), HAIKU: (1, 300, 40, 0, 0, None)},
    "droid": {SONNET: (1, 1520, 3410 + 600, 88000, 12000, None), "gpt-5-codex-0": (1, 2200, 900, 6400, 0, None)},
    "pi": {"claude-sonnet-4-5": (2, 15, 275, 3900, 4200, 0.017352 + 0.003738), "gpt-5": (1, 1200, 310, 0, 0, 0.0046)},
    "qwen-code": {"qwen3-coder-plus": (2, 2200 + 900, 310 + 150 + 120, 6000 + 8200, 0, None)},
    "kilo": {SONNET: (1, 14, 410, 0, 4600, 0.02127), "gpt-5-mini": (1, 2100, 350 + 64, 1024, 0, None)},
    "goose": {SONNET: (1, 29000, 2000 + 500, 0, 0, None), "gpt-4o": (1, 800, 200, 0, 0, None)},
    "cline": {SONNET: (2, 8, 642, 11800, 12700, 0.050508 + 0.010415)},
    "roo-code": {HAIKU: (2, 52, 450, 9000, 9400, 0.012790 + 0.002162)},
    "kilo-code": {SONNET: (1, 7, 520, 0, 15000, 0.064071)},
    "kimi": {"kimi-for-coding": (2, 2100, 360, 16200, 512, None)},
    "openclaw": {"claude-sonnet-4-5": (2, 15, 230, 5200, 5450, 0.021933 + 0.003620), "gpt-5-mini": (1, 900, 120, 0, 0, 0.000465)},
}
# agent -> (prompts, tool calls, bad rows); None where the agent's files record no such thing.
COUNTS: dict[str, tuple[int | None, int | None, int]] = {
    "amp": (1, 1, 1), "droid": (None, None, 1), "pi": (1, 1, 1), "qwen-code": (1, 1, 1), "kilo": (1, 1, 1),
    "goose": (None, None, 1), "cline": (2, 1, 1), "roo-code": (1, 1, 0), "kilo-code": (1, 0, 0), "kimi": (None, None, 1),
    "openclaw": (1, 1, 0),
}  # fmt: skip
# ccusage's command per agent, and the extra (reasoning) tokens it keeps out of outputTokens.
CCUSAGE_AGENTS: dict[str, tuple[str, int]] = {
    "amp": ("amp", 0), "droid": ("droid", 600), "pi": ("pi", 0), "qwen-code": ("qwen", 120), "kilo": ("kilo", 64),
    "goose": ("goose", 500), "kimi": ("kimi", 0), "openclaw": ("openclaw", 0),
}  # fmt: skip


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return fresh_home(tmp_path, monkeypatch)


def ours(agent: str, home: Path) -> tuple[list[Any], int]:
    events, bad = read_all(load_reader(agent), reader_env(home))
    return window(events), bad


@pytest.mark.parametrize("agent", sorted(EXPECTED))
def test_reader_totals_counts_and_bad_rows(agent: str, home: Path) -> None:
    events, bad = ours(agent, home)
    got = totals(events)
    assert set(got) == set(EXPECTED[agent])
    for model, (requests, fresh, output, read, write, cost) in EXPECTED[agent].items():
        row = got[model]
        assert (row.requests, row.input, row.output, row.cache_read, row.cache_write) == (requests, fresh, output, read, write), model
        if cost is not None:
            assert row.cost_usd == pytest.approx(cost, abs=1e-9), model
    prompts, tools, bad_rows = COUNTS[agent]
    seen = counts(events)
    assert (seen["prompts"], seen["tools"]) == (prompts or 0, tools or 0)
    assert bad == bad_rows
    assert all(e.cwd == "/home/alice/src/acme-web" for e in events if e.session != "20260506_2"), agent
    for event in events:
        assert "/" not in event.key and "Add pagination" not in str(event.to_json())


def ccusage(home: Path, command: str) -> dict[str, Any]:
    environ = {k: v for k, v in os.environ.items() if k not in AGENT_VARS}
    environ.update(HOME=str(home), NO_COLOR="1")
    proc = subprocess.run([str(CCUSAGE), command, "daily", "--json", "--offline", "--timezone", "UTC"],
                          env=environ, capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


@pytest.mark.skipif(not CCUSAGE.exists(), reason="ccusage is not installed in .ci/node (.ci/run installs it)")
@pytest.mark.parametrize("agent", sorted(CCUSAGE_AGENTS))
def test_totals_agree_with_ccusage(agent: str, home: Path) -> None:
    command, extra = CCUSAGE_AGENTS[agent]
    report = ccusage(home, command)
    theirs: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for day in report["daily"]:
        for name, row in [(r["modelName"], r) for r in day.get("modelBreakdowns", [])] + list(day.get("models", {}).items()):
            name = name.removeprefix("[pi] ").removeprefix("[openclaw] ")  # ccusage's labels for these models
            for field in ("inputTokens", "outputTokens", "cacheReadTokens", "cacheCreationTokens", "cost"):
                theirs[name][field] += row.get(field, 0) or 0
    events, _ = ours(agent, home)
    mine = totals(events)
    assert set(mine) == set(theirs)
    t = report["totals"]
    assert t["totalTokens"] - t["inputTokens"] - t["outputTokens"] - t["cacheReadTokens"] - t["cacheCreationTokens"] == extra
    for model, row in mine.items():
        other = theirs[model]
        fresh = other["inputTokens"] - (other["cacheReadTokens"] if agent == "qwen-code" else 0)
        assert (row.input, row.cache_read, row.cache_write) == (fresh, other["cacheReadTokens"], other["cacheCreationTokens"]), model
        if EXPECTED[agent][model][5] is not None:  # the agent's own price: both take it as is
            assert row.cost_usd == pytest.approx(other["cost"], abs=1e-9), model
    assert sum(r.output for r in mine.values()) == sum(r["outputTokens"] for r in theirs.values()) + extra


def test_vscode_family_reads_every_editor_root_on_linux_and_macos(tmp_path: Path) -> None:
    """Insiders on Linux and VS Code on macOS: the same task folder is found under either root."""
    home = tmp_path / "home"
    task = next((Path(__file__).parent / "fixtures/agent-logs/cline").rglob("ui_messages.json")).parent
    for base in (home / ".config" / "Code - Insiders", home / "Library" / "Application Support" / "Code"):
        shutil.copytree(task, base / "User/globalStorage/saoudrizwan.claude-dev/tasks" / task.name)
    events, bad = read_all(load_reader("cline"), reader_env(home))
    assert len(list(load_reader("cline").files(reader_env(home)))) == 2
    assert bad == 2
    assert totals(window(events))[SONNET].output == 642  # one task, the same keys: counted once


def test_goose_running_totals_are_one_key_per_session(home: Path) -> None:
    """A session's row grows in place; every read gives the same key with the larger total."""
    import sqlite3

    reader = load_reader("goose")
    db = home / ".local/share/goose/sessions/sessions.db"
    first = reader.read(db, 0, {})
    conn = sqlite3.connect(db)
    conn.execute("UPDATE sessions SET accumulated_input_tokens = 30000, accumulated_total_tokens = 32500 WHERE id = '20260506_1'")
    conn.commit()
    conn.close()
    second = reader.read(db, 0, {})
    key = {e.key: e for e in first.events}["20260506_1"]
    later = {e.key: e for e in second.events}["20260506_1"]
    assert (key.input, later.input) == (29000, 30000)
    assert later.weight > key.weight  # the window keeps the later row and adds only the growth


def test_unchanged_sqlite_store_is_not_opened_and_sqlite3_not_imported(home: Path, tmp_path: Path) -> None:
    """The hook's second run over unchanged Kilo and Goose databases imports no sqlite3."""
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    env = {**os.environ, "HOME": str(home)}
    msg = repo / ".git" / "MSG"
    for run in range(2):
        msg.write_text("x\n", encoding="utf-8")
        proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "commitledger", "hook", "prepare-commit-msg", str(msg), "message"],
                              cwd=repo, env=env, capture_output=True, text=True, check=False)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
        assert ("sqlite3" in imported) == (run == 0), run


def test_a_torn_document_is_counted_not_fatal(tmp_path: Path) -> None:
    home = tmp_path / "home"
    path = home / ".local/share/amp/threads/T-1.json"
    path.parent.mkdir(parents=True)
    path.write_bytes(b'{"id": "T-1", "messages": [\xff')
    result: ReadResult = load_reader("amp").read(path, 0, {})
    assert (result.events, result.bad_lines) == ([], 1)


def test_doctor_lists_every_agent_its_files_bad_rows_and_the_tokenless_ones(home: Path, repo: Path) -> None:
    from conftest import run_cli

    place(home, ["pi", "qwen-code", "droid", "kimi"], repo=repo.resolve())  # folders named after this repository
    (home / ".cursor").mkdir()
    (home / ".codeium" / "windsurf").mkdir(parents=True)
    proc = run_cli("doctor", cwd=repo, env={**os.environ, "HOME": str(home)})
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    files = {"amp": 2, "droid": 3, "pi": 1, "qwen-code": 1, "kilo": 1, "goose": 1, "cline": 1, "roo-code": 1,
             "kilo-code": 1, "kimi": 1, "openclaw": 2}  # fmt: skip
    files.update({"pi": 1, "qwen-code": 1, "droid": 3, "kimi": 1})  # this repository's folders only
    for agent, count in files.items():
        bad = COUNTS[agent][2]
        assert f"  {agent}: {count} files{f', {bad} bad lines' if bad else ''} - " in out, agent
    assert f"  goose: 1 files, 1 bad lines - {home / '.local/share/goose/sessions'}" in out
    assert f"  cursor: seen ({home / '.cursor'}, {home / '.config/Cursor'}), records nothing by itself" in out
    assert "  windsurf: seen (" in out and "  warp:" not in out


def test_a_second_collect_over_unchanged_logs_reads_nothing_and_lists_from_cache(home: Path, tmp_path: Path) -> None:
    """An agent whose files did not change costs a stat per file and per directory: no listing, no read."""
    from commitledger.capture.index import collect, save_index

    old = 1_700_000_000
    for path in [home, *home.rglob("*")]:
        os.utime(path, (old, old), follow_symlinks=False)  # directories modified long ago: listings may be cached
    state = tmp_path / "state"
    agents = sorted(EXPECTED)
    first = collect(state, reader_env(home), lambda e: True, agents)
    save_index(state, first)
    assert all(first.stats[a].bytes_read > 0 for a in agents)
    second = collect(state, reader_env(home), lambda e: True, agents)
    for agent in agents:
        stats = second.stats[agent]
        assert (stats.bytes_read, stats.listed_from_cache, stats.files) == (0, True, first.stats[agent].files), agent
        assert stats.bad_lines == COUNTS[agent][2], agent
    assert second.events == [] and not second.dirty


def test_session_folders_holding_their_one_log_are_not_statted_yet_new_sessions_are_found(
        home: Path, tmp_path: Path) -> None:
    """A VS Code task or Grok session folder that holds its one listed file adds nothing to the listing.

    Idle commits stat such a file only, not also its folder: with every agent present that was half the
    stats (``capture.index._dir_signature``). A new task is still found (its parent folder changed), and so
    is a task whose ``ui_messages.json`` appears after its folder was created (that folder stays watched).
    """
    import marshal

    from commitledger.capture.index import INDEX_FILE, collect, save_index

    old = 1_700_000_000
    for path in [home, *home.rglob("*")]:
        os.utime(path, (old, old), follow_symlinks=False)
    state = tmp_path / "state"
    agents = ["cline", "grok"]
    first = collect(state, reader_env(home), lambda e: True, agents)
    save_index(state, first)
    index = marshal.loads((state / INDEX_FILE).read_bytes())

    def signature(agent: str) -> set[str]:
        return {path for path, _ in index["readers"][agent]["listing"]["sig"]}

    tasks = next(home.rglob("saoudrizwan.claude-dev/tasks"))
    task_dirs = [d for d in tasks.iterdir() if (d / "ui_messages.json").is_file()]
    assert task_dirs
    cline_sig = signature("cline")
    assert str(tasks) in cline_sig and not any(str(d) in cline_sig for d in task_dirs)
    grok_logs = list(home.rglob(".grok/sessions/*/*/updates.jsonl"))
    grok_sig = signature("grok")
    assert grok_logs and not any(str(p.parent) in grok_sig for p in grok_logs)
    assert all(str(p.parent.parent) in grok_sig for p in grok_logs)  # the folder a new session lands in

    # A new task folder, its log written later: found once it has one, and its folder is watched until then.
    pending = tasks / "1999999999000"
    pending.mkdir()
    for path in (tasks, pending):
        os.utime(path, (old + 10, old + 10))
    second = collect(state, reader_env(home), lambda e: True, agents)
    save_index(state, second)
    assert second.stats["cline"].files == first.stats["cline"].files
    shutil.copy(task_dirs[0] / "ui_messages.json", pending / "ui_messages.json")
    for name in ("api_conversation_history.json", "task_metadata.json"):
        if (task_dirs[0] / name).exists():
            shutil.copy(task_dirs[0] / name, pending / name)
    os.utime(pending, (old + 20, old + 20))
    third = collect(state, reader_env(home), lambda e: True, agents)
    assert third.stats["cline"].files == first.stats["cline"].files + 1
    assert third.stats["cline"].bytes_read > 0 and not third.stats["cline"].listed_from_cache



def test_folder_named_stores_list_only_this_worktrees_folders(tmp_path: Path) -> None:
    """pi, Qwen, Droid and Kimi file sessions by working directory: another repository's files are not even listed."""
    from agent_homes import FOLDER_NAMES
    from commitledger.capture.base import Env

    home = tmp_path / "home"
    mine, other = tmp_path / "src" / "web", tmp_path / "src" / "api"  # ("web-admin" would be listed: the encoding is lossy)
    for repo in (mine, other, mine / "pkg"):
        repo.mkdir(parents=True, exist_ok=True)
    place(home, ["pi", "qwen-code", "droid", "kimi"], repo=other)
    place(home, ["pi", "qwen-code", "droid", "kimi"], repo=mine / "pkg")  # a session started in a subdirectory
    registry = {"work_dirs": [{"path": str(other), "kaos": "local"}, {"path": str(mine / "pkg"), "kaos": "local"}]}
    (home / ".kimi" / "kimi.json").write_text(json.dumps(registry), encoding="utf-8")  # both placements registered
    env = Env(home=home, environ={}, extra={"worktree": str(mine)})
    for agent in ("pi", "qwen-code", "droid", "kimi"):
        listed = [str(p) for p in load_reader(agent).files(env)]
        assert listed, agent
        if agent in FOLDER_NAMES:
            assert all(FOLDER_NAMES[agent](str(mine / "pkg")) in p for p in listed), (agent, listed)
        everything = list(load_reader(agent).files(Env(home=home, environ={}, extra={})))
        assert len(everything) > len(listed), agent
