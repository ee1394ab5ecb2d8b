"""``commitledger history`` on real repositories: merged changes, every revert shape, window, cache, errors."""

from __future__ import annotations

import json
import os
import random
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from commitledger.history.baseline import compute_baseline
from commitledger.history.branch import load_history, reverts_in_range
from commitledger.ledger.models import HistoryResult
from conftest import git, run_cli

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)


def usage(cost: float, inp: int = 1000, out: int = 100, agent: str = "claude-code") -> str:
    return f"AI-Usage: agent={agent} model=claude-sonnet-4-5 sessions=1 input={inp} output={out} cost_usd={cost:.4f}"


class Repo:
    """Builds history with real git commands at controlled times (one hour apart unless told)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.now = T0
        self.n = 0

    def env(self) -> dict[str, str]:
        env = os.environ.copy()
        stamp = f"{int(self.now.timestamp())} +0000"
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = stamp
        self.now += timedelta(hours=1)
        return env

    def commit(self, message: str, name: str | None = None, lines: int = 1) -> str:
        self.n += 1
        target = self.path / (name or f"src/file{self.n}.py")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("".join(f"x{self.n}_{i} = {i}\n" for i in range(lines)), encoding="utf-8")
        env = self.env()
        git(self.path, "add", "-A", env=env)
        git(self.path, "commit", "-q", "--allow-empty", "-m", message, env=env)
        return self.head()

    def head(self, rev: str = "HEAD") -> str:
        return git(self.path, "rev-parse", rev)

    def branch(self, name: str, start: str = "main") -> None:
        git(self.path, "checkout", "-q", "-b", name, start)

    def checkout(self, name: str) -> None:
        git(self.path, "checkout", "-q", name)

    def merge_pr(self, number: int, branch: str, title: str) -> str:
        self.checkout("main")
        git(self.path, "merge", "-q", "--no-ff", "-m", f"Merge pull request #{number} from dev/{branch}\n\n{title}", branch,
            env=self.env())
        return self.head()

    def revert(self, sha: str, *extra: str) -> str:
        git(self.path, "revert", "--no-edit", *extra, sha, env=self.env())
        return self.head()


@pytest.fixture
def r(repo: Path) -> Repo:
    built = Repo(repo)
    built.commit("Initial commit", name="README.md")
    return built


def history_json(path: Path, *args: str) -> dict:
    proc = run_cli("history", "--format", "json", "--since", "all", *args, cwd=path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    HistoryResult.model_validate(data)  # the streamed JSON is exactly the contract
    return data


def by_commit(data: dict) -> dict[str, dict]:
    return {c["commit"]: c for c in data["changes"]}


def test_merge_squash_rebase_and_direct_changes(r: Repo) -> None:
    r.branch("feature")
    r.commit(f"Add parser\n\n{usage(0.50)}")
    r.commit(f"Parser tests\n\n{usage(0.25)}", name="tests/test_parser.py", lines=3)
    merge = r.merge_pr(11, "feature", "Parser for the upload format")
    squash = r.commit(f"Retry uploads (#12)\n\n* first try\n\n{usage(1.0)}\n\n* second try\n\n{usage(0.5, agent='codex')}",
                      lines=4)
    rebased_1 = r.commit(f"Rebased one\n\n{usage(0.1)}")
    rebased_2 = r.commit(f"Rebased two\n\n{usage(0.2)}")
    human = r.commit("Fix a typo by hand")

    data = history_json(r.path)
    changes = by_commit(data)
    assert [c["commit"] for c in data["changes"]][:5] == [human, rebased_2, rebased_1, squash, merge]
    m = changes[merge]
    assert (m["kind"], m["pr"], m["title"], m["ai"]) == ("merge", 11, "Parser for the upload format", True)
    assert m["usage"]["cost_usd"] == pytest.approx(0.75)
    assert m["usage"]["input"] == 2000
    assert m["lines_changed"] == 4 and m["source_lines"] == 1  # the test file's 3 lines are not source
    s = changes[squash]
    assert (s["kind"], s["pr"], s["title"]) == ("squash", 12, "Retry uploads")
    assert s["usage"]["cost_usd"] == pytest.approx(1.5)
    assert changes[rebased_1]["kind"] == changes[rebased_2]["kind"] == "direct"
    assert changes[human]["ai"] is False and changes[human]["usage"] is None
    summary = data["summary"]
    assert summary["merged"] == 6 and summary["ai_merged"] == 4
    assert summary["cost_usd"] == pytest.approx(2.55)
    assert summary["cost_per_merged_change"] == pytest.approx(2.55 / 4)
    assert summary["median_ai_cost_usd"] == pytest.approx((0.2 + 0.75) / 2)
    assert summary["reverted"] == 0 and summary["revert_rate_ai"] == 0.0


def test_revert_by_full_sha(r: Repo) -> None:
    change = r.commit(f"Cache results\n\n{usage(2.0)}")
    kept = r.commit(f"Other work\n\n{usage(1.0)}")
    revert = r.revert(change)
    assert f"This reverts commit {change}" in git(r.path, "log", "-1", "--format=%B")
    changes = by_commit(data := history_json(r.path))
    assert changes[change]["reverted_by"] == revert
    assert changes[change]["reverted_at"] is not None
    assert changes[kept]["reverted_by"] is None
    s = data["summary"]
    assert (s["reverted"], s["ai_reverted"], s["ai_merged"]) == (1, 1, 2)
    # all AI cost (the reverted change's included) over AI-assisted changes kept
    assert s["cost_per_merged_change"] == pytest.approx(3.0 / 1)
    assert s["revert_rate_ai"] == pytest.approx(0.5)
    assert s["median_time_to_revert_hours"] == pytest.approx(2.0)


def test_revert_by_abbreviated_sha_of_a_commit_inside_a_merge(r: Repo) -> None:
    r.branch("topic")
    inner = r.commit(f"Part one\n\n{usage(0.4)}")
    r.commit(f"Part two\n\n{usage(0.6)}")
    merge = r.merge_pr(21, "topic", "Two part feature")
    revert = r.commit(f"Back out part one\n\nThis reverts commit {inner[:9]}.")
    changes = by_commit(history_json(r.path))
    assert changes[merge]["reverted_by"] == revert
    assert changes[revert]["reverted_by"] is None


def test_revert_of_a_merge_commit(r: Repo) -> None:
    r.branch("topic")
    r.commit(f"Work\n\n{usage(0.4)}")
    merge = r.merge_pr(5, "topic", "Merged feature")
    revert = r.revert(merge, "-m", "1")
    assert "reversing" in git(r.path, "log", "-1", "--format=%B")
    changes = by_commit(history_json(r.path))
    assert changes[merge]["reverted_by"] == revert


def test_github_revert_pr_by_number(r: Repo) -> None:
    squash = r.commit(f"Feature flag (#7)\n\n{usage(1.2)}")
    revert_pr = r.commit('Revert "Feature flag" (#8)\n\nReverts acme/app#7')
    data = history_json(r.path)
    changes = by_commit(data)
    assert changes[squash]["reverted_by"] == revert_pr
    assert changes[revert_pr]["pr"] == 8 and changes[revert_pr]["reverted_by"] is None
    found = reverts_in_range(r.path, squash, "main")
    assert [(x.pr, x.commit, x.reverted_by) for x in found] == [(7, squash, revert_pr)]
    assert found[0].ai_cost_usd == pytest.approx(1.2)


def test_revert_of_a_revert_relands_and_a_third_revert_reverts_again(r: Repo) -> None:
    change = r.commit(f"Search index\n\n{usage(3.0)}")
    first = r.revert(change)
    reland = r.revert(first)  # git writes 'Revert "Revert ..."' (or 'Reapply "..."' on newer git)
    assert by_commit(history_json(r.path))[change]["reverted_by"] is None
    again = r.revert(reland)
    assert by_commit(history_json(r.path))[change]["reverted_by"] == again


def test_reapply_subject_relands_a_reverted_pr(r: Repo) -> None:
    squash = r.commit(f"Dark mode (#30)\n\n{usage(0.9)}")
    revert = r.commit('Revert "Dark mode" (#31)\n\nReverts acme/app#30')
    r.commit(f'Reapply "Dark mode" (#32)\n\nThis reverts commit {revert}.')
    data = history_json(r.path)
    assert by_commit(data)[squash]["reverted_by"] is None
    assert data["summary"]["reverted"] == 0


def test_revert_after_until_still_counts_and_older_changes_stay_out(r: Repo) -> None:
    old = r.commit(f"Old change\n\n{usage(5.0)}")
    r.now += timedelta(days=30)
    inside = r.commit(f"Inside the window\n\n{usage(1.0)}")
    r.now += timedelta(days=30)
    revert = r.revert(inside)
    since = (T0 + timedelta(days=20)).date().isoformat()
    until = (T0 + timedelta(days=40)).date().isoformat()
    data = history_json(r.path, "--since", since, "--until", until)
    commits = [c["commit"] for c in data["changes"]]
    assert commits == [inside]
    assert data["changes"][0]["reverted_by"] == revert
    assert old not in commits and revert not in commits
    assert data["summary"]["cost_usd"] == pytest.approx(1.0)
    assert data["summary"]["cost_per_merged_change"] is None  # the only AI change was reverted
    assert (data["since"], data["until"]) == (since, f"{until}T23:59:59Z")


def test_repository_without_trailers_uses_co_authored_by_markers(r: Repo) -> None:
    ai = r.commit("Generated migration\n\nCo-Authored-By: Claude <noreply@anthropic.com>")
    aider = r.commit("Refactor by aider\n\nCo-authored-by: aider (gpt-4o) <noreply@aider.chat>")
    human = r.commit("Hand written")
    r.revert(ai)
    data = history_json(r.path)
    changes = by_commit(data)
    assert changes[ai]["ai"] is True and changes[ai]["usage"] is None
    assert changes[aider]["ai"] is True
    assert changes[human]["ai"] is False
    s = data["summary"]
    assert (s["ai_merged"], s["ai_reverted"]) == (2, 1)
    # Unknown is never $0: no AI-assisted change has a known cost, so the spend is unknown and counted.
    assert s["cost_usd"] is None and s["cost_per_merged_change"] is None and s["median_ai_cost_usd"] is None
    assert (s["ai_cost_known"], s["ai_cost_unknown"], s["ai_usage_unknown"]) == (0, 2, 2)
    assert s["revert_rate_ai"] == pytest.approx(0.5)
    assert s["revert_rate_other"] == pytest.approx(0.0)
    table = run_cli("history", "--since", "all", cwd=r.path)
    assert table.returncode == 0 and "cost per merged change" in table.stdout


def test_second_run_reads_only_new_commits_from_git(r: Repo) -> None:
    r.branch("topic")
    r.commit(f"Side\n\n{usage(0.3)}")
    r.merge_pr(3, "topic", "Side feature")
    for i in range(4):
        r.commit(f"Change {i}\n\n{usage(0.1)}")
    first = run_cli("history", "--since", "all", "-v", cwd=r.path)
    assert "parsed 7 commits" in first.stderr and "0 changes from the cache" in first.stderr
    cache = Path(git(r.path, "rev-parse", "--git-common-dir"))
    assert (r.path / cache / "commitledger" / "cache.sqlite").is_file()
    second = run_cli("history", "--since", "all", "-v", cwd=r.path)
    assert "parsed 0 commits in 0 git log run(s); 6 changes from the cache" in second.stderr
    assert first.stdout == second.stdout
    change = r.commit(f"New\n\n{usage(0.1)}")
    r.revert(change)
    third = run_cli("history", "--since", "all", "-v", "--format", "json", cwd=r.path)
    assert "parsed 2 commits in 1 git log run(s); 6 changes from the cache" in third.stderr
    assert by_commit(json.loads(third.stdout))[change]["reverted_by"] is not None


def test_csv_has_one_row_per_change(r: Repo) -> None:
    r.commit(f'Quote "this", please\n\n{usage(0.5)}')
    proc = run_cli("history", "--since", "all", "--format", "csv", cwd=r.path)
    rows = proc.stdout.splitlines()
    assert rows[0].startswith("commit,pr,kind,title,merged_at,ai,cost_usd")
    assert len(rows) == 3
    assert '"Quote ""this"", please"' in rows[1] and ",0.5," in rows[1]


def test_user_errors_are_one_line(r: Repo, tmp_path: Path) -> None:
    for args, expected in ((["--branch", "nope"], "unknown branch 'nope'"),
                           (["--since", "yesterday-ish"], "cannot read 'yesterday-ish' as a date")):
        proc = run_cli("history", *args, cwd=r.path)
        assert proc.returncode == 2
        assert proc.stderr.strip().count("\n") == 0 and expected in proc.stderr
    shallow = tmp_path / "shallow"
    r.commit("Second")
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{r.path}", str(shallow))
    proc = run_cli("history", cwd=shallow)
    assert proc.returncode == 2 and "shallow clone" in proc.stderr and proc.stderr.count("\n") == 1
    empty = tmp_path / "empty"
    git(tmp_path, "init", "-q", "-b", "main", str(empty))
    proc = run_cli("history", cwd=empty)
    assert proc.returncode == 2 and "no commits" in proc.stderr


def test_baseline_over_a_window(r: Repo) -> None:
    a = r.commit(f"A\n\n{usage(1.0)}", lines=10)
    r.commit(f"B\n\n{usage(3.0)}", lines=10)
    r.commit("Human change")
    r.revert(a)
    base = compute_baseline(r.path, "main", 30, now=r.now + timedelta(hours=1))
    assert base is not None
    assert base.ai_changes == 2
    assert base.median_ai_cost_usd == pytest.approx(2.0)
    assert base.cost_per_merged_change == pytest.approx(4.0)  # both costs over the one change kept
    assert base.median_cost_per_line == pytest.approx(0.2)
    assert base.revert_rate_ai == pytest.approx(0.5)
    assert compute_baseline(r.path, "main", 30, now=T0 - timedelta(days=1)) is None


# --- cross-check against git log --grep on generated histories -----------------------------


def _changes_of(path: Path) -> dict[str, str]:
    """commit -> the first-parent commit whose change contains it, computed with git alone."""
    owner: dict[str, str] = {}
    for line in git(path, "rev-list", "--first-parent", "--parents", "main").splitlines():
        sha, *parents = line.split()
        owner[sha] = sha
        if len(parents) > 1:
            for side in git(path, "rev-list", f"{parents[0]}..{parents[1]}").split():
                owner[side] = sha
    return owner


@pytest.mark.parametrize("seed", [1, 2])
def test_revert_detection_matches_git_log_grep(r: Repo, seed: int) -> None:
    rng = random.Random(seed)
    targets: list[str] = []
    for n in range(40):
        roll = rng.random()
        if roll < 0.25 and targets:
            victim = targets.pop(rng.randrange(len(targets)))
            ref = victim if rng.random() < 0.5 else victim[: rng.randint(7, 12)]
            r.commit(f"Back out {victim[:7]}\n\nThis reverts commit {ref}.")
        elif roll < 0.55:
            r.branch(f"t{n}")
            side = [r.commit(f"side {n}.{i}\n\n{usage(0.1)}") for i in range(rng.randint(1, 3))]
            r.merge_pr(n, f"t{n}", f"Topic {n}")
            targets.append(rng.choice(side + [r.head()]))
        else:
            targets.append(r.commit(f"Direct {n}\n\n{usage(0.2)}"))
    grep = git(r.path, "log", "--first-parent", "--grep=This reverts commit", "--format=%x00%B", "main")
    owner = _changes_of(r.path)
    expected = set()
    for message in grep.split("\x00"):
        for ref in re.findall(r"This reverts commit ([0-9a-f]{7,40})", message):
            full = git(r.path, "rev-parse", "--verify", ref + "^{commit}")
            expected.add(owner[full])
    data = history_json(r.path)
    found = {c["commit"] for c in data["changes"] if c["reverted_by"]}
    assert expected and found == expected
    assert data["summary"]["reverted"] == len(expected)


def test_history_of_another_branch_and_current_branch_default(r: Repo) -> None:
    r.branch("release")
    only_release = r.commit(f"Release fix\n\n{usage(0.7)}")
    r.checkout("main")
    main_only = r.commit("Main work")
    assert only_release in by_commit(history_json(r.path, "--branch", "release"))
    assert only_release not in by_commit(history_json(r.path))
    r.checkout("release")
    data = history_json(r.path)
    assert data["branch"] == "release" and main_only not in by_commit(data)


def test_load_history_counts_commits_parsed(r: Repo) -> None:
    for i in range(3):
        r.commit(f"c{i}")
    first = load_history(r.path, "main")
    assert first.counter.commits_parsed == 4
    second = load_history(r.path, "main")
    assert second.counter.commits_parsed == 0 and second.counter.changes_cached == 4
    uncached = load_history(r.path, "main", use_cache=False)
    assert uncached.counter.commits_parsed == 4
    assert [c.model_dump() for c in uncached.changes()] == [c.model_dump() for c in second.changes()]


def test_progress_is_silent_when_piped(r: Repo) -> None:
    out = run_cli("history", "--since", "all", cwd=r.path)
    assert out.stderr == ""


def test_cache_is_stitched_across_windows_and_branches(r: Repo) -> None:
    for i in range(6):
        r.commit(f"Old {i}\n\n{usage(0.1)}")
    middle = r.head()
    r.now += timedelta(days=60)
    for i in range(4):
        r.commit(f"New {i}\n\n{usage(0.2)}")
    recent = (r.now - timedelta(days=5)).date().isoformat()
    narrow = run_cli("history", "--since", recent, "-v", "--format", "json", cwd=r.path)
    assert "parsed 4 commits" in narrow.stderr  # only the window's stretch of the chain was read
    wide = run_cli("history", "--since", "all", "-v", "--format", "json", cwd=r.path)
    assert "parsed 7 commits in 1 git log run(s); 4 changes from the cache" in wide.stderr
    uncached = run_cli("history", "--since", "all", "--no-cache", "--format", "json", cwd=r.path)
    assert json.loads(wide.stdout) == json.loads(uncached.stdout)
    git(r.path, "branch", "old", middle)  # a tip in the middle of a cached stretch
    old = run_cli("history", "--since", "all", "--branch", "old", "-v", "--format", "json", cwd=r.path)
    assert "parsed 0 commits" in old.stderr
    assert [c["commit"] for c in json.loads(old.stdout)["changes"]][0] == middle
    assert len(json.loads(old.stdout)["changes"]) == 7


def test_git_ai_note_marks_a_change_ai_assisted(r: Repo) -> None:
    plain = r.commit("Looks hand written")
    assert by_commit(history_json(r.path))[plain]["ai"] is False
    git(r.path, "notes", "--ref=refs/notes/ai", "add", "-m", "agent: cursor", plain)
    assert by_commit(history_json(r.path))[plain]["ai"] is True


def test_subject_fallbacks_and_unknown_shas(r: Repo) -> None:
    titled = r.commit(f"Tune the cache\n\n{usage(0.3)}")
    r.branch("topic")
    r.commit(f"Topic work\n\n{usage(0.2)}")
    merge = r.merge_pr(40, "topic", "Topic feature")
    stranger = r.commit("Unrelated\n\nThis reverts commit 0123456789abcdef0123456789abcdef01234567.")
    by_title = r.commit('Revert "Tune the cache"')  # no sha, no PR: the subject names the change
    by_merge_subject = r.commit('Revert "Merge pull request #40 from dev/topic"')
    for _ in range(2):  # cold, then from the cache
        changes = by_commit(history_json(r.path))
        assert changes[titled]["reverted_by"] == by_title
        assert changes[merge]["reverted_by"] == by_merge_subject
        assert changes[stranger]["reverted_by"] is None
        assert sum(1 for c in changes.values() if c["reverted_by"]) == 2
