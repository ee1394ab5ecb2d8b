"""The reviewer's comment: golden files, escaping of hostile strings, the size limit, the marker.

Golden files live in ``tests/golden/``; after an intended change of the
comment, regenerate them with

    COMMITLEDGER_REGEN_GOLDEN=1 /tmp/venv/bin/python -m pytest tests/test_render_comment.py

and review the diff like code.
"""

from __future__ import annotations

import hashlib
import os
import re
from html import unescape
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from commitledger.ledger.models import (
    Baseline,
    CommitSummary,
    FileMaintainability,
    Lines,
    Maintainability,
    ModelUsage,
    PrResult,
    Revert,
    Signal,
    Tests as JUnitTotals,
    UsageModel,
)
from commitledger.render.markdown import (
    GITHUB_COMMENT_LIMIT,
    ZWSP,
    code_span,
    escape_text,
    human_number,
    money,
    render_comment,
    render_summary,
)
from commitledger.render.marker import apply_previous, parse_marker

GOLDEN = Path(__file__).parent / "golden"
REGEN = os.environ.get("COMMITLEDGER_REGEN_GOLDEN") == "1"
HEAD = "3f2a9c1e5b7d4a2c9e8f1a6b3c5d7e9f0a1b2c3d"
BASE = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a291807"


def usage(**kw: float | int | None) -> UsageModel:
    return UsageModel(**kw)


def commit(sha: str, subject: str, *, cost: float | None, agents: list[str], key: str | None, tests: bool = False,
           markers: list[str] | None = None, tokens: int = 0) -> CommitSummary:
    ai = bool(agents or markers)
    return CommitSummary(
        commit=sha,
        subject=subject,
        author_time=1_763_600_000,
        ai=ai,
        agents=agents,
        usage=usage(input=tokens // 10, output=tokens // 10, cache_read=tokens - 2 * (tokens // 10), cache_write=0,
                    cost_usd=cost, sessions=1, prompts=1, requests=5, tool_calls=4) if agents else None,
        tests_touched=tests,
        key=key,
        markers=markers or [],
    )


def sample_result() -> PrResult:
    """An AI-heavy change with every section present (the README's sample)."""
    commits = [
        commit("a1b2c3d4e5f60718293a4b5c6d7e8f9012345678", "Add retry to the uploader", cost=2.10,
               agents=["claude-code"], key="0a1b2c3d4e5f", tests=True, tokens=880_000),
        commit("b2c3d4e5f60718293a4b5c6d7e8f901234567890", "Back off exponentially", cost=1.82,
               agents=["claude-code"], key="1b2c3d4e5f60", tokens=870_410),
        commit("c3d4e5f60718293a4b5c6d7e8f90123456789012", "Port the CLI flag to codex", cost=0.29,
               agents=["codex"], key="2c3d4e5f6071", tokens=152_410),
        commit("d4e5f60718293a4b5c6d7e8f9012345678901234", "Tidy imports", cost=None, agents=[],
               key=None, markers=["co-authored-by"]),
        commit("e5f60718293a4b5c6d7e8f901234567890123456", "Update changelog", cost=None, agents=[], key=None),
    ]
    return PrResult(
        base=BASE,
        head=HEAD,
        merge_base=BASE,
        commits=5,
        ai_commits=4,
        usage=usage(input=48_633, output=63_330, cache_read=1_830_000, cache_write=40_210, cost_usd=4.21,
                    sessions=3, prompts=6, requests=41, tool_calls=34),
        by_model=[
            ModelUsage(agent="claude-code", model="claude-sonnet-4-5", input=18_422, output=61_120,
                       cache_read=1_710_000, cache_write=40_210, cost_usd=3.92, sessions=2, prompts=5,
                       requests=35, tool_calls=29),
            ModelUsage(agent="codex", model="gpt-5-codex", input=30_211, output=2_210, cache_read=120_000,
                       cache_write=0, cost_usd=0.29, sessions=1, prompts=1, requests=6, tool_calls=5),
        ],
        lines=Lines(added=412, deleted=57, source_added=318, source_deleted=41, test_added=86, test_deleted=12,
                    docs_added=8, docs_deleted=4),
        tests=JUnitTotals(passed=142, failed=1, errors=0, skipped=3, failures=["tests/test_retry.py::test_backoff"], files=2),
        maintainability=Maintainability(files=[
            FileMaintainability(path="src/uploader.py", mi_before=68.0, mi_after=58.1, cc_before=21, cc_after=33,
                                status="flagged", worst_function="retry_upload", worst_cc_before=6,
                                worst_cc_after=14, rank_before="A", rank_after="A", language="python", engine="radon",
                                worst_cognitive_function="retry_upload", worst_cognitive_after=19),
            FileMaintainability(path="src/cli.py", mi_before=74.4, mi_after=71.5, cc_before=12, cc_after=13,
                                status="ok", worst_function="main", worst_cc_before=5, worst_cc_after=5,
                                rank_before="A", rank_after="A", language="python", engine="radon"),
            FileMaintainability(path="src/legacy_py2.py", mi_before=None, mi_after=None, cc_before=None,
                                cc_after=None, status="unscored", reason="SyntaxError at line 12", language="python",
                                engine="radon"),
            FileMaintainability(path="web/src/cart.ts", mi_before=61.2, mi_after=48.9, cc_before=9, cc_after=17,
                                status="flagged", worst_function="Cart.applyCoupon", worst_cc_before=4,
                                worst_cc_after=12, rank_before="A", rank_after="A", language="typescript",
                                engine="bca", worst_cognitive_function="Cart.applyCoupon", worst_cognitive_after=21),
            FileMaintainability(path="ios/Cart.swift", mi_before=None, mi_after=None, cc_before=3, cc_after=4,
                                status="ok", reason="lizard gives cyclomatic complexity only, no maintainability index",
                                worst_function="total", worst_cc_before=3, worst_cc_after=4, language="swift",
                                engine="lizard"),
        ]),
        reverts=[Revert(commit="f60718293a4b5c6d7e8f90123456789012345678", reverts="0718293a4b5c6d7e8f9012345678901234567890",
                        ai_cost_usd=0.62)],
        signals=[
            Signal(id="tests-failed", severity="error", message="1 test failed: tests/test_retry.py::test_backoff"),
            Signal(id="complexity", severity="warning",
                   message="uploader.retry_upload goes from complexity 6 to 14 (rank C)"),
            Signal(id="maintainability", severity="warning",
                   message="src/uploader.py: maintainability index fell from 68.0 (A) to 58.1 (A), 9.9 points"),
        ],
        baseline=Baseline(days=90, ai_changes=38, median_ai_cost_usd=1.83, cost_per_merged_change=2.40,
                          median_cost_per_line=0.004, revert_rate_ai=0.04, revert_rate_other=0.02),
        commit_list=commits,
        discarded=usage(input=1000, output=2000, cache_read=30000, cache_write=0, cost_usd=0.62, sessions=1,
                        prompts=1, requests=4, tool_calls=2),
        discarded_commits=2,
        discarded_work={
            "9f8e7d6c5b4a": usage(input=600, output=1200, cache_read=20000, cache_write=0, cost_usd=0.40,
                                  sessions=1, prompts=1, requests=3, tool_calls=2),
            "8e7d6c5b4a39": usage(input=400, output=800, cache_read=10000, cache_write=0, cost_usd=0.22,
                                  sessions=None, prompts=None, requests=1, tool_calls=0),
        },
        generated_at="2026-11-20T10:02:11Z",
    )


HOSTILE = (
    "<img src=x onerror=alert(1)> @someone [x](javascript:alert(1)) ![i](http://e.st/p.png) "
    "`code` <!-- hide | pipe --> **bold** $x$ https://evil.example"
)


def hostile_result() -> PrResult:
    """Every string a contributor controls carries an injection attempt."""
    result = sample_result()
    result.commit_list[0].subject = HOSTILE
    result.commit_list[1].subject = "<!--"
    result.maintainability.files[0].path = "src/<script>alert(1)</script>@admin.py"
    result.maintainability.files[1].worst_function = "`]]> | x"
    result.maintainability.files[2].language = "<img src=x onerror=alert(1)>@team"  # a result from elsewhere
    result.signals[0].message = f"1 test failed: {HOSTILE}"
    result.signals[1].message = "- [x](javascript:alert(1)) @team-leads"
    result.warnings = ["# heading", f"JUnit file {HOSTILE} skipped"]
    result.by_model[0].agent = "claude@mention"
    return result


def no_baseline_result() -> PrResult:
    """First runs: no history yet, no JUnit, and one AI commit whose usage was not recorded."""
    result = sample_result()
    return result.model_copy(update={
        "baseline": None,
        "tests": None,
        "reverts": [],
        "signals": [Signal(id="no-tests", severity="warning",
                           message="AI-assisted change of 359 source lines with no test changed")],
        "discarded": None,
        "discarded_commits": 0,
        "discarded_work": {},
        "usage": usage(input=48_633, output=63_330, cache_read=1_830_000, cache_write=40_210, cost_usd=None,
                       sessions=3, prompts=6, requests=41, tool_calls=34),
    })


def no_ai_result() -> PrResult:
    result = sample_result()
    return result.model_copy(update={
        "ai_commits": 0, "by_model": [], "usage": UsageModel(**{k: 0 for k in UsageModel.model_fields}),
        "commit_list": [commit("e5f60718293a4b5c6d7e8f901234567890123456", "Update changelog", cost=None,
                               agents=[], key=None)],
        "commits": 1, "signals": [], "discarded": None, "discarded_commits": 0, "discarded_work": {},
    })


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if REGEN:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} missing: run with COMMITLEDGER_REGEN_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "build"),
    [
        ("comment_full.md", sample_result),
        ("comment_no_baseline.md", no_baseline_result),
        ("comment_injection.md", hostile_result),
        ("comment_no_ai.md", no_ai_result),
    ],
)
def test_golden(name: str, build) -> None:  # type: ignore[no-untyped-def]
    check_golden(name, render_comment(build()))


def test_golden_summary() -> None:
    check_golden("summary_full.md", render_summary(sample_result()))


def to_html(markdown: str) -> str:
    """CommonMark + tables with raw HTML allowed, as GitHub parses a comment before sanitising it."""
    return MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)


ALLOWED_TAGS = {"details", "summary", "sub", "table", "thead", "tbody", "tr", "th", "td", "p", "strong", "code",
                "ul", "li", "h3", "em"}


def test_hostile_strings_render_as_text() -> None:
    body = render_comment(hostile_result())
    html = to_html(body)
    tags = set(re.findall(r"</?([a-zA-Z][a-zA-Z0-9]*)", html))
    assert tags <= ALLOWED_TAGS, tags - ALLOWED_TAGS
    assert "<img" not in html and "<script" not in html and "<a " not in html
    assert html.count("<!--") == 1  # our marker, nothing else opened a comment
    # outside code spans (where text is inert) no scheme survives intact
    outside_code = re.sub(r"<code>.*?</code>", "", html)
    assert "javascript:" not in outside_code and "https://" not in outside_code
    # GitHub links no mention inside code; elsewhere every @ is broken by a zero-width space
    assert not re.search(r"@(someone|admin|team|mention)", outside_code)
    assert "@\u200bsomeone" in outside_code and "@\u200bmention" in outside_code
    # a backtick cannot close a code span early, a pipe cannot add a table cell
    row = next(line for line in body.splitlines() if "src/cli.py" in line)
    assert "`\u02cb]]> \\| x`" in row
    cells = [c for c in re.split(r"(?<!\\)\|", row)[1:-1]]
    assert len(cells) == 6
    assert "<td>" in html and "]]&gt; | x</code>" in html
    # the headline, table and signals are still there
    assert "Signals" in body and "tests/test" not in body.split("Signals")[0].split("|")[0]


def test_code_span_and_escape_units() -> None:
    assert code_span("a`b|c") == "`a\u02cbb\\|c`"
    assert code_span("") == "—"
    assert code_span("x" * 100, 10) == "`xxxxxxxxx…`"
    assert code_span("line\nbreak\u202eevil") == "`line break evil`"
    assert escape_text("<b>&</b>") == "&lt;b&gt;&amp;&lt;/b&gt;"
    assert escape_text("[a](b)") == "\\[a\\]\\(b\\)"
    assert escape_text("1. item") == "1\\. item"
    assert escape_text("costs $1 and $2") == "costs \\$1 and \\$2"
    assert escape_text("mail @bob") == "mail @\u200bbob"
    assert escape_text("see www.evil.example") == "see www\u200b.evil.example"


def test_numbers_are_humanised() -> None:
    assert [human_number(v) for v in (0, 999, 1_000, 18_422, 120_000, 1_712_000, 999_999, 2_300_000_000)] == [
        "0", "999", "1k", "18.4k", "120k", "1.71M", "1M", "2.3B"
    ]
    assert [human_number(v) for v in (2_210, 61_120, 880_000, 10_000_000)] == [
        "2.2k", "61.1k", "880k", "10M"
    ]
    assert human_number(None) == "—"
    assert [money(v) for v in (4.2113, 1204.5, 0.012, 0.0042, 0.004, 0.05, 0.0, None)] == [
        "$4.21", "$1,204.50", "$0.012", "$0.0042", "$0.004", "$0.05", "$0.00", "—"
    ]


def test_no_ai_is_one_line() -> None:
    body = render_comment(no_ai_result())
    lines = body.strip().splitlines()
    assert len(lines) == 2
    assert lines[1] == "**commitledger** · no AI usage recorded in the 1 commit of this change."


def huge_result(commits: int, files: int) -> PrResult:
    result = sample_result()
    result.commit_list = [
        commit(f"{i:040x}", f"Commit number {i} with a long enough subject to take some room " + "x" * 40,
               cost=0.05 + i / 1000, agents=["claude-code"], key=hashlib.sha256(str(i).encode()).hexdigest()[:12],
               tokens=100_000 + (i * 7919) % 900_000)
        for i in range(commits)
    ]
    result.commits = commits
    result.ai_commits = commits
    result.maintainability.files = [
        FileMaintainability(path=f"src/package_{i // 50}/module_with_a_long_name_{i}.py", mi_before=70.0,
                            mi_after=65.0, cc_before=10, cc_after=12, status="flagged" if i % 7 == 0 else "ok",
                            worst_function=f"function_{i}", worst_cc_before=4, worst_cc_after=6,
                            rank_before="A", rank_after="A")
        for i in range(files)
    ]
    result.warnings = [f"src/broken_{i}.py not scored: SyntaxError at line {i}" for i in range(300)]
    return result


def test_huge_pr_is_trimmed_details_first() -> None:
    result = huge_result(commits=1500, files=3000)
    body = render_comment(result)
    assert len(body) <= GITHUB_COMMENT_LIMIT
    assert body.startswith("<!-- commitledger:v1 ")
    assert "### commitledger" in body and "**Signals**" in body and "| AI cost |" in body
    assert "more commit" in body and "more file" in body
    assert "Details shortened to fit in one comment" in body
    # flagged files are kept ahead of the others
    kept = re.findall(r"module_with_a_long_name_(\d+)\.py", body)
    assert kept and all(int(i) % 7 == 0 for i in kept[:5])
    # the marker still carries every commit, so discarded work survives trimming
    marker = parse_marker(body)
    assert marker is not None and len(marker.digest) == 1500
    # a small PR is not trimmed at all
    assert "Details shortened" not in render_comment(sample_result())


def test_tiny_limit_still_fits() -> None:
    body = render_comment(huge_result(commits=50, files=50), max_chars=6000)
    assert len(body) <= 6000
    assert body.startswith("<!-- commitledger:v1 ")


def test_marker_is_compact_for_an_ai_heavy_pr() -> None:
    result = huge_result(commits=300, files=10)
    marker_line = render_comment(result).splitlines()[0]
    assert len(marker_line) < 16_000, len(marker_line)
    assert "--" not in marker_line[4:-3]  # the digest can never close the HTML comment early


def test_marker_round_trip() -> None:
    result = sample_result()
    marker = parse_marker("some text before\n" + render_comment(result))
    assert marker is not None
    assert marker.head == HEAD
    assert marker.valid_at == "2026-11-20T10:02:11Z"
    assert set(marker.digest) == {"0a1b2c3d4e5f", "1b2c3d4e5f60", "2c3d4e5f6071"}
    assert marker.digest["0a1b2c3d4e5f"].cost_usd == pytest.approx(2.10)
    assert marker.digest["0a1b2c3d4e5f"].cache_read == 880_000 - 2 * 88_000
    assert set(marker.discarded) == {"9f8e7d6c5b4a", "8e7d6c5b4a39"}
    assert marker.discarded["8e7d6c5b4a39"].sessions is None  # unknown stays unknown


def test_parse_marker_rejects_what_is_not_ours() -> None:
    assert parse_marker("just a comment") is None
    assert parse_marker("<!-- commitledger:v1 head=<script> -->") is None
    # a digest edited by hand is ignored, the marker still found
    edited = parse_marker(f"<!-- commitledger:v1 head={HEAD} digest=AAAA%%% -->")
    assert edited is not None and edited.digest == {} and edited.discarded == {}
    garbage = parse_marker(f"<!-- commitledger:v1 head={HEAD} digest=bm90IHpsaWI= -->")
    assert garbage is not None and garbage.digest == {}


def test_apply_previous_counts_work_dropped_by_a_force_push() -> None:
    earlier = sample_result()
    marker = parse_marker(render_comment(earlier))
    assert marker is not None
    # the force-push dropped "Back off exponentially"; a rebase rewrote the others' shas but not their keys
    now = sample_result().model_copy(update={"discarded": None, "discarded_commits": 0, "discarded_work": {},
                                             "head": "7" * 40})
    now.commit_list = [c.model_copy(update={"commit": c.commit[::-1]}) for c in now.commit_list
                       if c.key != "1b2c3d4e5f60"]
    updated = apply_previous(now, marker)
    assert updated.discarded_commits == 3  # two discarded before, one now
    assert updated.discarded is not None
    assert updated.discarded.cost_usd == pytest.approx(1.82 + 0.62)
    assert set(updated.discarded_work) == {"1b2c3d4e5f60", "9f8e7d6c5b4a", "8e7d6c5b4a39"}
    assert now.discarded is None  # the input is not modified
    # carried forward: the next comment's marker still knows all three
    again = parse_marker(render_comment(updated))
    assert again is not None and set(again.discarded) == set(updated.discarded_work)
    assert "Also counted: \\$2.44 of discarded work (3 commits no longer on the branch)" in render_comment(updated)


def test_apply_previous_restores_work_that_came_back() -> None:
    result = sample_result()
    marker = parse_marker(render_comment(result))
    assert marker is not None
    # the commit discarded earlier is back on the branch
    back = result.model_copy(update={"discarded": None, "discarded_commits": 0, "discarded_work": {}})
    back.commit_list = [*back.commit_list, commit("1" * 40, "Restored", cost=0.40, agents=["claude-code"],
                                                  key="9f8e7d6c5b4a")]
    updated = apply_previous(back, marker)
    assert set(updated.discarded_work) == {"8e7d6c5b4a39"}
    assert updated.discarded_commits == 1


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)
       | st.text(alphabet="<>&@[]()!`*_#|~$\\:/-.+=1 ajsvcript", max_size=60))
def test_escaped_text_renders_as_exactly_itself(value: str) -> None:
    """Whatever a commit subject holds, the reader sees those characters and no markup."""
    html = MarkdownIt("commonmark", {"html": True}).renderInline(escape_text(value))
    assert "<" not in html.replace("&lt;", "")
    shown = unescape(html).replace(ZWSP, "")
    expected = re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]+", " ", value).strip()
    assert shown == expected.replace("\x00", "\ufffd")


def test_baseline_without_ai_changes_is_not_a_comparison() -> None:
    empty = Baseline(days=90, ai_changes=0, median_ai_cost_usd=None, cost_per_merged_change=None,
                     median_cost_per_line=None, revert_rate_ai=None, revert_rate_other=0.0)
    body = render_comment(sample_result().model_copy(update={"baseline": empty}))
    assert "| | this change |\n| --- | ---: |\n" in body
    assert "last 90 days" not in body and "median AI-assisted change" not in body


@pytest.mark.skipif(not __import__("shutil").which("chromium"), reason="Chromium is not installed (CI installs it)")
def test_priced_later_reads_in_the_comment_a_browser_renders(repo: Path, tmp_path: Path) -> None:
    """The real ``pr`` comment, parsed as GitHub does (CommonMark, tables, raw HTML) and rendered by Chromium."""
    from conftest import run_cli
    from test_pricing_later import _late_repo
    from test_report import browser_dom, visible_text

    base, head = _late_repo(repo)
    proc = run_cli("pr", "--base", base, "--head", head, cwd=repo)
    assert proc.returncode == 0, proc.stderr
    page = tmp_path / "comment.html"
    page.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>{to_html(proc.stdout)}</body></html>",
                    encoding="utf-8")
    dom = browser_dom(page, tmp_path)
    text = visible_text(dom)
    assert "$0.33 of AI usage (416k tokens) over 2 commits (3 agent sessions, 6 model requests); " \
           "1 commit priced later from its tokens" in text
    assert "AI cost $0.33 (1 commit priced later) median $0.16 per AI-assisted change (1 of 2 priced later)" in text
    assert "claude-opus-4-8 1 4 4k 2k 400k 8k $0.32 (priced later)" in text
    assert "Priced later: AI-Usage lines with tokens but no cost_usd when committed" in text
    assert "Add c <img src=x onerror=alert(1)> @someone [x](y)" in text  # the subject, as text
    assert "<img" not in dom.replace("&lt;img", "") and "<a " not in dom
