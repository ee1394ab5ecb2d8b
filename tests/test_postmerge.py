"""The post-merge decision as pure functions: which lines landed, what the note covers, what settings drop."""

from __future__ import annotations

from collections import Counter

import pytest

from commitledger.github.client import MergedPull, MergeSettings
from commitledger.github.postmerge import PrWork, canonical_lines, decide, pick_merged, settings_warning
from commitledger.history.scan import message_usage
from commitledger.ledger.trailers import parse_usage_lines
from commitledger.ledger.usage import Usage

A = "AI-Usage: agent=claude-code model=claude-sonnet-4-5 input=1000 output=100 cost_usd=1.0000"
B = "AI-Usage: agent=codex model=gpt-5-codex input=2000 output=200 cost_usd=2.0000"
C = "AI-Usage: agent=claude-code model=claude-sonnet-4-5 input=3000 output=300 cost_usd=0.5000"


def work(*lines: str) -> PrWork:
    out = PrWork(number=7, head="f" * 40, commits=len(lines))
    for text in lines:
        for line, usage in canonical_lines(text):
            out.lines[line] += 1
            out.line_usage.setdefault(line, usage)
    return out


def landed(*messages: str) -> Counter[str]:
    found: Counter[str] = Counter()
    for message in messages:
        found.update(line for line, _ in canonical_lines(message))
    return found


def test_git_merge_squash_indented_form_is_read_once() -> None:
    """SQUASH_MSG indents each original message by four spaces; each line counts once, wherever it stands."""
    message = ("Squashed commit of the following:\n\ncommit 1111\nAuthor: A <a@x>\nDate:   Mon\n\n    Change a\n\n"
               f"    {A}\n\ncommit 2222\nAuthor: A <a@x>\nDate:   Mon\n\n    Change b\n\n    {B}\n")
    assert [line.format() for line in parse_usage_lines(message)] == [A, B]
    vec = message_usage(message)
    assert vec is not None and vec[8] == pytest.approx(3.0)  # history's fast reader agrees
    assert landed(message) == landed(A, B)  # indentation never makes two lines differ


def test_every_line_kept_and_nothing_discarded_writes_nothing() -> None:
    decision = decide(work(A, B), ["s" * 40], [landed(f"Title (#7)\n\n* a\n\n{A}\n\n* b\n\n{B}")], {}, "t")
    assert decision.entry is None and decision.reason == "kept"


def test_dropped_lines_note_the_whole_pr_plus_discarded() -> None:
    discarded = {"k1": Usage(input=10, output=1, cost_usd=0.25)}
    decision = decide(work(A, B, C), ["s" * 40], [landed("Title (#7)")], discarded, "t")
    assert decision.reason == "dropped" and decision.missing_lines == 3
    entry = decision.entry
    assert entry is not None and entry["source"] == "pr-head" and entry["lines"] == 3 and entry["pr"] == 7
    assert entry["usage"]["cost_usd"] == pytest.approx(3.5) and entry["discarded"]["cost_usd"] == pytest.approx(0.25)
    assert decision.cost_usd == pytest.approx(3.75)


def test_an_edited_message_that_kept_one_line_is_replaced_whole() -> None:
    decision = decide(work(A, B), ["s" * 40], [landed(f"Title (#7)\n\n{A}")], {}, "t")
    assert decision.reason == "dropped" and decision.missing_lines == 1
    assert decision.entry is not None and decision.entry["lines"] == 2  # readers: 1 < 2, take the note's


def test_rebase_merge_note_covers_only_what_other_commits_do_not_carry() -> None:
    discarded = {"k1": Usage(cost_usd=0.4)}
    group = ["1" * 40, "2" * 40, "3" * 40]
    decision = decide(work(A, B, C), group, [landed(A), landed(B), landed(C)], discarded, "t")
    assert decision.commit == group[-1] and decision.reason == "discarded"
    entry = decision.entry
    assert entry is not None and entry["lines"] == 1  # C only: the last commit's own line, never read twice
    assert entry["usage"]["cost_usd"] == pytest.approx(0.5)
    assert decision.cost_usd == pytest.approx(0.4)  # what the note adds on top of the messages


def test_same_line_twice_in_a_pr_is_two_lines() -> None:
    """Two commits with identical usage lines: the multiset keeps both, so one surviving copy is not enough."""
    decision = decide(work(A, A), ["s" * 40], [landed(f"T (#7)\n\n{A}")], {}, "t")
    assert decision.reason == "dropped" and decision.missing_lines == 1


def pull(number: int, merged: bool, sha: str | None, base: str = "main") -> MergedPull:
    return MergedPull(number=number, state="closed" if merged else "open",
                      merged_at="2026-01-01T00:00:00Z" if merged else None, merge_commit_sha=sha,
                      head_sha="a" * 40, base_ref=base)


def test_pick_merged_prefers_the_pr_that_merged_the_commit() -> None:
    sha = "c" * 40
    assert pick_merged([pull(1, False, None), pull(2, True, sha)], sha, "main") == 2
    assert pick_merged([pull(1, False, None)], sha, "main") is None  # an open PR that merely contains it
    assert pick_merged([pull(3, True, "d" * 40)], sha, "main") == 3  # rebase-merge: an earlier commit of #3
    assert pick_merged([pull(3, True, "d" * 40, base="release")], sha, "main") is None


def settings(message: str | None, allow: bool | None = True) -> MergeSettings:
    return MergeSettings(allow_squash_merge=allow, allow_merge_commit=True, allow_rebase_merge=True,
                         squash_merge_commit_title="PR_TITLE", squash_merge_commit_message=message,
                         default_branch="main")


@pytest.mark.parametrize(("message", "drops"), [("COMMIT_MESSAGES", False), ("BLANK", True), ("PR_BODY", True),
                                                (None, False)])
def test_settings_warning(message: str | None, drops: bool) -> None:
    line = settings_warning(settings(message))
    assert (line is not None) is drops
    if line:
        assert "\n" not in line and "refs/pull/N/head" in line
    assert settings_warning(settings("BLANK", allow=False)) is None  # squash merging is off


def test_pull_shas_from_github_must_be_commit_ids() -> None:
    """A merge_commit_sha that is not a full commit id never reaches git as an argument."""
    from commitledger.github.client import GitHubClient

    data = {"number": 3, "state": "closed", "merged_at": "2026-01-01T00:00:00Z",
            "merge_commit_sha": "--upload-pack=touch /tmp/x", "head": {"sha": "HEAD~1"}, "base": {"ref": "main"}}
    pulled = GitHubClient._merged_pull(data)
    assert pulled.merge_commit_sha is None and pulled.head_sha == ""
    good = GitHubClient._merged_pull({**data, "merge_commit_sha": "A" * 40})
    assert good.merge_commit_sha == "a" * 40
