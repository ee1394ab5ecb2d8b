"""Issue 14, the CI side: a hostile result file, racing posts, a hostile server, hostile inputs.

Every case here failed on the code before the hardening (issue 14 items 1,
9, 10, 11, 13, 15 and 16); each test names its item.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commitledger.errors import CommitledgerError
from commitledger.github.action import load_result
from commitledger.render.markdown import render_comment
from commitledger.render.marker import parse_marker
from conftest import ROOT, commit_file, run_cli
from fake_github import BOT, FakeGitHub
from test_render_comment import ALLOWED_TAGS, HEAD, sample_result, to_html

# --- item 1: a result file is validated, then every string is escaped ---

HOSTILE_STRINGS = (
    "abc --> <img src=x onerror=alert(1)>",
    "[click](https://evil.example)",
    "![t](https://evil.example/t.png)",
    "@everyone",
    "<script>alert(1)</script>",
)


def sample_json() -> dict[str, Any]:
    return json.loads(json.dumps(sample_result().dump()))


def write_result(data: dict[str, Any], directory: Path) -> Path:
    path = directory / "result.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def put(data: dict[str, Any], where: str, value: Any) -> None:
    """Set ``data`` at a dotted path (``commit_list.0.commit``)."""
    *parents, last = where.split(".")
    node: Any = data
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


# Fields whose value is part of the comment's structure (the marker, a cell
# printed as is) or a figure: each must be refused when it is not what
# `commitledger pr` writes.
CONSTRAINED = [
    ("head", HOSTILE_STRINGS[0]),
    ("head", "abc"),  # hex, but not a full object id
    ("base", HOSTILE_STRINGS[1]),
    ("merge_base", "g" * 40),
    ("commit_list.0.commit", HOSTILE_STRINGS[2]),
    ("commit_list.0.key", "0a1b,c,1,1;ff"),  # would forge digest entries
    ("reverts.0.commit", HOSTILE_STRINGS[3]),
    ("reverts.0.reverts", "HEAD~1"),
    ("maintainability.files.0.rank_before", HOSTILE_STRINGS[1]),
    ("maintainability.files.0.rank_after", "D"),
    ("maintainability.files.0.status", HOSTILE_STRINGS[2]),
    ("signals.0.id", HOSTILE_STRINGS[3]),
    ("signals.0.id", "tests-faild"),
    ("signals.0.severity", "<b>"),
    ("generated_at", "2026 --> <img>"),
    ("usage.cost_usd", -7.5),
    ("usage.input", -1),
    ("tests.failed", -3),
    ("lines.source_added", -10),
    ("commits", -1),
    ("baseline.revert_rate_ai", 7.0),
    ("baseline.median_ai_cost_usd", -1.0),
    ("by_model.0.cost_usd", -0.25),
    ("maintainability.files.0.worst_cc_after", -4),
]


@pytest.mark.parametrize(("where", "value"), CONSTRAINED, ids=[f"{w}={v!r}"[:60] for w, v in CONSTRAINED])
def test_result_file_with_a_bad_value_is_refused(tmp_path: Path, where: str, value: Any) -> None:
    data = sample_json()
    put(data, where, value)
    with pytest.raises(CommitledgerError) as err:
        load_result(write_result(data, tmp_path))
    message = str(err.value)
    assert "\n" not in message and "commitledger.pr/1" in message
    assert "<img" not in message and "evil" not in message  # the error does not echo the value


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_numbers_are_refused(tmp_path: Path, number: str) -> None:
    text = json.dumps(sample_json()).replace('"cost_usd": 4.21', f'"cost_usd": {number}', 1)
    assert number in text
    path = tmp_path / "result.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CommitledgerError, match="commitledger.pr/1"):
        load_result(path)


def test_discarded_work_key_is_validated(tmp_path: Path) -> None:
    data = sample_json()
    data["discarded_work"]["x --> <img src=x>"] = data["discarded_work"].pop("9f8e7d6c5b4a")
    with pytest.raises(CommitledgerError) as err:
        load_result(write_result(data, tmp_path))
    assert "<img" not in str(err.value) and "…" in str(err.value)


def test_sha256_ids_are_valid_shas(tmp_path: Path) -> None:
    data = sample_json()
    data["head"] = "ab" * 32
    data["commit_list"][0]["commit"] = "cd" * 32
    loaded = load_result(write_result(data, tmp_path))
    assert parse_marker(render_comment(loaded)).head == "ab" * 32  # type: ignore[union-attr]


def test_github_post_refuses_a_hostile_result_before_any_request(tmp_path: Path) -> None:
    """End to end through the CLI: the head would close the marker early; nothing is sent anywhere."""
    data = sample_json()
    data["head"] = "abc --> <img src=x onerror=alert(1)>"
    path = write_result(data, tmp_path)
    env = {**os.environ, "GITHUB_TOKEN": "ghs_unused", "GITHUB_API_URL": "http://127.0.0.1:9"}
    proc = run_cli("github", "post", "--result", str(path), "--repo", "octo/widgets", "--pr", "1", cwd=tmp_path,
                   env=env)
    assert proc.returncode == 2, proc.stderr
    assert "commitledger.pr/1" in proc.stderr and "head" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_marker_never_writes_an_unvalidated_head() -> None:
    """A copy made with model_copy skips validation; format_marker checks the head itself."""
    result = sample_result().model_copy(update={"head": "abc --> <img src=x>"})
    with pytest.raises(CommitledgerError, match="head"):
        render_comment(result)


def test_a_raw_field_in_the_template_is_escaped_anyway() -> None:
    """Escaping does not depend on each template line remembering its filter."""
    import jinja2

    from commitledger.render.markdown import _environment

    template = _environment().from_string("{{ x }}|{{ n }}|{{ x | text }}")
    out = template.render(x="[click](https://evil.example) @everyone <img src=x>", n=3)
    raw, number, filtered = out.split("|", 2)
    assert raw == filtered and number == "3"
    assert "<img" not in raw and "](" not in raw and "@everyone" not in raw
    assert isinstance(_environment(), jinja2.Environment)


# Every free-text field of the sample result (the rest are constrained and validated above).
FREE_TEXT = [
    "by_model.0.agent", "by_model.0.model", "by_model.1.agent", "by_model.1.model",
    "tests.failures.0",
    "maintainability.files.0.path", "maintainability.files.1.path", "maintainability.files.2.path",
    "maintainability.files.2.reason", "maintainability.files.0.worst_function", "maintainability.files.1.worst_function",
    "signals.0.message", "signals.1.message", "signals.2.message",
    "commit_list.0.subject", "commit_list.1.subject", "commit_list.2.subject", "commit_list.3.subject",
    "commit_list.4.subject", "commit_list.0.agents.0", "commit_list.2.agents.0", "commit_list.3.markers.0",
    "warnings.0",
]

MARKUP = st.text(alphabet="<>&@[]()!`*_#|~$\\:/-.+= \n\t\u202ejavscrpthimgwe0123456789", max_size=40)
ANY_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
TEXT = MARKUP | ANY_TEXT | st.sampled_from(HOSTILE_STRINGS + ("", " ", "<!--", "-->", "|", "\\|"))


def structure(body: str) -> dict[str, Any]:
    """What a reader could be made to see: tags (code spans aside: an empty value shows "—"), links, mentions."""
    html = to_html(body)
    outside_code = re.sub(r"<code>.*?</code>", "", html, flags=re.S)
    return {
        "tags": [t for t in re.findall(r"<(/?[a-zA-Z][a-zA-Z0-9]*)", html) if t.lstrip("/") != "code"],
        "comments": html.count("<!--"),
        "links": len(re.findall(r"(?i)<a\b|<img\b|https?://|www\.", outside_code)),
        "mentions": len(re.findall(r"@[A-Za-z0-9_-]", outside_code)),
        "first_line": re.sub(r"digest=\S+", "digest=…", body.split("\n", 1)[0]),
        "lines": body.count("\n"),
    }


def _baseline_structure() -> dict[str, Any]:
    data = sample_json()
    data["warnings"] = ["x"]
    for where in FREE_TEXT:
        put(data, where, "x")
    with tempfile.TemporaryDirectory() as tmp:
        return structure(render_comment(load_result(write_result(data, Path(tmp)))))


BASELINE = _baseline_structure()


def assert_same_structure(body: str) -> None:
    got = structure(body)
    assert got == BASELINE
    tags = {t.lstrip("/") for t in got["tags"]}
    assert tags <= ALLOWED_TAGS
    marker = parse_marker(body)
    assert marker is not None and marker.head == HEAD


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(TEXT, min_size=len(FREE_TEXT), max_size=len(FREE_TEXT)))
def test_hostile_result_file_cannot_change_the_comment_structure(values: list[str]) -> None:
    """Hypothesis strings in every free-text field of a result *file*: same tags, no link, image or mention."""
    data = sample_json()
    data["warnings"] = ["x"]
    for where, value in zip(FREE_TEXT, values):
        put(data, where, value)
    with tempfile.TemporaryDirectory() as tmp:
        body = render_comment(load_result(write_result(data, Path(tmp))))
    assert_same_structure(body)


CONSTRAINED_FIELDS = {
    "head": HEAD, "base": sample_json()["base"], "commit_list.0.commit": sample_json()["commit_list"][0]["commit"],
    "commit_list.0.key": "0a1b2c3d4e5f", "reverts.0.commit": sample_json()["reverts"][0]["commit"],
    "maintainability.files.0.rank_before": "A", "maintainability.files.0.status": "flagged",
    "signals.0.id": "tests-failed", "generated_at": "2026-11-20T10:02:11Z",
}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.fixed_dictionaries({k: st.just(v) | TEXT for k, v in CONSTRAINED_FIELDS.items()}),
       st.lists(TEXT, min_size=len(FREE_TEXT), max_size=len(FREE_TEXT)))
def test_every_string_field_hostile_is_refused_or_inert(constrained: dict[str, str], free: list[str]) -> None:
    """Strings everywhere, the vocabulary fields included: the file is refused, or the comment keeps its shape."""
    data = sample_json()
    data["warnings"] = ["x"]
    for where, value in [*constrained.items(), *zip(FREE_TEXT, free)]:
        put(data, where, value)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            result = load_result(write_result(data, Path(tmp)))
        except CommitledgerError as exc:
            assert "\n" not in str(exc)
            return
        body = render_comment(result)
    assert_same_structure(body)
    assert not math.isnan(result.usage.cost_usd or 0.0)


# --- item 9: concurrent `github post` runs leave exactly one comment ---

REPO = "octo/widgets"
TOKEN = "ghs_RaceTOKENvalue0000000000"
USAGE_LINE = ("AI-Usage: agent=codex model=gpt-5-codex sessions=1 prompts=1 requests=6 tool_calls=5 "
              "input=100 output=2210 cache_read=0 cache_write=0 cost_usd=0.2000")


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with FakeGitHub() as server:
        server.add_token(TOKEN)
        yield server


def gh_env(gh: FakeGitHub, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    env.update({"GITHUB_API_URL": gh.url, "GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": REPO,
                "COMMITLEDGER_RETRY_SCALE": "0.001", "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"})
    env.update(extra)
    return env


def a_result(repo: Path, out: Path) -> tuple[str, Path]:
    base = commit_file(repo, "a.py", "x = 1\n", "base")
    head = commit_file(repo, "a.py", "x = 2\n", "change\n\n" + USAGE_LINE)
    proc = run_cli("pr", "--base", base, "--head", head, "--format", "json", "--output", str(out), cwd=repo)
    assert proc.returncode == 0, proc.stderr
    return head, out


@pytest.mark.parametrize("runs", [2, 4, 8])
def test_concurrent_posts_leave_one_comment(repo: Path, tmp_path: Path, gh: FakeGitHub, runs: int) -> None:
    head, result = a_result(repo, tmp_path / "r.json")
    gh.add_pull(REPO, 3, head=head)
    # Every run's first listing is answered only once all have listed: each sees no comment and creates one.
    gh.gather("GET", f"/repos/{REPO}/issues/3/comments", runs)
    procs = [subprocess.Popen([sys.executable, "-m", "commitledger", "github", "post", "--result", str(result),
                               "--pr", "3"], cwd=repo, env=gh_env(gh), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(runs)]
    outcomes = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outcomes
    comments = gh.comments_of(REPO, 3)
    assert len(comments) == 1, [c["id"] for c in comments]
    assert f"head={head}" in comments[0]["body"]
    creates = [w for w in gh.writes() if w.method == "POST"]
    assert len(creates) == runs  # the race did happen
    assert comments[0]["id"] == 1001  # the oldest (the server's first id) is the one kept


def test_duplicates_keep_the_oldest_and_a_newer_head_is_not_overwritten(repo: Path, tmp_path: Path,
                                                                       gh: FakeGitHub) -> None:
    from commitledger.github.client import GitHubClient, RetryPolicy
    from commitledger.github.comment import collapse_duplicates
    from commitledger.render.marker import parse_marker as parse

    old = commit_file(repo, "a.txt", "1", "one")
    new = commit_file(repo, "a.txt", "2", "two")
    gh.add_pull(REPO, 5, head=new)
    oldest = gh.add_comment(REPO, 5, f"<!-- commitledger:v1 head={new} -->\nnewer figures")
    mine = gh.add_comment(REPO, 5, f"<!-- commitledger:v1 head={old} -->\nmine")
    other = gh.add_comment(REPO, 5, f"<!-- commitledger:v1 head={old} -->\nanother run")
    client = GitHubClient(TOKEN, api_url=gh.url, retry=RetryPolicy(scale=0.001))
    from commitledger.github.client import Comment
    from commitledger.github.comment import head_is_newer

    outcome = collapse_duplicates(client, REPO, 5, mine["body"], Comment(mine["id"], mine["body"], BOT), BOT, parse,
                                  lambda m: head_is_newer(repo, m.head, old))
    assert outcome.action == "newer-exists" and outcome.comment_id == oldest["id"]
    assert [c["id"] for c in gh.comments_of(REPO, 5)] == [oldest["id"]]
    assert gh.comments_of(REPO, 5)[0]["body"].endswith("newer figures")
    assert other["id"] not in [c["id"] for c in gh.comments_of(REPO, 5)]
    assert client.delete_comment(REPO, other["id"]) is False  # already gone: not an error


def test_example_workflows_have_concurrency_groups() -> None:
    import yaml

    files = sorted((ROOT / "action").glob("*.yml")) + sorted((ROOT / ".github" / "workflows").glob("commitledger.yml"))
    assert files
    for path in files:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if "jobs" not in data:
            continue
        groups = [data.get("concurrency")] + [job.get("concurrency") for job in data["jobs"].values()]
        assert any(groups), f"{path.name} has no concurrency group"


# --- item 10: a total deadline per request, a cap on every body ---


def fast_client(gh: FakeGitHub, **kw: Any) -> Any:
    from commitledger.github.client import GitHubClient, RetryPolicy

    return GitHubClient(TOKEN, api_url=gh.url, retry=RetryPolicy(attempts=3, scale=0.001), **kw)


def test_a_dripping_server_is_cut_off_at_the_deadline(gh: FakeGitHub) -> None:
    from commitledger.github.client import GitHubError

    gh.add_pull(REPO, 7, head="a" * 40)
    # One byte a second: each read is well within the 30 s read timeout, the whole answer takes 30 s.
    gh.fault("GET", f"/repos/{REPO}/issues/7/comments", 200, body="[" + " " * 28 + "]", drip=1.0, max_seconds=40)
    started = time.monotonic()
    with pytest.raises(GitHubError) as err:
        fast_client(gh, deadline=2.0).list_comments(REPO, 7)
    elapsed = time.monotonic() - started
    assert elapsed < 4.0, elapsed
    assert "within 2s" in str(err.value) and "\n" not in str(err.value)


def test_github_post_with_a_dripping_server_stops_at_the_deadline(repo: Path, tmp_path: Path, gh: FakeGitHub) -> None:
    head, result = a_result(repo, tmp_path / "r.json")
    gh.add_pull(REPO, 3, head=head)
    gh.fault("GET", f"/repos/{REPO}/issues/3/comments", 200, body="[" + " " * 60 + "]", drip=3.0, max_seconds=60)
    started = time.monotonic()
    proc = run_cli("github", "post", "--result", str(result), "--pr", "3", cwd=repo,
                   env=gh_env(gh, COMMITLEDGER_HTTP_DEADLINE="4"))
    elapsed = time.monotonic() - started
    assert proc.returncode != 0 and elapsed < 15, (elapsed, proc.stderr)
    assert "within 4s" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert TOKEN not in proc.stderr


def test_an_endless_body_is_one_line_not_memory_error(gh: FakeGitHub) -> None:
    from commitledger.github.client import MAX_BODY_BYTES, GitHubError

    gh.add_pull(REPO, 7, head="a" * 40)
    gh.fault("GET", f"/repos/{REPO}/issues/7/comments", 200, endless=True, max_seconds=3)
    with pytest.raises(GitHubError) as err:
        fast_client(gh).list_comments(REPO, 7)
    assert f"{MAX_BODY_BYTES:,}-byte cap" in str(err.value) and "\n" not in str(err.value)
    assert len([r for r in gh.requests if r.method == "GET"]) == 1  # a cut-off answer is not asked again


def test_a_declared_huge_body_is_refused_before_reading(gh: FakeGitHub) -> None:
    from commitledger.github.client import GitHubError

    gh.add_pull(REPO, 7, head="a" * 40)
    gh.fault("GET", f"/repos/{REPO}/pulls/7", 200, body="{}", headers={"Content-Length": str(10 ** 12)})
    started = time.monotonic()
    with pytest.raises(GitHubError, match="cap"):
        fast_client(gh, deadline=5.0).get_pull(REPO, 7)
    assert time.monotonic() - started < 3


def test_redirect_to_another_host_is_not_followed(gh: FakeGitHub) -> None:
    from commitledger.github.client import GitHubError

    gh.add_pull(REPO, 7, head="a" * 40)
    gh.fault("GET", f"/repos/{REPO}/pulls/7", 301, headers={"Location": "http://127.0.0.2:9/steal"})
    with pytest.raises(GitHubError, match="another host"):
        fast_client(gh).get_pull(REPO, 7)
    gh.fault("GET", f"/repos/{REPO}/pulls/7", 301, headers={"Location": f"{gh.url}/repos/{REPO}/pulls/7?renamed=1"})
    assert fast_client(gh).get_pull(REPO, 7).head_sha == "a" * 40  # same host: followed, token kept


# --- item 11: deeply nested JUnit suites are a per-file warning ---


def nested_junit(depth: int, cases: str) -> str:
    return ('<?xml version="1.0"?>\n<testsuites>' + "<testsuite name='s'>" * depth + cases
            + "</testsuite>" * depth + "</testsuites>\n")


def test_deeply_nested_junit_is_a_warning_not_a_crash(repo: Path, tmp_path: Path) -> None:
    base = commit_file(repo, "a.py", "x = 1\n", "base")
    head = commit_file(repo, "a.py", "x = 2\n", "change")
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "deep.xml").write_text(nested_junit(3000, "<testcase name='t' classname='c'><failure/></testcase>"))
    (reports / "good.xml").write_text(nested_junit(3, "<testcase name='ok' classname='c'/>" * 2))
    proc = run_cli("pr", "--base", base, "--head", head, "--format", "json", "--junit", str(reports / "*.xml"),
                   cwd=repo)
    assert proc.returncode == 0, proc.stderr
    assert "RecursionError" not in proc.stderr and "internal error" not in proc.stderr
    result = json.loads(proc.stdout)
    assert result["tests"]["passed"] == 2 and result["tests"]["failed"] == 0 and result["tests"]["files"] == 1
    assert any("deep.xml skipped: elements nested more than" in w for w in result["warnings"])


# --- item 16: configuration mistakes are one-line errors ---

BAD_CONFIG = [
    ('[tool.commitledger]\nfail_on = ["tests-faild"]\n', ("pr",), "unknown signal 'tests-faild'"),
    ("tool = 5  # commitledger\n", ("pr",), "[tool] in pyproject.toml must be a table"),
    ("[tool.commitledger]\nbaseline_days = 100000000000\n", ("pr",), "baseline_days must be at most"),
    ("[tool.commitledger]\nbaseline_days = 1000000\n", ("pr",), "baseline_days must be at most"),
    ("[tool.commitledger]\nmi_drop = nan\n", ("pr",), "mi_drop must be a finite number"),
    ('[tool.commitledger.prices.foo]\ninput = 1\noutput = 2\nlong_context = {threshold = "big", input = 2, output = 3}\n',
     ("doctor",), "'threshold' must be a token count"),
    ("", ("pr", "--baseline-days", "100000000000"), "--baseline-days must be at most"),
    ("", ("pr", "--fail-on", "tests-faild"), "unknown signal 'tests-faild' for --fail-on"),
    ("", ("history", "--since", "99999y"), "'99999y' reaches back before the year 1"),
]


@pytest.fixture
def two_commits(repo: Path) -> Path:
    commit_file(repo, "a.py", "x = 1\n", "one")
    commit_file(repo, "a.py", "x = 2\n", "two")
    return repo


@pytest.mark.parametrize(("pyproject", "args", "expected"), BAD_CONFIG, ids=[e for _, _, e in BAD_CONFIG])
def test_bad_configuration_is_one_line(two_commits: Path, pyproject: str, args: tuple[str, ...], expected: str) -> None:
    if pyproject:
        (two_commits / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    if args[0] == "pr":
        args = (*args, "--base", "HEAD~1")
    proc = run_cli(*args, cwd=two_commits)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert expected in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "internal error" not in proc.stderr


def test_fail_on_any_and_case_are_understood(two_commits: Path) -> None:
    """ "any" (every signal but info) is a known name in the config too, and it fails the run."""
    (two_commits / "pyproject.toml").write_text('[tool.commitledger]\nfail_on = ["any"]\nmax_cost_usd = 0.5\n')
    commit_file(two_commits, "a.py", "x = 3\n", "spend\n\n" + USAGE_LINE.replace("cost_usd=0.2000", "cost_usd=0.9000"))
    proc = run_cli("pr", "--base", "HEAD~2", "--format", "json", cwd=two_commits)
    assert proc.returncode == 1 and "cost-limit" in proc.stderr, proc.stderr
    proc = run_cli("pr", "--base", "HEAD~2", "--format", "json", "--fail-on", "Cost-Limit", cwd=two_commits)
    assert proc.returncode == 1 and "cost-limit" in proc.stderr, proc.stderr


def test_action_input_fail_on_unknown_is_refused() -> None:
    from commitledger.github.action import Inputs

    with pytest.raises(CommitledgerError, match="unknown signal 'tests-faild'"):
        Inputs.from_env({"INPUT_FAIL_ON": "tests-failed, tests-faild"})
    assert Inputs.from_env({"INPUT_FAIL_ON": "tests-failed\nany"}).fail_on == ["tests-failed", "any"]


# --- item 15: no control sequence reaches a terminal, no formula a spreadsheet ---

EVIL_SUBJECT = ("Fix \x1b[2J\x1b]8;;https://evil.example\x07click\x1b]8;;\x07 \x1b]52;c;cHduZWQ=\x07"
                "\x9b31m red \u202eevil\u202c \x08\x01done")


def run_on_tty(args: list[str], cwd: Path) -> str:
    """The CLI with a pseudo-terminal as stdout (click and rich behave as for a person at a terminal).

    stderr is not the terminal: the history spinner's own cursor controls would be there.
    """
    import pty

    master, slave = pty.openpty()
    env = {**os.environ, "COLUMNS": "200", "TERM": "xterm-256color"}
    proc = subprocess.Popen([sys.executable, "-m", "commitledger", *args], cwd=cwd, stdout=slave, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL, env=env)
    os.close(slave)
    chunks: list[bytes] = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(master)
    return b"".join(chunks).decode("utf-8", errors="replace")


def assert_no_control(text: str, *, allow_style: bool = False) -> None:
    if allow_style:  # rich's own colours (ESC [ ... m) are ours; strip them and nothing may remain
        text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    bad = sorted({hex(ord(c)) for c in text if (ord(c) < 32 and c not in "\t\n\r") or 0x7f <= ord(c) <= 0x9f
                  or c in "\u202e\u202c"})
    assert not bad, bad


@pytest.fixture
def evil_repo(repo: Path) -> Path:
    commit_file(repo, "a.py", "x = 1\n", "base")
    commit_file(repo, "a.py", "x = 2\n", EVIL_SUBJECT + "\n\n" + USAGE_LINE)
    commit_file(repo, "a.py", "x = 3\n", '=HYPERLINK("https://evil.example","x")')
    commit_file(repo, "a.py", "x = 4\n", "@SUM(1+1)")
    commit_file(repo, "a.py", "x = 5\n", "-2+3 fix")
    commit_file(repo, "a.py", "x = 6\n", "+cmd|' /C calc'!A0")
    return repo


def test_show_strips_control_sequences_on_a_terminal(evil_repo: Path) -> None:
    out = run_on_tty(["show", "HEAD~4"], evil_repo)
    assert "click" in out and "done" in out  # the text is still there
    assert_no_control(out)


def test_history_table_strips_control_sequences_on_a_terminal(evil_repo: Path) -> None:
    out = run_on_tty(["history", "--since", "all", "--no-cache"], evil_repo)
    assert "click" in out
    assert "]8;;" in out or "8;;" in out  # what remains of the sequence is inert text
    assert_no_control(out, allow_style=True)


def test_history_csv_neutralises_formulas(evil_repo: Path) -> None:
    import csv as csv_module
    import io

    proc = run_cli("history", "--since", "all", "--format", "csv", "--no-cache", cwd=evil_repo)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv_module.DictReader(io.StringIO(proc.stdout)))
    titles = {row["title"] for row in rows}
    assert "'=HYPERLINK(\"https://evil.example\",\"x\")" in titles
    assert "'@SUM(1+1)" in titles and "'-2+3 fix" in titles and "'+cmd|' /C calc'!A0" in titles
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    assert_no_control(proc.stdout)


def test_csv_cell_and_terminal_text_units() -> None:
    from commitledger.render.text import csv_cell, terminal_text

    assert csv_cell("=1+1") == "'=1+1" and csv_cell("\t=1") == "' =1" and csv_cell("\r=1") == "'=1"
    assert csv_cell("plain") == "plain" and csv_cell(5) == 5 and csv_cell(None) is None
    assert csv_cell("-") == "'-" and csv_cell("a=b") == "a=b"
    assert terminal_text("a\x1b[31mb\x9bc\td\ne") == "a[31mbc d e"
    assert terminal_text("a\tb\nc\x1b", one_line=False) == "a\tb\nc"


def test_pr_warnings_carry_no_control_sequence(repo: Path, tmp_path: Path) -> None:
    """A JUnit file name is the contributor's text; on a CI log a newline could start a workflow command."""
    base = commit_file(repo, "a.py", "x = 1\n", "base")
    head = commit_file(repo, "a.py", "x = 2\n", "change")
    bad = tmp_path / "evil\x1b]0;owned\x07\n::error::forged.xml"
    bad.write_text("not xml")
    proc = run_cli("pr", "--base", base, "--head", head, "--junit", str(tmp_path / "*.xml"), cwd=repo)
    assert proc.returncode == 0, proc.stderr
    warning = [line for line in proc.stderr.splitlines() if "skipped" in line]
    assert len(warning) == 1 and warning[0].startswith("commitledger: warning:")
    assert not any(line.startswith("::") for line in proc.stderr.splitlines())
    assert_no_control(proc.stderr)


# --- item 13: a SHA-256 repository is refused in one line, never shown with invented ids ---


@pytest.mark.parametrize("args", [("pr", "--base", "HEAD~1"), ("history", "--since", "all"),
                                  ("history", "--since", "all", "--format", "csv"),
                                  ("history", "--since", "all", "--format", "json")], ids=" ".join)
def test_sha256_repository_is_refused_in_one_line(tmp_path: Path, args: tuple[str, ...]) -> None:
    from conftest import git

    repo = tmp_path / "s256"
    repo.mkdir()
    git(repo, "init", "-q", "--object-format=sha256", "-b", "main")
    commit_file(repo, "a.py", "x = 1\n", "one")
    head = commit_file(repo, "a.py", "x = 2\n", "two\n\n" + USAGE_LINE)
    assert len(head) == 64
    proc = run_cli(*args, cwd=repo)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "SHA-256" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not re.search(r"\b[0-9a-f]{40}\b", proc.stdout)  # no id cut from 64 digits to 40


def test_a_hostile_abandoned_note_does_not_break_history(repo: Path) -> None:
    """Notes are written by whoever can push refs/notes/commitledger: a NaN or negative cost is unknown, not a crash."""
    from conftest import git

    base = commit_file(repo, "a.py", "x = 1\n", "base")
    commit_file(repo, "a.py", "x = 2\n", "next")
    entries = [{"pr": 7, "closed_at": "2026-11-20T10:00:00Z", "cost_usd": -5.0, "tokens": -3},
               {"pr": 8, "closed_at": "2026-11-20T10:00:00Z", "cost_usd": 1e400, "tokens": 10}]
    note = json.dumps({"schema": "commitledger.note/1", "abandoned": entries})
    git(repo, "notes", "--ref", "refs/notes/commitledger", "add", "-m", note.replace("Infinity", "1e400"), base)
    for fmt in ("json", "csv", "table"):
        proc = run_cli("history", "--since", "all", "--no-cache", "--format", fmt, cwd=repo)
        assert proc.returncode == 0, proc.stderr
    data = json.loads(run_cli("history", "--since", "all", "--no-cache", "--format", "json", cwd=repo).stdout)
    assert data["summary"]["abandoned_cost_usd"] == 0
