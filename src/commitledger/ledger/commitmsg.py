"""Facts read from commit messages: reverts, relands and pull-request numbers.

Shared by ``pr`` (reverts a change makes) and ``history`` (later reverts of
merged changes), so both read git's and GitHub's conventions the same way.
"""

from __future__ import annotations

import re

# `git revert` writes "This reverts commit <full sha>." and, for a merge,
# "This reverts commit <sha>, reversing\nchanges made to <sha>."; people
# shorten the sha by hand, so 7 to 40 hex digits are accepted.
_REVERTS_COMMIT = re.compile(r"\bThis reverts commit ([0-9a-fA-F]{7,40})\b")
# GitHub's "Revert" button: title 'Revert "<title>"', body "Reverts owner/repo#N".
_REVERTS_PR = re.compile(r"^[ \t]*Reverts [A-Za-z0-9_.\-]+/[A-Za-z0-9_.\-]+#(\d+)\b", re.M)
_REVERT_SUBJECT = re.compile(r'^Revert "(.*)"\s*$')
_REAPPLY_SUBJECT = re.compile(r'^Reapply "(.*)"\s*$')
# "(#123)" at the end of a squash subject, "Merge pull request #123 from ..." for a merge.
_SQUASH_PR = re.compile(r"\(#(\d+)\)\s*$")
_MERGE_PR = re.compile(r"^Merge pull request #(\d+)\b")


def subject_of(message: str) -> str:
    """The first line, stripped; found, not split off, so the rest of the message is not copied."""
    cut = message.find("\n")
    return (message if cut < 0 else message[:cut]).strip()


def reverted_shas(message: str) -> list[str]:
    """Lower-cased shas (possibly abbreviated) this message says it reverts."""
    return list(dict.fromkeys(m.group(1).lower() for m in _REVERTS_COMMIT.finditer(message)))


def reverted_prs(message: str) -> list[int]:
    """Pull requests reverted through GitHub's revert button ("Reverts owner/repo#N")."""
    return list(dict.fromkeys(int(m.group(1)) for m in _REVERTS_PR.finditer(message)))


def revert_depth(subject: str) -> tuple[int, str]:
    """How many ``Revert "`` wrappers a subject has, and the innermost title.

    An odd depth undoes the change; an even depth (``Revert "Revert "x""``)
    re-lands it. ``Reapply "x"`` (git's own wording for a revert of a revert)
    counts as depth 2.
    """
    depth = 0
    title = subject.strip()
    while True:
        m = _REVERT_SUBJECT.match(title)
        if m:
            depth += 1
            title = m.group(1)
            continue
        m = _REAPPLY_SUBJECT.match(title)
        if m:
            depth += 2
            title = m.group(1)
            continue
        return depth, title


def is_reland(message: str) -> bool:
    depth, _ = revert_depth(subject_of(message))
    return depth > 0 and depth % 2 == 0


def pr_number(message: str) -> int | None:
    """The pull request a merge or squash commit came from, when its subject says."""
    return subject_pr(subject_of(message))


def subject_pr(subject: str) -> int | None:
    """``pr_number`` of a subject already cut out (``subject_of``): history reads the subject anyway."""
    m = _MERGE_PR.match(subject) or _SQUASH_PR.search(subject)
    return int(m.group(1)) if m else None
