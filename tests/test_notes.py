"""``commitledger note`` and how ``history`` reads ``refs/notes/commitledger`` (present, absent, malformed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from commitledger.git import notes
from conftest import commit_file, git, run_cli

USAGE = "AI-Usage: agent=claude-code model=claude-sonnet-4-5 input=1000 output=100 cost_usd={:.4f}"


def pr_result(cost: float, discarded: float | None = None, failed: int = 0) -> dict:
    return {
        "schema": "commitledger.pr/1", "base": "0" * 40, "head": "1" * 40, "commits": 2, "ai_commits": 2,
        "usage": {"input": 1000, "output": 100, "cache_read": None, "cache_write": None, "cost_usd": cost,
                  "sessions": 1, "prompts": 1, "requests": 3, "tool_calls": 2},
        "by_model": [], "lines": {"added": 3, "deleted": 1},
        "tests": {"passed": 41, "failed": failed, "errors": 0, "skipped": 2},
        "maintainability": {"files": [{"path": "src/a.py", "mi_before": 71.0, "mi_after": 64.5, "cc_before": 3,
                                       "cc_after": 6, "status": "flagged"}]},
        "reverts": [], "signals": [{"id": "mi-drop", "severity": "warning", "message": "MI fell"}],
        "baseline": None,
        "discarded": None if discarded is None else {"input": 500, "output": 50, "cost_usd": discarded},
    }


@pytest.fixture
def merged(repo: Path, tmp_path: Path) -> tuple[Path, str, str]:
    """A repository with a base commit and a squash-merged AI change on top."""
    base = commit_file(repo, "a.py", "x = 1\n", "Base")
    squash = commit_file(repo, "a.py", "x = 2\n", f"Faster parser (#4)\n\n{USAGE.format(2.0)}")
    return repo, base, squash


def write_json(path: Path, data: dict) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def history(repo: Path) -> dict:
    proc = run_cli("history", "--since", "all", "--format", "json", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_history_without_notes_has_no_test_results(merged: tuple[Path, str, str]) -> None:
    repo, _, squash = merged
    assert git(repo, "notes", "--ref=commitledger", "list") == ""
    data = history(repo)
    change = next(c for c in data["changes"] if c["commit"] == squash)
    assert change["tests"] is None
    assert data["summary"]["abandoned_cost_usd"] == 0


def test_note_on_a_squash_commit_shows_its_tests(merged: tuple[Path, str, str], tmp_path: Path) -> None:
    repo, _, squash = merged
    result = write_json(tmp_path / "result.json", pr_result(2.0, failed=1))
    proc = run_cli("note", squash, "--pr", "4", "--result", str(result), cwd=repo)
    assert proc.returncode == 0, proc.stderr
    stored = json.loads(git(repo, "notes", "--ref=commitledger", "show", squash))
    assert stored["schema"] == "commitledger.note/1"
    assert stored["change"]["pr"] == 4
    assert stored["change"]["tests"]["failed"] == 1
    assert stored["change"]["maintainability"]["files"][0]["mi_after"] == 64.5
    assert stored["change"]["signals"][0]["id"] == "mi-drop"
    change = next(c for c in history(repo)["changes"] if c["commit"] == squash)
    assert change["tests"] == {"passed": 41, "failed": 1, "errors": 0, "skipped": 2, "failures": [], "files": 0,
                               "warnings": []}
    table = run_cli("history", "--since", "all", cwd=repo)
    assert "41/42" in table.stdout


def test_abandoned_prs_on_one_merge_base_are_merged_and_counted(merged: tuple[Path, str, str], tmp_path: Path) -> None:
    repo, base, squash = merged
    for number, cost, discarded in ((9, 1.0, 0.5), (10, 3.0, None)):
        result = write_json(tmp_path / f"r{number}.json", pr_result(cost, discarded))
        proc = run_cli("note", base, "--abandoned", "--pr", str(number), "--result", str(result), cwd=repo)
        assert proc.returncode == 0, proc.stderr
    # the same PR recorded again replaces its own entry, never another PR's
    again = write_json(tmp_path / "again.json", pr_result(1.0, 0.5))
    run_cli("note", base, "--abandoned", "--pr", "9", "--result", str(again), cwd=repo)
    stored = json.loads(git(repo, "notes", "--ref=commitledger", "show", base))
    assert sorted(a["pr"] for a in stored["abandoned"]) == [9, 10]
    assert {a["pr"]: a["cost_usd"] for a in stored["abandoned"]} == {9: 1.5, 10: 3.0}
    # CI facts of a change landing on the same commit keep the abandoned entries
    run_cli("note", base, "--result", str(write_json(tmp_path / "c.json", pr_result(0.0))), cwd=repo)
    stored = json.loads(git(repo, "notes", "--ref=commitledger", "show", base))
    assert "change" in stored and len(stored["abandoned"]) == 2

    data = history(repo)
    s = data["summary"]
    assert s["abandoned_cost_usd"] == pytest.approx(4.5)
    assert s["cost_usd"] == pytest.approx(6.5)
    # AI cost of the merged change (2.0) plus the abandoned PRs (4.5) over the one AI change kept
    assert s["cost_per_merged_change"] == pytest.approx(6.5)
    assert s["merged"] == 2  # abandoned PRs are not merged changes
    abandoned = [c for c in data["changes"] if c["kind"] == "abandoned"]
    assert sorted(c["pr"] for c in abandoned) == [9, 10]


def test_malformed_notes_are_ignored(merged: tuple[Path, str, str]) -> None:
    repo, base, squash = merged
    git(repo, "notes", "--ref=commitledger", "add", "-m", "this is not json", squash)
    git(repo, "notes", "--ref=commitledger", "add", "-m", '{"schema": "commitledger.note/1", "change": [1], '
        '"abandoned": {"pr": 3}}', base)
    data = history(repo)
    assert all(c["tests"] is None for c in data["changes"])
    assert data["summary"]["abandoned_cost_usd"] == 0
    report = run_cli("report", "--html", str(repo.parent / "r.html"), "--since", "all", cwd=repo)
    assert report.returncode == 0, report.stderr
    # a malformed note is replaced by a well-formed one when CI writes again
    run_cli("note", squash, "--pr", "4", cwd=repo)
    assert json.loads(git(repo, "notes", "--ref=commitledger", "show", squash))["change"]["pr"] == 4


def test_note_errors_are_one_line(merged: tuple[Path, str, str], tmp_path: Path) -> None:
    repo, _, squash = merged
    cases = [
        (["nope"], "unknown revision 'nope'"),
        ([squash, "--result", str(tmp_path / "missing.json")], "cannot read"),
        ([squash, "--result", str(write_json(tmp_path / "other.json", {"schema": "x"}))], "is not a 'commitledger pr"),
        ([squash, "--abandoned"], "--abandoned needs --pr"),
    ]
    for args, expected in cases:
        proc = run_cli("note", *args, cwd=repo)
        assert proc.returncode == 2, proc.stderr
        assert expected in proc.stderr and proc.stderr.count("\n") == 1


def test_merge_note_and_parse_note_are_pure() -> None:
    first = notes.merge_note(None, abandoned={"pr": 1, "cost_usd": 1.0})
    second = notes.merge_note(first, abandoned={"pr": 2, "cost_usd": 2.0})
    third = notes.merge_note(second, change={"pr": 5})
    assert [a["pr"] for a in third["abandoned"]] == [1, 2] and third["change"] == {"pr": 5}
    assert notes.parse_note("[]") is None
    assert notes.parse_note('{"schema": "other/1"}') is None
    assert notes.parse_note('{"schema": "commitledger.note/1", "abandoned": [1, {"pr": 2}]}')["abandoned"] == [{"pr": 2}]


def test_note_takes_the_pr_number_from_a_squash_subject(merged: tuple[Path, str, str]) -> None:
    repo, _, squash = merged
    assert run_cli("note", squash, cwd=repo).returncode == 0
    assert json.loads(git(repo, "notes", "--ref=commitledger", "show", squash))["change"]["pr"] == 4


def test_notes_merged_by_cat_sort_uniq_keep_both_writers(merged: tuple[Path, str, str], tmp_path: Path) -> None:
    """Two CI jobs noted the same merge-base concurrently; git's line-wise merge joins their JSON lines."""
    repo, base, _ = merged
    mine = write_json(tmp_path / "mine.json", pr_result(1.0))
    assert run_cli("note", base, "--abandoned", "--pr", "51", "--result", str(mine), cwd=repo).returncode == 0
    theirs = notes.merge_note(None, abandoned=notes.abandoned_facts(52, pr_result(2.0), "2026-01-01T00:00:00Z"))
    git(repo, "notes", "--ref=theirs", "add", "-m", json.dumps(theirs, separators=(",", ":")), base)
    git(repo, "notes", "--ref=commitledger", "merge", "-q", "-s", "cat_sort_uniq", "refs/notes/theirs")
    assert len(git(repo, "notes", "--ref=commitledger", "show", base).splitlines()) == 2
    data = history(repo)
    assert sorted(c["pr"] for c in data["changes"] if c["kind"] == "abandoned") == [51, 52]
    assert data["summary"]["abandoned_cost_usd"] == pytest.approx(3.0)
