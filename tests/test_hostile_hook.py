"""The hook against a flaky machine and hostile logs (issue 14): real repositories, real hooks, real git.

Each case here failed before its fix: usage counted twice when post-commit
did not finish, temporary files eating the last free bytes, one bad number
poisoning a log, rebases dropping usage, unreadable or rewritten logs read
wrong, a future-dated HEAD switching recording off, and trailers turning a
message git would abort into a commit.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import AGENT_LOGS, git, run_cli

PRICES = str(AGENT_LOGS / "pricing" / "litellm-subset.json")
FUTURE_DAY = "2030-01-01T"


class Hooked:
    """A repository with ``commitledger install``'s hooks and a Claude Code project folder for it."""

    def __init__(self, root: Path, *, logs: Path | None = None, init_env: dict[str, str] | None = None) -> None:
        self.path = root / "repo"
        self.path.mkdir(parents=True)
        self.path = self.path.resolve()
        git(self.path, "init", "-q", "-b", "main")
        self.claude = (logs or root) / "claude"
        encoded = "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in str(self.path))
        self.project = self.claude / "projects" / encoded
        self.project.mkdir(parents=True)
        self.transcript = self.project / "9e9e9e9e-0000-4000-8000-000000000001.jsonl"
        self.env = {
            **os.environ,
            "CLAUDE_CONFIG_DIR": str(self.claude),
            "CODEX_HOME": str((logs or root) / "no-codex"),
            "COMMITLEDGER_PRICES": PRICES,
            "GIT_EDITOR": "true",
        }
        (self.path / "init.txt").write_text("init\n", encoding="utf-8")
        git(self.path, "add", "init.txt")
        git(self.path, "commit", "-q", "-m", "init", env={**self.env, **(init_env or {})})
        proc = run_cli("install", cwd=self.path, env=self.env)
        assert proc.returncode == 0, proc.stderr
        self.n = 0

    @property
    def state(self) -> Path:
        return self.path / ".git" / "commitledger"

    def add_requests(self, count: int, *, when: str = "12:00:00", prefix: str = "msg") -> None:
        with open(self.transcript, "a", encoding="utf-8") as handle:
            for _ in range(count):
                self.n += 1
                handle.write(claude_row(self.path, f"{prefix}_{self.n:04d}", 10 + self.n, when=when))

    def run(self, *args: str, extra: dict[str, str] | None = None, prefix: list[str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*(prefix or []), *args], cwd=self.path, env={**self.env, **(extra or {})},
                              capture_output=True, text=True)  # fmt: skip

    def commit(self, message: str = "change", *flags: str, extra: dict[str, str] | None = None,
               prefix: list[str] | None = None) -> subprocess.CompletedProcess[str]:  # fmt: skip
        name = f"f{len(list(self.path.glob('f*.txt')))}.txt"
        (self.path / name).write_text(name + "\n", encoding="utf-8")
        git(self.path, "add", name, env=self.env)
        args = ["git", "commit", *flags] + (["-m", message] if message else [])
        return self.run(*args, extra=extra, prefix=prefix)

    def messages(self) -> list[str]:
        out = git(self.path, "log", "--format=%B%x00", env=self.env)
        return [m.strip() for m in out.split("\x00") if m.strip()]

    def head(self) -> str:
        return git(self.path, "rev-parse", "HEAD", env=self.env)


def claude_row(repo: Path, message_id: str, output: int, *, when: str = "12:00:00", cost: object = None) -> str:
    row: dict[str, object] = {
        "type": "assistant", "cwd": str(repo), "sessionId": "9e9e9e9e-0000-4000-8000-000000000001",
        "isSidechain": False, "requestId": "req_" + message_id, "uuid": "u-" + message_id,
        "timestamp": f"{FUTURE_DAY}{when}.000Z",
        "message": {"model": "claude-sonnet-4-5-20250929", "id": message_id, "type": "message", "role": "assistant",
                    "content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn",
                    "usage": {"input_tokens": 100, "output_tokens": output, "cache_read_input_tokens": 0,
                              "cache_creation_input_tokens": 0}},
    }  # fmt: skip
    if cost is not None:
        row["costUSD"] = cost
    return json.dumps(row, separators=(",", ":")) + "\n"


def requests_in(message: str) -> int:
    total = 0
    for line in message.splitlines():
        if line.startswith("AI-Usage: "):
            fields = dict(part.split("=", 1) for part in line[len("AI-Usage: ") :].split() if "=" in part)
            total += int(fields.get("requests", 0))
    return total


def total_requests(repo: Hooked) -> int:
    return sum(requests_in(m) for m in repo.messages())


def temporaries(state: Path) -> list[Path]:
    return [p for p in state.rglob(".*.tmp")] if state.exists() else []


# --- item 2: post-commit that does not finish ---------------------------------------------------


def test_random_post_commit_kills_never_count_usage_twice(tmp_path: Path) -> None:
    repo = Hooked(tmp_path)
    delay = tmp_path / "delay"
    post = repo.path / ".git" / "hooks" / "post-commit"
    # A post-commit killed (SIGKILL: nothing runs after) at a random moment of its run.
    post.write_text(
        "#!/bin/sh\n"
        f'exec timeout -s KILL "$(cat {delay})" {sys.executable} -m commitledger hook post-commit\n',
        encoding="utf-8",
    )
    rng = random.Random(1414)
    spent = reconciled = 0
    for i in range(30):
        delay.write_text(f"{rng.uniform(0.005, 0.15):.3f}", encoding="utf-8")
        count = rng.choice((1, 1, 2))
        repo.add_requests(count)
        spent += count
        proc = repo.commit(f"change {i}")
        assert proc.returncode == 0, proc.stderr
        reconciled += proc.stderr.count("post-commit did not finish")
    assert total_requests(repo) == spent
    assert reconciled >= 1  # some kills did land before post-commit finished
    assert temporaries(repo.state) == []


def test_post_commit_failing_before_the_window_is_saved_keeps_the_staging(tmp_path: Path) -> None:
    repo = Hooked(tmp_path)
    repo.add_requests(1)
    repo.state.mkdir(exist_ok=True)
    blocker = repo.state / "recorded"
    blocker.write_text("not a directory\n", encoding="utf-8")  # post-commit cannot save the recorded keys
    proc = repo.commit("first")
    assert proc.returncode == 0 and "post-commit skipped" in proc.stderr
    assert requests_in(repo.messages()[0]) == 1
    assert (repo.state / "staged.json").exists()  # the transition is still to be done
    blocker.unlink()
    repo.add_requests(1)
    proc = repo.commit("second")
    assert proc.returncode == 0, proc.stderr
    assert "post-commit did not finish" in proc.stderr
    assert requests_in(repo.messages()[0]) == 1
    assert total_requests(repo) == 2


def test_post_commit_not_installed_records_once_and_warns(tmp_path: Path) -> None:
    repo = Hooked(tmp_path)
    (repo.path / ".git" / "hooks" / "post-commit").unlink()
    for i in range(3):
        repo.add_requests(1)
        proc = repo.commit(f"change {i}")
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr.count("post-commit hook is not installed") == 1, proc.stderr
    proc = repo.commit("nothing new")
    assert proc.returncode == 0 and "AI-Usage" not in repo.messages()[0]
    assert total_requests(repo) == 3
    doctor = run_cli("doctor", cwd=repo.path, env=repo.env)
    assert doctor.returncode == 0, doctor.stderr
    assert "post-commit did not finish for 3 commit(s)" in doctor.stdout
    assert "window: 0 pending events" in doctor.stdout


# --- item 3: a full disk ------------------------------------------------------------------------


def test_a_failed_state_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    """A write cut short (here by RLIMIT_FSIZE, as ENOSPC would) removes its temporary file."""
    script = (
        "import resource, signal, sys\n"
        "from pathlib import Path\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"
        "from commitledger.hook.state import save_json\n"
        "from commitledger.capture.index import _save_index\n"
        "d = Path(sys.argv[1])\n"
        "failed = 0\n"
        "for call in (lambda: save_json(d / 'pending.json', ['x' * 100] * 1000), lambda: _save_index(d / 'index.bin', {'k': 'x' * 100000})):\n"
        "    try:\n"
        "        call()\n"
        "    except OSError:\n"
        "        failed += 1\n"
        "print(failed)\n"
    )
    state = tmp_path / "state"
    state.mkdir()
    proc = subprocess.run([sys.executable, "-c", script, str(state)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "2"
    assert sorted(p.name for p in state.iterdir()) == []


def _can_mount() -> str | None:
    if os.geteuid() != 0:
        return "needs root to mount a small tmpfs (the disk-full case)"
    if shutil.which("mount") is None:
        return "no mount command"
    return None


@pytest.fixture
def small_disk(tmp_path: Path):  # type: ignore[no-untyped-def]
    reason = _can_mount()
    if reason:
        pytest.skip(reason)
    where = tmp_path / "disk"
    where.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(where)], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({proc.stderr.strip()})")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def test_full_disk_the_hook_never_keeps_git_from_committing(small_disk: Path, tmp_path: Path) -> None:
    repo = Hooked(small_disk, logs=tmp_path)
    # The logs live elsewhere; the state (pending.json) they make is far bigger than what is left.
    with open(repo.transcript, "w", encoding="utf-8") as handle:
        for i in range(4000):
            handle.write(claude_row(repo.path, f"big_{i:05d}", 10 + i))
    filler = small_disk / "filler"
    with open(filler, "wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass
    size = filler.stat().st_size
    os.truncate(filler, size - 256 * 1024)  # 256 KiB left: room for git's objects, not for our state
    proc = repo.commit("on a nearly full disk")
    assert proc.returncode == 0, proc.stderr
    assert "free" in proc.stderr  # the hook said why it wrote nothing
    assert repo.messages()[0] == "on a nearly full disk"
    assert temporaries(repo.state) == []
    assert not list((repo.path / ".git").glob("*.tmp"))
    # Once there is room again the usage is written, whole and once.
    filler.unlink()
    proc = repo.commit("room again")
    assert proc.returncode == 0, proc.stderr
    assert total_requests(repo) == 4000


# --- item 5: rebases ----------------------------------------------------------------------------


def test_fixup_and_autosquash_keep_every_request(tmp_path: Path) -> None:
    repo = Hooked(tmp_path)
    repo.add_requests(3)
    assert repo.commit("Add a").returncode == 0
    repo.add_requests(2)
    proc = repo.commit("", "--fixup", "HEAD")
    assert proc.returncode == 0, proc.stderr
    repo.add_requests(1)
    assert repo.commit("", "--fixup", "HEAD~1").returncode == 0
    assert total_requests(repo) == 6
    proc = repo.run("git", "rebase", "-q", "-i", "--autosquash", "HEAD~3", extra={"GIT_SEQUENCE_EDITOR": "true"})
    assert proc.returncode == 0, proc.stderr
    messages = repo.messages()
    assert len(messages) == 2 and messages[0].startswith("Add a")
    assert requests_in(messages[0]) == 6
    assert messages[0].count("AI-Usage:") == 1  # folded into one line per agent and model


def test_amend_at_an_edit_stop_keeps_the_commits_usage(tmp_path: Path) -> None:
    repo = Hooked(tmp_path)
    repo.add_requests(3)
    assert repo.commit("Add a").returncode == 0
    proc = repo.run("git", "rebase", "-q", "-i", "HEAD~1", extra={"GIT_SEQUENCE_EDITOR": "sed -i -e s/^pick/edit/"})
    assert proc.returncode == 0, proc.stderr
    proc = repo.run("git", "commit", "-q", "--amend", "-m", "x")
    assert proc.returncode == 0, proc.stderr
    proc = repo.run("git", "rebase", "--continue")
    assert proc.returncode == 0, proc.stderr
    message = repo.messages()[0]
    assert message.startswith("x\n\n")
    assert requests_in(message) == 3


# --- items 6 and 7: unreadable and rewritten logs -----------------------------------------------


def _without_root_reads() -> list[str] | None:
    """A command prefix under which a chmod 000 file cannot be read (root reads anything otherwise)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    probe = subprocess.run([setpriv, "--bounding-set=-dac_override,-dac_read_search", "true"], capture_output=True)
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search"] if probe.returncode == 0 else None


def test_an_unreadable_log_keeps_its_offset(tmp_path: Path) -> None:
    prefix = _without_root_reads()
    if prefix is None:
        pytest.skip("running as root without setpriv: a chmod 000 file stays readable")
    repo = Hooked(tmp_path)
    repo.add_requests(1)
    assert repo.commit("one", prefix=prefix).returncode == 0
    repo.transcript.chmod(0o000)
    try:
        repo.add_requests(2)
        proc = repo.commit("while unreadable", prefix=prefix)
        assert proc.returncode == 0, proc.stderr
        assert "AI-Usage" not in repo.messages()[0]
    finally:
        repo.transcript.chmod(0o644)
    proc = repo.commit("readable again", prefix=prefix)
    assert proc.returncode == 0, proc.stderr
    assert requests_in(repo.messages()[0]) == 2
    assert total_requests(repo) == 3


def test_in_place_rewrite_of_the_same_size_is_read_again(tmp_path: Path) -> None:
    repo = Hooked(tmp_path)
    rows = [claude_row(repo.path, f"rw_{i:02d}", 10 + i) for i in range(10)]
    size = len("".join(rows)) + 200
    first = "".join(rows[:5])
    repo.transcript.write_text(first + " " * (size - len(first) - 1) + "\n", encoding="utf-8")
    assert repo.commit("five").returncode == 0
    assert total_requests(repo) == 5
    before = repo.transcript.stat()
    full = "".join(rows)
    with open(repo.transcript, "r+b") as handle:  # same inode, same size
        handle.write((full + " " * (size - len(full) - 1) + "\n").encode())
    os.utime(repo.transcript, ns=(before.st_atime_ns, before.st_mtime_ns + 10**9))
    after = repo.transcript.stat()
    assert (after.st_ino, after.st_size) == (before.st_ino, before.st_size)
    proc = repo.commit("ten")
    assert proc.returncode == 0, proc.stderr
    assert total_requests(repo) == 10


def test_truncate_and_regrow_past_the_old_offset_is_read_again(tmp_path: Path) -> None:
    repo = Hooked(tmp_path)
    with open(repo.transcript, "w", encoding="utf-8") as handle:
        handle.writelines(claude_row(repo.path, f"old_{i:02d}", 10 + i) for i in range(8))
    assert repo.commit("eight").returncode == 0
    old_size = repo.transcript.stat().st_size
    with open(repo.transcript, "r+", encoding="utf-8") as handle:
        handle.truncate(0)
        handle.writelines(claude_row(repo.path, f"new_{i:02d}", 20 + i, when="13:00:00") for i in range(13))
    assert repo.transcript.stat().st_size > old_size
    proc = repo.commit("thirteen")
    assert proc.returncode == 0, proc.stderr
    assert requests_in(repo.messages()[0]) == 13
    assert total_requests(repo) == 21


# --- item 8: a future-dated HEAD ----------------------------------------------------------------


def test_a_future_dated_head_does_not_turn_recording_off(tmp_path: Path) -> None:
    future = {"GIT_COMMITTER_DATE": "2031-06-01T00:00:00Z", "GIT_AUTHOR_DATE": "2031-06-01T00:00:00Z"}
    repo = Hooked(tmp_path, init_env=future)
    repo.add_requests(2)  # dated 2030: after today, before HEAD's date
    proc = repo.commit("after a clock skew")
    assert proc.returncode == 0, proc.stderr
    assert requests_in(repo.messages()[0]) == 2


# --- item 12: git's own aborts ------------------------------------------------------------------


def test_an_unedited_commit_template_still_aborts(tmp_path: Path) -> None:
    repo = Hooked(tmp_path)
    template = tmp_path / "template.txt"
    template.write_text("Subject: describe the change\n\nWhy:\n", encoding="utf-8")
    git(repo.path, "config", "commit.template", str(template))
    repo.add_requests(1)
    head = repo.head()
    proc = repo.commit("")  # GIT_EDITOR=true: the template comes back unedited
    assert proc.returncode != 0
    assert "did not edit the message" in proc.stderr
    assert repo.head() == head
    # Edited, the template makes a commit with the usage.
    editor = tmp_path / "edit.py"
    editor.write_text("import sys\np = sys.argv[1]\nt = open(p).read()\nopen(p, 'w').write('Real subject\\n' + t)\n")
    proc = repo.commit("", extra={"GIT_EDITOR": f"{sys.executable} {editor}"})
    assert proc.returncode == 0, proc.stderr
    assert repo.messages()[0].startswith("Real subject\n")
    assert requests_in(repo.messages()[0]) == 1


def test_an_empty_editor_with_no_verify_still_aborts(tmp_path: Path) -> None:
    repo = Hooked(tmp_path)
    repo.add_requests(1)
    head = repo.head()
    proc = repo.commit("", "--no-verify")  # the editor (true) leaves the message empty
    assert proc.returncode != 0
    assert "empty commit message" in proc.stderr
    assert repo.head() == head
    proc = repo.commit("then with a message", "--no-verify")
    assert proc.returncode == 0, proc.stderr
    assert repo.messages()[0].startswith("then with a message\n\n")
    assert requests_in(repo.messages()[0]) == 1


def test_an_empty_editor_without_the_commit_msg_hook_still_aborts(tmp_path: Path) -> None:
    repo = Hooked(tmp_path)
    (repo.path / ".git" / "hooks" / "commit-msg").unlink()
    repo.add_requests(1)
    head = repo.head()
    proc = repo.commit("")
    assert proc.returncode != 0 and repo.head() == head


# --- items 4 and 14: values that poison a file or do not round-trip ------------------------------


def test_hostile_costs_and_counts_never_reach_a_trailer(tmp_path: Path) -> None:
    repo = Hooked(tmp_path)
    with open(repo.transcript, "w", encoding="utf-8") as handle:
        handle.write(claude_row(repo.path, "good_1", 11, cost=0.5))
        handle.write(claude_row(repo.path, "neg", 12, cost=-7.5))
        handle.write(claude_row(repo.path, "huge", 10**19))
        handle.write(claude_row(repo.path, "big_cost", 13, cost=1e13))
        handle.write(claude_row(repo.path, "nan", 14).replace('"output_tokens":14', '"output_tokens":NaN'))
        handle.write(claude_row(repo.path, "inf", 15).replace('"input_tokens":100', '"input_tokens":1e400'))
        handle.write(claude_row(repo.path, "good_2", 16, cost=0.25))
    proc = repo.commit("hostile values")
    assert proc.returncode == 0, proc.stderr
    message = repo.messages()[0]
    assert requests_in(message) == 2
    assert "cost_usd=0.7500" in message
    doctor = run_cli("doctor", cwd=repo.path, env=repo.env)
    assert "claude-code: 1 files, 5 bad lines" in doctor.stdout, doctor.stdout


def test_commit_flags_are_read_without_taking_values_for_flags() -> None:
    from commitledger.hook.commitcmd import parse

    def flags(*words: str) -> tuple[bool, bool, bool]:
        c = parse(list(words))
        return c.amend, c.no_verify, c.edit

    assert flags("-m", "--amend") == (False, False, False)  # a message, not a flag
    assert flags("-nm", "x") == (False, True, False)
    assert flags("-mn") == (False, False, False)  # "n" is the message
    assert flags("--amen", "--no-verify", "-e", "-m", "x") == (True, True, True)
    assert flags("--no-verify", "--verify") == (False, False, False)
    assert flags("-F", "-n", "--message=--amend") == (False, False, False)
    assert flags("--", "--amend") == (False, False, False)
