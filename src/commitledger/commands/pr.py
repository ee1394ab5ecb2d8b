"""``commitledger pr``: the thin command-line edge of ``commitledger.pr.analysis``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from commitledger.config import load_config
from commitledger.errors import CommitledgerError


@click.command("pr")
@click.option("--base", required=True, help="The pull request's base (branch, tag or sha).")
@click.option("--head", default="HEAD", show_default=True, help="The pull request's head.")
@click.option("--junit", "junit", multiple=True, metavar="GLOB", help="JUnit XML files (repeatable, ** allowed).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["markdown", "json", "summary"]),
    default="markdown",
    show_default=True,
    help="markdown: the PR comment; summary: the job summary; json: commitledger.pr/1.",
)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout.")
@click.option(
    "--repo",
    "repo_path",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    help="The repository to read.",
)
@click.option("--max-cost-usd", type=float, help="Signal cost-limit above this AI cost (overrides the config).")
@click.option("--mi-drop", type=float, help="Signal a file whose MI falls by more than this.")
@click.option("--complexity-rank", type=click.Choice(list("ABCDEF")), help="Signal new/changed functions of this rank or worse.")
@click.option("--cost-per-line-factor", type=float, help="Signal cost per line above this many times the median.")
@click.option("--max-file-bytes", type=int, help="Leave files (any language) larger than this unscored.")
@click.option("--baseline-days", type=int, help="Compare with the base branch's last N days (0: no comparison).")
@click.option("--test-pattern", "test_patterns", multiple=True, help="Glob of test paths (repeatable; replaces the config's).")
@click.option("--fail-on", "fail_on", multiple=True, metavar="SIGNAL",
              help="Exit 1 when this signal is raised (repeatable; 'any': every signal but info).")
@click.option("--no-cache", is_flag=True, help="Measure every blob again instead of using the cache.")
def pr(
    base: str,
    head: str,
    junit: tuple[str, ...],
    fmt: str,
    output: Path | None,
    repo_path: Path,
    max_cost_usd: float | None,
    mi_drop: float | None,
    complexity_rank: str | None,
    cost_per_line_factor: float | None,
    max_file_bytes: int | None,
    baseline_days: int | None,
    test_patterns: tuple[str, ...],
    fail_on: tuple[str, ...],
    no_cache: bool,
) -> None:
    """Score a pull request: its AI usage against tests, maintainability and reverts."""
    from commitledger.git import repo as gitrepo
    from commitledger.pr.analysis import PrRequest, analyse
    from commitledger.pr.signals import describe_known, unknown_fail_on
    from commitledger.pr.signals.policy import failing_signals

    unknown = unknown_fail_on(fail_on)
    if unknown:
        raise CommitledgerError(f"unknown signal {unknown[0]!r} for --fail-on (known: {describe_known()})")
    repo = gitrepo.open_repo(repo_path)
    config = load_config(gitrepo.workdir_or_gitdir(repo)).with_overrides(
        max_cost_usd=max_cost_usd,
        mi_drop=mi_drop,
        complexity_rank=complexity_rank,
        cost_per_line_factor=cost_per_line_factor,
        max_file_bytes=max_file_bytes,
        baseline_days=baseline_days,
        test_patterns=list(test_patterns) or None,
    )
    result = analyse(
        repo_path,
        PrRequest(base=base, head=head, config=config, junit=junit, cwd=Path.cwd(), use_cache=not no_cache),
    )
    if fmt == "json":
        text = json.dumps(result.dump(), indent=2, ensure_ascii=False) + "\n"
    else:
        from commitledger.render.markdown import render_comment, render_summary

        text = render_comment(result) if fmt == "markdown" else render_summary(result)
    if output is not None:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommitledgerError(f"cannot write {output}: {exc.strerror or exc}") from None
    else:
        click.echo(text, nl=False)
    from commitledger.render.text import terminal_text

    # Paths and JUnit names are the contributor's text; on a CI log a newline could start a workflow command.
    for warning in result.warnings:
        click.echo(f"commitledger: warning: {terminal_text(warning)}", err=True)
    for file in result.maintainability.files:
        if file.status == "unscored":
            click.echo(f"commitledger: warning: {terminal_text(file.path)} not scored: {terminal_text(file.reason)}",
                       err=True)
    failing = sorted({s.id for s in failing_signals(result.signals, [*fail_on, *config.fail_on])})
    if failing:
        click.echo(f"commitledger: failing on signal(s): {', '.join(failing)}", err=True)
        sys.exit(1)
