"""Trailer placement (git interpret-trailers rules) and the collection index on real fixture copies."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from commitledger.capture.base import Env
from commitledger.capture.index import collect, save_index
from commitledger.hook.message import body_is_empty, insert_trailers, strip_ours
from commitledger.hook.window import Attributor

from conftest import file_claude_sessions_under, AGENT_LOGS

T = ["Assisted-by: codex:gpt-5", "AI-Usage: agent=codex model=gpt-5 requests=1"]


def test_subject_only_gets_a_blank_line_then_trailers() -> None:
    assert insert_trailers("Fix it\n", T) == "Fix it\n\n" + "\n".join(T) + "\n"


def test_existing_trailer_block_is_joined_and_comments_stay_below() -> None:
    msg = "Fix it\n\nBody text.\n\nSigned-off-by: A <a@b>\n\n# Please enter the commit message\n# comment\n"
    out = insert_trailers(msg, T)
    assert out == "Fix it\n\nBody text.\n\nSigned-off-by: A <a@b>\n" + "\n".join(T) + "\n\n# Please enter the commit message\n# comment\n"


def test_scissors_part_is_not_the_message() -> None:
    msg = "Fix it\n# ------------------------ >8 ------------------------\ndiff --git a/x b/x\nKey: not a trailer\n"
    out = insert_trailers(msg, T)
    assert out.startswith("Fix it\n\nAssisted-by: codex:gpt-5\n")
    assert out.endswith("diff --git a/x b/x\nKey: not a trailer\n")


def test_empty_message_and_stripping_back_to_empty() -> None:
    msg = "\n# Please enter the commit message\n"
    assert body_is_empty(msg)
    out = insert_trailers(msg, T)
    assert out.startswith("\n\nAssisted-by:")
    assert not body_is_empty(out) and body_is_empty(out, ignore_ours=True)
    assert body_is_empty(strip_ours(out))


def test_strip_ours_keeps_other_trailers() -> None:
    msg = "Fix\n\nSigned-off-by: A <a@b>\nAI-Usage: agent=x model=y\nAssisted-by: x:y\n"
    assert strip_ours(msg) == "Fix\n\nSigned-off-by: A <a@b>\n"


def _claude_copy(tmp_path: Path, repo: Path) -> Path:
    config = tmp_path / "claude"
    shutil.copytree(AGENT_LOGS / "claude-code", config)
    for path in config.rglob("*.jsonl"):
        path.chmod(0o644)
        path.write_text(path.read_text(encoding="utf-8").replace("/home/alice/src/acme-web", str(repo)), encoding="utf-8")
    file_claude_sessions_under(config, repo)
    return config


def test_index_reads_only_new_bytes_and_rereads_replaced_files(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    config = _claude_copy(tmp_path, repo)
    state = tmp_path / "state"
    env = Env(home=tmp_path, environ={"CLAUDE_CONFIG_DIR": str(config)}, extra={"worktree": str(repo)})
    accept = Attributor(repo)
    first = collect(state, env, accept, ["claude-code"])
    save_index(state, first)
    assert first.stats["claude-code"].files == 4 and first.events
    again = collect(state, env, accept, ["claude-code"])
    assert again.events == [] and again.stats["claude-code"].bytes_read == 0
    transcript = next(config.glob("projects/*/8d04*.jsonl"))
    copy = transcript.with_suffix(".new")
    shutil.copy2(transcript, copy)
    os.replace(copy, transcript)
    replaced = collect(state, env, accept, ["claude-code"])
    assert replaced.stats["claude-code"].bytes_read == transcript.stat().st_size


def test_nested_repository_claims_its_directory(tmp_path: Path) -> None:
    from commitledger.capture.base import UsageEvent

    outer = tmp_path / "outer"
    inner = outer / "vendor" / "inner"
    (inner / ".git").mkdir(parents=True)
    (outer / ".git").mkdir()
    link = tmp_path / "link"
    link.symlink_to(outer)
    event = lambda cwd: UsageEvent("codex", "request", "k", 1.0, "s", str(cwd))  # noqa: E731
    assert Attributor(outer)(event(link / "src"))
    assert not Attributor(outer)(event(inner / "lib"))
    assert Attributor(inner)(event(inner / "lib"))
    assert not Attributor(outer)(event(tmp_path / "elsewhere"))


def test_gemini_project_hash_names_the_worktree(tmp_path: Path) -> None:
    import hashlib

    from commitledger.capture.base import UsageEvent

    root = tmp_path / "proj"
    (root / ".git").mkdir(parents=True)
    link = tmp_path / "via-link"
    link.symlink_to(root)
    digest = lambda p: hashlib.sha256(str(p).encode()).hexdigest()  # noqa: E731
    event = lambda h: UsageEvent("gemini-cli", "request", "k", 1.0, "s", None, h)  # noqa: E731
    assert Attributor(root)(event(digest(root.resolve())))
    assert Attributor(root, {"PWD": str(link / "sub")})(event(digest(link)))
    assert not Attributor(root)(event(digest(link)))
    assert not Attributor(root)(event(digest(tmp_path)))


def test_hook_path_imports_no_heavy_library(repo: Path) -> None:
    import subprocess
    import sys

    msg = repo / ".git" / "MSG"
    msg.write_text("Subject\n")
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "commitledger", "hook", "prepare-commit-msg", str(msg), "message"],
        cwd=repo, capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "commitledger.hook.run" in imported
    for heavy in ("pydantic", "click", "pygit2", "rich", "tomllib", "typing"):
        assert heavy not in imported, heavy


# What the warm hook must not import (issue 8): each costs more than the hook's own work.
# pathlib pulls fnmatch, re and urllib.parse; json.decoder and typing compile regular expressions.
_NOT_ON_THE_HOOK_PATH = ("pydantic", "click", "pygit2", "rich", "tomllib", "typing", "genai_prices", "pathlib",
                         "re", "json", "datetime", "fnmatch", "urllib.parse", "collections", "dataclasses",
                         "orjson")  # fmt: skip


def test_warm_hook_with_a_grown_transcript_imports_no_pathlib_re_or_json(repo: Path, tmp_path: Path) -> None:
    """The lean ``commitledger-hook`` script on a commit that reads new Claude Code and Codex bytes and prices them."""
    import subprocess
    import sys

    hook = Path(sys.executable).with_name("commitledger-hook")
    assert hook.exists(), "pip install -e . installs scripts/commitledger-hook"
    config = _claude_copy(tmp_path, repo)
    env = {**os.environ, "CLAUDE_CONFIG_DIR": str(config), "CODEX_HOME": str(tmp_path / "codex")}
    shutil.copytree(AGENT_LOGS / "codex", tmp_path / "codex")
    for path in (tmp_path / "codex").rglob("*.jsonl"):
        path.write_text(path.read_text(encoding="utf-8").replace("/home/alice/src/acme-web", str(repo)), encoding="utf-8")
    msg = repo / ".git" / "MSG"
    for directory in [*config.rglob("*"), *(tmp_path / "codex").rglob("*")]:
        if directory.is_dir():  # settled, as a user's log folders are: their listing is cached
            os.utime(directory, (1_700_000_000, 1_700_000_000))

    # sys.modules at exit, not -X importtime: importlib.import_module (how readers load) is not logged there.
    code = ("import sys, atexit; atexit.register(lambda: sys.stderr.write('MODULES ' + ' '.join(sys.modules) + '\\n')); "
            "sys.argv = sys.argv[1:]; exec(compile(open(sys.argv[0]).read(), sys.argv[0], 'exec'))")  # fmt: skip

    def run_hook() -> set[str]:
        msg.write_text("Subject\n")
        proc = subprocess.run([sys.executable, "-c", code, str(hook), "prepare-commit-msg", str(msg), "message"],
                              cwd=repo, env=env, capture_output=True, text=True, check=False)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        return set(proc.stderr.split("MODULES ", 1)[1].split())

    run_hook()  # cold: lists the agents' folders (pathlib is allowed there)
    transcript = next(config.glob("projects/*/8d04*.jsonl"))
    row = transcript.read_text(encoding="utf-8").splitlines()[-1]
    with open(transcript, "a", encoding="utf-8") as handle:  # one more streamed row of a known response
        handle.write(row + "\n")
    rollout = next((tmp_path / "codex").rglob("rollout-*.jsonl"))
    with open(rollout, "a", encoding="utf-8") as handle:
        handle.write('{"timestamp":"2026-05-04T10:09:00.000Z","type":"event_msg","payload":{"type":"user_message"}}\n')
    imported = run_hook()
    assert {"commitledger.hook.run", "commitledger.capture.claude_code", "commitledger.capture.codex",
            "commitledger.ledger.trailers"} <= imported  # fmt: skip
    assert "AI-Usage: agent=claude-code" in msg.read_text()
    for heavy in _NOT_ON_THE_HOOK_PATH:
        assert heavy not in imported, heavy


def test_installed_hook_scripts_run_the_lean_entry_first() -> None:
    from commitledger.hook.install import script

    text = script("prepare-commit-msg", "/venv/bin/python")
    lean = text.index("/venv/bin/commitledger-hook prepare-commit-msg")
    assert lean < text.index("/venv/bin/commitledger hook prepare-commit-msg") < text.index("-m commitledger hook")


def test_commitledger_hook_script_hands_help_and_unknown_names_to_the_cli(repo: Path) -> None:
    import subprocess
    import sys

    hook = str(Path(sys.executable).with_name("commitledger-hook"))
    shown = subprocess.run([hook, "prepare-commit-msg", "--help"], cwd=repo, capture_output=True, text=True)
    assert shown.returncode == 0 and "Usage" in shown.stdout
    wrong = subprocess.run([hook, "no-such-hook"], cwd=repo, capture_output=True, text=True)
    assert wrong.returncode != 0


def test_index_does_not_reread_another_worktrees_thread(tmp_path: Path) -> None:
    """An Amp thread of another repository costs one stat when it changes; a replaced file is read again."""
    import json

    mine, other = tmp_path / "mine", tmp_path / "other"
    for path in (mine, other):
        (path / ".git").mkdir(parents=True)
    threads = tmp_path / "amp" / "threads"
    threads.mkdir(parents=True)
    fixture = json.loads((AGENT_LOGS / "amp" / "threads" / "T-5b1d0c3e-1f2a-4c9b-8e7d-6a5f4e3d2c1b.json").read_text("utf-8"))
    documents = [threads / "T-5b1d0c3e-1f2a-4c9b-8e7d-6a5f4e3d2c1b.json", threads / "T-77777777-1f2a-4c9b-8e7d-6a5f4e3d2c1b.json"]
    for path, cwd in zip(documents, (mine, other)):
        fixture["env"] = {"initial": {"trees": [{"uri": f"file://{cwd}"}]}}
        fixture["id"] = path.stem  # the thread id, which keys its requests
        path.write_text(json.dumps(fixture), encoding="utf-8")
    state = tmp_path / "state"
    env = Env(home=tmp_path, environ={"AMP_DATA_DIR": str(tmp_path / "amp")}, extra={"worktree": str(mine)})
    accept = Attributor(mine)
    first = collect(state, env, accept, ["amp"])
    save_index(state, first)
    assert first.events and all(e.cwd == str(mine) for e in first.events)
    foreign = documents[1]
    data = json.loads(foreign.read_text(encoding="utf-8"))
    data["title"] = f"{data.get('title') or ''} and more"  # Amp rewrites the whole thread as it grows
    foreign.write_text(json.dumps(data), encoding="utf-8")
    second = collect(state, env, accept, ["amp"])
    save_index(state, second)
    stats = second.stats["amp"]
    assert stats.skipped_foreign == 1 and stats.bytes_read == 0 and stats.files == 2
    # The marks belong to the worktree they were made for: with another accept root, a change is read.
    save_index(state, collect(state, env, Attributor(other), ["amp"]))
    data["title"] += " again"
    foreign.write_text(json.dumps(data), encoding="utf-8")
    theirs = collect(state, env, Attributor(other), ["amp"])
    assert theirs.stats["amp"].skipped_foreign == 0 and any(e.cwd == str(other) for e in theirs.events)
    save_index(state, collect(state, env, accept, ["amp"]))
    # Replaced (new inode): read again, whatever it held before.
    copy = foreign.with_suffix(".new")
    copy.write_text(foreign.read_text(encoding="utf-8").replace(f"file://{other}", f"file://{mine}"), encoding="utf-8")
    os.replace(copy, foreign)
    third = collect(state, env, accept, ["amp"])
    assert third.stats["amp"].skipped_foreign == 0
    assert any(e.session == foreign.stem for e in third.events)
