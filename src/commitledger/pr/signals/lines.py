"""Lines added and deleted by a change, split into code, tests, docs and config/data (``ledger.pathkinds``).

``source_*`` are the code lines (what cost per line and ``no-tests`` read);
a line setting a version (a release bump) counts as config.

Binary files carry no lines and are skipped; renames are detected before
counting, so moving a file is not "all lines deleted, all lines added".
Tests are recognised by ``test_patterns`` (fnmatch-style globs, where a
leading ``**/`` also matches at the top of the tree, as in gitignore).
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import PurePosixPath

from commitledger.git.repo import FileChange
from commitledger.ledger.models import Lines
from commitledger.ledger.pathkinds import path_kind

# Prose, not code: a docs-only change needs no tests and has no "cost per line of code".
DOC_SUFFIXES = frozenset({".md", ".rst", ".txt", ".adoc", ".markdown"})


def is_test_path(path: str, patterns: list[str] | tuple[str, ...]) -> bool:
    for pattern in patterns:
        if fnmatchcase(path, pattern):
            return True
        if pattern.startswith("**/") and fnmatchcase(path, pattern[3:]):
            return True
    return False


def is_doc_path(path: str) -> bool:
    return PurePosixPath(path).suffix.lower() in DOC_SUFFIXES


def count_lines(changes: list[FileChange], test_patterns: list[str] | tuple[str, ...]) -> Lines:
    """Totals of the change, with the split the signals need."""
    totals = {"source": [0, 0], "test": [0, 0], "docs": [0, 0], "config": [0, 0]}
    binary = 0
    for change in changes:
        if change.binary:
            binary += 1
            continue
        if is_test_path(change.path, test_patterns) or (
            change.old_path is not None and is_test_path(change.old_path, test_patterns)
        ):
            kind = "test"
        elif change.version_only:
            kind = "config"
        else:
            kind = {"code": "source", "tests": "test", "docs": "docs"}.get(path_kind(change.path), "config")
        totals[kind][0] += change.added
        totals[kind][1] += change.deleted
    return Lines(
        added=sum(v[0] for v in totals.values()),
        deleted=sum(v[1] for v in totals.values()),
        source_added=totals["source"][0],
        source_deleted=totals["source"][1],
        test_added=totals["test"][0],
        test_deleted=totals["test"][1],
        docs_added=totals["docs"][0],
        docs_deleted=totals["docs"][1],
        config_added=totals["config"][0],
        config_deleted=totals["config"][1],
        binary_files=binary,
    )


def tests_touched(paths: list[str], test_patterns: list[str] | tuple[str, ...]) -> bool:
    return any(is_test_path(path, test_patterns) for path in paths)
