"""Pydantic models for everything that crosses a boundary as JSON.

These are the stable contracts of DESIGN.md (``commitledger.pr/1``,
``commitledger.history/1``, ``commitledger.usage/1``): keys may be added,
never renamed or removed. Internally the stages compute with the plain
``Usage`` dataclass (the hook cannot afford pydantic's import) and convert
here at the edge.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_serializer

from commitledger.ledger.usage import Usage
from commitledger.pr.signals import FILE_STATUSES, MI_RANKS, SIGNAL_IDS


class Contract(BaseModel):
    # No NaN or infinity anywhere: JSON parsers accept ``NaN`` and ``1e400``, no figure means them.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


# --- the vocabulary of a result: a result file may come from a fork's job, so every
# value that reaches the comment unquoted (shas in the marker, ranks, ids, statuses)
# is checked against what ``commitledger pr`` can produce. Free text (subjects, paths,
# messages) is escaped by the renderer instead.

# A full object id: SHA-1 (40 hex digits) or SHA-256 (64).
Sha = Annotated[str, StringConstraints(pattern=r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")]
# A sha a commit message names ("This reverts commit abc1234"), possibly abbreviated.
ShortSha = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{4,64}$")]
# A commit key (pr/signals/usage.py commit_key): hex, as the marker's digest requires.
CommitKey = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{8,64}$")]
Count = Annotated[int, Field(ge=0)]
Dollars = Annotated[float, Field(ge=0)]
Fraction = Annotated[float, Field(ge=0, le=1)]
_TIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{2,20}(?:Z|[+-][0-9]{2}:?[0-9]{2})?$")


def _one_of(allowed: tuple[str, ...], what: str) -> AfterValidator:
    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"unknown {what} (known: {', '.join(allowed)})")
        return value

    return AfterValidator(check)


def _time(value: str) -> str:
    if not _TIME.match(value):
        raise ValueError("not an ISO 8601 UTC time")
    return value


SignalId = Annotated[str, _one_of(SIGNAL_IDS, "signal id")]
FileStatus = Annotated[str, _one_of(FILE_STATUSES, "file status")]
MiRank = Annotated[str, _one_of(MI_RANKS, "maintainability rank")]
Timestamp = Annotated[str, AfterValidator(_time)]


class UsageModel(Contract):
    input: Count | None = None
    output: Count | None = None
    cache_read: Count | None = None
    cache_write: Count | None = None
    cost_usd: Dollars | None = None
    sessions: Count | None = None
    prompts: Count | None = None
    requests: Count | None = None
    tool_calls: Count | None = None
    # Lines in this sum that had tokens but no cost_usd in their trailer, priced from their tokens since.
    priced_later: Count | None = None

    @model_serializer(mode="wrap")
    def _without_unset_priced_later(self, handler: Any) -> Any:
        data = handler(self)
        if isinstance(data, dict) and data.get("priced_later") is None:
            data.pop("priced_later", None)
        return data

    @classmethod
    def of(cls, usage: Usage) -> UsageModel:
        return cls(**usage.as_dict())

    def to_usage(self) -> Usage:
        return Usage.from_dict(self.model_dump())


class ModelUsage(UsageModel):
    agent: str
    model: str


class UsageReport(Contract):
    """``commitledger usage --json``: what the next commit would record."""

    schema_: Literal["commitledger.usage/1"] = Field("commitledger.usage/1", alias="schema")
    records: list[ModelUsage]
    total: UsageModel

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def dump(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True)


# --- commitledger pr ---


class Lines(Contract):
    added: Count
    deleted: Count
    source_added: Count = 0
    source_deleted: Count = 0
    test_added: Count = 0
    test_deleted: Count = 0
    docs_added: Count = 0
    docs_deleted: Count = 0
    config_added: Count = 0  # config files and data: lockfiles, JSON/YAML/TOML, vendored or generated paths
    config_deleted: Count = 0
    binary_files: Count = 0


class Tests(Contract):
    passed: Count
    failed: Count
    errors: Count
    skipped: Count
    failures: list[str] = Field(default_factory=list)  # test ids, first few
    files: Count = 0
    warnings: list[str] = Field(default_factory=list)


class FileMaintainability(Contract):
    path: str
    mi_before: float | None
    mi_after: float | None
    cc_before: Count | None
    cc_after: Count | None
    status: FileStatus
    reason: str | None = None
    worst_function: str | None = None
    worst_cc_before: Count | None = None
    worst_cc_after: Count | None = None
    rank_before: MiRank | None = None
    rank_after: MiRank | None = None
    language: str | None = None  # "python", "typescript", "go", ... (pr/engines/languages.py)
    engine: str | None = None  # "radon", "bca", "lizard"; None when no engine measures the language
    worst_cognitive_function: str | None = None  # at head: the function hardest to follow, by cognitive complexity
    worst_cognitive_after: Count | None = None


class Maintainability(Contract):
    files: list[FileMaintainability] = Field(default_factory=list)


class Revert(Contract):
    commit: Sha
    reverts: ShortSha
    ai_cost_usd: Dollars | None = None


class Signal(Contract):
    id: SignalId
    severity: Literal["info", "warning", "error"]
    message: str


class CommitSummary(Contract):
    commit: Sha
    subject: str
    author_time: int
    ai: bool
    agents: list[str] = Field(default_factory=list)
    usage: UsageModel | None = None
    tests_touched: bool = False
    models: list[str] = Field(default_factory=list)  # from AI-Usage lines and markers ("Claude Opus 4.6")
    key: CommitKey | None = None  # identity of the work across rebases (render/marker.py)
    markers: list[str] = Field(default_factory=list)


class Baseline(Contract):
    days: Count
    ai_changes: Count
    median_ai_cost_usd: Dollars | None
    cost_per_merged_change: Dollars | None
    median_cost_per_line: Dollars | None = None
    revert_rate_ai: Fraction | None
    revert_rate_other: Fraction | None  # human changes (bots have their own rate)
    revert_rate_bot: Fraction | None = None
    bot_changes: Count = 0
    # AI-assisted changes of the window whose cost includes AI-Usage lines priced later (tokens, no cost_usd):
    # the medians read them, so the comparison says how many (0 in results written before it was counted).
    priced_later: Count = 0


class PrResult(Contract):
    """``commitledger pr --format json``; validated again when ``github post`` loads it."""

    schema_: Literal["commitledger.pr/1"] = Field("commitledger.pr/1", alias="schema")
    base: Sha
    head: Sha
    merge_base: Sha | None = None
    commits: Count
    ai_commits: Count
    usage: UsageModel
    by_model: list[ModelUsage]
    lines: Lines
    tests: Tests | None
    maintainability: Maintainability
    reverts: list[Revert]
    signals: list[Signal]
    baseline: Baseline | None
    commit_list: list[CommitSummary] = Field(default_factory=list)
    discarded: UsageModel | None = None
    discarded_commits: Count = 0
    # Work counted by an earlier run for this PR and gone from the branch since,
    # carried from comment to comment (commit key -> usage).
    discarded_work: dict[CommitKey, UsageModel] = Field(default_factory=dict)
    generated_at: Timestamp | None = None  # UTC ISO time the figures were computed (the marker's valid-at)
    warnings: list[str] = Field(default_factory=list)

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def dump(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True)


# --- commitledger history ---


class Change(Contract):
    commit: str
    pr: int | None
    title: str
    merged_at: str
    ai: bool
    usage: UsageModel | None
    reverted_by: str | None
    kind: str = "direct"  # "merge", "squash", "direct", "abandoned"
    lines_changed: int | None = None
    reverted_at: str | None = None
    tests: Tests | None = None  # from the change's note (refs/notes/commitledger), when CI wrote one
    source_lines: int | None = None  # lines added + deleted of code (not tests, docs, config or data)
    # The other kinds of path (ledger.pathkinds); the four add up to lines_changed, all None when it is.
    test_lines: int | None = None
    doc_lines: int | None = None
    config_lines: int | None = None  # config files and data
    author_kind: str = "human"  # "ai", "human" or "bot"
    agents: list[str] = Field(default_factory=list)  # stated by AI-Usage lines and AI markers
    models: list[str] = Field(default_factory=list)
    evidence: list[str] = Field(default_factory=list)  # ai-usage, co-authored-by, assisted-by, aider-author, ...
    commits: int = 1  # commits the change brought to the branch
    big: bool = False  # more than big_change_commits commits
    lines_error: str | None = None  # why git could not count the lines (lines_changed is then null)
    # Where ``usage`` came from: "trailers" (the messages), "notes" (a usage note replaced lines the merge
    # dropped), "trailers+notes" (the messages plus discarded work from a note); None without usage.
    usage_source: str | None = None


class Period(Contract):
    """One week or month of the lead's view."""

    start: str
    merged: int
    ai_merged: int
    human_merged: int = 0
    bot_merged: int = 0
    ai_share: float | None = None
    cost_usd: float | None = None  # known AI spend; None when no AI-assisted change of the period has a cost
    ai_cost_known: int = 0
    ai_cost_unknown: int = 0
    cost_per_merged_change: float | None = None
    revert_rate_ai: float | None = None
    revert_rate_human: float | None = None
    revert_rate_bot: float | None = None


class HistorySummary(Contract):
    merged: int
    reverted: int
    ai_merged: int
    ai_reverted: int
    cost_usd: float | None  # known AI spend; None when AI-assisted changes were merged and none has a known cost
    cost_per_merged_change: float | None
    revert_rate_ai: float | None
    revert_rate_other: float | None  # human changes (bots excluded since they have their own rate)
    median_time_to_revert_hours: float | None = None
    median_ai_cost_usd: float | None = None
    tokens_per_changed_line: float | None = None
    abandoned_cost_usd: float = 0.0
    human_merged: int = 0
    human_reverted: int = 0
    bot_merged: int = 0
    bot_reverted: int = 0
    revert_rate_human: float | None = None
    revert_rate_bot: float | None = None
    ai_cost_known: int = 0  # AI-assisted changes whose cost is known
    ai_cost_unknown: int = 0  # AI-assisted changes whose cost is not (no usage recorded, or not priced)
    ai_usage_unknown: int = 0  # AI-assisted changes with no AI-Usage line at all (a marker only)
    big_changes: int = 0
    big_change_commits: int = 500
    last_change_at: str | None = None  # the branch's newest change, in the window or not
    lines_uncounted: int = 0  # changes whose lines git could not count
    agents: dict[str, int] = Field(default_factory=dict)  # changes per agent in the window
    models: dict[str, int] = Field(default_factory=dict)
    # AI-assisted changes whose cost includes AI-Usage lines priced later (tokens but no cost_usd when
    # committed, priced from their tokens since): counted in cost_usd, never left out nor taken as $0.
    priced_later: int = 0


class HistoryResult(Contract):
    schema_: Literal["commitledger.history/1"] = Field("commitledger.history/1", alias="schema")
    branch: str
    since: str | None
    until: str | None = None
    changes: list[Change]
    summary: HistorySummary
    period: str = "week"  # "week", or "month" when the window spans more than a year
    periods: list[Period] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def dump(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True)


# --- loading a result file: the trust boundary of ``github post`` and the Action ---

# A result with thousands of commits and files is a few MB; anything far larger is not ours.
MAX_RESULT_BYTES = 64 * 1024 * 1024
_LOC_PART = re.compile(r"^[A-Za-z0-9_\[\]]{1,40}$")


def _where(loc: tuple[int | str, ...]) -> str:
    """A validation error's location, without echoing attacker-chosen keys."""
    parts = [str(p) if isinstance(p, int) or _LOC_PART.match(str(p)) else "…" for p in loc]
    return ".".join(parts) or "top level"


def load_pr_result(path: Path) -> PrResult:
    """Read and validate a ``commitledger.pr/1`` file, or fail with one line.

    In the fork-safe flow the file was produced by a fork's job: every sha,
    rank, signal id, status and number is checked here before anything is
    rendered or posted with the write token.
    """
    from pydantic import ValidationError

    from commitledger.errors import CommitledgerError

    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise CommitledgerError(f"the result file {path} is not a regular file")
        with open(path, "rb") as fh:
            raw = fh.read(MAX_RESULT_BYTES + 1)
    except OSError as exc:
        raise CommitledgerError(f"cannot read the result file {path}: {exc.strerror or exc.__class__.__name__}") from None
    if len(raw) > MAX_RESULT_BYTES:
        raise CommitledgerError(f"the result file {path} is over {MAX_RESULT_BYTES // (1024 * 1024)} MB: not a commitledger result")
    try:
        return PrResult.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        if first.get("type") == "json_invalid":
            raise CommitledgerError(
                f"{path} is not JSON (expected the output of 'commitledger pr --format json')") from None
        message = " ".join(str(first.get("msg", "")).split())[:160]
        raise CommitledgerError(
            f"{path} is not a valid commitledger.pr/1 result ({exc.error_count()} problems, first at "
            f"{_where(tuple(first.get('loc', ())))}: {message})"
        ) from None
