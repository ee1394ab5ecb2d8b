"""The hook as a user meets it: real commits through the real pre-commit framework.

The project is snapshotted into a git repository that a test repo's
``.pre-commit-config.yaml`` names as ``repo:``; pre-commit installs it into
its own environment (once per session) and git runs prepare-commit-msg,
commit-msg and post-commit through it. Agent logs are private copies of the
fixtures whose ``cwd`` is rewritten to the test repository and whose dates
lie after its commits.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import file_claude_sessions_under, AGENT_LOGS, ROOT, git

PRE_COMMIT = Path(sys.executable).with_name("pre-commit")
pytestmark = pytest.mark.skipif(not PRE_COMMIT.exists(), reason="pre-commit is not installed next to this Python")

CLAUDE_PROJECT = "projects/-home-alice-src-acme-web"
MAIN_TRANSCRIPT = f"{CLAUDE_PROJECT}/5f1c2a9e-7b3d-4c8e-9a10-2b6f4e8d1c33.jsonl"
SECOND_TRANSCRIPT = f"{CLAUDE_PROJECT}/8d04b7e1-2c5a-4f39-b6d2-91e0a3c7f5b8.jsonl"
FUTURE_DAY = "2030-01-01T"

# fixtures/agent-logs/README.md, expected tables (tokens; cost at 4 places with pricing/litellm-subset.json).
CLAUDE_EXPECTED = {
    "claude-sonnet-4-5": dict(requests=4, input=13, output=759, cache_write=7770, cache_read=77140, cost_usd=0.0654),
    "claude-haiku-4-5": dict(requests=2, input=6, output=261, cache_write=2210, cache_read=21400, cost_usd=0.0062),
    "claude-opus-4-1": dict(requests=1, input=9, output=311, cache_write=24120, cache_read=0, cost_usd=0.4757),
}
CODEX_EXPECTED = {
    "gpt-5.2-codex": dict(requests=1, input=12840 - 9984, cache_read=9984, output=612),
    "gpt-5.2": dict(requests=1, input=15310 - 12800, cache_read=12800, output=1044),
    "gpt-5.2-codex-mini": dict(requests=1, input=4100 - 2048, cache_read=2048, output=230),
}


@pytest.fixture(scope="session")
def project_snapshot(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """This working tree's package files as a git repository pre-commit can clone."""
    dest = tmp_path_factory.mktemp("project")
    for name in ("pyproject.toml", ".pre-commit-hooks.yaml", "README.md", "LICENSE", "CHANGELOG.md"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(ROOT / "src", dest / "src", ignore=shutil.ignore_patterns("*.egg-info", "__pycache__"))
    shutil.copytree(ROOT / "scripts", dest / "scripts")  # commitledger-hook, what the hooks run
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    git(dest, "init", "-q", "-b", "main", env=env)
    git(dest, "add", "-A", env=env)
    git(dest, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "snapshot", env=env)
    return dest, git(dest, "rev-parse", "HEAD", env=env)


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def fixture_logs(dest: Path, repo: Path, *agents: str) -> Path:
    """Copies of the agent fixtures with cwd = ``repo`` and every date moved after today's commits."""
    for agent in agents:
        shutil.copytree(AGENT_LOGS / agent, dest / agent)
    for path in dest.rglob("*"):
        if path.is_file() and path.suffix in (".jsonl", ".json"):
            text = path.read_text(encoding="utf-8", errors="surrogateescape")
            text = text.replace("/home/alice/src/acme-web", str(repo))
            text = re.sub(r"20\d\d-\d\d-\d\dT", FUTURE_DAY, text)
            path.write_text(text, encoding="utf-8", errors="surrogateescape")
    if "claude-code" in agents:
        file_claude_sessions_under(dest / "claude-code", repo)
    return dest


class Repo:
    """A test repository with pre-commit installed and agent logs pointed at it."""

    def __init__(self, path: Path, env: dict[str, str], logs: Path) -> None:
        self.path = path
        self.env = env
        self.logs = logs

    def git(self, *args: str, check: bool = True) -> str:
        return git(self.path, *args, env=self.env, check=check)

    def run(self, *args: str, cwd: Path | None = None, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, cwd=cwd or self.path, env={**self.env, **(extra or {})}, capture_output=True, text=True)

    def commit(self, name: str, message: str = "change", *extra: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        where = cwd or self.path
        (where / name).write_text(name + "\n", encoding="utf-8")
        git(where, "add", name, env=self.env)
        return self.run("git", "commit", "-m", message, *extra, cwd=where)

    def message(self, rev: str = "HEAD", cwd: Path | None = None) -> str:
        return git(cwd or self.path, "log", "-1", "--format=%B", rev, env=self.env)


def usage_of(message: str) -> dict[tuple[str, str], dict[str, str]]:
    out: dict[tuple[str, str], dict[str, str]] = {}
    for line in message.splitlines():
        if line.startswith("AI-Usage: "):
            fields = dict(part.split("=", 1) for part in line[len("AI-Usage: ") :].split())
            out[(fields.pop("agent"), fields.pop("model"))] = fields
    return out


def assert_fixture_totals(message: str, claude: bool = True, codex: bool = True) -> None:
    usage = usage_of(message)
    expected_pairs = set()
    if claude:
        for model, want in CLAUDE_EXPECTED.items():
            expected_pairs.add(("claude-code", model))
            got = usage[("claude-code", model)]
            for key, value in want.items():
                assert (float(got[key]) if key == "cost_usd" else int(got[key])) == value, (model, key, got)
        totals = [usage[("claude-code", m)] for m in CLAUDE_EXPECTED]
        assert sum(int(u["prompts"]) for u in totals) == 3
        assert sum(int(u["tool_calls"]) for u in totals) == 3
        assert "cache_write_1h=760" in message
        assert "Assisted-by: claude-code:" in message
    if codex:
        for model, want in CODEX_EXPECTED.items():
            expected_pairs.add(("codex", model))
            got = usage[("codex", model)]
            for key, value in want.items():
                assert int(got[key]) == value, (model, key, got)
    assert set(usage) == expected_pairs


def make_repo(path: Path, logs_dir: Path, snapshot: tuple[Path, str], pc_home: Path, extra_config: str = "") -> Repo:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    project, sha = snapshot
    (path / ".pre-commit-config.yaml").write_text(
        "default_install_hook_types: [pre-commit, prepare-commit-msg, commit-msg, post-commit]\n"
        "repos:\n"
        f"- repo: {project}\n"
        f"  rev: {sha}\n"
        "  hooks: [{id: commitledger}, {id: commitledger-post-commit}, {id: commitledger-commit-msg}]\n"
        + extra_config,
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(pc_home),
        "CLAUDE_CONFIG_DIR": str(logs_dir / "claude-code"),
        "CODEX_HOME": str(logs_dir / "codex"),
        "COMMITLEDGER_PRICES": str(AGENT_LOGS / "pricing" / "litellm-subset.json"),
    }
    proc = subprocess.run([str(PRE_COMMIT), "install"], cwd=path, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    git(path, "add", ".pre-commit-config.yaml", env=env)
    # The first commit is made before any usage exists in the logs.
    git(path, "commit", "-q", "-m", "init", env={**env, "CLAUDE_CONFIG_DIR": str(path / "none"), "CODEX_HOME": str(path / "none")})
    return Repo(path, env, logs_dir)


@pytest.fixture
def repo_with_logs(tmp_path: Path, project_snapshot: tuple[Path, str], pre_commit_home: Path) -> Repo:
    path = tmp_path / "work"
    r = make_repo(path, tmp_path / "logs", project_snapshot, pre_commit_home)
    fixture_logs(tmp_path / "logs", path.resolve(), "claude-code", "codex")
    return r


def claude_row(repo: Path, message_id: str, output: int, *, model: str = "claude-sonnet-4-5-20250929", when: str = "12:00:00") -> str:
    row = {
        "type": "assistant", "cwd": str(repo), "sessionId": "9e9e9e9e-0000-4000-8000-000000000001",
        "isSidechain": False, "requestId": "req_" + message_id, "uuid": "u-" + message_id + str(output),
        "timestamp": f"{FUTURE_DAY}{when}.000Z",
        "message": {"model": model, "id": message_id, "type": "message", "role": "assistant",
                    "content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn",
                    "usage": {"input_tokens": 100, "output_tokens": output, "cache_read_input_tokens": 0,
                              "cache_creation_input_tokens": 0}},
    }  # fmt: skip
    return json.dumps(row, separators=(",", ":")) + "\n"  # compact, as Claude Code writes it


def append(path: Path, text: str) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(text)


def test_first_commit_then_a_commit_with_nothing_new(repo_with_logs: Repo) -> None:
    r = repo_with_logs
    proc = r.commit("a.txt", "Add a")
    assert proc.returncode == 0, proc.stderr
    message = r.message()
    assert message.startswith("Add a\n\nAssisted-by: ")
    assert_fixture_totals(message)
    proc = r.commit("b.txt", "Add b")
    assert proc.returncode == 0, proc.stderr
    assert r.message() == "Add b"
    show = json.loads(r.run(sys.executable, "-m", "commitledger", "show", "HEAD~1", "--json").stdout)
    assert [u["model"] for u in show["commits"][0]["usage"] if u["agent"] == "claude-code"] == sorted(CLAUDE_EXPECTED)


def test_amend_without_and_with_new_usage(repo_with_logs: Repo) -> None:
    r = repo_with_logs
    assert r.commit("a.txt", "Add a").returncode == 0
    first = r.message()
    proc = r.run("git", "commit", "--amend", "--no-edit")
    assert proc.returncode == 0, proc.stderr
    assert r.message() == first  # nothing new: trailers kept as they were
    append(r.logs / "codex" / "x.txt", "")  # unrelated file: no effect
    append(r.logs / "claude-code" / SECOND_TRANSCRIPT, claude_row(r.path, "msg_NEW1", 50))
    proc = r.run("git", "commit", "--amend", "--no-edit")
    assert proc.returncode == 0, proc.stderr
    usage = usage_of(r.message())
    sonnet = usage[("claude-code", "claude-sonnet-4-5")]
    assert (int(sonnet["requests"]), int(sonnet["input"]), int(sonnet["output"])) == (5, 113, 809)
    assert usage[("claude-code", "claude-opus-4-1")]["output"] == "311"
    assert r.message().count("AI-Usage: agent=claude-code model=claude-sonnet-4-5") == 1
    # amend with a new message (-m): the old usage is carried over, plus the new.
    append(r.logs / "claude-code" / SECOND_TRANSCRIPT, claude_row(r.path, "msg_NEW2", 7, when="12:01:00"))
    proc = r.run("git", "commit", "--amend", "-m", "Add a, reworded")
    assert proc.returncode == 0, proc.stderr
    message = r.message()
    assert message.startswith("Add a, reworded\n\n")
    sonnet = usage_of(message)[("claude-code", "claude-sonnet-4-5")]
    assert (int(sonnet["requests"]), int(sonnet["output"])) == (6, 816)
    # And nothing is pending afterwards.
    assert r.commit("b.txt", "Add b").returncode == 0
    assert "AI-Usage" not in r.message()
    # -C reuses a message: its usage stays with the commit it came from, never copied.
    (r.path / "c.txt").write_text("c\n")
    r.git("add", "c.txt")
    proc = r.run("git", "commit", "-C", "HEAD~1")
    assert proc.returncode == 0, proc.stderr
    assert r.message() == "Add a, reworded"


def test_aborted_commits_lose_nothing(tmp_path: Path, project_snapshot: tuple[Path, str], pre_commit_home: Path) -> None:
    reject = (
        "- repo: local\n"
        "  hooks:\n"
        "  - {id: reject, name: reject, entry: 'test ! -e .reject', language: system, stages: [commit-msg],"
        " pass_filenames: false, always_run: true}\n"
    )
    path = tmp_path / "work"
    r = make_repo(path, tmp_path / "logs", project_snapshot, pre_commit_home, reject)
    fixture_logs(tmp_path / "logs", path.resolve(), "claude-code", "codex")
    # Empty message: git aborts; our trailers must not turn it into a commit.
    (path / "a.txt").write_text("a\n")
    r.git("add", "a.txt")
    proc = r.run("git", "commit", "-m", "")
    assert proc.returncode != 0
    # Editor closed without a message: commit-msg strips our trailers, git aborts.
    proc = r.run("git", "commit", extra={"GIT_EDITOR": "true"})
    assert proc.returncode != 0 and "empty commit message" in proc.stderr
    # A later hook refuses the commit.
    (path / ".reject").write_text("")
    proc = r.run("git", "commit", "-m", "Add a")
    assert proc.returncode != 0
    (path / ".reject").unlink()
    assert r.git("rev-list", "--count", "HEAD") == "1"
    proc = r.run("git", "commit", "-m", "Add a")
    assert proc.returncode == 0, proc.stderr
    assert_fixture_totals(r.message())


def test_editor_commit_gets_trailers_below_the_subject(repo_with_logs: Repo, tmp_path: Path) -> None:
    r = repo_with_logs
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\nprintf "Subject from editor\\n%s" "$(cat "$1")" > "$1.new" && mv "$1.new" "$1"\n')
    editor.chmod(0o755)
    (r.path / "a.txt").write_text("a\n")
    r.git("add", "a.txt")
    proc = r.run("git", "commit", "-v", extra={"GIT_EDITOR": str(editor)})
    assert proc.returncode == 0, proc.stderr
    message = r.message()
    assert message.startswith("Subject from editor\n\nAssisted-by: ")
    assert_fixture_totals(message)


def test_rebase_cherry_pick_and_merge_add_nothing(repo_with_logs: Repo) -> None:
    r = repo_with_logs
    r.git("checkout", "-q", "-b", "side")
    assert r.commit("s.txt", "Side work").returncode == 0
    side_message = r.message()
    assert_fixture_totals(side_message)
    r.git("checkout", "-q", "main")
    append(r.logs / "claude-code" / SECOND_TRANSCRIPT, claude_row(r.path, "msg_PENDING", 40))
    r.git("commit", "-q", "--allow-empty", "-m", "Main work", "--no-verify")  # prepare-commit-msg still runs
    main_message = r.message()
    assert usage_of(main_message)[("claude-code", "claude-sonnet-4-5")]["output"] == "40"
    append(r.logs / "claude-code" / SECOND_TRANSCRIPT, claude_row(r.path, "msg_LATER", 9, when="12:05:00"))
    # cherry-pick: the picked message is kept as it was, the pending usage stays pending.
    proc = r.run("git", "cherry-pick", "side")
    assert proc.returncode == 0, proc.stderr
    assert r.message() == side_message
    # rebase: replayed commits keep their own trailers.
    r.git("checkout", "-q", "side")
    proc = r.run("git", "rebase", "--force-rebase", "main~2")  # a replay onto another parent: never main's sha
    assert proc.returncode == 0, proc.stderr
    r.git("checkout", "-q", "-b", "side2", "side")
    proc = r.run("git", "rebase", "main")
    assert proc.returncode == 0, proc.stderr
    assert r.message() == side_message or "AI-Usage" not in r.message()
    # merge: the merge commit gets nothing.
    r.git("checkout", "-q", "main")
    proc = r.run("git", "merge", "--no-ff", "-m", "Merge side", "side")
    assert proc.returncode == 0, proc.stderr
    assert "AI-Usage" not in r.message()
    # The usage logged before all that still goes to the next real commit, once.
    assert r.commit("n.txt", "Next").returncode == 0
    usage = usage_of(r.message())
    assert usage == {("claude-code", "claude-sonnet-4-5"): usage[("claude-code", "claude-sonnet-4-5")]}
    assert usage[("claude-code", "claude-sonnet-4-5")]["output"] == "9"


def test_two_worktrees_each_get_their_own_usage(tmp_path: Path, project_snapshot: tuple[Path, str], pre_commit_home: Path) -> None:
    path = tmp_path / "work"
    r = make_repo(path, tmp_path / "logs", project_snapshot, pre_commit_home)
    second = tmp_path / "work2"
    r.git("worktree", "add", "-q", "-b", "other", str(second))
    fixture_logs(tmp_path / "logs", path.resolve(), "codex")
    fixture_logs(tmp_path / "logs2", second.resolve(), "claude-code")
    r.env["CLAUDE_CONFIG_DIR"] = str(tmp_path / "logs2" / "claude-code")
    assert r.commit("a.txt", "In main").returncode == 0
    assert_fixture_totals(r.message(), claude=False, codex=True)
    proc = r.commit("b.txt", "In second", cwd=second)
    assert proc.returncode == 0, proc.stderr
    assert_fixture_totals(r.message(cwd=second), claude=True, codex=False)
    assert r.commit("c.txt", "Main again").returncode == 0
    assert "AI-Usage" not in r.message()


def test_usage_logged_during_a_commit_goes_to_the_next_one(tmp_path: Path, project_snapshot: tuple[Path, str], pre_commit_home: Path) -> None:
    writer = tmp_path / "writer.py"
    row_file = tmp_path / "row.jsonl"
    writer.write_text(
        "import sys, pathlib\n"
        f"src = pathlib.Path({str(row_file)!r})\n"
        "if src.exists():\n"
        f"    with open({str(tmp_path / 'logs' / 'claude-code' / SECOND_TRANSCRIPT)!r}, 'a') as f: f.write(src.read_text())\n"
        "    src.unlink()\n"
    )
    hook = (
        "- repo: local\n"
        "  hooks:\n"
        f"  - {{id: agent-writes, name: agent-writes, entry: '{sys.executable} {writer}', language: system,"
        " stages: [commit-msg], pass_filenames: false, always_run: true}\n"
    )
    path = tmp_path / "work"
    r = make_repo(path, tmp_path / "logs", project_snapshot, pre_commit_home, hook)
    fixture_logs(tmp_path / "logs", path.resolve(), "claude-code", "codex")
    # Between prepare-commit-msg and post-commit: a new request and the final row of one already written.
    row_file.write_text(
        claude_row(path.resolve(), "msg_DURING", 77, model="claude-haiku-4-5-20251001")
        + claude_row(path.resolve(), "msg_01EEEEEEEEEEEEEEEEEEEEEEEE", 411, model="claude-opus-4-1-20250805")
    )
    assert r.commit("a.txt", "First").returncode == 0
    first = usage_of(r.message())
    assert first[("claude-code", "claude-haiku-4-5")]["output"] == "261"
    assert first[("claude-code", "claude-opus-4-1")]["output"] == "311"
    assert r.commit("b.txt", "Second").returncode == 0
    second = usage_of(r.message())
    assert set(second) == {("claude-code", "claude-haiku-4-5"), ("claude-code", "claude-opus-4-1")}
    assert (second[("claude-code", "claude-haiku-4-5")]["output"], second[("claude-code", "claude-haiku-4-5")]["requests"]) == ("77", "1")
    opus = second[("claude-code", "claude-opus-4-1")]
    # The bigger final row of a recorded response adds only its growth, and no request.
    assert (opus["output"], opus["input"], opus["requests"]) == ("100", "91", "0")


def test_log_truncated_mid_line_is_read_whole_later(repo_with_logs: Repo) -> None:
    r = repo_with_logs
    assert r.commit("a.txt", "First").returncode == 0
    row = claude_row(r.path, "msg_HALF", 123)
    transcript = r.logs / "claude-code" / SECOND_TRANSCRIPT
    append(transcript, row[:80])
    assert r.commit("b.txt", "Second").returncode == 0
    assert "AI-Usage" not in r.message()
    append(transcript, row[80:])
    assert r.commit("c.txt", "Third").returncode == 0
    usage = usage_of(r.message())
    assert usage[("claude-code", "claude-sonnet-4-5")]["output"] == "123"
    assert usage[("claude-code", "claude-sonnet-4-5")]["requests"] == "1"


def test_replaced_log_adds_nothing_twice(repo_with_logs: Repo) -> None:
    r = repo_with_logs
    assert r.commit("a.txt", "First").returncode == 0
    transcript = r.logs / "claude-code" / MAIN_TRANSCRIPT
    copy = transcript.with_suffix(".tmp")
    shutil.copy2(transcript, copy)
    os.replace(copy, transcript)  # new inode, same content: read again from the start
    assert r.commit("b.txt", "Second").returncode == 0
    assert "AI-Usage" not in r.message()


def test_fail_open_and_strict(repo_with_logs: Repo) -> None:
    r = repo_with_logs
    state = Path(r.git("rev-parse", "--absolute-git-dir")) / "commitledger"
    shutil.rmtree(state)
    state.write_text("not a directory")  # the hook cannot keep its state
    proc = r.commit("a.txt", "Fail open")
    assert proc.returncode == 0
    assert "AI-Usage" not in r.message()
    # pre-commit shows a passing hook's output only with verbose: true; the hook itself says it once.
    msg = r.path / "msg.txt"
    msg.write_text("Subject\n")
    direct = r.run(sys.executable, "-m", "commitledger", "hook", "prepare-commit-msg", str(msg), "message")
    assert direct.returncode == 0
    assert direct.stderr.count("\n") == 1 and direct.stderr.startswith("commitledger: warning: ")
    assert msg.read_text() == "Subject\n"
    (r.path / "pyproject.toml").write_text("[tool.commitledger]\nstrict = true\n")
    r.git("add", "pyproject.toml")
    proc = r.run("git", "commit", "-m", "Strict")
    assert proc.returncode != 0
    assert "strict mode refuses the commit" in proc.stdout + proc.stderr
    state.unlink()
    proc = r.run("git", "commit", "-m", "Strict, working")
    assert proc.returncode == 0, proc.stderr
    assert_fixture_totals(r.message())


def test_record_goes_into_the_next_commit(repo_with_logs: Repo) -> None:
    r = repo_with_logs
    proc = r.run(sys.executable, "-m", "commitledger", "record", "--agent", "cursor", "--model", "gpt-5",
                 "--input", "1000", "--output", "200", "--tool-calls", "3", "--cost-usd", "0.25")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    pending = json.loads(r.run(sys.executable, "-m", "commitledger", "usage", "--json").stdout)
    cursor = [x for x in pending["records"] if x["agent"] == "cursor"]
    assert cursor == [{"agent": "cursor", "model": "gpt-5", "input": 1000, "output": 200, "cache_read": 0,
                       "cache_write": 0, "cost_usd": 0.25, "sessions": None, "prompts": None, "requests": None,
                       "tool_calls": 3}]  # fmt: skip  (no --requests: unknown, not an invented 1)
    assert r.commit("a.txt", "With manual usage").returncode == 0
    message = r.message()
    assert "AI-Usage: agent=cursor model=gpt-5 tool_calls=3 input=1000 output=200 cache_read=0 cache_write=0 cost_usd=0.2500" in message
    assert_fixture_totals(message.replace("AI-Usage: agent=cursor", "X"))


def test_a_line_deleted_in_the_editor_stays_pending(repo_with_logs: Repo, tmp_path: Path) -> None:
    r = repo_with_logs
    editor = tmp_path / "editor.sh"
    # The user writes a subject and deletes the codex lines (and their Assisted-by).
    editor.write_text('#!/bin/sh\n{ echo "Claude only"; grep -v "codex" "$1"; } > "$1.new" && mv "$1.new" "$1"\n')
    editor.chmod(0o755)
    (r.path / "a.txt").write_text("a\n")
    r.git("add", "a.txt")
    proc = r.run("git", "commit", extra={"GIT_EDITOR": str(editor)})
    assert proc.returncode == 0, proc.stderr
    assert_fixture_totals(r.message(), claude=True, codex=False)
    assert r.commit("b.txt", "Next").returncode == 0
    assert_fixture_totals(r.message(), claude=False, codex=True)


# --- Every other agent that leaves usage on disk (issue 12) ------------------------------------------

# (agent, model as the trailer names it) -> exact fields; cost_usd where the agent priced the requests itself.
AGENTS_EXPECTED: dict[tuple[str, str], dict[str, float | int]] = {
    ("amp", "claude-sonnet-4-5"): dict(requests=2, input=20, output=360, cache_read=4100, cache_write=4700, prompts=1, tool_calls=1),
    ("amp", "claude-haiku-4-5"): dict(requests=1, input=300, output=40, prompts=0, tool_calls=0),
    ("droid", "claude-sonnet-4-5"): dict(requests=1, input=1520, output=4010, cache_read=88000, cache_write=12000),
    ("droid", "gpt-5-codex-0"): dict(requests=1, input=2200, output=900, cache_read=6400),
    ("pi", "claude-sonnet-4-5"): dict(requests=2, input=15, output=275, cache_read=3900, cache_write=4200, cost_usd=0.0211, prompts=1, tool_calls=1),
    ("pi", "gpt-5"): dict(requests=1, input=1200, output=310, cost_usd=0.0046),
    ("qwen-code", "qwen3-coder-plus"): dict(requests=2, input=3100, output=580, cache_read=14200, prompts=1, tool_calls=1),
    ("kilo", "claude-sonnet-4-5"): dict(requests=1, input=14, output=410, cache_write=4600, cost_usd=0.0213, prompts=1, tool_calls=1),
    ("kilo", "gpt-5-mini"): dict(requests=1, input=2100, output=414, cache_read=1024),
    ("goose", "claude-sonnet-4-5"): dict(requests=1, input=29000, output=2500),
    ("cline", "claude-sonnet-4-5"): dict(requests=2, input=8, output=642, cache_read=11800, cache_write=12700, cost_usd=0.0609, prompts=2, tool_calls=1),
    ("roo-code", "claude-haiku-4-5"): dict(requests=2, input=52, output=450, cache_read=9000, cache_write=9400, cost_usd=0.015, prompts=1, tool_calls=1),
    ("kilo-code", "claude-sonnet-4-5"): dict(requests=1, input=7, output=520, cache_write=15000, cost_usd=0.0641, prompts=1),
    ("kimi", "kimi-for-coding"): dict(requests=2, input=2100, output=360, cache_read=16200, cache_write=512),
    ("openclaw", "claude-sonnet-4-5"): dict(requests=2, input=15, output=230, cache_read=5200, cache_write=5450, cost_usd=0.0256, prompts=1, tool_calls=1),
    ("openclaw", "gpt-5-mini"): dict(requests=1, input=900, output=120, cost_usd=0.0005),
    ("grok", "grok-code-fast-1"): dict(requests=3, input=10000, output=1400, cache_read=15000, cache_write=1000, cost_usd=0.0233, prompts=3, tool_calls=1),
    # The turn that called both models is one prompt, booked (like any) to the first model answering it.
    ("grok", "grok-4"): dict(requests=1, input=6000, output=1000, cache_read=14000, cost_usd=0.04, prompts=1),
    ("zcode", "glm-4.6"): dict(requests=3, input=6000, output=1450, cache_read=19000, cache_write=1000),
    ("zcode", "glm-4.5-air"): dict(requests=1, input=2500, output=150),
    # Hermes: session totals; the gateway session has no directory and billing-api's is elsewhere.
    ("hermes", "claude-sonnet-4-5"): dict(requests=1, input=1200, output=3400, cache_read=52000, cache_write=6100),
    ("hermes", "claude-haiku-4-5"): dict(requests=1, input=300, output=450, cache_read=9000),
}


def test_every_agent_gets_exact_trailers_then_only_what_grew(
    tmp_path: Path, project_snapshot: tuple[Path, str], pre_commit_home: Path
) -> None:
    """One commit with the logs of fourteen more agents in their own formats; then Droid and Goose grow in place."""
    import sqlite3

    from agent_homes import AGENT_VARS, place, touch_future

    path = tmp_path / "work"
    r = make_repo(path, tmp_path / "logs", project_snapshot, pre_commit_home)
    for var in AGENT_VARS:
        r.env.pop(var, None)
    home = Path(r.env["HOME"])
    places = place(home, repo=path.resolve())
    proc = r.commit("a.txt", "Use every agent")
    assert proc.returncode == 0, proc.stderr
    usage = usage_of(r.message())
    assert set(usage) == set(AGENTS_EXPECTED)  # goose's session in another repository stays out
    for pair, want in AGENTS_EXPECTED.items():
        got = usage[pair]
        for field in ("requests", "input", "output", "cache_read", "cache_write"):
            assert int(got.get(field, 0)) == want.get(field, 0), (pair, field, got)
        if "cost_usd" in want:
            assert float(got["cost_usd"]) == want["cost_usd"], (pair, got)
        if pair[0] in ("droid", "goose", "kimi", "zcode", "hermes"):
            assert "prompts" not in got and "tool_calls" not in got, (pair, got)  # unknown, not zero
        else:
            assert (int(got["prompts"]), int(got["tool_calls"])) == (want.get("prompts", 0), want.get("tool_calls", 0)), pair
    # Droid rewrites its session total; Goose updates its session row: the next commit gets the growth only.
    settings = next(places["droid"].rglob("4e2f9a1c-*.settings.json"))
    data = json.loads(settings.read_text(encoding="utf-8"))
    data["tokenUsage"]["inputTokens"] += 100
    data["tokenUsage"]["outputTokens"] += 50
    settings.write_text(json.dumps(data), encoding="utf-8")
    touch_future(settings, 60)
    conn = sqlite3.connect(places["goose"] / "sessions.db")
    conn.execute("UPDATE sessions SET accumulated_input_tokens = accumulated_input_tokens + 1000, "
                 "accumulated_output_tokens = accumulated_output_tokens + 100, "
                 "accumulated_total_tokens = accumulated_total_tokens + 1100 WHERE id = '20260506_1'")  # fmt: skip
    conn.commit()
    conn.close()
    proc = r.commit("b.txt", "Grow")
    assert proc.returncode == 0, proc.stderr
    usage = usage_of(r.message())
    assert set(usage) == {("droid", "claude-sonnet-4-5"), ("goose", "claude-sonnet-4-5")}
    assert (int(usage[("droid", "claude-sonnet-4-5")]["input"]), int(usage[("droid", "claude-sonnet-4-5")]["output"])) == (100, 50)
    assert (int(usage[("goose", "claude-sonnet-4-5")]["input"]), int(usage[("goose", "claude-sonnet-4-5")]["output"])) == (1000, 100)
    proc = r.commit("c.txt", "Nothing new")
    assert proc.returncode == 0, proc.stderr
    assert r.message() == "Nothing new"
