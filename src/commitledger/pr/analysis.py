"""``commitledger pr``: one pull request's AI usage set against what it delivered.

The change is what GitHub shows: the commits reachable from head and not
from base, and the diff from their merge base to head. Every input comes
from git objects (and the JUnit files CI names), so the same revisions
always give the same figures. The I/O stays here and in ``git.repo``; each
signal module is a pure function of what is read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pygit2
from radon.metrics import mi_rank

from commitledger.git import repo as gitrepo
from commitledger.history.baseline import compute_baseline
from commitledger.config import Config, check_languages
from commitledger.errors import CommitledgerError
from commitledger.ledger.models import (
    Baseline,
    CommitSummary,
    FileMaintainability,
    Maintainability,
    ModelUsage,
    PrResult,
    UsageModel,
)
from commitledger.pr.signals.junit import read_junit
from commitledger.pr.signals.lines import count_lines, tests_touched
from commitledger.pr.engines import lizard_engine
from commitledger.pr.engines.languages import SUPPORTED
from commitledger.pr.signals.maintainability import BlobSource, FileScore, MetricsCache, score_changes
from commitledger.pr.signals.policy import LanguageThresholds, Thresholds, evaluate
from commitledger.pr.signals.reverts import find_reverts
from commitledger.pr.signals.usage import CommitUsage, read_commits, total_usage, usage_by_model


@dataclass(frozen=True, slots=True)
class PrRequest:
    """What to score; ``junit`` globs are relative to ``cwd``."""

    base: str
    head: str
    config: Config
    junit: tuple[str, ...] = ()
    cwd: Path = field(default_factory=Path.cwd)
    workers: int | None = None
    use_cache: bool = True


def analyse(repo_path: Path, request: PrRequest) -> PrResult:
    """Read the change from ``repo_path`` and compute every figure of the result."""
    repo = gitrepo.open_repo(repo_path)
    gitrepo.ensure_full_history(repo)
    base = gitrepo.resolve_commit(repo, request.base)
    head = gitrepo.resolve_commit(repo, request.head)
    merge_base = gitrepo.merge_base(repo, base, head)
    commits = read_commits(gitrepo.change_commits(repo, base, head), gitrepo.ai_noted_commits(repo))
    changes = gitrepo.diff_files(repo, merge_base, head)
    config = request.config
    check_languages(config, SUPPORTED)
    lines = count_lines(changes, config.test_patterns)
    tests, warnings = read_junit(request.junit, request.cwd)
    scores = _scores(repo, head, changes, request)
    reverts = find_reverts([c.info for c in commits], lambda sha: gitrepo.reverted_work(repo, sha))
    baseline = _baseline(repo_path, str(base.id), config.baseline_days, warnings)
    usage = total_usage(commits)
    ai_commits = sum(1 for c in commits if c.ai)
    signals, flagged = evaluate(
        usage=usage,
        ai_commits=ai_commits,
        lines=lines,
        tests=tests,
        scores=scores,
        baseline=baseline,
        thresholds=Thresholds(
            mi_drop=config.mi_drop,
            complexity_rank=config.complexity_rank,
            max_cost_usd=config.max_cost_usd,
            cost_per_line_factor=config.cost_per_line_factor,
            cognitive_max=config.cognitive_max,
            by_language={
                name: LanguageThresholds(t.get("mi_drop"), t.get("complexity_rank"), t.get("cognitive_max"))
                for name, t in config.thresholds.items()
            },
        ),
    )
    commit_list = [
        _commit_summary(c, tests_touched(gitrepo.changed_paths(repo, c.info.sha), config.test_patterns))
        for c in commits
    ]
    return PrResult(
        base=str(base.id),
        head=str(head.id),
        merge_base=str(merge_base.id),
        commits=len(commits),
        ai_commits=ai_commits,
        usage=UsageModel.of(usage),
        by_model=[ModelUsage(agent=a, model=m, **u.as_dict()) for a, m, u in usage_by_model(commits)],
        lines=lines,
        tests=tests,
        maintainability=Maintainability(files=[file_model(s, s.path in flagged) for s in scores]),
        reverts=reverts,
        signals=signals,
        baseline=baseline,
        commit_list=commit_list,
        generated_at=datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        warnings=warnings,
    )


def _baseline(repo_path: Path, base_sha: str, days: int, warnings: list[str]) -> Baseline | None:
    """The base branch's usual figures; a history that cannot be read costs the comparison, not the run."""
    if days <= 0:
        return None
    try:
        return compute_baseline(repo_path, base_sha, days)
    except CommitledgerError as exc:
        warnings.append(f"no baseline: {exc}")
        return None


def _scores(
    repo: pygit2.Repository, head: pygit2.Commit, changes: list[gitrepo.FileChange], request: PrRequest
) -> list[FileScore]:
    cache = MetricsCache(gitrepo.cache_path(repo) if request.use_cache else None)
    try:
        generated = gitrepo.generated_paths(repo, head, [c.path for c in changes if not c.binary])
        source = BlobSource(
            size=lambda blob: gitrepo.blob_size(repo, blob),
            read=lambda blob: gitrepo.blob_bytes(repo, blob),
            max_bytes=request.config.max_file_bytes,
            generated=generated.__contains__,
        )
        return score_changes(changes, source, cache, request.workers, request.config.languages)
    finally:
        cache.close()


def _commit_summary(commit: CommitUsage, touched: bool) -> CommitSummary:
    usage = commit.usage
    return CommitSummary(
        commit=commit.info.sha,
        subject=commit.info.message.split("\n", 1)[0].strip(),
        author_time=commit.info.author_time,
        ai=commit.ai,
        agents=commit.agents,
        usage=UsageModel.of(usage) if usage is not None else None,
        tests_touched=touched,
        key=commit.key,
        markers=list(commit.markers),
    )


def file_model(score: FileScore, flagged: bool) -> FileMaintainability:
    """The JSON row of one file: totals, worst function and MI rank on each side."""
    before, after = score.before, score.after
    reason = score.unscored_reason
    if reason is not None:
        status = "unscored"
    elif before is None:
        status = "added"
    elif after is None:
        status = "deleted"
    else:
        status = "flagged" if flagged else "ok"
    worst_after = after.worst if after is not None else None
    worst_before = before.worst if before is not None else None
    worst = worst_after or worst_before
    hardest = after.worst_cognitive if after is not None and after.scored else None
    if reason is None and score.engine == lizard_engine.NAME:
        reason = lizard_engine.NOTE  # scored, but the MI columns are empty: say why
    return FileMaintainability(
        path=score.path,
        mi_before=before.mi if before else None,
        mi_after=after.mi if after else None,
        cc_before=before.cc_total if before else None,
        cc_after=after.cc_total if after else None,
        status=status,
        reason=reason,
        worst_function=worst.name if worst else None,
        worst_cc_before=worst_before.cc if worst_before else None,
        worst_cc_after=worst_after.cc if worst_after else None,
        rank_before=mi_rank(before.mi) if before and before.mi is not None else None,
        rank_after=mi_rank(after.mi) if after and after.mi is not None else None,
        language=score.language,
        engine=score.engine,
        worst_cognitive_function=hardest.name if hardest else None,
        worst_cognitive_after=hardest.cognitive if hardest else None,
    )

