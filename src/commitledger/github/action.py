"""The GitHub Action's logic: ``python -m commitledger.github.action``.

``action.yml`` stays a thin shell (set up Python, install, run this) so that
everything that can go wrong here runs in the test suite, end to end, against
a loopback server and a real repository. Inputs arrive as ``INPUT_*``
environment variables that ``action.yml`` sets through ``env:`` (never
interpolated into script text); the event comes from ``$GITHUB_EVENT_PATH``.

What each event does:

- ``pull_request`` (opened, synchronize, ...): compute the result, write it
  (plus ``pr.json``) to the output directory for the artifact, post or update
  the comment when the token may, always write the job summary and outputs,
  then apply the ``fail-on`` / ``max-cost-usd`` policy. A read-only token on
  a fork pull request is expected: a warning, not a failure.
- ``pull_request`` closed without merge: record the PR's AI usage (including
  discarded work carried by the comment's digest) as a note on the merge-base.
- ``workflow_run`` (the fork-safe second phase): read the downloaded
  artifact, check the PR's live head is the run's head, post.
- ``push`` to the default branch: note each new first-parent commit; for each
  merged PR whose merge dropped AI-Usage lines (a squash under "Pull request
  title", an edited message) or that discarded work, write its usage read
  from ``refs/pull/N/head`` as a ``usage`` note (``github.postmerge``); push
  the notes, and add a "Reverted" line to the comment of every PR whose
  change a new commit reverts. The job summary says when the repository's
  squash setting drops the lines and when notes are not fetched or pushed.

The token is handed to nothing but the GitHub client: subprocesses run
without it, and every line printed goes through ``scrub``.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from commitledger.errors import CommitledgerError
from commitledger.git.run import GitError, commit_exists, output
from commitledger.git.run import run as run_git

ZERO_SHA = "0" * 40
MAX_PUSH_COMMITS = 100
NOTES_REF = "refs/notes/commitledger"
SECRET_ENV = ("INPUT_GITHUB_TOKEN", "GITHUB_TOKEN", "GH_TOKEN")


@dataclass
class Inputs:
    token: str
    junit: list[str]
    base: str
    head: str
    comment: str
    max_cost_usd: float | None
    fail_on: list[str]
    result: str
    bot_login: str
    in_dir: Path | None
    out_dir: Path

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Inputs:
        def get(name: str) -> str:
            return env.get(f"INPUT_{name}", "").strip()

        comment = get("COMMENT") or "update"
        if comment not in ("update", "new", "off"):
            raise CommitledgerError(f"input comment must be update, new or off, not {comment!r}")
        raw_cost = get("MAX_COST_USD")
        try:
            max_cost = float(raw_cost) if raw_cost else None
        except ValueError:
            raise CommitledgerError(f"input max-cost-usd must be a number of dollars, not {raw_cost!r}") from None
        if max_cost is not None and max_cost < 0:
            raise CommitledgerError("input max-cost-usd must not be negative")
        out = env.get("COMMITLEDGER_OUT_DIR") or os.path.join(env.get("RUNNER_TEMP") or ".", "commitledger")
        in_dir = env.get("COMMITLEDGER_IN_DIR", "").strip()
        for name in ("BASE", "HEAD"):
            if get(name).startswith("-"):  # would read as an option of 'commitledger pr'
                raise CommitledgerError(f"input {name.lower()} must be a revision, not {get(name)!r}")
        fail_on = _split_list(get("FAIL_ON"))
        from commitledger.pr.signals import describe_known, unknown_fail_on

        unknown = unknown_fail_on(fail_on)
        if unknown:
            raise CommitledgerError(f"input fail-on names unknown signal {unknown[0]!r} (known: {describe_known()})")
        return cls(
            token=env.get("INPUT_GITHUB_TOKEN", "").strip() or env.get("GITHUB_TOKEN", "").strip(),
            junit=_split_list(get("JUNIT")),
            base=get("BASE"),
            head=get("HEAD"),
            comment=comment,
            max_cost_usd=max_cost,
            fail_on=fail_on,
            result=get("RESULT"),
            bot_login=get("BOT_LOGIN"),
            in_dir=Path(in_dir) if in_dir else None,
            out_dir=Path(out),
        )


def _split_list(raw: str) -> list[str]:
    """Action inputs are strings: lists come one per line or comma separated."""
    return [part.strip() for line in raw.splitlines() for part in line.split(",") if part.strip()]


def _escape_command(text: str) -> str:
    """Workflow-command data escaping: a message can never start a new command line."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


@dataclass
class Runner:
    """Where the action talks to the runner: log, annotations, summary, outputs."""

    env: Mapping[str, str]
    token: str
    summary: list[str] = field(default_factory=list)
    # All four outputs always exist; empty means unknown (no result, no tests).
    outputs: dict[str, str] = field(
        default_factory=lambda: {"cost-usd": "", "tokens": "", "tests-failed": "", "debt-signals": ""})
    errors: list[str] = field(default_factory=list)
    policy: list[str] = field(default_factory=list)  # policy failures found along the way

    def scrub(self, text: str) -> str:
        return text.replace(self.token, "***") if self.token else text

    def log(self, text: str) -> None:
        print(self.scrub(text), flush=True)

    def notice(self, text: str) -> None:
        print(f"::notice::{_escape_command(self.scrub(text))}", flush=True)

    def warning(self, text: str) -> None:
        print(f"::warning::{_escape_command(self.scrub(text))}", flush=True)

    def error(self, text: str) -> None:
        self.errors.append(self.scrub(text))
        print(f"::error::{_escape_command(self.scrub(text))}", flush=True)

    def write_summary(self) -> None:
        path = self.env.get("GITHUB_STEP_SUMMARY")
        text = self.scrub("\n\n".join(self.summary).strip() + "\n")
        if path:
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(text)
        else:
            print(text)

    def write_outputs(self) -> None:
        path = self.env.get("GITHUB_OUTPUT")
        if not path:
            for key, value in self.outputs.items():
                print(f"{key}={value}")
            return
        with open(path, "a", encoding="utf-8") as fh:
            for key, value in self.outputs.items():
                value = self.scrub(value)
                delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
                while delimiter in value:
                    delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
                fh.write(f"{key}<<{delimiter}\n{value}\n{delimiter}\n")


# --- small helpers ---


def _cli(runner: Runner, *args: str) -> subprocess.CompletedProcess[str]:
    """Run a commitledger command without the token in its environment."""
    env = {k: v for k, v in os.environ.items() if k not in SECRET_ENV}
    proc = subprocess.run([sys.executable, "-m", "commitledger", *args], capture_output=True, text=True, env=env,
                          check=False)
    for line in proc.stderr.splitlines():
        runner.log(line)
    return proc


def _cli_checked(runner: Runner, *args: str) -> str:
    proc = _cli(runner, *args)
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
        last = lines[-1] if lines else f"exit status {proc.returncode}"
        raise CommitledgerError(f"'commitledger {args[0]}' failed: {last.removeprefix('commitledger: ')}")
    return proc.stdout


def _sha(value: Any, what: str) -> str:
    text = str(value or "").strip().lower()
    if len(text) < 7 or len(text) > 64 or any(c not in "0123456789abcdef" for c in text):
        raise CommitledgerError(f"the event's {what} is not a commit sha")
    return text


def _load_event(env: Mapping[str, str]) -> dict[str, Any]:
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        raise CommitledgerError("GITHUB_EVENT_PATH is not set: run this inside GitHub Actions")
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise CommitledgerError(f"cannot read the event file {path}") from None
    if not isinstance(data, dict):
        raise CommitledgerError("the event file is not a JSON object")
    return data


def _repo(env: Mapping[str, str]) -> str:
    from commitledger.github.client import validate_repo

    return validate_repo(env.get("GITHUB_REPOSITORY", ""))


def load_result(path: Path) -> Any:
    """The result file, validated (ledger/models.py): in workflow_run it comes from a fork's job."""
    from commitledger.ledger.models import load_pr_result

    return load_pr_result(path)


def compute(runner: Runner, inputs: Inputs, base: str, head: str, out: Path) -> Path:
    """``commitledger pr`` into ``out`` (or the precomputed ``result`` input)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if inputs.result:
        src = Path(inputs.result)
        if not src.is_file():
            raise CommitledgerError(f"input result names no file: {inputs.result}")
        if src.resolve() != out.resolve():
            shutil.copyfile(src, out)
        return out
    args = ["pr", "--base", base, "--head", head, "--format", "json", "--output", str(out)]
    for pattern in inputs.junit:
        args += ["--junit", pattern]
    if inputs.max_cost_usd is not None:
        args += ["--max-cost-usd", repr(inputs.max_cost_usd)]
    if out.exists():
        out.unlink()
    proc = _cli(runner, *args)
    if proc.returncode == 1 and out.is_file() and "failing on signal" in proc.stderr:
        # The repository's own [tool.commitledger] fail_on: a verdict, not a crash.
        failing = [ln for ln in proc.stderr.splitlines() if "failing on signal" in ln][-1]
        runner.policy.append(f"repository configuration: {failing.removeprefix('commitledger: ')}")
    elif proc.returncode != 0:
        lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
        last = lines[-1] if lines else f"exit status {proc.returncode}"
        raise CommitledgerError(f"'commitledger pr' failed: {last.removeprefix('commitledger: ')}")
    return out


# --- outputs and policy ---


def _ai_only() -> bool:
    """``comment_when = "ai-only"`` in the checked-out repository's pyproject.toml.

    The workflow_run phase checks out nothing, so there it is always False:
    a fork's own configuration is never trusted by the job that can write.
    """
    from commitledger.config import load_config

    return load_config(Path.cwd()).comment_when == "ai-only"


def outputs_of(result: Any) -> dict[str, str]:
    usage = result.usage
    cost = usage.cost_usd
    if result.discarded is not None and result.discarded.cost_usd is not None:
        cost = (cost or 0.0) + result.discarded.cost_usd
    token_parts = [getattr(usage, name) for name in ("input", "output", "cache_read", "cache_write")]
    known = [t for t in token_parts if t is not None]
    tests = result.tests
    # As the comment's headline counts them: every signal but failed tests (reported on their own).
    debt = [s for s in result.signals if s.id != "tests-failed"]
    return {
        "cost-usd": f"{cost:.4f}" if cost is not None else "",
        "tokens": str(sum(known)) if known else "",
        "tests-failed": str(tests.failed + tests.errors) if tests is not None else "",
        "debt-signals": str(len(debt)),
    }


def policy_failures(result: Any, inputs: Inputs) -> list[str]:
    """The circuit breaker: signals named in ``fail-on``, and AI cost above ``max-cost-usd``."""
    problems: list[str] = []
    from commitledger.pr.signals.policy import failing_signals

    for signal in failing_signals(result.signals, inputs.fail_on):
        problems.append(f"signal {signal.id}: {signal.message}")
    cost = outputs_of(result)["cost-usd"]
    if inputs.max_cost_usd is not None and cost and float(cost) > inputs.max_cost_usd:
        problems.append(f"AI cost ${float(cost):,.2f} is above max-cost-usd ${inputs.max_cost_usd:,.2f}")
    return problems


def _render(result: Any) -> str:
    """The job summary: the comment's report without its marker."""
    from commitledger.render.markdown import render_summary

    return render_summary(result)


# --- the flows ---


def on_pull_request(runner: Runner, inputs: Inputs, event: dict[str, Any]) -> int:
    pr = event.get("pull_request") or {}
    number = int(event.get("number") or pr.get("number") or 0)
    if number <= 0:
        raise CommitledgerError("the event has no pull request number")
    if event.get("action") == "closed":
        if pr.get("merged"):
            runner.log(f"commitledger: #{number} was merged; the push to the default branch records it")
            runner.summary.append(f"commitledger: #{number} was merged; the push to the default branch records it.")
            return 0
        return on_abandoned(runner, inputs, event, number)
    repo = _repo(runner.env)
    base = inputs.base or _sha((pr.get("base") or {}).get("sha"), "pull_request.base.sha")
    head = inputs.head or _sha((pr.get("head") or {}).get("sha"), "pull_request.head.sha")
    head_repo = ((pr.get("head") or {}).get("repo") or {}).get("full_name")
    fork = head_repo is None or str(head_repo).lower() != repo.lower()

    inputs.out_dir.mkdir(parents=True, exist_ok=True)
    notes_problem = _fetch_notes(runner)  # the baseline reads usage recovered after earlier merges
    result_path = compute(runner, inputs, base, head, inputs.out_dir / "result.json")
    result = load_result(result_path)
    (inputs.out_dir / "pr.json").write_text(
        json.dumps({"schema": "commitledger.action-artifact/1", "pr": number, "head": result.head,
                    "base": result.base, "repository": repo}), encoding="utf-8")
    runner.outputs.update(outputs_of(result))

    shown = result
    status = "Comment: off."
    if inputs.comment != "off":
        if not inputs.token:
            runner.warning("no github-token: the comment is not posted (the job summary has the result)")
            status = "Comment: not posted (no token)."
        else:
            from commitledger.github.client import GitHubClient, GitHubError
            from commitledger.github.comment import post_result

            try:
                posted = post_result(GitHubClient(inputs.token), repo, number, result, mode=inputs.comment,
                                     bot_login=inputs.bot_login or None, repo_path=Path.cwd(),
                                     only_if_ai=_ai_only())
                shown = posted.result
                status = f"Comment: {posted.outcome.describe()}."
                runner.log(f"commitledger: {posted.outcome.describe()}")
            except GitHubError as exc:
                if exc.status == 403 and fork:
                    runner.warning(
                        "the token cannot comment on this pull request from a fork (read-only); the result is "
                        "in the job summary and in the result artifact for the workflow_run phase to post")
                    status = "Comment: not posted from this fork run (read-only token)."
                else:
                    runner.error(str(exc))
                    status = "Comment: failed (see the log)."
    runner.summary.append(_render(shown))
    runner.summary.append(f"<sub>{status}</sub>")
    extra = [notes_problem] if notes_problem else []
    if inputs.token and inputs.comment != "off":  # comment off: no GitHub traffic at all
        from commitledger.github.client import GitHubClient

        warning = _settings_line(runner, GitHubClient(inputs.token), repo)
        if warning:
            extra.append(warning)
    if extra:
        runner.summary.append("<sub>" + "<br>".join(extra) + "</sub>")
    runner.outputs.update(outputs_of(shown))
    return _apply_policy(runner, shown, inputs)


def _apply_policy(runner: Runner, result: Any, inputs: Inputs) -> int:
    problems = runner.policy + policy_failures(result, inputs)
    for problem in problems:
        runner.error(f"commitledger policy: {problem}")
    return 1 if runner.errors else 0


def on_workflow_run(runner: Runner, inputs: Inputs, event: dict[str, Any]) -> int:
    """Second phase for fork pull requests: post the first phase's artifact, after the head check."""
    from commitledger.github.client import GitHubClient
    from commitledger.github.comment import HeadMoved, check_expected_head, post_result

    run = event.get("workflow_run") or {}
    if run.get("event") not in ("pull_request",):
        runner.notice(f"commitledger: the triggering run was a {run.get('event')!s} run, not a pull request; nothing to post")
        return 0
    in_dir = inputs.in_dir
    meta_path = in_dir / "pr.json" if in_dir else None
    result_file = Path(inputs.result) if inputs.result else (in_dir / "result.json" if in_dir else None)
    if meta_path is None or result_file is None or not meta_path.is_file() or not result_file.is_file():
        runner.notice("commitledger: no result artifact from the pull request run (it stopped before computing?); "
                      "nothing to post")
        runner.summary.append("commitledger: no result artifact from the pull request run; nothing posted.")
        return 0
    repo = _repo(runner.env)
    head = _sha(run.get("head_sha"), "workflow_run.head_sha")
    head_repo = (run.get("head_repository") or {}).get("full_name")
    listed = [p for p in (run.get("pull_requests") or []) if isinstance(p, dict) and p.get("number")]
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        number = int(listed[0]["number"]) if listed else int(meta["pr"])
    except (OSError, ValueError, KeyError, TypeError):
        raise CommitledgerError("the artifact's pr.json does not name a pull request") from None
    if number <= 0:
        raise CommitledgerError("the artifact's pr.json does not name a pull request")
    result = load_result(result_file)
    runner.outputs.update(outputs_of(result))
    if not inputs.token:
        raise CommitledgerError("no github-token: the workflow_run phase exists to post, it needs one")
    client = GitHubClient(inputs.token)
    try:
        check_expected_head(client, repo, number, head, result.head, str(head_repo) if head_repo else None)
    except HeadMoved as exc:
        runner.notice(str(exc))
        runner.summary.append(f"commitledger: {exc}")
        return 0
    posted = post_result(client, repo, number, result, mode=inputs.comment, bot_login=inputs.bot_login or None,
                         repo_path=Path.cwd(), only_if_ai=_ai_only())
    runner.log(f"commitledger: {posted.outcome.describe()}")
    runner.outputs.update(outputs_of(posted.result))
    runner.summary.append(_render(posted.result))
    runner.summary.append(f"<sub>Comment on #{number}: {posted.outcome.describe()}.</sub>")
    return 0


def _fetch_notes(runner: Runner) -> str | None:
    """Fetch the notes; a line for the job summary when that failed for another reason than their absence."""
    try:
        run_git(None, "fetch", "--quiet", "origin", f"+{NOTES_REF}:{NOTES_REF}")
    except GitError as exc:
        detail = exc.detail or str(exc)
        runner.log(f"commitledger: no notes fetched from origin ({detail}); starting from none")
        if "couldn't find remote ref" in detail.lower() or not run_git(None, "remote", ok=(0,)).stdout.strip():
            return None  # none pushed yet (this run starts them), or no remote at all (not a CI checkout)
        from commitledger.render.markdown import escape_text

        return (f"Notes were not fetched from origin ({escape_text(detail, 160)}): usage recovered after "
                "earlier merges and abandoned PRs are missing from these figures.")
    return None


def _settings_line(runner: Runner, client: Any, repo: str) -> str | None:
    """The one line about the repository's squash setting, when it drops AI-Usage lines."""
    from commitledger.github.client import GitHubError
    from commitledger.github.postmerge import settings_warning

    try:
        return settings_warning(client.merge_settings(repo))
    except GitHubError as exc:
        runner.log(f"commitledger: could not read the repository's merge settings: {exc}")
        return None


def _recover_usage(runner: Runner, inputs: Inputs, client: Any, repo: str, default: str,
                   commits: list[str]) -> tuple[list[Any], list[str]]:
    """Usage notes for the PRs this push merged, and a summary line for each PR looked at."""
    from commitledger.github.client import GitHubError
    from commitledger.git.notes import now_iso
    from commitledger.github import postmerge
    from commitledger.ledger.commitmsg import pr_number

    mapped: dict[int, str] = {}  # PR -> its last commit among this push's
    for sha in commits:
        number = None
        if client is not None:
            try:
                number = postmerge.pick_merged(client.pulls_of_commit(repo, sha), sha, default)
            except GitHubError as exc:
                runner.log(f"commitledger: GitHub did not say which PR merged {sha[:12]} ({exc})")
        if number is None:
            number = pr_number(output(None, "log", "-1", "--no-notes", "--format=%B", sha))
        if number is not None:
            mapped[number] = sha
    if not mapped:
        return [], []
    heads = postmerge.fetch_pr_heads(None, "origin", mapped, runner.log)
    from commitledger.git.notes import load_notes

    notes = load_notes(Path.cwd())
    pushed = set(commits)
    decisions: list[Any] = []
    lines: list[str] = []
    for number, merged in sorted(mapped.items(), key=lambda item: commits.index(item[1])):  # in landing order
        head = heads.get(number)
        if head is None:
            lines.append(f"- #{number}: no refs/pull/{number}/head on origin, so its usage cannot be checked")
            continue

        def discarded(work: Any, number: int = number) -> dict[str, Any]:
            if client is None:
                return {}
            try:
                return postmerge.marker_discarded(client, repo, number, work.keys, inputs.bot_login or None)
            except GitHubError as exc:
                runner.warning(f"commitledger: discarded work of #{number} is unknown: {exc}")
                return {}

        try:
            claimed = postmerge.claimed_keys(notes, merged)
            _, decision = postmerge.recover(
                Path.cwd(), lambda parent, number=number, head=head, claimed=claimed: postmerge.read_pr_work(
                    Path.cwd(), number, parent, head, claimed), merged, discarded, now_iso(),
                allowed=pushed.__contains__)
        except CommitledgerError as exc:
            runner.warning(f"commitledger: could not read #{number}'s commits: {exc}")
            continue
        decisions.append(decision)
        if decision.entry is not None:  # a PR stacked on this one, later in the push, leaves these out
            notes[decision.commit] = {"usage": decision.entry}
        lines.append(_decision_line(number, decision))
    return decisions, lines


def _decision_line(number: int, decision: Any) -> str:
    where = f"`{decision.commit[:12]}`"
    cost = f"${decision.cost_usd:,.2f}" if decision.cost_usd is not None else "usage of unknown cost"
    if decision.reason == "dropped":
        return (f"- #{number}: the merged message lacks {decision.missing_lines} of the PR's AI-Usage line(s); "
                f"{cost} (discarded work included) recovered from refs/pull/{number}/head as a note on {where}")
    if decision.reason == "discarded":
        return f"- #{number}: every AI-Usage line survived the merge; {cost} of discarded work noted on {where}"
    return f"- #{number}: every AI-Usage line survived the merge; nothing to add"


def _push_notes(runner: Runner, write_notes: Any) -> bool:
    """Push the notes ref; if someone pushed first, fetch theirs, write ours again, retry."""
    for attempt in range(3):
        try:
            run_git(None, "push", "--quiet", "origin", NOTES_REF)
            return True
        except GitError as exc:
            runner.log(f"commitledger: notes push refused ({exc.detail or exc})")
        if attempt < 2:
            _fetch_notes(runner)
            write_notes()
    runner.warning("commitledger: could not push refs/notes/commitledger (the token needs 'contents: write')")
    return False


def on_push(runner: Runner, inputs: Inputs, event: dict[str, Any]) -> int:
    repo = _repo(runner.env)
    default = str((event.get("repository") or {}).get("default_branch") or "")
    ref = str(event.get("ref") or "")
    if not default or ref != f"refs/heads/{default}":
        runner.notice(f"commitledger: push to {ref or 'an unknown ref'}, not the default branch; nothing to record")
        return 0
    after = _sha(event.get("after"), "after")
    if after == ZERO_SHA:
        return 0
    before = str(event.get("before") or "").lower()
    if before and before != ZERO_SHA and commit_exists(None, before):
        listed = output(None, "rev-list", "--first-parent", "--reverse", f"{before}..{after}").split()
    else:
        before = ""
        listed = [after]
    commits = listed[-MAX_PUSH_COMMITS:]
    if len(listed) > len(commits):
        runner.warning(f"commitledger: {len(listed)} new commits; noting the last {MAX_PUSH_COMMITS}")

    result = None
    parents = output(None, "rev-list", "--parents", "-n", "1", after).split()[1:]
    result_path = inputs.out_dir / "result.json"
    if parents:
        try:
            compute(runner, inputs, parents[0], after, result_path)
            result = load_result(result_path)
            runner.outputs.update(outputs_of(result))
        except CommitledgerError as exc:
            runner.warning(f"commitledger: no result for {after[:12]}: {exc}")

    client = None
    if inputs.token:
        from commitledger.github.client import GitHubClient

        client = GitHubClient(inputs.token)
    else:
        runner.log("commitledger: no github-token; merged PRs are found from their messages only")
    fetch_problem = _fetch_notes(runner)  # first: the notes say which commits other PRs already count
    decisions, recovered = _recover_usage(runner, inputs, client, repo, default, commits)

    def write_notes() -> None:
        from commitledger.git.notes import record_usage

        for sha in commits:
            args = ["note", sha]
            if sha == after and result is not None:
                args += ["--result", str(result_path)]
            _cli_checked(runner, *args)
        for decision in decisions:
            if decision.entry is not None:
                record_usage(Path.cwd(), decision.commit, decision.entry)

    write_notes()
    pushed = _push_notes(runner, write_notes)
    lines = [f"commitledger: noted {len(commits)} commit(s) on {default}"
             + ("" if pushed else " (notes not pushed: readers will not see them; the token needs "
                                  "'contents: write')") + "."]
    if fetch_problem:
        lines.append(fetch_problem)
    lines += recovered
    if client is not None:
        warning = _settings_line(runner, client, repo)
        if warning:
            lines.append(warning)

    if before:
        lines += _reverted(runner, inputs, repo, before, after)
    runner.summary.append(_render(result) if result is not None else "")
    runner.summary.append("\n".join(lines))
    return 1 if runner.errors else 0


def _reverted(runner: Runner, inputs: Inputs, repo: str, before: str, after: str) -> list[str]:
    """Tell each reverted PR's comment; a failure here warns, the push is already recorded."""
    from commitledger.history.branch import reverts_in_range

    changes = [c for c in reverts_in_range(Path.cwd(), before, after) if getattr(c, "pr", None)]
    if not changes:
        return []
    if not inputs.token:
        runner.warning("commitledger: no github-token; reverted pull requests are not told")
        return []
    from commitledger.github.client import GitHubClient, GitHubError
    from commitledger.github.comment import mark_reverted

    client = GitHubClient(inputs.token)
    lines = []
    for change in changes:
        try:
            outcome = mark_reverted(client, repo, int(change.pr), reverted_by=str(change.reverted_by),
                                    reverted_at=str(change.reverted_at), ai_cost_usd=change.ai_cost_usd,
                                    bot_login=inputs.bot_login or None)
        except GitHubError as exc:
            runner.warning(f"commitledger: could not mark #{change.pr} as reverted: {exc}")
            continue
        lines.append(f"- #{int(change.pr)} reverted by `{str(change.reverted_by)[:12]}`: {outcome.describe()}")
    return lines


def on_abandoned(runner: Runner, inputs: Inputs, event: dict[str, Any], number: int) -> int:
    """Closed without merge: its AI spend (discarded work included) goes on record at the merge-base."""
    pr = event.get("pull_request") or {}
    repo = _repo(runner.env)
    base = inputs.base or _sha((pr.get("base") or {}).get("sha"), "pull_request.base.sha")
    head = inputs.head or _sha((pr.get("head") or {}).get("sha"), "pull_request.head.sha")
    if not commit_exists(None, head):
        # A closed PR's merge ref is gone, its head ref stays: fetch the objects (nothing is checked out).
        output(None, "fetch", "--quiet", "--no-tags", "origin", f"+refs/pull/{number}/head:refs/commitledger/pr-{number}")
    inputs.out_dir.mkdir(parents=True, exist_ok=True)
    result_path = compute(runner, inputs, base, head, inputs.out_dir / "result.json")
    result = load_result(result_path)
    if inputs.token:
        from commitledger.github.client import GitHubClient, GitHubError, resolve_bot_login
        from commitledger.github.comment import find_ours
        from commitledger.render.marker import apply_previous, parse_marker

        try:
            client = GitHubClient(inputs.token)
            ours = find_ours(client.list_comments(repo, number),
                             resolve_bot_login(client, inputs.bot_login or None), parse_marker)
            if ours:
                result = apply_previous(result, ours[-1].marker)
                result_path.write_text(json.dumps(result.dump()), encoding="utf-8")
        except GitHubError as exc:
            runner.warning(f"commitledger: discarded work of earlier heads is unknown: {exc}")
    merge_base = output(None, "merge-base", base, head)
    runner.outputs.update(outputs_of(result))

    def write_notes() -> None:
        _cli_checked(runner, "note", merge_base, "--pr", str(number), "--result", str(result_path), "--abandoned")

    _fetch_notes(runner)
    write_notes()
    pushed = _push_notes(runner, write_notes)
    cost = runner.outputs.get("cost-usd") or "unknown"
    runner.summary.append(
        f"commitledger: #{number} closed without merge; its AI spend (${cost}, discarded work included) is "
        f"recorded on {merge_base[:12]}" + ("." if pushed else " locally (notes not pushed)."))
    return 1 if runner.errors else 0


def run(env: Mapping[str, str]) -> int:
    token = env.get("INPUT_GITHUB_TOKEN", "") or env.get("GITHUB_TOKEN", "")
    runner = Runner(env, token.strip())
    code = 1
    try:
        inputs = Inputs.from_env(env)
        event_name = env.get("GITHUB_EVENT_NAME", "")
        event = _load_event(env)
        if event_name in ("pull_request", "pull_request_target"):
            code = on_pull_request(runner, inputs, event)
        elif event_name == "workflow_run":
            code = on_workflow_run(runner, inputs, event)
        elif event_name == "push":
            code = on_push(runner, inputs, event)
        else:
            raise CommitledgerError(f"unsupported event {event_name or '(none)'}: use pull_request, workflow_run "
                                    "or push")
    except CommitledgerError as exc:
        runner.error(f"commitledger: {exc}")
        runner.summary.append(f"**commitledger could not finish:** {runner.scrub(str(exc))}")
        code = 1
    finally:
        runner.write_summary()
        runner.write_outputs()
    return code


def main() -> None:
    sys.exit(run(os.environ))


if __name__ == "__main__":
    main()
