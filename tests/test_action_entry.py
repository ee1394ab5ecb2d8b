"""The action's entry script end to end: a real repository, a real subprocess, a loopback GitHub."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

from conftest import commit_file, git
from fake_github import BOT, FakeGitHub

REPO = "octo/widgets"
TOKEN = "ghs_ActionTOKENsecret000111222333"
READ_ONLY = "ghs_ReadOnlyForkTOKEN999888777"
PR = 5


def usage_line(cost: str, inp: int = 1000) -> str:
    return (f"AI-Usage: agent=claude-code model=claude-sonnet-4-5 sessions=1 prompts=2 requests=5 tool_calls=3 "
            f"input={inp} output=500 cache_read=0 cache_write=0 cost_usd={cost}")


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with FakeGitHub() as server:
        server.add_token(TOKEN)
        server.add_token(READ_ONLY, write=False)
        yield server


@pytest.fixture
def pr_repo(repo: Path) -> dict[str, Any]:
    """main with one commit; feature with two AI-assisted commits."""
    base = commit_file(repo, "src/app.py", "def f():\n    return 1\n", "Base")
    git(repo, "checkout", "-q", "-b", "feature")
    first = commit_file(repo, "src/app.py", "def f():\n    return 2\n", f"Change f\n\n{usage_line('1.2500')}")
    second = commit_file(repo, "tests/test_app.py", "def test_f():\n    assert True\n",
                         f"Test f\n\n{usage_line('0.5000', 400)}")
    return {"path": repo, "base": base, "first": first, "head": second}


def pr_event(base: str, head: str, *, fork: bool = False, action: str = "synchronize", merged: bool = False) -> dict[str, Any]:
    return {
        "action": action,
        "number": PR,
        "pull_request": {
            "number": PR,
            "merged": merged,
            "head": {"sha": head, "repo": {"full_name": "forker/widgets" if fork else REPO}},
            "base": {"sha": base, "ref": "main", "repo": {"full_name": REPO}},
        },
        "repository": {"full_name": REPO, "default_branch": "main"},
    }


def run_entry(tmp: Path, cwd: Path, gh: FakeGitHub, event_name: str, event: dict[str, Any],
              token: str = TOKEN, **inputs: str) -> tuple[subprocess.CompletedProcess[str], Path, Path, Path]:
    """Run ``python -m commitledger.github.action`` as the action's run step does."""
    tmp.mkdir(parents=True, exist_ok=True)
    event_path = tmp / "event.json"
    event_path.write_text(json.dumps(event), encoding="utf-8")
    summary, outputs, out_dir = tmp / "summary.md", tmp / "outputs.txt", tmp / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_"))}
    env.update({
        "GITHUB_EVENT_NAME": event_name,
        "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_API_URL": gh.url,
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(outputs),
        "COMMITLEDGER_OUT_DIR": str(out_dir),
        "COMMITLEDGER_RETRY_SCALE": "0.001",
        "NO_PROXY": "127.0.0.1",
        "no_proxy": "127.0.0.1",
        "INPUT_GITHUB_TOKEN": token,
    })
    for key, value in inputs.items():
        env[key if key.startswith("COMMITLEDGER_") else f"INPUT_{key.upper()}"] = value
    proc = subprocess.run([sys.executable, "-m", "commitledger.github.action"], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False, timeout=120)
    return proc, summary, outputs, out_dir


def parse_outputs(path: Path) -> dict[str, str]:
    text = path.read_text(encoding="utf-8")
    found = dict(re.findall(r"^([a-z-]+)<<(ghadelimiter_[0-9a-f]{32})\n", text, re.M))
    values = {}
    for name, delim in found.items():
        m = re.search(rf"^{re.escape(name)}<<{delim}\n(.*?)\n?{delim}\n", text, re.M | re.S)
        assert m, name
        values[name] = m.group(1)
    return values


def assert_no_token(*texts: str) -> None:
    for text in texts:
        assert TOKEN not in text and READ_ONLY not in text


def test_pull_request_creates_then_updates_one_comment(tmp_path: Path, gh: FakeGitHub, pr_repo: dict[str, Any]) -> None:
    repo = pr_repo["path"]
    gh.add_pull(REPO, PR, head=pr_repo["first"], base=pr_repo["base"])
    proc, summary, outputs, out_dir = run_entry(tmp_path / "r1", repo, gh, "pull_request",
                                                pr_event(pr_repo["base"], pr_repo["first"]))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    comments = gh.comments_of(REPO, PR)
    assert len(comments) == 1 and comments[0]["user"]["login"] == BOT
    assert f"head={pr_repo['first']}" in comments[0]["body"]
    assert "1.25" in summary.read_text(encoding="utf-8")
    first_id = comments[0]["id"]
    out = parse_outputs(outputs)
    assert out == {"cost-usd": "1.2500", "tokens": "1500", "tests-failed": "", "debt-signals": out["debt-signals"]}
    assert out["debt-signals"].isdigit()
    assert json.loads((out_dir / "pr.json").read_text())["pr"] == PR
    assert json.loads((out_dir / "result.json").read_text())["head"] == pr_repo["first"]

    # A push to the PR: the second run updates the same comment in place.
    gh.set_head(REPO, PR, pr_repo["head"])
    proc2, summary2, outputs2, _ = run_entry(tmp_path / "r2", repo, gh, "pull_request",
                                             pr_event(pr_repo["base"], pr_repo["head"]))
    assert proc2.returncode == 0, proc2.stdout + proc2.stderr
    comments = gh.comments_of(REPO, PR)
    assert [c["id"] for c in comments] == [first_id]
    assert f"head={pr_repo['head']}" in comments[0]["body"]
    assert [w.method for w in gh.writes()] == ["POST", "PATCH"]
    assert parse_outputs(outputs2)["cost-usd"] == "1.7500"
    assert "updated" in proc2.stdout
    assert_no_token(proc.stdout, proc.stderr, proc2.stdout, proc2.stderr, summary.read_text(), summary2.read_text(),
                    outputs.read_text(), outputs2.read_text())

    # The same head again: nothing changed, nothing written.
    proc3, *_ = run_entry(tmp_path / "r3", repo, gh, "pull_request", pr_event(pr_repo["base"], pr_repo["head"]))
    assert proc3.returncode == 0 and len(gh.writes()) == 2 and "nothing changed" in proc3.stdout


def test_run_for_older_head_leaves_newer_comment(tmp_path: Path, gh: FakeGitHub, pr_repo: dict[str, Any]) -> None:
    repo = pr_repo["path"]
    gh.add_pull(REPO, PR, head=pr_repo["head"], base=pr_repo["base"])
    proc, *_ = run_entry(tmp_path / "new", repo, gh, "pull_request", pr_event(pr_repo["base"], pr_repo["head"]))
    assert proc.returncode == 0, proc.stderr
    body = gh.comments_of(REPO, PR)[0]["body"]
    late, summary, _, _ = run_entry(tmp_path / "old", repo, gh, "pull_request", pr_event(pr_repo["base"], pr_repo["first"]))
    assert late.returncode == 0, late.stderr
    assert gh.comments_of(REPO, PR)[0]["body"] == body
    assert [w.method for w in gh.writes()] == ["POST"]
    assert "newer head" in late.stdout and summary.read_text().strip()


def test_someone_elses_marker_is_not_ours(tmp_path: Path, gh: FakeGitHub, pr_repo: dict[str, Any]) -> None:
    gh.add_pull(REPO, PR, head=pr_repo["head"], base=pr_repo["base"])
    for i in range(120):  # more than one page before ours
        gh.add_comment(REPO, PR, f"review note {i}", login="reviewer")
    planted = gh.add_comment(REPO, PR, f"<!-- commitledger:v1 head={pr_repo['head']} -->\nfake", login="mallory")
    proc, *_ = run_entry(tmp_path / "a", pr_repo["path"], gh, "pull_request", pr_event(pr_repo["base"], pr_repo["head"]))
    assert proc.returncode == 0, proc.stderr
    assert planted["body"].endswith("fake")
    ours = [c for c in gh.comments_of(REPO, PR) if c["user"]["login"] == BOT]
    assert len(ours) == 1
    # The second run finds ours on page 2 and updates it instead of adding another.
    gh.fault("GET", f"/repos/{REPO}/issues/{PR}/comments", 502)
    proc2, *_ = run_entry(tmp_path / "b", pr_repo["path"], gh, "pull_request", pr_event(pr_repo["base"], pr_repo["head"]))
    assert proc2.returncode == 0, proc2.stderr
    assert len([c for c in gh.comments_of(REPO, PR) if c["user"]["login"] == BOT]) == 1


def test_fork_with_read_only_token_still_summarises(tmp_path: Path, gh: FakeGitHub, pr_repo: dict[str, Any]) -> None:
    gh.add_pull(REPO, PR, head=pr_repo["head"], base=pr_repo["base"], head_repo="forker/widgets")
    proc, summary, outputs, out_dir = run_entry(tmp_path, pr_repo["path"], gh, "pull_request",
                                                pr_event(pr_repo["base"], pr_repo["head"], fork=True), token=READ_ONLY)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert gh.comments_of(REPO, PR) == []
    assert any(r.method == "POST" for r in gh.requests)  # it tried, and GitHub said 403
    assert "::warning::" in proc.stdout and "read-only" in proc.stdout
    text = summary.read_text(encoding="utf-8")
    assert "1.75" in text and "not posted" in text
    assert set(parse_outputs(outputs)) == {"cost-usd", "tokens", "tests-failed", "debt-signals"}
    assert (out_dir / "result.json").is_file() and (out_dir / "pr.json").is_file()
    assert_no_token(proc.stdout, proc.stderr, text, outputs.read_text())


def test_fork_run_fails_as_configured(tmp_path: Path, gh: FakeGitHub, pr_repo: dict[str, Any]) -> None:
    gh.add_pull(REPO, PR, head=pr_repo["head"], base=pr_repo["base"], head_repo="forker/widgets")
    proc, summary, outputs, _ = run_entry(tmp_path, pr_repo["path"], gh, "pull_request",
                                          pr_event(pr_repo["base"], pr_repo["head"], fork=True), token=READ_ONLY,
                                          max_cost_usd="1.00")
    assert proc.returncode == 1
    assert "max-cost-usd" in proc.stdout and "::error::" in proc.stdout
    assert "1.75" in summary.read_text(encoding="utf-8")
    assert parse_outputs(outputs)["cost-usd"] == "1.7500"


def test_same_repo_permission_error_fails_with_hint(tmp_path: Path, gh: FakeGitHub, pr_repo: dict[str, Any]) -> None:
    gh.add_pull(REPO, PR, head=pr_repo["head"], base=pr_repo["base"])
    proc, summary, _, _ = run_entry(tmp_path, pr_repo["path"], gh, "pull_request",
                                    pr_event(pr_repo["base"], pr_repo["head"]), token=READ_ONLY)
    assert proc.returncode == 1
    assert "pull-requests: write" in proc.stdout
    assert summary.read_text(encoding="utf-8").strip()
    assert_no_token(proc.stdout, proc.stderr, summary.read_text())


def test_fail_on_signal_and_unknown_signal(tmp_path: Path, gh: FakeGitHub, pr_repo: dict[str, Any]) -> None:
    gh.add_pull(REPO, PR, head=pr_repo["first"], base=pr_repo["base"])
    # The first commit changes source and no test: the no-tests signal.
    proc, *_ = run_entry(tmp_path / "a", pr_repo["path"], gh, "pull_request",
                         pr_event(pr_repo["base"], pr_repo["first"]), comment="off", fail_on="no-tests")
    assert proc.returncode == 1 and "no-tests" in proc.stdout
    assert gh.requests == []  # comment off: no traffic at all
    bad, summary, outputs, _ = run_entry(tmp_path / "b", pr_repo["path"], gh, "pull_request",
                                         pr_event(pr_repo["base"], pr_repo["first"]), fail_on="tests-faild")
    assert bad.returncode == 1 and "tests-faild" in bad.stdout
    dash, *_ = run_entry(tmp_path / "c", pr_repo["path"], gh, "pull_request",
                         pr_event(pr_repo["base"], pr_repo["first"]), base="--output=/tmp/x")
    assert dash.returncode == 1 and "must be a revision" in dash.stdout
    assert "could not finish" in summary.read_text() and parse_outputs(outputs)["cost-usd"] == ""


def test_outputs_tests_failed_from_junit(tmp_path: Path, gh: FakeGitHub, pr_repo: dict[str, Any]) -> None:
    gh.add_pull(REPO, PR, head=pr_repo["head"], base=pr_repo["base"])
    junit = tmp_path / "junit.xml"
    junit.write_text(
        '<?xml version="1.0"?><testsuites><testsuite name="t" tests="3" failures="1" errors="0" skipped="0">'
        '<testcase classname="t" name="a"/><testcase classname="t" name="b"/>'
        '<testcase classname="t" name="c"><failure message="boom">x</failure></testcase>'
        "</testsuite></testsuites>", encoding="utf-8")
    proc, _, outputs, _ = run_entry(tmp_path / "run", pr_repo["path"], gh, "pull_request",
                                    pr_event(pr_repo["base"], pr_repo["head"]), junit=str(junit),
                                    fail_on="tests-failed")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert parse_outputs(outputs)["tests-failed"] == "1"
    assert len(gh.comments_of(REPO, PR)) == 1  # posted before the verdict


def _first_phase(tmp: Path, gh: FakeGitHub, pr_repo: dict[str, Any]) -> Path:
    proc, _, _, out_dir = run_entry(tmp, pr_repo["path"], gh, "pull_request",
                                    pr_event(pr_repo["base"], pr_repo["head"], fork=True), token=READ_ONLY,
                                    comment="off")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out_dir


def run_event(head: str, pulls: list[dict[str, Any]] | None = None, head_repo: str = "forker/widgets") -> dict[str, Any]:
    return {"workflow_run": {"id": 42, "event": "pull_request", "conclusion": "success", "head_sha": head,
                             "head_repository": {"full_name": head_repo}, "pull_requests": pulls or []}}


def test_workflow_run_posts_after_head_check(tmp_path: Path, gh: FakeGitHub, pr_repo: dict[str, Any]) -> None:
    gh.add_pull(REPO, PR, head=pr_repo["head"], base=pr_repo["base"], head_repo="forker/widgets")
    artifact = _first_phase(tmp_path / "pr", gh, pr_repo)
    nowhere = tmp_path / "no-checkout"
    nowhere.mkdir()  # the workflow_run job checks nothing out
    proc, summary, outputs, _ = run_entry(tmp_path / "post", nowhere, gh, "workflow_run", run_event(pr_repo["head"]),
                                          COMMITLEDGER_IN_DIR=str(artifact))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    comments = gh.comments_of(REPO, PR)
    assert len(comments) == 1 and f"head={pr_repo['head']}" in comments[0]["body"]
    assert parse_outputs(outputs)["cost-usd"] == "1.7500"
    assert_no_token(proc.stdout, proc.stderr, summary.read_text())


def test_workflow_run_refuses_when_head_moved(tmp_path: Path, gh: FakeGitHub, pr_repo: dict[str, Any]) -> None:
    gh.add_pull(REPO, PR, head=pr_repo["head"], base=pr_repo["base"], head_repo="forker/widgets")
    artifact = _first_phase(tmp_path / "pr", gh, pr_repo)
    gh.set_head(REPO, PR, "c" * 40)  # pushed again since
    proc, summary, _, _ = run_entry(tmp_path / "post", tmp_path, gh, "workflow_run", run_event(pr_repo["head"]),
                                    COMMITLEDGER_IN_DIR=str(artifact))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert gh.writes() == [] and "not posting" in proc.stdout


def test_workflow_run_refuses_tampered_artifact(tmp_path: Path, gh: FakeGitHub, pr_repo: dict[str, Any]) -> None:
    gh.add_pull(REPO, PR, head=pr_repo["head"], base=pr_repo["base"], head_repo="forker/widgets")
    gh.add_pull(REPO, 6, head="d" * 40, base=pr_repo["base"])
    artifact = _first_phase(tmp_path / "pr", gh, pr_repo)
    meta = json.loads((artifact / "pr.json").read_text())
    (artifact / "pr.json").write_text(json.dumps({**meta, "pr": 6}))  # the fork points at another PR
    proc, *_ = run_entry(tmp_path / "post", tmp_path, gh, "workflow_run", run_event(pr_repo["head"]),
                         COMMITLEDGER_IN_DIR=str(artifact))
    assert gh.writes() == [] and proc.returncode == 0 and "not posting" in proc.stdout

    result = json.loads((artifact / "result.json").read_text())
    (artifact / "pr.json").write_text(json.dumps(meta))
    (artifact / "result.json").write_text(json.dumps({**result, "head": "e" * 40}))  # a result for other code
    proc2, *_ = run_entry(tmp_path / "post2", tmp_path, gh, "workflow_run", run_event(pr_repo["head"]),
                          COMMITLEDGER_IN_DIR=str(artifact))
    assert gh.writes() == [] and proc2.returncode == 1 and "not posting" in proc2.stdout

    (artifact / "result.json").write_text(json.dumps({**result, "surprise": 1}))  # not the contract
    proc3, *_ = run_entry(tmp_path / "post3", tmp_path, gh, "workflow_run", run_event(pr_repo["head"]),
                          COMMITLEDGER_IN_DIR=str(artifact))
    assert gh.writes() == [] and proc3.returncode == 1 and "commitledger.pr/1" in proc3.stdout


def test_workflow_run_without_artifact_is_a_notice(tmp_path: Path, gh: FakeGitHub) -> None:
    proc, summary, _, _ = run_entry(tmp_path, tmp_path, gh, "workflow_run", run_event("a" * 40),
                                    COMMITLEDGER_IN_DIR=str(tmp_path / "missing"))
    assert proc.returncode == 0 and "::notice::" in proc.stdout and gh.requests == []
    assert "nothing posted" in summary.read_text()


def test_unsupported_event_and_missing_event_file(tmp_path: Path, gh: FakeGitHub) -> None:
    proc, summary, outputs, _ = run_entry(tmp_path, tmp_path, gh, "issues", {})
    assert proc.returncode == 1 and "unsupported event" in proc.stdout
    assert "unsupported event" in summary.read_text()
    assert set(parse_outputs(outputs)) == {"cost-usd", "tokens", "tests-failed", "debt-signals"}
