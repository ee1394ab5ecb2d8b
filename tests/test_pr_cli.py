"""``commitledger pr`` end to end: real repositories, real commits, the real command line."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import pytest

from commitledger.render.marker import parse_marker
from conftest import commit_file, git, run_cli

CLAUDE = (
    "AI-Usage: agent=claude-code model=claude-sonnet-4-5 sessions=1 prompts=2 requests=10 tool_calls=7 "
    "input=1000 output=2000 cache_read=50000 cache_write=4000 cost_usd=0.5000"
)
CODEX = (
    "AI-Usage: agent=codex model=gpt-5-codex sessions=1 prompts=1 requests=4 tool_calls=3 "
    "input=3000 output=500 cache_read=10000 cache_write=0 cost_usd=0.2500"
)

SIMPLE = "def add(a, b):\n    return a + b\n"
BRANCHY = (
    "def classify(x):\n"
    + "".join(f"    if x == {i}:\n        return {i}\n" for i in range(14))
    + "    return -1\n"
)
PY2 = 'def hello():\n    print "hello"\n'
BROKEN = "def f(:\n    pass\n"
RENAMED = "".join(f"def f{i}(x):\n    return x + {i}\n\n\n" for i in range(20))


def pr_json(repo: Path, *args: str, cwd: Path | None = None) -> dict:
    proc = run_cli("pr", "--format", "json", *args, cwd=cwd or repo)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def write_bytes(repo: Path, name: str, data: bytes) -> None:
    path = repo / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


@pytest.fixture
def pr_repo(repo: Path) -> Path:
    """main with a base history; branch ``feature`` with AI commits, renames, binaries, deletions and a merge."""
    commit_file(repo, "src/calc.py", SIMPLE, "calc")
    commit_file(repo, "src/old_name.py", RENAMED, "module to be renamed")
    commit_file(repo, "src/gone.py", SIMPLE, "module to be deleted")
    commit_file(repo, "docs/guide.md", "# Guide\n", "docs")
    git(repo, "checkout", "-q", "-b", "feature")
    # 1: AI work on source, with a test
    (repo / "tests").mkdir()
    (repo / "tests" / "test_calc.py").write_text("from src.calc import add\n\ndef test_add():\n    assert add(1, 2) == 3\n")
    (repo / "src" / "calc.py").write_text(SIMPLE + BRANCHY)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"Add classify\n\n{CLAUDE}\n{CODEX}")
    # 2: rename with a small edit, delete a file, add a binary
    git(repo, "mv", "src/old_name.py", "src/new_name.py")
    (repo / "src" / "new_name.py").write_text(RENAMED + "def extra():\n    return 1\n")
    git(repo, "rm", "-q", "src/gone.py")
    write_bytes(repo, "assets/logo.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Rename, delete, logo\n\nCo-Authored-By: Claude <noreply@anthropic.com>")
    # base moves on; merged into the branch
    git(repo, "checkout", "-q", "main")
    commit_file(repo, "src/base_only.py", SIMPLE, f"base work\n\n{CLAUDE}")
    git(repo, "checkout", "-q", "feature")
    git(repo, "merge", "-q", "--no-edit", "main")
    # 3: files radon cannot take, by a human
    commit_file(repo, "src/legacy_py2.py", PY2, "Python 2 module")
    commit_file(repo, "src/broken.py", BROKEN, "broken module")
    return repo


def test_change_as_github_computes_it(pr_repo: Path) -> None:
    data = pr_json(pr_repo, "--base", "main", "--head", "feature")
    assert data["schema"] == "commitledger.pr/1"
    assert data["head"] == git(pr_repo, "rev-parse", "feature")
    assert data["base"] == git(pr_repo, "rev-parse", "main")
    # 4 branch commits + the merge; base's own commit is not part of the change
    assert data["commits"] == 5
    assert data["ai_commits"] == 2
    subjects = [c["subject"] for c in data["commit_list"]]
    assert "base work" not in subjects and subjects[0] == "Add classify"
    # usage: only the AI-Usage lines of the change's commits (not base's)
    assert data["usage"]["cost_usd"] == pytest.approx(0.75)
    assert data["usage"]["input"] == 4000 and data["usage"]["requests"] == 14
    models = {(m["agent"], m["model"]): m for m in data["by_model"]}
    assert models[("claude-code", "claude-sonnet-4-5")]["cost_usd"] == pytest.approx(0.5)
    assert models[("codex", "gpt-5-codex")]["output"] == 500
    marked = [c for c in data["commit_list"] if c["subject"] == "Rename, delete, logo"][0]
    assert marked["ai"] is True and marked["usage"] is None and "co-authored-by" in marked["markers"]
    first = data["commit_list"][0]
    assert first["tests_touched"] is True and first["key"]


def test_lines_renames_binaries_and_tests_split(pr_repo: Path) -> None:
    data = pr_json(pr_repo, "--base", "main", "--head", "feature")
    lines = data["lines"]
    # the diff is against the merge base: base's merged-in file is not in the change
    expected_calc = BRANCHY.count("\n")
    assert lines["test_added"] == 4 and lines["test_deleted"] == 0
    # renamed file counts only its two new lines, the deleted file its two lines, the binary nothing
    assert lines["source_added"] == expected_calc + 2 + PY2.count("\n") + BROKEN.count("\n")
    assert lines["source_deleted"] == 2
    assert lines["binary_files"] == 1
    assert lines["added"] == lines["source_added"] + lines["test_added"] + lines["docs_added"]


def test_maintainability_scores_and_unscored_files(pr_repo: Path) -> None:
    data = pr_json(pr_repo, "--base", "main", "--head", "feature")
    files = {f["path"]: f for f in data["maintainability"]["files"]}
    assert "src/base_only.py" not in files
    calc = files["src/calc.py"]
    # radon total: decision points of the module + 1 (add has none, classify 14)
    assert calc["cc_before"] == 1 and calc["cc_after"] == 15
    assert calc["worst_function"] == "classify" and calc["worst_cc_after"] == 15
    assert calc["status"] == "flagged"  # classify is rank C
    assert files["src/legacy_py2.py"]["status"] == "unscored"
    assert files["src/legacy_py2.py"]["reason"].startswith("SyntaxError at line 2")
    assert files["src/broken.py"]["status"] == "unscored"
    assert files["src/gone.py"]["status"] == "deleted" and files["src/gone.py"]["mi_after"] is None
    renamed = files["src/new_name.py"]
    assert renamed["mi_before"] is not None and renamed["mi_after"] is not None
    ids = {s["id"] for s in data["signals"]}
    assert "complexity" in ids
    assert any("classify" in s["message"] and "rank C" in s["message"] for s in data["signals"])
    assert "no-tests" not in ids  # the AI commit changed a test
    assert data["tests"] is None  # no --junit: not reported, never zeros


def test_markdown_comment_and_output_file(pr_repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "comment.md"
    proc = run_cli("pr", "--base", "main", "--head", "feature", "--output", str(out), cwd=pr_repo)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    body = out.read_text(encoding="utf-8")
    head = git(pr_repo, "rev-parse", "feature")
    assert body.startswith(f"<!-- commitledger:v1 head={head} ")
    assert "**\\$0.75 of AI usage**" in body
    assert "`src/legacy_py2.py`" in body and "unscored: SyntaxError at line 2" in body
    assert "not scored" in proc.stderr  # warnings go to stderr, not into stdout


def test_junit_through_the_cli_and_fail_on(pr_repo: Path, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "a.xml").write_text(
        '<testsuite name="t" tests="2"><testcase classname="tests.test_calc" name="test_add"/>'
        '<testcase classname="tests.test_calc" name="test_sub"><failure message="boom"/></testcase></testsuite>'
    )
    proc = run_cli(
        "pr", "--repo", str(pr_repo), "--base", "main", "--head", "feature", "--format", "json",
        "--junit", "reports/*.xml", "--fail-on", "tests-failed", cwd=tmp_path,
    )
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    assert data["tests"]["passed"] == 1 and data["tests"]["failed"] == 1
    assert data["signals"][0]["id"] == "tests-failed" and data["signals"][0]["severity"] == "error"
    assert "tests.test_calc::test_sub" in data["signals"][0]["message"]
    assert "failing on signal(s): tests-failed" in proc.stderr


def test_junit_glob_matching_nothing_is_not_reported(pr_repo: Path) -> None:
    data = pr_json(pr_repo, "--base", "main", "--head", "feature", "--junit", "nowhere/*.xml")
    assert data["tests"] is None
    assert any("no JUnit file matched" in w for w in data["warnings"])


def test_cost_limit_from_flag_and_config(pr_repo: Path) -> None:
    data = pr_json(pr_repo, "--base", "main", "--head", "feature", "--max-cost-usd", "0.5")
    assert [s["id"] for s in data["signals"]][0] == "cost-limit"
    (pr_repo / "pyproject.toml").write_text("[tool.commitledger]\nmax-cost-usd = 1.0\ncomplexity-rank = 'D'\n")
    data = pr_json(pr_repo, "--base", "main", "--head", "feature")
    ids = {s["id"] for s in data["signals"]}
    assert "cost-limit" not in ids and "complexity" not in ids


def test_cache_is_filled_and_reused(pr_repo: Path) -> None:
    pr_json(pr_repo, "--base", "main", "--head", "feature")
    cache = pr_repo / ".git" / "commitledger" / "cache.sqlite"
    conn = sqlite3.connect(cache)
    try:
        rows = conn.execute("SELECT blob, data FROM pr_blob_metrics").fetchall()
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        # Poison one cached row: a second run must read the cache instead of measuring again.
        calc_blob = git(pr_repo, "rev-parse", "feature:src/calc.py")
        assert calc_blob in {blob for blob, _ in rows}
        conn.execute(
            "UPDATE pr_blob_metrics SET data = ? WHERE blob = ?",
            ('{"mi":42.0,"cc":99,"fn":[],"reason":null}', calc_blob),
        )
        conn.commit()
    finally:
        conn.close()
    data = pr_json(pr_repo, "--base", "main", "--head", "feature")
    calc = [f for f in data["maintainability"]["files"] if f["path"] == "src/calc.py"][0]
    assert calc["cc_after"] == 99
    fresh = pr_json(pr_repo, "--base", "main", "--head", "feature", "--no-cache")
    calc = [f for f in fresh["maintainability"]["files"] if f["path"] == "src/calc.py"][0]
    assert calc["cc_after"] == 15


def test_no_ai_usage_says_so_in_one_line(repo: Path) -> None:
    commit_file(repo, "a.py", SIMPLE, "base")
    git(repo, "checkout", "-q", "-b", "human")
    commit_file(repo, "a.py", SIMPLE + "\n# more\n", "human edit")
    proc = run_cli("pr", "--base", "main", "--head", "human", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("<!-- commitledger:v1")
    assert lines[1] == "**commitledger** · no AI usage recorded in the 1 commit of this change."
    data = pr_json(repo, "--base", "main", "--head", "human")
    assert data["usage"]["cost_usd"] == 0 and data["ai_commits"] == 0


def test_git_ai_note_marks_a_commit(repo: Path) -> None:
    commit_file(repo, "a.py", SIMPLE, "base")
    git(repo, "checkout", "-q", "-b", "noted")
    sha = commit_file(repo, "a.py", SIMPLE + "x = 1\n", "noted edit")
    git(repo, "notes", "--ref", "ai", "add", "-m", "{}", sha)
    data = pr_json(repo, "--base", "main", "--head", "noted")
    assert data["ai_commits"] == 1
    assert data["commit_list"][0]["markers"] == ["git-ai-note"]
    assert data["usage"]["cost_usd"] is None  # AI-assisted, usage unknown: not zero


def test_reverts_made_by_the_change(repo: Path) -> None:
    commit_file(repo, "a.py", SIMPLE, "base")
    ai = commit_file(repo, "b.py", SIMPLE, f"AI feature\n\n{CLAUDE}")
    human = commit_file(repo, "c.py", SIMPLE, "human feature")
    git(repo, "checkout", "-q", "-b", "topic", "HEAD~2")
    commit_file(repo, "t.py", SIMPLE, f"topic work\n\n{CODEX}")
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge branch topic", "topic")
    merge = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "-b", "undo")
    git(repo, "revert", "--no-edit", ai)
    # abbreviated sha typed by hand
    git(repo, "revert", "--no-commit", human)
    git(repo, "commit", "-q", "-m", f'Revert "human feature"\n\nThis reverts commit {human[:9]}.')
    git(repo, "revert", "--no-edit", "-m", "1", merge)
    commit_file(repo, "z.py", SIMPLE, "Revert ghost\n\nThis reverts commit deadbeefcafe.")
    data = pr_json(repo, "--base", "main", "--head", "undo")
    by_target = {r["reverts"]: r for r in data["reverts"]}
    assert by_target[ai]["ai_cost_usd"] == pytest.approx(0.5)
    assert by_target[human]["ai_cost_usd"] == 0.0
    assert by_target[merge]["ai_cost_usd"] == pytest.approx(0.25)  # the merged branch's work
    assert by_target["deadbeefcafe"]["ai_cost_usd"] is None
    assert len(data["reverts"]) == 4


def test_shallow_clone_is_refused(repo: Path, tmp_path: Path) -> None:
    for i in range(3):
        commit_file(repo, f"f{i}.py", SIMPLE, f"c{i}")
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo}", str(clone))
    proc = run_cli("pr", "--base", "HEAD", "--head", "HEAD", cwd=clone)
    assert proc.returncode == 2
    assert "fetch-depth: 0" in proc.stderr and "actions/checkout" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_unknown_revision_is_one_line(repo: Path) -> None:
    commit_file(repo, "a.py", SIMPLE, "base")
    proc = run_cli("pr", "--base", "origin/nope", "--head", "HEAD", cwd=repo)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "commitledger: unknown revision 'origin/nope' (is it fetched? CI needs actions/checkout with fetch-depth: 0)"
    )
    proc = run_cli("pr", "--base", "HEAD^{tree}", "--head", "HEAD", cwd=repo)
    assert proc.returncode == 2 and "does not name a commit" in proc.stderr


def test_unknown_fail_on_signal_is_refused(repo: Path) -> None:
    commit_file(repo, "a.py", SIMPLE, "base")
    proc = run_cli("pr", "--base", "HEAD", "--fail-on", "bogus", cwd=repo)
    assert proc.returncode == 2 and "unknown signal 'bogus'" in proc.stderr


def test_summary_format_has_no_marker(pr_repo: Path) -> None:
    proc = run_cli("pr", "--base", "main", "--head", "feature", "--format", "summary", cwd=pr_repo)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("### commitledger")
    assert "<!--" not in proc.stdout


def test_baseline_from_the_base_branch(repo: Path) -> None:
    commit_file(repo, "src/a.py", SIMPLE, "start")
    commit_file(repo, "src/b.py", SIMPLE, f"AI change on main\n\n{CLAUDE}")
    commit_file(repo, "src/c.py", SIMPLE, "human change on main")
    git(repo, "checkout", "-q", "-b", "pricey")
    commit_file(repo, "src/a.py", SIMPLE + "X = 1\n", f"One expensive line\n\n{CLAUDE}\n{CODEX}")
    data = pr_json(repo, "--base", "main", "--head", "pricey", "--cost-per-line-factor", "2")
    baseline = data["baseline"]
    assert baseline is not None and baseline["days"] == 90
    assert baseline["median_ai_cost_usd"] == pytest.approx(0.5)
    assert [s["id"] for s in data["signals"] if s["id"] == "cost-per-line"] == ["cost-per-line"]
    proc = run_cli("pr", "--base", "main", "--head", "pricey", cwd=repo)
    assert "| | this change | this repository, last 90 days |" in proc.stdout
    assert "**1.5× the median AI-assisted change**" in proc.stdout
    off = pr_json(repo, "--base", "main", "--head", "pricey", "--baseline-days", "0")
    assert off["baseline"] is None and "cost-per-line" not in {s["id"] for s in off["signals"]}


def test_huge_pull_request_comment_fits(repo: Path) -> None:
    """1,200 AI commits with long subjects, built with git fast-import: the comment still fits."""
    commit_file(repo, "README.md", "# r\n", "start")
    stream = []
    for i in range(1200):
        message = (f"Change {i}: " + "a long subject that takes room in the table " * 3
                   + f"\n\n{CLAUDE.replace('cost_usd=0.5000', f'cost_usd={0.01 + i / 10000:.4f}')}\n")
        data = f"line {i}\n"
        stream += [
            "commit refs/heads/huge",
            f"committer Dev <dev@example.com> {1_763_000_000 + i} +0000",
            f"data {len(message.encode())}", message,
            *(["from refs/heads/main"] if i == 0 else []),
            f"M 100644 inline notes/f{i}.txt", f"data {len(data.encode())}", data, "",
        ]
    proc = subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, input="\n".join(stream) + "\n",
                          text=True, capture_output=True, check=False)
    assert proc.returncode == 0, proc.stderr
    out = run_cli("pr", "--base", "main", "--head", "huge", "--baseline-days", "0", cwd=repo)
    assert out.returncode == 0, out.stderr
    body = out.stdout
    assert len(body) <= 65_536
    assert "**\\$" in body and "over 1.2k commits" in body and "more commit" in body
    marker = parse_marker(body)
    assert marker is not None and len(marker.digest) == 1200
