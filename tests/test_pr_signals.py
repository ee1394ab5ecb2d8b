"""The signal modules on their own: radon measurement, the cache, lines, thresholds."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from commitledger.git.repo import FileChange
from commitledger.ledger.models import Baseline, Lines, Tests as JUnitTotals
from commitledger.pr.signals.lines import count_lines, is_test_path
from commitledger.pr.signals.maintainability import (
    CACHE_TABLE,
    POOL_THRESHOLD,
    BlobMetrics,
    BlobSource,
    FileScore,
    MetricsCache,
    changed_functions,
    measure_blobs,
    measure_source,
    raw_metrics,
    score_changes,
)
from commitledger.pr.signals import policy
from commitledger.pr.signals.policy import (
    complexity_signals,
    cost_limit_signals,
    cost_per_line_signals,
    mi_signals,
    no_tests_signals,
)
from commitledger.config import DEFAULT_TEST_PATTERNS
from commitledger.ledger.usage import Usage
from radon.complexity import cc_visit
from radon.metrics import mi_visit
from radon.raw import analyze

BRANCHY = "def pick(x):\n" + "".join(f"    if x == {i}:\n        return {i}\n" for i in range(12)) + "    return 0\n"
SIMPLE = '"""Doc."""\n\n\ndef add(a, b):\n    # sum\n    return a + b\n\n\nclass K:\n    def m(self, x):\n        return x or 1\n'


def test_one_parse_matches_radon_mi_and_cc() -> None:
    for source in (SIMPLE, BRANCHY, SIMPLE + BRANCHY):
        metrics = measure_source(source.encode())
        assert metrics.mi == pytest.approx(mi_visit(source, True), abs=0.01)
        radon_blocks = {b.fullname: b.complexity for b in cc_visit(source) if hasattr(b, "fullname")}
        ours = {f.name: f.cc for f in metrics.functions}
        assert ours == {k: v for k, v in radon_blocks.items() if k in ours}
    assert measure_source(BRANCHY.encode()).worst is not None
    assert measure_source(BRANCHY.encode()).worst.cc == 13  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'def hello():\n    print "hello"\n', "SyntaxError at line 2"),
        (b"def f(:\n    pass\n", "SyntaxError at line 1"),
        (b"x = " + b"+".join([b"a"] * 60000) + b"\n", "RecursionError (nested too deeply)"),
        (b"# -*- coding: no-such-codec -*-\nx = 1\n", "bad encoding (SyntaxError)"),
        (b"x = '\xff\xfe'\n", "bad encoding (SyntaxError)"),
    ],
)
def test_unscored_reasons(data: bytes, reason: str) -> None:
    metrics = measure_source(data)
    assert not metrics.scored and metrics.reason == reason and metrics.mi is None


def test_encodings_python_accepts_are_scored() -> None:
    assert measure_source(b"# -*- coding: latin-1 -*-\nname = '\xe9'\n").scored
    assert measure_source(b"\xef\xbb\xbfx = 1\n").scored


def test_metrics_json_round_trip() -> None:
    metrics = measure_source((SIMPLE + BRANCHY).encode())
    assert BlobMetrics.from_json(metrics.to_json()) == metrics


def test_process_pool_gives_the_same_results() -> None:
    items = [(f"{i:040x}", (SIMPLE + BRANCHY * (i % 3 + 1)).encode()) for i in range(POOL_THRESHOLD + 6)]
    items.append(("f" * 40, b"def f(:\n"))
    serial = measure_blobs(items, workers=1)
    parallel = measure_blobs(items, workers=2)
    assert parallel == serial and len(parallel) == len(items)
    assert not parallel["f" * 40].scored


def test_cache_tolerates_other_tables_and_an_unwritable_place(tmp_path: Path) -> None:
    path = tmp_path / "commitledger" / "cache.sqlite"
    path.parent.mkdir()
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE history_changes (commit_id TEXT PRIMARY KEY, data TEXT)")
    conn.execute("INSERT INTO history_changes VALUES ('abc', '{}')")
    conn.commit()
    conn.close()
    cache = MetricsCache(path)
    metrics = {"a" * 40: measure_source(SIMPLE.encode())}
    cache.put_many(metrics)
    assert cache.get_many(["a" * 40, "b" * 40]) == metrics
    cache.close()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM history_changes").fetchone() == (1,)
    assert conn.execute(f"SELECT count(*) FROM {CACHE_TABLE}").fetchone() == (1,)
    # rows written by another Python or radon version are not read
    conn.execute(f"UPDATE {CACHE_TABLE} SET version = 'py2.7'")
    conn.commit()
    conn.close()
    assert MetricsCache(path).get_many(["a" * 40]) == {}
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    broken = MetricsCache(blocked / "cache.sqlite")
    assert broken.get_many(["a" * 40]) == {}
    broken.put_many(metrics)  # a cache that cannot be used costs time, never the run


def test_size_limit_is_checked_before_reading() -> None:
    blobs = {"1" * 40: b"x = 1\n" * 1000, "2" * 40: SIMPLE.encode()}
    read: list[str] = []

    def reader(blob: str) -> bytes:
        read.append(blob)
        return blobs[blob]

    source = BlobSource(size=lambda b: len(blobs[b]), read=reader, max_bytes=1000)
    changes = [
        FileChange("M", "big.py", "big.py", "2" * 40, "1" * 40, 1000, 10, False),
        FileChange("A", None, "README.md", None, "3" * 40, 3, 0, False),
    ]
    scores = score_changes(changes, source, MetricsCache(None))
    assert read == ["2" * 40]
    assert scores[0].unscored_reason == "over max_file_bytes (6000 > 1000 bytes)"
    assert len(scores) == 1  # only Python files are measured


def score(before: str | None, after: str | None, path: str = "pkg/mod.py") -> FileScore:
    return FileScore(
        path,
        path if before is not None else None,
        measure_source(before.encode()) if before is not None else None,
        measure_source(after.encode()) if after is not None else None,
    )


def test_changed_functions_ignore_untouched_ones() -> None:
    unchanged = score(SIMPLE + BRANCHY, SIMPLE + BRANCHY + "\n\ndef new():\n    return 1\n")
    assert [fn.name for fn, _ in changed_functions(unchanged)] == ["new"]
    edited = score(BRANCHY, BRANCHY.removesuffix("    return 0\n") + "    return -1\n")
    [(fn, previous)] = changed_functions(edited)
    assert fn.name == "pick" and previous is not None and previous.cc == fn.cc


def test_complexity_signal_for_new_and_changed_functions_only() -> None:
    signals, flagged = complexity_signals([score(None, BRANCHY)], "C")
    assert [s.message for s in signals] == ["mod.pick is new with complexity 13 (rank C)"]
    assert flagged == {"pkg/mod.py"}
    assert complexity_signals([score(BRANCHY, BRANCHY + "\n\nX = 1\n")], "C") == ([], set())
    assert complexity_signals([score(None, BRANCHY)], "D") == ([], set())
    grown = BRANCHY.removesuffix("    return 0\n") + "    if x < 0:\n        return -1\n    return 0\n"
    signals, _ = complexity_signals([score(BRANCHY, grown)], "C")
    assert signals[0].message == "mod.pick goes from complexity 13 to 14 (rank C)"


def test_mi_signal_on_rank_boundary_or_drop() -> None:
    def fake(mi_before: float, mi_after: float) -> FileScore:
        return FileScore("a.py", "a.py", BlobMetrics(mi=mi_before, cc_total=1), BlobMetrics(mi=mi_after, cc_total=1))

    assert mi_signals([fake(70.0, 66.0)], 5.0) == ([], set())  # small drop, same rank
    signals, flagged = mi_signals([fake(70.0, 60.0)], 5.0)
    assert flagged == {"a.py"} and "fell from 70.0 (A) to 60.0 (A), 10.0 points" in signals[0].message
    signals, _ = mi_signals([fake(21.0, 19.0)], 5.0)  # A -> B by two points
    assert "(A) to 19.0 (B)" in signals[0].message
    assert mi_signals([fake(60.0, 70.0)], 5.0) == ([], set())
    many, _ = mi_signals([fake(70.0, 50.0)] * 12, 5.0)
    assert len(many) == 9 and many[-1].message == "4 more files lost maintainability"


def test_tests_signal() -> None:
    assert policy.tests_signals(None) == []
    assert policy.tests_signals(JUnitTotals(passed=3, failed=0, errors=0, skipped=1)) == []
    [signal] = policy.tests_signals(JUnitTotals(passed=3, failed=2, errors=1, skipped=0, failures=["t::a", "t::b", "t::c"]))
    assert signal.severity == "error"
    assert signal.message == "2 tests failed and 1 test errored: t::a and 2 more"


def test_cost_limit_and_no_tests_and_cost_per_line() -> None:
    assert cost_limit_signals(Usage(cost_usd=5.0), None) == []
    assert cost_limit_signals(Usage(cost_usd=5.0), 5.0) == []
    assert cost_limit_signals(Usage(cost_usd=None), 1.0) == []  # unknown cost is not over a limit
    [over] = cost_limit_signals(Usage(cost_usd=5.25), 5.0)
    assert over.message == "AI cost $5.25 is above the limit of $5.00 for one change"

    source_only = Lines(added=10, deleted=0, source_added=10)
    assert [s.id for s in no_tests_signals(1, source_only)] == ["no-tests"]
    assert no_tests_signals(0, source_only) == []
    assert no_tests_signals(1, Lines(added=12, deleted=0, source_added=10, test_added=2)) == []
    assert no_tests_signals(1, Lines(added=5, deleted=0, docs_added=5)) == []

    base = Baseline(days=90, ai_changes=10, median_ai_cost_usd=1.0, cost_per_merged_change=1.2,
                    median_cost_per_line=0.01, revert_rate_ai=0.1, revert_rate_other=0.05)
    assert cost_per_line_signals(Usage(cost_usd=1.0), source_only, None, 3.0) == []
    assert cost_per_line_signals(Usage(cost_usd=0.3), source_only, base, 3.0) == []  # 0.03 = 3x, not above
    [high] = cost_per_line_signals(Usage(cost_usd=1.0), source_only, base, 3.0)
    assert high.message == "AI cost per changed line $0.1000 is 10.0x the repository's median ($0.0100)"


def test_lines_split_and_test_patterns() -> None:
    patterns = list(DEFAULT_TEST_PATTERNS)
    assert is_test_path("tests/test_a.py", patterns)
    assert is_test_path("test_top.py", patterns)  # **/ also matches at the top
    assert is_test_path("pkg/sub/tests/data.json", patterns)
    assert is_test_path("web/src/button.test.tsx", patterns)
    assert not is_test_path("src/testing_tools.py", patterns)
    changes = [
        FileChange("M", "src/a.py", "src/a.py", "1" * 40, "2" * 40, 5, 2, False),
        FileChange("R", "tests/old.py", "src/moved.py", "3" * 40, "4" * 40, 1, 1, False),
        FileChange("A", None, "img.png", None, "5" * 40, 0, 0, True),
        FileChange("M", "README.md", "README.md", "6" * 40, "7" * 40, 3, 0, False),
    ]
    lines = count_lines(changes, patterns)
    assert (lines.source_added, lines.source_deleted) == (5, 2)
    assert (lines.test_added, lines.test_deleted) == (1, 1)  # moved out of tests: still test work
    assert (lines.docs_added, lines.binary_files) == (3, 1)
    assert (lines.added, lines.deleted) == (9, 3)


TRICKY = '''"""Module docstring
spanning lines."""
import os; import sys
x = 1;
if x: y = 2
try: z = 1 / 0
except ZeroDivisionError: pass
f = lambda: 0; g = 1
# a comment

def fn(a,
       # comment inside brackets
       b=(1,
          2)):  # trailing
    """One-line docstring."""
    s = """not a docstring
    """
    t = "abc" \\
        "def"
    return a + \\
        b


class C: pass
'''


@pytest.mark.parametrize("source", [TRICKY, SIMPLE, BRANCHY, "", "\n\n", "x = 1", "# only\n", "'''a\n\nb'''\n"])
def test_raw_metrics_equal_radons(source: str) -> None:
    assert raw_metrics(source) == analyze(source)


def test_raw_metrics_on_radons_own_sources() -> None:
    import radon

    for path in sorted(Path(radon.__file__).parent.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert raw_metrics(text) == analyze(text), path.name


def test_raw_metrics_defer_to_radon_where_lines_split_differently() -> None:
    assert raw_metrics("x = 1\x0c\ny = 2\n") is None
    assert raw_metrics("x = 1\r\ny = 2\r\n") is None
    assert measure_source(b"x = 1\x0c\ny = 2\n").mi == pytest.approx(mi_visit("x = 1\x0c\ny = 2\n", True), abs=0.01)
