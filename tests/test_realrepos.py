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
