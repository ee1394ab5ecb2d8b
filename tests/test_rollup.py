"""``commitledger rollup`` over real clones: database, Parquet, views, report, --sql, failures, cache reuse."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import duckdb
import pytest

from commitledger.history import rollup
from conftest import git, run_cli
from test_history import Repo, usage


def make_repo(path: Path, ai_costs: list[float], humans: int, revert_first_ai: bool = False) -> Repo:
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "dev@example.com")
    git(path, "config", "user.name", "Dev")
    r = Repo(path)
    r.commit("Initial commit", name="README.md")
    first = None
    for i, cost in enumerate(ai_costs):
        sha = r.commit(f"AI change {i}\n\n{usage(cost)}")
        first = first or sha
    for i in range(humans):
        r.commit(f"Human change {i}")
    if revert_first_ai and first:
        r.revert(first)
    return r


@pytest.fixture
def org(tmp_path: Path) -> Path:
    clones = tmp_path / "clones"
    make_repo(clones / "api", [1.0, 2.0, 3.0], humans=2, revert_first_ai=True)
    make_repo(clones / "web", [0.5], humans=3)
    make_repo(clones / "x<b>y", [], humans=1)
    (clones / "notes.txt").write_text("not a clone", encoding="utf-8")
    return clones


def same(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and a == pytest.approx(b, abs=1e-6))


def history_of(path: Path) -> dict:
    proc = run_cli("history", "--since", "all", "--format", "json", cwd=path)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_rollup_of_a_directory_writes_database_parquet_views_and_report(org: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = run_cli("rollup", str(org), "--out", str(out), "--jobs", "2", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "all 3 repositories" in proc.stdout and "api" in proc.stdout and "x<b>y" in proc.stdout
    for name in ("org.duckdb", "changes.parquet", "usage.parquet", "repos.parquet", "views.sql", "report.html"):
        assert (out / name).is_file(), name
    assert not (out / ".staging").exists()
    db = duckdb.connect(str(out / "org.duckdb"), read_only=True)
    for repo in ("api", "web", "x<b>y"):
        data = history_of(org / repo)
        summary = data["summary"]
        count, = db.execute("SELECT count(*) FROM changes WHERE repo = ?", [repo]).fetchone()
        assert count == len(data["changes"])
        kinds = db.execute("SELECT commit, lines_changed, code_lines, test_lines, doc_lines, config_lines FROM changes"
                           " WHERE repo = ? AND kind <> 'abandoned'", [repo]).fetchall()
        assert {sha: list(rest) for sha, *rest in kinds} == {
            c["commit"]: [c["lines_changed"], c["source_lines"], c["test_lines"], c["doc_lines"], c["config_lines"]]
            for c in data["changes"] if c["kind"] != "abandoned"}
        merged, ai_merged, per, rate_ai = db.execute(
            "SELECT merged, ai_merged, cost_per_merged_change, revert_rate_ai FROM org_by_repo WHERE repo = ?",
            [repo]).fetchone()
        assert (merged, ai_merged) == (summary["merged"], summary["ai_merged"])
        assert same(per, summary["cost_per_merged_change"]), (repo, per, summary)
        assert same(rate_ai, summary["revert_rate_ai"]), (repo, rate_ai, summary)
    counted = db.execute("SELECT count(*) FROM changes WHERE lines_changed = code_lines + test_lines + doc_lines"
                         " + config_lines").fetchone()[0]
    assert counted and counted == db.execute("SELECT count(lines_changed) FROM changes").fetchone()[0]
    # api: 3 AI changes ($6), the first reverted: $6 over 2 kept
    assert db.execute("SELECT cost_per_merged_change FROM org_by_repo WHERE repo = 'api'").fetchone()[0] == \
        pytest.approx(3.0)
    total = db.execute("SELECT repos, merged, ai_merged, ai_cost_usd FROM org_total").fetchone()
    assert total[0] == 3 and total[2] == 4 and total[3] == pytest.approx(6.5)
    assert db.execute("SELECT count(*) FROM usage").fetchone()[0] == 4
    assert db.execute("SELECT count(*), count(error) FROM repos").fetchone() == (3, 0)
    months = db.execute("SELECT sum(merged) FROM org_by_month").fetchone()[0]
    assert months == total[1]
    assert db.execute("SELECT count(*) FROM read_parquet(?)", [str(out / "changes.parquet")]).fetchone()[0] == \
        db.execute("SELECT count(*) FROM changes").fetchone()[0]
    page = (out / "report.html").read_text("utf-8")
    assert "x&lt;b&gt;y" in page and "x<b>y" not in page
    assert "$3.00" in page


def test_the_shipped_views_run_unchanged_over_the_parquet_files(org: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run_cli("rollup", str(org), "--out", str(out), "--jobs", "1", cwd=tmp_path).returncode == 0
    fresh = duckdb.connect()
    fresh.execute("SET TimeZone = 'UTC'")
    for table in rollup.TABLES:
        fresh.execute(f"CREATE TABLE {table} AS SELECT * FROM read_parquet('{out / (table + '.parquet')}')")
    for statement in rollup.statements((out / "views.sql").read_text("utf-8")):
        fresh.execute(statement)
    original = duckdb.connect(str(out / "org.duckdb"), read_only=True)
    for view in ("org_total", "org_by_repo", "org_by_month", "org_by_agent_model", "org_by_repo_month"):
        query = f"SELECT * FROM {view} ORDER BY ALL"
        assert fresh.execute(query).fetchall() == original.execute(query).fetchall(), view


def test_rollup_from_a_listing_reports_failures_and_reuses_each_cache(org: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q", "-b", "main")
    listing = tmp_path / "list.txt"
    listing.write_text(f"# the org\n{org / 'api'}\nclones/web  # relative to the file\n{empty}\n", encoding="utf-8")
    out = tmp_path / "out"
    proc = run_cli("rollup", "--from", str(listing), "--out", str(out), "--jobs", "1", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "empty: the current branch 'main' has no commits yet" in proc.stderr
    db = duckdb.connect(str(out / "org.duckdb"), read_only=True)
    rows = dict(db.execute("SELECT repo, error FROM repos").fetchall())
    assert rows["api"] is None and rows["web"] is None and "no commits yet" in rows["empty"]
    first = dict(db.execute("SELECT repo, commits_parsed FROM repos WHERE error IS NULL").fetchall())
    assert first["api"] > 0
    db.close()
    Repo(org / "web").commit(f"One more\n\n{usage(0.25)}")
    proc = run_cli("rollup", "--from", str(listing), "--out", str(out), "--jobs", "1", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    db = duckdb.connect(str(out / "org.duckdb"), read_only=True)
    again = {r: (p, c) for r, p, c in db.execute(
        "SELECT repo, commits_parsed, changes_cached FROM repos WHERE error IS NULL").fetchall()}
    assert again["api"][0] == 0 and again["api"][1] > 0  # nothing new: all from the cache
    assert again["web"][0] == 1  # only the new commit was read from git
    assert db.execute("SELECT count(*) FROM changes WHERE repo = 'web'").fetchone()[0] == 6


def test_sql_against_the_database_and_one_line_errors(org: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run_cli("rollup", str(org), "--out", str(out), "--jobs", "1", cwd=tmp_path).returncode == 0
    proc = run_cli("rollup", "--out", str(out), "--sql", "SELECT repo, merged FROM org_by_repo ORDER BY repo",
                   cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = [line.split() for line in proc.stdout.splitlines() if line.strip()]
    assert ["api", "7"] in lines and ["web", "5"] in lines
    for args, message in (
        (["--out", str(out), "--sql", "SELECT nope FROM org_by_repo"], "--sql failed:"),
        (["--out", str(tmp_path / "none"), "--sql", "SELECT 1"], "no database at"),
        ([str(tmp_path / "missing")], "is not a directory"),
        ([str(org / "notes.txt")], "is not a directory"),
        ([str(tmp_path)], "is not a git clone and holds none"),
        ([], "no repositories given"),
    ):
        proc = run_cli("rollup", *args, cwd=tmp_path)
        assert proc.returncode != 0, args
        assert len(proc.stderr.strip().splitlines()) == 1 and message in proc.stderr, proc.stderr


def test_rollup_without_duckdb_names_the_extra(org: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "duckdb.py").write_text("raise ImportError('No module named duckdb')\n", encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(blocker) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = run_cli("rollup", str(org), cwd=tmp_path, env=env)
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines() == ["commitledger: this needs DuckDB: pip install 'commitledger[org]'"]


def test_repo_names_tell_clones_with_the_same_name_apart(tmp_path: Path) -> None:
    a, b, c = tmp_path / "team1" / "app", tmp_path / "team2" / "app", tmp_path / "team2" / "lib"
    assert rollup.repo_names([a, b, c]) == ["team1/app", "team2/app", "lib"]


def test_statements_split_on_line_end_semicolons_only() -> None:
    sql = "-- a comment; with a semicolon\nCREATE VIEW a AS SELECT ';' AS x;\nSELECT 1;\n"
    assert rollup.statements(sql) == ["CREATE VIEW a AS SELECT ';' AS x", "SELECT 1"]


def test_bare_clone_counts_as_a_clone(org: Path, tmp_path: Path) -> None:
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(org / "web"), str(bare)], check=True)
    assert rollup.find_clones([bare]) == [bare.resolve()]


# --- each clone is read with its own [tool.commitledger] (bots, big_change_commits), as history reads it ---

ROBOT = "deploy-robot"  # a bot only where a clone's config says so


def configured_clone(path: Path, config: str) -> dict[str, str]:
    """A clone whose pyproject sets ``config``; a robot commit (reverted) and a PR merge bringing in 3 commits."""
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    r = Repo(path)
    (path / "pyproject.toml").write_text(f"[project]\nname = \"x\"\n\n[tool.commitledger]\n{config}\n", encoding="utf-8")
    r.commit("Initial commit", name="README.md")
    env = dict(r.env(), GIT_AUTHOR_NAME=ROBOT, GIT_AUTHOR_EMAIL=f"{ROBOT}@example.com")
    (path / "deps.txt").write_text("lib==2\n", encoding="utf-8")
    git(path, "add", "-A", env=env)
    git(path, "commit", "-q", "-m", "Bump lib to 2", env=env)
    robot = r.head()
    r.revert(robot)
    r.branch("feature")
    for i in range(3):
        r.commit(f"Feature step {i}\n\n{usage(0.5)}")
    merge = r.merge_pr(7, "feature", "Add the feature")
    return {"robot": robot, "merge": merge}


def test_rollup_reads_each_clone_with_its_own_bots_and_big_change_commits(tmp_path: Path) -> None:
    clones = tmp_path / "clones"
    strict = configured_clone(clones / "strict", f'bots = ["{ROBOT}"]\nbig_change_commits = 2')
    loose = configured_clone(clones / "loose", "big_change_commits = 10")
    out = tmp_path / "out"
    proc = run_cli("rollup", str(clones), "--out", str(out), "--jobs", "2", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    db = duckdb.connect(str(out / "org.duckdb"), read_only=True)

    def change(repo: str, sha: str) -> tuple[str, bool, int]:
        return db.execute("SELECT author_kind, big, commits FROM changes WHERE repo = ? AND commit = ?",
                          [repo, sha]).fetchone()

    assert change("strict", strict["robot"])[0] == "bot"  # strict's config names the robot
    assert change("loose", loose["robot"])[0] == "human"  # loose's does not: the same author is a person there
    # The merge brings in 4 commits (its 3 and itself): more than strict's 2, fewer than loose's 10.
    assert change("strict", strict["merge"]) == ("ai", True, 4)
    assert change("loose", loose["merge"]) == ("ai", False, 4)
    rates = dict((repo, (human, bot)) for repo, human, bot in db.execute(
        "SELECT repo, revert_rate_human, revert_rate_bot FROM org_by_repo").fetchall())
    # strict: the reverted robot change is the bots' (1 of 1); its human changes (the initial commit and the
    # revert) kept. loose: the robot is one of three human changes, and no bot change exists.
    assert rates["strict"] == (pytest.approx(0.0), pytest.approx(1.0))
    assert rates["loose"] == (pytest.approx(1 / 3), None)
    for repo, shas in (("strict", strict), ("loose", loose)):
        data = history_of(clones / repo)  # what `history` says in that clone, with that clone's config
        by_sha = {c["commit"]: c for c in data["changes"]}
        for sha in shas.values():
            assert change(repo, sha)[:2] == (by_sha[sha]["author_kind"], by_sha[sha]["big"]), (repo, sha)
        assert db.execute("SELECT revert_rate_bot FROM org_by_repo WHERE repo = ?", [repo]).fetchone()[0] == \
            (None if data["summary"]["revert_rate_bot"] is None else pytest.approx(data["summary"]["revert_rate_bot"]))
