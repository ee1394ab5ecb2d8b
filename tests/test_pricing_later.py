"""Trailer lines with tokens but no cost_usd are priced later, counted, never $0 nor left out."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from conftest import commit_file, git, run_cli
from commitledger.history.scan import message_usage
from commitledger.ledger.pricing import load_prices, split_cost

# Unpriced when committed (a model the table of the day did not know): tokens, no cost_usd.
LATE = ("AI-Usage: agent=claude-code model=claude-opus-4-8 sessions=1 prompts=1 requests=4 tool_calls=2 "
        "input=4000 output=2000 cache_read=400000 cache_write=8000")  # fmt: skip
PRICED = ("AI-Usage: agent=codex model=gpt-5.4 sessions=1 prompts=1 requests=1 tool_calls=0 input=1000 output=100 "
          "cache_read=0 cache_write=0 cost_usd=0.0040")  # fmt: skip


def _expected() -> float:
    table = load_prices()
    # Four even requests of 1000 in / 500 out / 100k cache read / 2000 cache write.
    return split_cost(table, "claude-opus-4-8", 4000, 2000, 400_000, 8000, 4, None)  # type: ignore[return-value]


def test_pr_and_history_price_the_line_later_and_say_so(repo: Path) -> None:
    base = commit_file(repo, "README.md", "hi\n", "Initial commit")
    git(repo, "checkout", "-q", "-b", "feature")
    commit_file(repo, "a.py", "x = 1\n", f"Add a\n\n{LATE}\n{PRICED}")
    head = git(repo, "rev-parse", "HEAD")
    proc = run_cli("pr", "--base", base, "--head", head, "--format", "json", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    late = _expected()
    # opus-4-8 at $5 in, $25 out, $0.50 cache read, $6.25 cache write per million: never $0.
    assert abs(late - 0.32) < 1e-9
    assert abs(data["usage"]["cost_usd"] - round(late + 0.004, 6)) < 1e-6
    assert data["usage"]["priced_later"] == 1
    by_model = {row["model"]: row for row in data["by_model"]}
    assert by_model["claude-opus-4-8"]["priced_later"] == 1 and "priced_later" not in by_model["gpt-5.4"]

    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge pull request #7 from dev/feature\n\nAdd a", "feature")
    hist = run_cli("history", "--format", "json", "--since", "all", cwd=repo)
    assert hist.returncode == 0, hist.stderr
    change = next(c for c in json.loads(hist.stdout)["changes"] if c["ai"])
    assert abs(change["usage"]["cost_usd"] - round(late + 0.004, 6)) < 1e-6
    assert change["usage"]["priced_later"] == 1


# --- the human-facing outputs say it, counted: comment, history table, HTML report, baseline ---

HOSTILE = "Add c <img src=x onerror=alert(1)> @someone [x](y)"


def _late_repo(repo: Path) -> tuple[str, str]:
    """main: an old change priced later and an old priced one (the baseline); feature: one late commit of two."""
    commit_file(repo, "README.md", "hi\n", "Initial commit")
    commit_file(repo, "a.py", "a = 1\n", f"Old late change\n\n{LATE}")
    base = commit_file(repo, "b.py", "b = 1\n", f"Old priced change\n\n{PRICED}")
    git(repo, "checkout", "-q", "-b", "feature")
    commit_file(repo, "c.py", "c = 1\n", f"{HOSTILE}\n\n{LATE}\n{PRICED}")
    head = commit_file(repo, "d.py", "d = 1\n", f"Add d\n\n{PRICED}")
    return base, head


def _row(text: str, needle: str) -> str:
    return next(line for line in text.splitlines() if needle in line)


def test_the_pr_comment_says_how_many_commits_were_priced_later(repo: Path) -> None:
    base, head = _late_repo(repo)
    proc = run_cli("pr", "--base", base, "--head", head, cwd=repo)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    total = _expected() + 0.004 * 2
    assert abs(total - 0.328) < 1e-9
    # The headline: the cost, then how much of it was priced later (never $0, never left out).
    assert "**\\$0.33 of AI usage**" in text and "; 1 commit priced later from its tokens ·" in text
    assert _row(text, "| AI cost |").startswith("| AI cost | \\$0.33 (1 commit priced later) | median ")
    # The baseline's median read the old late change too: it says so.
    assert "per AI-assisted change (1 of 2 priced later) |" in _row(text, "| AI cost |")
    assert _row(text, "| claude-opus-4-8 |").endswith("| \\$0.32 (priced later) |")
    assert "priced later" not in _row(text, "| gpt-5.4 |")
    assert "\\$0.32 (priced later) |" in _row(text, "Add c")
    assert "priced later" not in _row(text, "`Add d`")
    assert "<sub>Priced later: AI-Usage lines with tokens but no `cost_usd` when committed" in text
    # The subject is still a code span: no tag, mention or link from the commit reaches the comment.
    assert "| `Add c <img src=x onerror=alert(1)> @someone [x](y)` |" in _row(text, "Add c")
    assert text.count("<img") == 1 and text.count("@someone") == 1  # only there, inside the code span

    data = json.loads(run_cli("pr", "--base", base, "--head", head, "--format", "json", cwd=repo).stdout)
    assert data["baseline"]["priced_later"] == 1 and data["baseline"]["ai_changes"] == 2
    late = next(c for c in data["commit_list"] if c["subject"] == HOSTILE)
    assert late["usage"]["priced_later"] == 1


def test_a_result_written_before_the_baseline_counted_them_still_loads_and_says_nothing(repo: Path,
                                                                                        tmp_path: Path) -> None:
    base, head = _late_repo(repo)
    data = json.loads(run_cli("pr", "--base", base, "--head", head, "--format", "json", cwd=repo).stdout)
    del data["baseline"]["priced_later"]
    for commit in data["commit_list"]:
        commit["usage"].pop("priced_later", None)
    data["usage"].pop("priced_later")
    for row in data["by_model"]:
        row.pop("priced_later", None)
    old = tmp_path / "old.json"
    old.write_text(json.dumps(data), encoding="utf-8")
    from commitledger.ledger.models import load_pr_result
    from commitledger.render.markdown import render_comment

    result = load_pr_result(old)
    assert result.baseline is not None and result.baseline.priced_later == 0
    assert "priced later" not in render_comment(result).lower()  # nothing counted, nothing claimed


def test_history_table_json_and_report_say_how_many_changes_were_priced_later(repo: Path) -> None:
    _late_repo(repo)
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge pull request #7 from dev/feature\n\nAdd c and d", "feature")
    proc = run_cli("history", "--since", "all", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    table = proc.stdout
    # 0.32 (old late) + 0.004 (old priced) + 0.328 (the merged PR): $0.65, two of the three priced later.
    assert "$0.65 (2 of 3 AI-assisted changes priced later from their tokens)" in _row(table, "AI cost")
    assert "$0.33*" in _row(table, "Add c and d") and "$0.32*" in _row(table, "Old late change")
    assert "*" not in _row(table, "Old priced change")
    assert "* priced later: AI-Usage lines with tokens but no cost_usd when committed" in table
    assert "$0.00" not in table

    data = json.loads(run_cli("history", "--since", "all", "--format", "json", cwd=repo).stdout)
    assert data["summary"]["priced_later"] == 2 and abs(data["summary"]["cost_usd"] - 0.652) < 1e-6

    out = repo.parent / "report.html"
    assert run_cli("report", "--html", str(out), "--since", "all", cwd=repo).returncode == 0
    page = out.read_text(encoding="utf-8")
    assert "AI spend, including 2 AI-assisted changes priced later from their tokens</div>" in page
    assert "Priced later: 2 AI-assisted changes have AI-Usage lines with tokens but no cost_usd" in page
    assert "(2 of 3 AI-assisted changes priced later from their tokens)" in page  # the spend chart's note and bar
    assert '$0.65<br><span class="note">2 priced later</span></td>' in page  # the week's row
    assert page.count('<br><span class="note">priced later</span>') == 2  # the two late changes of the ten costliest


def test_nothing_priced_later_says_nothing(repo: Path) -> None:
    commit_file(repo, "README.md", "hi\n", "Initial commit")
    commit_file(repo, "b.py", "b = 1\n", f"Priced change\n\n{PRICED}")
    table = run_cli("history", "--since", "all", cwd=repo).stdout
    assert "priced later" not in table and "*" not in table
    out = repo.parent / "report.html"
    assert run_cli("report", "--html", str(out), "--since", "all", cwd=repo).returncode == 0
    assert "priced later" not in out.read_text(encoding="utf-8").lower()


# --- priced later: at the commit's time, and again when the price table changes -----------------

UNKNOWN_LATE = ("AI-Usage: agent=in-house model=acme-coder-9 sessions=1 prompts=1 requests=1 tool_calls=0 "
                "input=1000000 output=0 cache_read=0 cache_write=0")  # fmt: skip


def _history_costs(repo: Path, env: dict[str, str]) -> tuple[dict[str, float | None], dict[str, object]]:
    proc = run_cli("history", "--format", "json", "--since", "all", cwd=repo, env=env)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    costs = {c["title"]: (c["usage"] or {}).get("cost_usd") for c in data["changes"]}
    return costs, data["summary"]


def test_history_prices_later_again_when_the_price_table_changes(repo: Path, tmp_path: Path) -> None:
    """A cached priced-later cost is stale once the prices change: only those spans are read again.

    Without the price stamp on the cache row, the second run kept the first table's $1.00.
    """
    import os

    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"models": {"acme-coder-9": {"input": 1.0, "output": 1.0}}}))
    env = {**os.environ, "COMMITLEDGER_PRICES": str(prices)}
    commit_file(repo, "README.md", "hi\n", "Initial commit")
    commit_file(repo, "a.py", "a = 1\n", f"Late change\n\n{UNKNOWN_LATE}")
    commit_file(repo, "b.py", "b = 1\n", f"Priced change\n\n{PRICED}")
    costs, summary = _history_costs(repo, env)
    assert costs["Late change"] == 1.0 and costs["Priced change"] == 0.004
    assert summary["priced_later"] == 1
    assert _history_costs(repo, env)[0]["Late change"] == 1.0  # warm, same table: the cached figure

    prices.write_text(json.dumps({"models": {"acme-coder-9": {"input": 2.5, "output": 1.0}}}))
    os.utime(prices, ns=(1_900_000_000_000_000_000, 1_900_000_000_000_000_000))  # a new mtime, whatever the clock
    costs, summary = _history_costs(repo, env)
    assert costs["Late change"] == 2.5 and costs["Priced change"] == 0.004
    assert summary["priced_later"] == 1


def test_history_prices_a_late_line_at_its_author_time_as_pr_does(repo: Path) -> None:
    """history passed no time to the price lookup (today's price); pr passes the author time.

    o3 cost $10 per million input tokens until OpenAI's June 2025 cut to $2 (genai-prices keeps
    both): a line committed in April 2025 without cost_usd is priced at $10 in, $40 out by both.
    """
    import os

    late = ("AI-Usage: agent=codex model=o3 sessions=1 prompts=1 requests=1 tool_calls=0 "
            "input=1000000 output=100000 cache_read=0 cache_write=0")  # fmt: skip
    message = f"Late change\n\n{late}"
    then = message_usage(message, when="1745000000")
    today = message_usage(message)
    assert then is not None and today is not None
    assert abs(then[8] - 14.0) < 1e-9 and abs(today[8] - 2.8) < 1e-9

    base = commit_file(repo, "README.md", "hi\n", "Initial commit")
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "a.py").write_text("a = 1\n")
    git(repo, "add", "a.py")
    env = {**os.environ, "GIT_AUTHOR_DATE": "@1745000000 +0000"}
    subprocess.run(["git", "commit", "-q", "--no-verify", "-m", message], cwd=repo, env=env, check=True)
    head = git(repo, "rev-parse", "HEAD")
    pr = run_cli("pr", "--base", base, "--head", head, "--format", "json", cwd=repo)
    assert pr.returncode == 0, pr.stderr
    assert abs(json.loads(pr.stdout)["usage"]["cost_usd"] - 14.0) < 1e-6
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--ff-only", "feature")
    costs, _ = _history_costs(repo, dict(os.environ))
    assert abs(costs["Late change"] - 14.0) < 1e-6
