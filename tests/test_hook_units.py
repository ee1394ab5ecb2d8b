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
