"""The record survives every merge method: a PR's usage in ``history`` equals what its comment said, once.

One pull request, built for real once per module: three AI-assisted commits
and a force-push that replaced one of them (discarded work), scored twice by
the Action's pull_request flow against the loopback GitHub, so its comment's
marker carries the discarded work. Each test then merges it one way (merge
commit, squash under each of GitHub's four settings, an edited message,
rebase-merge, ``git merge --squash``), runs the Action's push flow in a CI
clone, and reads ``history`` in a fresh clone that fetched the notes.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest

from commitledger.render.marker import parse_marker
from conftest import commit_file, git, run_cli
from fake_github import FakeGitHub
from test_action_entry import PR, REPO, TOKEN, parse_outputs, pr_event, run_entry, usage_line

NOTES = "refs/notes/commitledger"
TITLE = "Add widgets"
# (title, message) as GET /repos shows them for each of the four settings in GitHub's UI.
SETTINGS = {
    "default": ("COMMIT_OR_PR_TITLE", "COMMIT_MESSAGES"),
    "title-and-details": ("PR_TITLE", "COMMIT_MESSAGES"),
    "title": ("PR_TITLE", "BLANK"),
    "title-and-description": ("PR_TITLE", "PR_BODY"),
}


def _env_for(root: Path, mp: pytest.MonkeyPatch) -> None:
    home = root / "home"
    home.mkdir()
    config = home / ".gitconfig"
    config.write_text("[user]\n\tname = Test User\n\temail = test@example.com\n[init]\n\tdefaultBranch = main\n"
                      "[commit]\n\tgpgsign = false\n", encoding="utf-8")
    mp.setenv("HOME", str(home))
    mp.setenv("GIT_CONFIG_GLOBAL", str(config))
    mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GITHUB_TOKEN", "GITHUB_API_URL"):
        mp.delenv(var, raising=False)


@pytest.fixture(scope="module")
def pr_state(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The PR as GitHub would hold it: origin with refs/pull/5/head, and the comment of its last run."""
    root = tmp_path_factory.mktemp("pr-state")
    with pytest.MonkeyPatch.context() as mp, FakeGitHub() as gh:
        _env_for(root, mp)
        gh.add_token(TOKEN)
        origin = root / "origin.git"
        git(root, "init", "-q", "--bare", "-b", "main", str(origin))
        author = root / "author"
        git(root, "clone", "-q", str(origin), str(author))
        base = commit_file(author, "src/app.py", "def f():\n    return 1\n", "Base")
        git(author, "push", "-q", "origin", "main")
        git(author, "checkout", "-q", "-b", "feature")
        a = commit_file(author, "src/a.py", "A = 1\n", f"Change a\n\n{usage_line('1.0000', 1001)}")
        b = commit_file(author, "src/b.py", "B = 1\n", f"Change b\n\n{usage_line('2.0000', 1002)}")
        x = commit_file(author, "src/x.py", "X = 1\n", f"Try x\n\n{usage_line('0.4000', 1003)}")
        git(author, "push", "-q", "origin", "feature", f"{x}:refs/pull/{PR}/head")
        gh.add_pull(REPO, PR, head=x, base=base)
        first, *_ = run_entry(root / "pr1", author, gh, "pull_request", pr_event(base, x))
        assert first.returncode == 0, first.stdout + first.stderr

        git(author, "reset", "-q", "--hard", b)  # the force-push: x is replaced by c
        c = commit_file(author, "src/c.py", "C = 1\n", f"Change c\n\n{usage_line('0.7500', 1004)}")
        git(author, "push", "-q", "-f", "origin", "feature", f"+{c}:refs/pull/{PR}/head")
        gh.set_head(REPO, PR, c)
        second, _, outputs, out_dir = run_entry(root / "pr2", author, gh, "pull_request", pr_event(base, c))
        assert second.returncode == 0, second.stdout + second.stderr
        result = json.loads((out_dir / "result.json").read_text())
        [comment] = gh.comments_of(REPO, PR)

        git(author, "checkout", "-q", "main")
        unrelated = commit_file(author, "README", "hello\n", "Unrelated work on main")
        git(author, "push", "-q", "origin", "main")
    marker = parse_marker(comment["body"])  # what the comment recorded: this head's work and the discarded
    assert marker is not None and marker.head == c
    tokens = sum(u.tokens for u in [*marker.digest.values(), *marker.discarded.values()])
    return {"origin": origin, "base": base, "commits": [a, b, c], "head": c, "before": unrelated,
            "comment": comment["body"], "cost": float(parse_outputs(outputs)["cost-usd"]), "tokens": tokens,
            "discarded_cost": sum(u.cost_usd or 0 for u in marker.discarded.values()), "result": result}


def test_the_comment_counted_the_discarded_work(pr_state: dict[str, Any]) -> None:
    assert pr_state["cost"] == pytest.approx(1.0 + 2.0 + 0.75 + 0.40)
    assert pr_state["discarded_cost"] == pytest.approx(0.40)
    assert "discarded" in pr_state["comment"]


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with FakeGitHub() as server:
        server.add_token(TOKEN)
        yield server


def messages(repo: Path, shas: list[str]) -> list[str]:
    return [git(repo, "log", "-1", "--format=%B", sha) for sha in shas]


def squash(merger: Path, message: str) -> list[str]:
    git(merger, "merge", "-q", "--squash", "origin/feature")
    git(merger, "commit", "-q", "-m", message)
    return [git(merger, "rev-parse", "HEAD")]


def github_squash_body(merger: Path, shas: list[str]) -> str:
    """GitHub's COMMIT_MESSAGES body: each commit's message, its subject bulleted."""
    return "\n\n".join("* " + text.strip() for text in messages(merger, shas))


def merge_as(method: str, merger: Path, state: dict[str, Any]) -> list[str]:
    """Land the PR on main as ``method`` would; the new first-parent commits, oldest first."""
    shas = state["commits"]
    if method in ("default", "title-and-details"):
        return squash(merger, f"{TITLE} (#{PR})\n\n{github_squash_body(merger, shas)}")
    if method == "title":
        return squash(merger, f"{TITLE} (#{PR})")
    if method == "title-and-description":
        return squash(merger, f"{TITLE} (#{PR})\n\nThis adds the widgets the dashboard needs.")
    if method == "edited":  # whoever merged kept the first commit's text only
        return squash(merger, f"{TITLE} (#{PR})\n\n* {messages(merger, shas[:1])[0].strip()}")
    if method == "merge":
        git(merger, "merge", "-q", "--no-ff", "origin/feature", "-m", f"Merge pull request #{PR} from octo/feature\n\n{TITLE}")
        return [git(merger, "rev-parse", "HEAD")]
    if method == "rebase":
        env_date = {"GIT_COMMITTER_DATE": "2030-01-01T00:00:00Z"}
        import os

        git(merger, "cherry-pick", *shas, env={**os.environ, **env_date})
        return git(merger, "rev-list", "--reverse", "--first-parent", f"{state['before']}..HEAD").split()
    if method == "merge-squash":  # git's own squash: SQUASH_MSG indents every original message
        git(merger, "merge", "-q", "--squash", "origin/feature")
        git(merger, "commit", "-q", "--no-edit")
        return [git(merger, "rev-parse", "HEAD")]
    raise AssertionError(method)


def land(tmp_path: Path, gh: FakeGitHub, state: dict[str, Any], method: str,
         setting: str = "default") -> tuple[Path, list[str], str]:
    """Merge on a copy of origin, tell the fake GitHub, run the push flow; (origin, new commits, summary)."""
    origin = tmp_path / "origin.git"
    shutil.copytree(state["origin"], origin)
    merger = tmp_path / "merger"
    git(tmp_path, "clone", "-q", str(origin), str(merger))
    landed = merge_as(method, merger, state)
    assert "AI-Usage" not in git(merger, "log", "-1", "--format=%B") or method not in ("title", "title-and-description")
    git(merger, "push", "-q", "origin", "main")
    gh.add_pull(REPO, PR, head=state["head"], base=state["base"], merge_commit_sha=landed[-1],
                merged_at="2030-01-01T00:00:00Z")
    gh.add_comment(REPO, PR, state["comment"])
    for sha in landed:
        gh.associate(REPO, sha, PR)
    title, message = SETTINGS[setting]
    gh.set_settings(REPO, allow_squash_merge=True, allow_merge_commit=True, allow_rebase_merge=True,
                    squash_merge_commit_title=title, squash_merge_commit_message=message)
    ci = tmp_path / "ci"
    git(tmp_path, "clone", "-q", str(origin), str(ci))
    event = {"ref": "refs/heads/main", "before": state["before"], "after": landed[-1],
             "repository": {"full_name": REPO, "default_branch": "main"}}
    proc, summary, *_ = run_entry(tmp_path / "push", ci, gh, "push", event)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return origin, landed, summary.read_text(encoding="utf-8")


def history_of_fresh_clone(tmp_path: Path, origin: Path, name: str = "reader") -> dict[str, Any]:
    reader = tmp_path / name
    git(tmp_path, "clone", "-q", str(origin), str(reader))
    git(reader, "fetch", "-q", "origin", f"{NOTES}:{NOTES}")
    proc = run_cli("history", "--since", "all", "--format", "json", cwd=reader)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


CASES = [
    # (method, squash setting, where the PR's usage comes from on its last landed commit)
    ("default", "default", "trailers+notes"),
    ("title-and-details", "title-and-details", "trailers+notes"),
    ("title", "title", "notes"),
    ("title-and-description", "title-and-description", "notes"),
    ("edited", "default", "notes"),
    ("merge", "default", "trailers+notes"),
    ("rebase", "default", "trailers+notes"),
    ("merge-squash", "default", "trailers+notes"),
]


@pytest.mark.parametrize(("method", "setting", "source"), CASES, ids=[c[0] for c in CASES])
def test_history_shows_what_the_comment_did(tmp_path: Path, gh: FakeGitHub, pr_state: dict[str, Any],
                                            method: str, setting: str, source: str) -> None:
    origin, landed, summary = land(tmp_path, gh, pr_state, method, setting)
    data = history_of_fresh_clone(tmp_path, origin)
    ours = [c for c in data["changes"] if c["commit"] in landed]
    assert len(ours) == len(landed)
    cost = sum(c["usage"]["cost_usd"] for c in ours if c["usage"])
    tokens = sum(sum(c["usage"][k] or 0 for k in ("input", "output", "cache_read", "cache_write"))
                 for c in ours if c["usage"])
    assert cost == pytest.approx(pr_state["cost"])  # discarded work included, nothing twice
    assert tokens == pr_state["tokens"]
    assert data["summary"]["cost_usd"] == pytest.approx(pr_state["cost"])  # nothing else counted anywhere
    last = next(c for c in ours if c["commit"] == landed[-1])
    assert last["usage_source"] == source and last["ai"] is True
    assert all(c["usage_source"] == "trailers" for c in ours if c["commit"] != landed[-1])
    dropping = setting in ("title", "title-and-description")
    assert ("drops the commits' AI-Usage lines" in summary) is dropping
    assert f"#{PR}:" in summary


def test_redelivered_push_and_a_second_reader_count_once(tmp_path: Path, gh: FakeGitHub,
                                                         pr_state: dict[str, Any]) -> None:
    origin, landed, _ = land(tmp_path, gh, pr_state, "title", "title")
    note = git(origin, "notes", f"--ref={NOTES}", "show", landed[-1])
    entry = json.loads(note)["usage"]
    assert entry["source"] == "pr-head" and entry["pr"] == PR and entry["head"] == pr_state["head"]
    assert entry["lines"] == 3 and entry["discarded_commits"] == 1
    ci = tmp_path / "ci"
    event = {"ref": "refs/heads/main", "before": pr_state["before"], "after": landed[-1],
             "repository": {"full_name": REPO, "default_branch": "main"}}
    again, *_ = run_entry(tmp_path / "push2", ci, gh, "push", event)
    assert again.returncode == 0, again.stdout + again.stderr
    assert json.loads(git(origin, "notes", f"--ref={NOTES}", "show", landed[-1]))["usage"] == entry
    data = history_of_fresh_clone(tmp_path, origin, "reader2")
    assert data["summary"]["cost_usd"] == pytest.approx(pr_state["cost"])
    assert data["summary"]["ai_merged"] == 1
    reader = tmp_path / "reader2"
    table = run_cli("history", "--since", "all", cwd=reader)
    assert table.returncode == 0 and "usage from notes" in table.stdout and "$4.15" in table.stdout
    report = run_cli("report", "--html", str(tmp_path / "report.html"), "--since", "all", cwd=reader)
    assert report.returncode == 0, report.stderr
    assert "$4.15" in (tmp_path / "report.html").read_text(encoding="utf-8")
    # The next PR's comment compares with a baseline that counts the recovered usage.
    git(reader, "checkout", "-q", "-b", "next")
    commit_file(reader, "src/n.py", "N = 1\n", f"Next\n\n{usage_line('1.0000', 5001)}")
    scored = run_cli("pr", "--base", "main", "--head", "HEAD", "--format", "json", cwd=reader)
    assert scored.returncode == 0, scored.stderr
    baseline = json.loads(scored.stdout)["baseline"]
    assert baseline["ai_changes"] == 1 and baseline["median_ai_cost_usd"] == pytest.approx(pr_state["cost"])


def test_merge_queue_lands_two_prs_in_one_push_each_counted_once(tmp_path: Path, gh: FakeGitHub,
                                                                 pr_state: dict[str, Any]) -> None:
    """A merge queue squashes #5 and #6 on gh-readonly-queue/main/… and fast-forwards main to both at once."""
    origin = tmp_path / "origin.git"
    shutil.copytree(pr_state["origin"], origin)
    merger = tmp_path / "merger"
    git(tmp_path, "clone", "-q", str(origin), str(merger))
    git(merger, "checkout", "-q", "-b", "six", "origin/main")
    six_head = commit_file(merger, "src/six.py", "S = 1\n", f"Six\n\n{usage_line('0.2500', 3001)}")
    git(merger, "push", "-q", "origin", f"{six_head}:refs/pull/6/head")
    git(merger, "checkout", "-q", "-b", "gh-readonly-queue/main/pr-5-abc", "origin/main")
    [five] = squash(merger, f"{TITLE} (#{PR})")
    git(merger, "merge", "-q", "--squash", "six")
    git(merger, "commit", "-q", "-m", "Six, renamed when queued")  # no (#6): only GitHub knows it is #6
    six = git(merger, "rev-parse", "HEAD")
    git(merger, "push", "-q", "origin", "HEAD:refs/heads/gh-readonly-queue/main/pr-5-abc", "HEAD:main")
    gh.add_pull(REPO, PR, head=pr_state["head"], base=pr_state["base"], merge_commit_sha=five,
                merged_at="2030-01-01T00:00:00Z")
    gh.add_comment(REPO, PR, pr_state["comment"])
    gh.add_pull(REPO, 6, head=six_head, merge_commit_sha=six, merged_at="2030-01-01T00:00:01Z")
    gh.associate(REPO, five, PR)
    gh.associate(REPO, six, 6)
    gh.set_settings(REPO, allow_squash_merge=True, squash_merge_commit_title="PR_TITLE",
                    squash_merge_commit_message="BLANK")
    ci = tmp_path / "ci"
    git(tmp_path, "clone", "-q", str(origin), str(ci))
    queue = {"ref": "refs/heads/gh-readonly-queue/main/pr-5-abc", "before": "0" * 40, "after": six,
             "repository": {"full_name": REPO, "default_branch": "main"}}
    ignored, *_ = run_entry(tmp_path / "queue", ci, gh, "push", queue)
    assert ignored.returncode == 0 and "not the default branch" in ignored.stdout
    event = {**queue, "ref": "refs/heads/main", "before": pr_state["before"]}
    proc, summary, *_ = run_entry(tmp_path / "push", ci, gh, "push", event)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "- #5:" in summary.read_text() and "- #6:" in summary.read_text()
    data = history_of_fresh_clone(tmp_path, origin)
    by_commit = {c["commit"]: c for c in data["changes"]}
    assert by_commit[five]["usage"]["cost_usd"] == pytest.approx(pr_state["cost"])
    assert by_commit[six]["usage"]["cost_usd"] == pytest.approx(0.25)
    assert data["summary"]["cost_usd"] == pytest.approx(pr_state["cost"] + 0.25)


def test_without_a_token_the_pr_is_found_from_its_message(tmp_path: Path, gh: FakeGitHub,
                                                          pr_state: dict[str, Any]) -> None:
    """No token: "(#5)" names the PR and refs/pull/5/head still gives its lines; the comment's discarded
    work cannot be read, and the summary says where PRs were found."""
    origin = tmp_path / "origin.git"
    shutil.copytree(pr_state["origin"], origin)
    merger = tmp_path / "merger"
    git(tmp_path, "clone", "-q", str(origin), str(merger))
    [five] = squash(merger, f"{TITLE} (#{PR})")
    git(merger, "push", "-q", "origin", "main")
    ci = tmp_path / "ci"
    git(tmp_path, "clone", "-q", str(origin), str(ci))
    event = {"ref": "refs/heads/main", "before": pr_state["before"], "after": five,
             "repository": {"full_name": REPO, "default_branch": "main"}}
    proc, summary, *_ = run_entry(tmp_path / "push", ci, gh, "push", event, token="")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert gh.requests == []
    assert "recovered from refs/pull/5/head" in summary.read_text()
    data = history_of_fresh_clone(tmp_path, origin)
    change = next(c for c in data["changes"] if c["commit"] == five)
    assert change["usage"]["cost_usd"] == pytest.approx(pr_state["cost"] - pr_state["discarded_cost"])
    assert change["usage_source"] == "notes"


def test_a_revert_of_a_title_only_squash_reports_the_recovered_spend(tmp_path: Path, gh: FakeGitHub,
                                                                     pr_state: dict[str, Any]) -> None:
    origin, landed, _ = land(tmp_path, gh, pr_state, "title", "title")
    ci = tmp_path / "ci"
    git(ci, "pull", "-q", "--ff-only", "origin", "main")
    git(ci, "fetch", "-q", "origin", f"+{NOTES}:{NOTES}")
    git(ci, "revert", "--no-edit", landed[-1])
    revert = git(ci, "rev-parse", "HEAD")
    git(ci, "push", "-q", "origin", "main")
    event = {"ref": "refs/heads/main", "before": landed[-1], "after": revert,
             "repository": {"full_name": REPO, "default_branch": "main"}}
    proc, *_ = run_entry(tmp_path / "revert", ci, gh, "push", event)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    body = gh.comments_of(REPO, PR)[0]["body"]
    assert f"**Reverted** by `{revert[:12]}`" in body and "$4.15 of AI spend undone" in body


def test_pull_request_summary_says_the_setting_drops_lines(tmp_path: Path, gh: FakeGitHub,
                                                           pr_state: dict[str, Any]) -> None:
    origin = tmp_path / "origin.git"
    shutil.copytree(pr_state["origin"], origin)
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", str(origin), str(work))
    git(work, "checkout", "-q", "feature")
    gh.add_pull(REPO, PR, head=pr_state["head"], base=pr_state["base"])
    gh.set_settings(REPO, allow_squash_merge=True, squash_merge_commit_title="PR_TITLE",
                    squash_merge_commit_message="PR_BODY")
    proc, summary, *_ = run_entry(tmp_path / "pr", work, gh, "pull_request", pr_event(pr_state["base"], pr_state["head"]))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = summary.read_text(encoding="utf-8")
    assert "\u201cPull request title and description\u201d, which drops the commits' AI-Usage lines" in text
    assert text.count("drops the commits' AI-Usage lines") == 1


def test_push_summary_says_when_notes_are_not_pushed(tmp_path: Path, gh: FakeGitHub, pr_state: dict[str, Any]) -> None:
    origin = tmp_path / "origin.git"
    shutil.copytree(pr_state["origin"], origin)
    hook = origin / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\nwhile read old new ref; do case \"$ref\" in refs/notes/*) exit 1;; esac; done\n",
                    encoding="utf-8")
    hook.chmod(0o755)
    merger = tmp_path / "merger"
    git(tmp_path, "clone", "-q", str(origin), str(merger))
    [five] = squash(merger, f"{TITLE} (#{PR})")
    git(merger, "push", "-q", "origin", "main")
    ci = tmp_path / "ci"
    git(tmp_path, "clone", "-q", str(origin), str(ci))
    event = {"ref": "refs/heads/main", "before": pr_state["before"], "after": five,
             "repository": {"full_name": REPO, "default_branch": "main"}}
    proc, summary, *_ = run_entry(tmp_path / "push", ci, gh, "push", event)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "notes not pushed: readers will not see them" in summary.read_text(encoding="utf-8")


def test_stacked_pr_squashed_after_the_lower_one_counts_only_its_own_commits(
    tmp_path: Path, gh: FakeGitHub, pr_state: dict[str, Any]
) -> None:
    """#6 was opened on top of #5's branch; after #5's title-only squash it still holds #5's original
    commits. Its note must count only its own commit."""
    origin, landed, _ = land(tmp_path, gh, pr_state, "title", "title")
    merger = tmp_path / "merger"
    git(merger, "checkout", "-q", "-b", "six", "origin/feature")
    six_head = commit_file(merger, "src/d.py", "D = 1\n", f"Change d\n\n{usage_line('0.6000', 4001)}")
    git(merger, "push", "-q", "origin", f"{six_head}:refs/pull/6/head")
    git(merger, "checkout", "-q", "main")
    [six] = squash_branch(merger, "six", "Stacked change (#6)")
    git(merger, "push", "-q", "origin", "main")
    gh.add_pull(REPO, 6, head=six_head, merge_commit_sha=six, merged_at="2030-01-02T00:00:00Z")
    gh.associate(REPO, six, 6)
    ci = tmp_path / "ci"
    git(ci, "pull", "-q", "--ff-only", "origin", "main")
    event = {"ref": "refs/heads/main", "before": landed[-1], "after": six,
             "repository": {"full_name": REPO, "default_branch": "main"}}
    proc, *_ = run_entry(tmp_path / "push6", ci, gh, "push", event)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    entry = json.loads(git(origin, "notes", f"--ref={NOTES}", "show", six))["usage"]
    assert entry["lines"] == 1 and len(entry["keys"]) == 1
    data = history_of_fresh_clone(tmp_path, origin)
    by_commit = {c["commit"]: c for c in data["changes"]}
    assert by_commit[six]["usage"]["cost_usd"] == pytest.approx(0.60)
    assert data["summary"]["cost_usd"] == pytest.approx(pr_state["cost"] + 0.60)


def squash_branch(merger: Path, branch: str, message: str) -> list[str]:
    git(merger, "merge", "-q", "--squash", branch)
    git(merger, "commit", "-q", "-m", message)
    return [git(merger, "rev-parse", "HEAD")]
