"""Issue 9, "true on real repositories": one test per class of defect, on repositories built in the
shapes the real ones had (an agent-heavy history, bots, a partial clone, a damaged mirror, a 2023-2026
history, a merge of hundreds of commits)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from commitledger.ledger.pathkinds import path_kind
from commitledger.ledger.trailers import marker_details
from conftest import git, run_cli

T0 = datetime(2024, 3, 4, 9, 0, tzinfo=timezone.utc)
CLAUDE = "Co-Authored-By: Claude Opus 4.6 <noreply@anthropic.com>"


class Builder:
    """Real commits at controlled times and authors."""

    def __init__(self, path: Path, start: datetime = T0) -> None:
        self.path = path
        self.now = start
        self.n = 0

    def env(self, author: tuple[str, str] | None = None, step: timedelta = timedelta(hours=1)) -> dict[str, str]:
        env = os.environ.copy()
        stamp = f"{int(self.now.timestamp())} +0000"
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = stamp
        if author is not None:
            env["GIT_AUTHOR_NAME"], env["GIT_AUTHOR_EMAIL"] = author
        self.now += step
        return env

    def commit(self, message: str, files: dict[str, str] | None = None, author: tuple[str, str] | None = None,
               step: timedelta = timedelta(hours=1)) -> str:
        self.n += 1
        for name, text in (files or {f"src/f{self.n}.py": f"x{self.n} = {self.n}\n"}).items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        env = self.env(author, step)
        git(self.path, "add", "-A", env=env)
        git(self.path, "commit", "-q", "--allow-empty", "-m", message, env=env)
        return git(self.path, "rev-parse", "HEAD")

    def revert(self, sha: str, *extra: str) -> str:
        git(self.path, "revert", "--no-edit", *extra, sha, env=self.env())
        return git(self.path, "rev-parse", "HEAD")


def history(path: Path, *args: str) -> dict:
    proc = run_cli("history", "--format", "json", "--since", "all", *args, cwd=path)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def by_commit(data: dict) -> dict[str, dict]:
    return {c["commit"]: c for c in data["changes"]}


# --- 1. git failures are reported, never counted -------------------------------------------------


def _three_versions(b: Builder) -> list[str]:
    """a.py in three versions: the middle commit's diff needs two blobs that are not at HEAD."""
    shas = [b.commit("Add a", {"a.py": "v1\nline\n"})]
    shas.append(b.commit(f"Change a\n\n{CLAUDE}", {"a.py": "v2\nline\nmore\n"}))
    shas.append(b.commit(f"Change a again\n\n{CLAUDE}", {"a.py": "v3\nline\nmore\n"}))
    shas.append(b.commit(f"Add b\n\n{CLAUDE}", {"b.py": "b = 1\nc = 2\n"}))  # needs only a blob HEAD holds
    return shas


def test_partial_clone_lines_git_cannot_count_are_null_warned_and_not_cached(tmp_path: Path, repo: Path) -> None:
    shas = _three_versions(Builder(repo))
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(bare))
    git(bare, "config", "uploadpack.allowFilter", "true")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--filter=blob:none", bare.as_uri(), str(clone))
    git(clone, "remote", "set-url", "origin", (tmp_path / "gone.git").as_uri())  # the promisor is unreachable
    for attempt in range(2):  # the second run must not read a cached zero or a cached null
        proc = run_cli("history", "--format", "json", "--since", "all", cwd=clone)
        assert proc.returncode == 0, proc.stderr
        data = json.loads(proc.stdout)
        changes = by_commit(data)
        middle = changes[shas[1]]
        assert middle["lines_changed"] is None and middle["source_lines"] is None
        assert "from promisor remote" in middle["lines_error"] and re.search(r"[0-9a-f]{40}", middle["lines_error"])
        assert changes[shas[3]]["lines_changed"] == 2  # one unreadable object costs its commits only
        assert data["summary"]["lines_uncounted"] >= 1
        assert any(shas[1] in w for w in data["warnings"])
        assert f"warning: lines of {shas[1]} not counted" in proc.stderr
    assert data["summary"]["tokens_per_changed_line"] is None


def _loose_object_path(repo: Path, oid: str) -> Path:
    return repo / ".git" / "objects" / oid[:2] / oid[2:]


def test_deleted_object_history_and_pr(repo: Path) -> None:
    b = Builder(repo)
    shas = _three_versions(b)
    b.commit(f"Add image\n\n{CLAUDE}", {"logo.bin": "\x00\x01binary\x00" * 20, "src/ok.py": "def f():\n    return 1\n"})
    v1 = git(repo, "rev-parse", f"{shas[0]}:a.py")
    _loose_object_path(repo, v1).unlink()
    data = history(repo)
    changes = by_commit(data)
    assert changes[shas[1]]["lines_changed"] is None and changes[shas[1]]["lines_error"]
    assert changes[shas[2]]["lines_changed"] == 2  # one unreadable object costs its commit only
    assert any(shas[1] in w for w in data["warnings"])
    # pr over a range whose diff needs a blob that is gone: the file is listed unscored, the run goes on
    logo = git(repo, "rev-parse", "HEAD:logo.bin")
    _loose_object_path(repo, logo).unlink()
    proc = run_cli("pr", "--base", shas[0], "--head", "HEAD", "--format", "json", "--baseline-days", "0", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    rows = {f["path"]: f for f in result["maintainability"]["files"]}
    assert rows["logo.bin"]["status"] == "unscored" and "unreadable blob" in rows["logo.bin"]["reason"]
    assert rows["src/ok.py"]["status"] == "added"
    assert "logo.bin not read" in proc.stderr


# --- 2. unknown is never $0 ------------------------------------------------------------------------


def test_ai_changes_without_usage_are_unknown_not_zero(repo: Path) -> None:
    b = Builder(repo)
    b.commit("Initial", {"README.md": "hi\n"})
    for i in range(3):
        b.commit(f"Agent change {i}\n\n{CLAUDE}")
    b.commit("Human change")
    data = history(repo)
    s = data["summary"]
    assert s["cost_usd"] is None and (s["ai_merged"], s["ai_cost_unknown"], s["ai_usage_unknown"]) == (3, 3, 3)
    table = run_cli("history", "--since", "all", cwd=repo).stdout
    assert "$0.00" not in table
    assert "unknown (3 AI-assisted changes, usage unknown for 3)" in table
    rows = list(csv.DictReader(io.StringIO(run_cli("history", "--format", "csv", "--since", "all", cwd=repo).stdout)))
    assert {r["cost_usd"] for r in rows if r["ai"] == "1"} == {""}
    assert all(p["cost_usd"] is None for p in data["periods"])
    out = repo.parent / "r.html"
    assert run_cli("report", "--html", str(out), "--since", "all", cwd=repo).returncode == 0
    page = out.read_text(encoding="utf-8")
    assert "$0.00" not in page and "usage unknown for 3" in page


def test_empty_window_names_the_last_change_and_suggests_since_all(repo: Path) -> None:
    Builder(repo, datetime(2023, 6, 1, tzinfo=timezone.utc)).commit("Old change", {"README.md": "x\n"})
    proc = run_cli("history", cwd=repo)  # default 90-day window, years after the last commit
    assert proc.returncode == 0, proc.stderr
    assert "last change on main was merged on 2023-06-01" in proc.stdout and "--since all" in proc.stdout
    data = json.loads(run_cli("history", "--format", "json", cwd=repo).stdout)
    assert data["summary"]["merged"] == 0 and data["summary"]["last_change_at"].startswith("2023-06-01")


# --- 3/4. AI markers by identity, with the agent and model they state -----------------------------


@pytest.mark.parametrize(("line", "author", "expected"), [
    ("Co-Authored-By: Claude Opus 4.6 <noreply@anthropic.com>", ("", ""), ("claude-code", "claude-opus-4-6")),
    ("Co-authored-by: Claude <noreply@anthropic.com>", ("", ""), ("claude-code", None)),
    ("Co-authored-by: Claude Sonnet 4.5 (1M context) <noreply@anthropic.com>", ("", ""), ("claude-code", "claude-sonnet-4-5")),
    ("Co-authored-by: aider (openai/gpt-4o) <aider@aider.chat>", ("", ""), ("aider", "gpt-4o")),
    ("Assisted-by: aider:gpt-5.4", ("", ""), ("aider", "gpt-5.4")),
    ("Assisted-by: Claude:claude-3-opus coccinelle sparse", ("", ""), ("claude-code", "claude-3-opus")),
    ("", ("Paul Example (aider)", "paul@example.com"), ("aider", None)),
    ("Co-authored-by: Copilot <175728472+Copilot@users.noreply.github.com>", ("", ""), ("copilot", None)),
])
def test_markers_keep_agent_and_model(line: str, author: tuple[str, str], expected: tuple[str, str | None]) -> None:
    found = marker_details(f"Subject\n\n{line}\n", *author)
    assert [(m.agent, m.model) for m in found] == [expected]


def test_kernel_assisted_by_keeps_its_tools() -> None:
    (found,) = marker_details("Fix\n\nAssisted-by: Claude:claude-3-opus coccinelle sparse\n")
    assert found.tools == ("coccinelle", "sparse")


@pytest.mark.parametrize("line", [
    "Co-authored-by: Jane Roe <jane.roe@anthropic.com>",
    "Co-authored-by: Sam Person <sam@openai.com>",
    "Co-authored-by: Claude Debussy <claude@example.fr>",
    "Co-authored-by: Anthropic Support <support@anthropic.com>",
])
def test_people_at_agent_companies_are_people(line: str) -> None:
    assert marker_details(f"Subject\n\n{line}\n") == []


def test_history_show_and_csv_carry_agents_models_and_evidence(repo: Path) -> None:
    b = Builder(repo)
    b.commit("Initial", {"README.md": "hi\n"})
    claude = b.commit(f"By Claude\n\n{CLAUDE}")
    human = b.commit("With a colleague\n\nCo-authored-by: Jane Roe <jane.roe@anthropic.com>")
    aider = b.commit("aider: edit", author=("Paul Example (aider)", "paul@example.com"))
    kernel = b.commit("Kernel style\n\nAssisted-by: aider:gpt-5.4 coccinelle")
    changes = by_commit(history(repo))
    assert (changes[claude]["agents"], changes[claude]["models"], changes[claude]["evidence"]) == (
        ["claude-code"], ["claude-opus-4-6"], ["co-authored-by"])
    assert changes[human]["ai"] is False and changes[human]["author_kind"] == "human"
    assert changes[aider]["agents"] == ["aider"] and changes[aider]["evidence"] == ["aider-author"]
    assert (changes[kernel]["agents"], changes[kernel]["models"]) == (["aider"], ["gpt-5.4"])
    rows = {r["commit"]: r for r in csv.DictReader(io.StringIO(
        run_cli("history", "--format", "csv", "--since", "all", cwd=repo).stdout))}
    assert (rows[claude]["agents"], rows[claude]["models"], rows[claude]["evidence"]) == (
        "claude-code", "claude-opus-4-6", "co-authored-by")
    shown = run_cli("show", claude, cwd=repo).stdout
    assert "co-authored-by: claude-code/claude-opus-4-6" in shown
    shown_json = json.loads(run_cli("show", kernel, "--json", cwd=repo).stdout)["commits"][0]
    assert shown_json["agents"] == ["aider"] and shown_json["evidence"][0]["tools"] == ["coccinelle"]
    summary = history(repo)["summary"]
    assert summary["agents"] == {"aider": 2, "claude-code": 1} and summary["ai_merged"] == 3


# --- 5. three kinds of author --------------------------------------------------------------------


def test_bots_are_neither_human_nor_ai(repo: Path) -> None:
    (repo / "pyproject.toml").write_text('[tool.commitledger]\nbots = ["release-robot"]\n', encoding="utf-8")
    b = Builder(repo)
    b.commit("Initial", {"README.md": "hi\n"})
    dependabot = ("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com")
    actions = ("github-actions", "41898282+github-actions[bot]@users.noreply.github.com")
    bumps = [b.commit(f"Bump lib from 1.{i} to 1.{i + 1}", author=dependabot) for i in range(3)]
    b.commit("Update generated docs", author=actions)
    b.commit("Release 1.2", author=("release-robot", "robot@example.com"))
    human = [b.commit(f"Human fix {i}") for i in range(2)]
    b.revert(bumps[0])
    b.revert(human[0])
    data = history(repo)
    s = data["summary"]
    # the reverts themselves are human commits: 2 fixes + 2 reverts + the initial commit
    assert (s["bot_merged"], s["human_merged"], s["ai_merged"]) == (5, 5, 0)
    assert s["revert_rate_bot"] == 0.2 and s["revert_rate_human"] == 0.2 and s["revert_rate_other"] == 0.2
    assert {by_commit(data)[c]["author_kind"] for c in bumps} == {"bot"}
    table = run_cli("history", "--since", "all", cwd=repo).stdout
    assert "5 human, 5 bot" in table and "bot 20.0%" in table


def test_baseline_keeps_bots_apart(repo: Path) -> None:
    from commitledger.history.baseline import compute_baseline

    b = Builder(repo, datetime.now(timezone.utc) - timedelta(days=5))
    b.commit("Initial", {"README.md": "hi\n"})
    bump = b.commit("Bump x", author=("renovate[bot]", "29139614+renovate[bot]@users.noreply.github.com"))
    b.commit(f"Agent\n\nAI-Usage: agent=claude-code model=claude-sonnet-4-5 input=10 output=5 cost_usd=0.5000")
    b.revert(bump)
    base = compute_baseline(repo, "main", 30)
    assert base is not None and base.revert_rate_bot == 1.0 and base.bot_changes == 1
    assert base.revert_rate_other == 0.0  # the human changes (initial, the revert) were not reverted


# --- 6. code, tests, docs, config/data -------------------------------------------------------------


@pytest.mark.parametrize(("path", "kind"), [
    ("src/app.py", "code"), ("action/index.ts", "code"), ("Makefile", "code"), ("tests/test_app.py", "tests"),
    ("README.md", "docs"), ("LICENSE", "docs"), ("docs/guide.rst", "docs"),
    (".github/workflows/ci.yml", "config"), ("data/train.jsonl", "config"), ("requirements-dev.txt", "config"),
    ("pyproject.toml", "config"), ("package-lock.json", "config"), ("poetry.lock", "config"), ("go.sum", "config"),
    ("vendor/lib/x.go", "config"), ("dist/index.js", "config"), ("static/app.min.js", "config"),
    ("proto/api_pb2.py", "config"),
])
def test_path_kinds(path: str, kind: str) -> None:
    assert path_kind(path, ("tests/**",)) == kind


def _pr_json(repo: Path, base: str, *extra: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    proc = run_cli("pr", "--base", base, "--head", "HEAD", "--format", "json", "--baseline-days", "0", *extra, cwd=repo)
    assert proc.returncode in (0, 1), proc.stderr
    return proc, json.loads(proc.stdout)


def test_config_and_data_are_not_code_lines(repo: Path) -> None:
    b = Builder(repo)
    base = b.commit("Initial", {"README.md": "hi\n"})
    b.commit(f"Add pipeline\n\n{CLAUDE}", {
        ".github/workflows/ci.yml": "".join(f"k{i}: v\n" for i in range(684)),
        "data/set.jsonl": "".join(f'{{"i": {i}}}\n' for i in range(537)),
        "requirements.txt": "".join(f"pkg{i}==1.0\n" for i in range(20)),
        "src/tool.py": "".join(f"v{i} = {i}\n" for i in range(60)),
    })
    _, result = _pr_json(repo, base)
    lines = result["lines"]
    assert (lines["source_added"], lines["config_added"]) == (60, 684 + 537 + 20)
    comment = run_cli("pr", "--base", base, "--head", "HEAD", "--baseline-days", "0", cwd=repo).stdout
    assert "lines changed (code · tests · docs · config/data) | +60 −0 · +0 −0 · +0 −0 · +1.2k −0" in comment
    data = history(repo)
    assert by_commit(data)[git(repo, "rev-parse", "HEAD")]["source_lines"] == 60


def test_version_bump_raises_no_tests_signal(repo: Path) -> None:
    b = Builder(repo)
    b.commit("Initial", {"pyproject.toml": '[project]\nname = "x"\nversion = "1.0"\n',
                         "src/x/__init__.py": '"""X."""\n__version__ = "1.0"\n'})
    base = git(repo, "rev-parse", "HEAD")
    b.commit(f"Release 1.1\n\n{CLAUDE}", {"pyproject.toml": '[project]\nname = "x"\nversion = "1.1"\n',
                                         "src/x/__init__.py": '"""X."""\n__version__ = "1.1"\n'})
    _, result = _pr_json(repo, base)
    assert [s["id"] for s in result["signals"]] == []
    assert result["lines"]["source_added"] == 0


# --- 7. the comment tells the whole story, the exit code agrees -----------------------------------


def complex_source(functions: int, branches: int = 12) -> str:
    """Python whose functions rank C or worse on complexity, and whose MI falls with its length."""
    def one(n: int) -> str:
        body = "".join(f"    if x == {i}:\n        y = x * {i} + y - {i} / (x + 1)\n"
                       f"    elif x > {i} and y < {i}:\n        y = y ** 2 - x\n" for i in range(branches))
        return f"def f{n}(x, y):\n{body}    return y\n\n"
    return "".join(one(n) for n in range(functions))


JUNIT_FAIL = ('<?xml version="1.0"?><testsuite name="s" tests="2" failures="1"><testcase classname="t" name="ok"/>'
              '<testcase classname="t" name="bad"><failure message="boom">x</failure></testcase></testsuite>')


def test_change_without_ai_usage_names_its_signals_and_fails_on_them(repo: Path) -> None:
    b = Builder(repo)
    base = b.commit("Initial", {"README.md": "hi\n"})
    b.commit("Hand-written parser", {"src/parse.py": complex_source(1)})
    proc = run_cli("pr", "--base", base, "--head", "HEAD", "--baseline-days", "0", "--fail-on", "complexity", cwd=repo)
    assert proc.returncode == 1
    assert "no AI usage recorded in the 1 commit of this change" in proc.stdout
    _, result = _pr_json(repo, base)
    raised = [s["id"] for s in result["signals"]]
    assert "complexity" in raised  # (and cognitive when bca is installed)
    assert f"**{len(raised)} signal" in proc.stdout and all(f"`{i}`" in proc.stdout for i in raised)
    assert "parse.f0" in proc.stdout
    summary = run_cli("pr", "--base", base, "--head", "HEAD", "--baseline-days", "0", "--format", "summary",
                      cwd=repo).stdout
    assert "`complexity`" in summary
    anything = run_cli("pr", "--base", base, "--head", "HEAD", "--baseline-days", "0", "--fail-on", "any", cwd=repo)
    assert anything.returncode == 1 and f"failing on signal(s): {', '.join(sorted(raised))}" in anything.stderr
    clean = run_cli("pr", "--base", base, "--head", base, "--baseline-days", "0", "--fail-on", "any", cwd=repo)
    assert clean.returncode == 0, clean.stderr


def test_headline_counts_every_signal_tests_failed_included(repo: Path, tmp_path: Path) -> None:
    b = Builder(repo)
    base = b.commit("Initial", {"README.md": "hi\n"})
    b.commit(f"Agent work\n\n{CLAUDE}", {"src/tool.py": "def f():\n    return 1\n"})  # no test changed: no-tests
    junit = tmp_path / "junit.xml"
    junit.write_text(JUNIT_FAIL, encoding="utf-8")
    proc = run_cli("pr", "--base", base, "--head", "HEAD", "--baseline-days", "0", "--junit", str(junit), cwd=repo)
    listed = re.findall(r"^- \S+ `([a-z-]+)`", proc.stdout, re.M)
    assert sorted(listed) == ["no-tests", "tests-failed"]
    assert "**2 signals**" in proc.stdout
    # the agent and model the marker states reach the comment (not just "AI-assisted (co-authored-by)")
    assert "| claude-code (claude-opus-4-6) · co-authored-by |" in proc.stdout


# --- 8. the maintainability row and new files ------------------------------------------------------


def test_new_file_at_rank_c_raises_maintainability_and_the_row_names_the_worst_file(repo: Path) -> None:
    b = Builder(repo)
    base = b.commit("Initial", {"README.md": "hi\n", "src/ok.py": "def ok():\n    return 1\n"})
    b.commit(f"Add engine\n\n{CLAUDE}", {
        "src/engine.py": complex_source(40),  # ~2,000 lines at MI 0.0
        "src/ok.py": "def ok():\n    return 2\n",
        "tests/test_engine.py": complex_source(45),  # worse still, but a test: left out of the row
    })
    proc, result = _pr_json(repo, base)
    ids = [s["id"] for s in result["signals"]]
    assert "maintainability" in ids
    assert any("src/engine.py is new with maintainability index 0.0 (C)" in s["message"] for s in result["signals"])
    assert not any("tests/test_engine.py" in s["message"] for s in result["signals"] if s["id"] == "maintainability")
    comment = run_cli("pr", "--base", base, "--head", "HEAD", "--baseline-days", "0", cwd=repo).stdout
    row = next(line for line in comment.splitlines() if line.startswith("| maintainability"))
    assert "`src/engine.py` new at 0.0 (C)" in row and "of 2 files fell" in row and "test_engine" not in row


def test_new_file_below_configured_min_mi_raises_maintainability(repo: Path) -> None:
    (repo / "pyproject.toml").write_text("[tool.commitledger]\nmin_mi = 50\n", encoding="utf-8")
    b = Builder(repo)
    base = b.commit("Initial", {"README.md": "hi\n"})
    b.commit(f"Add module\n\n{CLAUDE}", {"src/mod.py": complex_source(1, 6)})
    _, result = _pr_json(repo, base)
    mi = result["maintainability"]["files"][0]["mi_after"]
    assert 19 < mi < 50  # rank A: only the configured floor makes it a signal
    assert any(s["id"] == "maintainability" and "below 50" in s["message"] for s in result["signals"])


# --- 10. big merged changes ----------------------------------------------------------------------


def _big_merge(repo: Path, side_commits: int) -> tuple[str, list[str]]:
    """main: initial, then one merge bringing in ``side_commits`` commits (written by git fast-import)."""
    stamp = int(T0.timestamp())
    parts = [f"commit refs/heads/main\nmark :1\ncommitter T <t@example.com> {stamp} +0000\ndata 8\nInitial\n"
             f"M 644 inline README.md\ndata 3\nhi\n\n"]
    for i in range(side_commits):
        body = f"side {i}\n"
        parts.append(f"commit refs/heads/feat\nmark :{i + 2}\ncommitter T <t@example.com> {stamp + 60 * (i + 1)} +0000\n"
                     f"data {len(body)}\n{body}" + ("from :1\n" if i == 0 else "")
                     + f"M 644 inline side.txt\ndata {len(body)}\n{body}\n")
    title = "Merge branch 'main' into feat/x\n"
    parts.append(f"commit refs/heads/main\ncommitter T <t@example.com> {stamp + 60 * (side_commits + 2)} +0000\n"
                 f"data {len(title)}\n{title}from :1\nmerge :{side_commits + 1}\n\n")
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, input="".join(parts).encode(), check=True)
    git(repo, "checkout", "-q", "-f", "main")
    side = git(repo, "rev-list", "main^2").split()  # newest first
    return git(repo, "rev-parse", "main"), side


def _revert_claim(b: Builder, sha: str) -> str:
    return b.commit(f'Revert "something"\n\nThis reverts commit {sha}.')


def test_big_change_is_flagged_and_one_inner_revert_does_not_revert_it(repo: Path) -> None:
    merge, side = _big_merge(repo, 510)
    b = Builder(repo, T0 + timedelta(days=2))
    inner = _revert_claim(b, side[200])
    data = history(repo)
    change = by_commit(data)[merge]
    assert change["big"] is True and change["commits"] == 511 and change["reverted_by"] is None
    assert data["summary"]["big_changes"] == 1
    table = run_cli("history", "--since", "all", cwd=repo).stdout
    assert "[big: 511 commits]" in table and "more than 500 commits" in table
    out = repo.parent / "big.html"
    assert run_cli("report", "--html", str(out), "--since", "all", cwd=repo).returncode == 0
    assert "Big changes (more than 500 commits)" in out.read_text(encoding="utf-8")
    from commitledger.history.branch import reverts_in_range

    assert reverts_in_range(repo, merge, inner) == []  # the Action's push path follows the same rule
    last = _revert_claim(b, side[0])  # the last commit it brought in: that reverts the change
    assert by_commit(history(repo))[merge]["reverted_by"] == last
    assert [r.commit for r in reverts_in_range(repo, inner, last)] == [merge]


def test_big_change_threshold_is_configurable_and_small_merges_revert_as_before(repo: Path) -> None:
    (repo / "pyproject.toml").write_text("[tool.commitledger]\nbig_change_commits = 1000\n", encoding="utf-8")
    merge, side = _big_merge(repo, 510)
    b = Builder(repo, T0 + timedelta(days=2))
    git(repo, "add", "pyproject.toml")
    revert = _revert_claim(b, side[200])
    change = by_commit(history(repo))[merge]
    assert change["big"] is False and change["reverted_by"] == revert


# --- 9. the lead's view and the report's chart ------------------------------------------------------


def _long_history(repo: Path) -> Builder:
    """2023-01 to 2026-06: AI changes with and without usage, humans, a bot, some reverts."""
    b = Builder(repo, datetime(2023, 1, 9, 9, 0, tzinfo=timezone.utc))
    b.commit("Initial", {"README.md": "hi\n"})
    bot = ("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com")
    kept = []
    for i in range(44):
        step = timedelta(days=29)
        if i % 4 == 0:
            kept.append(b.commit(f"Feature {i}\n\nAI-Usage: agent=claude-code model=claude-opus-4-6 input=9000 "
                                 f"output=800 cost_usd={0.75 + i * 0.0125:.4f}", step=step))
        elif i % 4 == 1:
            b.commit(f"Agent fix {i}\n\n{CLAUDE}", step=step)
        elif i % 4 == 2:
            b.commit(f"Bump dep {i}", author=bot, step=step)
        else:
            b.commit(f"Human work {i}", step=step)
    b.revert(kept[3])
    return b


def test_history_json_and_table_have_the_lead_view_by_month(repo: Path) -> None:
    _long_history(repo)
    data = history(repo, "--until", "2026-10-31")
    assert data["period"] == "month"
    starts = [p["start"] for p in data["periods"]]
    assert starts[0] == "2023-01-01" and starts[-1] == "2026-10-01" and len(starts) == 46  # every month drawn
    busy = [p for p in data["periods"] if p["merged"]]
    assert all(set(p) >= {"ai_share", "cost_usd", "ai_cost_unknown", "cost_per_merged_change", "revert_rate_ai",
                          "revert_rate_human", "revert_rate_bot"} for p in busy)
    assert any(p["cost_usd"] is None and p["ai_cost_unknown"] for p in busy)  # a marker-only month: unknown
    assert data["summary"]["models"] == {"claude-opus-4-6": 22}
    table = run_cli("history", "--since", "all", "--until", "2026-10-31", cwd=repo).stdout
    assert "by month (latest 26; 20 earlier" in table and "2024-09" in table and "2026-10" in table


MONEY = re.compile(r"(?<![\w&])\$[^\s<)(,;]*")


def test_report_draws_the_whole_window_with_years_and_one_money_format(repo: Path) -> None:
    _long_history(repo)
    out = repo.parent / "long.html"
    assert run_cli("report", "--html", str(out), "--since", "all", "--until", "2026-10-31", cwd=repo).returncode == 0
    page = out.read_text(encoding="utf-8")
    assert "Merged changes by month, 2023-01-01 to 2026-10-01" in page
    merged_svg = page[page.index('aria-label="Merged changes by month"'):]
    merged_svg = merged_svg[: merged_svg.index("</svg>")]
    assert merged_svg.count("<title>month of ") == 46  # the whole window, not the last 52 weeks
    labels = re.findall(r'text-anchor="middle">([A-Z][a-z]{2} \d{4})</text>', merged_svg)
    assert labels[0] == "Jan 2023" and any(label.endswith("2026") for label in labels)
    amounts = {a.rstrip(".") for a in MONEY.findall(page)}
    assert amounts and all(re.fullmatch(r"\$(0|\d{1,3}\.\d\d|\d+(\.\d+)?[kM])", a) for a in amounts), amounts
    rate_svg = page[page.index('aria-label="Revert rates"'):]
    ticks = re.findall(r'text-anchor="end">([^<]+)</text>', rate_svg[: rate_svg.index("</svg>")])
    assert ticks and all(re.fullmatch(r"\d+%", t) for t in ticks), ticks
    assert "usage unknown for 11 of 33 AI-assisted changes" not in page  # 22 AI, 11 with usage
    assert "usage unknown for 11 of 22 AI-assisted changes" in page
    table = page[page.index("<h2>By month</h2>"):]
    table = table[: table.index("</table>")]
    assert table.count("<tr><td>") == 46 and "<tr><td>2023-01</td>" in table  # revert rates per period too
    assert re.search(r"<td class=\"n\">(\d+(\.\d)?%|–) / (\d+(\.\d)?%|–) / (\d+(\.\d)?%|–)</td></tr>", table)


def test_gridlines_are_round() -> None:
    from commitledger.render.html_report import nice_scale, percent_axis

    top, ticks = nice_scale(0.0075)
    assert [percent_axis(ticks)(t) for t in ticks] == ["0.0%", "0.2%", "0.4%", "0.6%", "0.8%"]
    assert nice_scale(2, integer=True)[1] == [0.0, 1.0, 2.0]
    assert nice_scale(12.4)[1] == [0.0, 5.0, 10.0, 15.0]
