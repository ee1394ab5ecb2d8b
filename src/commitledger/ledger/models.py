"""Pydantic models for everything that crosses a boundary as JSON.

These are the stable contracts of DESIGN.md (``commitledger.pr/1``,
``commitledger.history/1``, ``commitledger.usage/1``): keys may be added,
never renamed or removed. Internally the stages compute with the plain
``Usage`` dataclass (the hook cannot afford pydantic's import) and convert
here at the edge.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_serializer

from commitledger.ledger.usage import Usage


class Contract(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UsageModel(Contract):
    input: int | None = None
    output: int | None = None
    cache_read: int | None = None
    cache_write: int | None = None
    cost_usd: float | None = None
    sessions: int | None = None
    prompts: int | None = None
    requests: int | None = None
    tool_calls: int | None = None
    # Lines in this sum that had tokens but no cost_usd in their trailer, priced from their tokens since.
    priced_later: int | None = None

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
    added: int
    deleted: int
    source_added: int = 0
    source_deleted: int = 0
    test_added: int = 0
    test_deleted: int = 0
    docs_added: int = 0
    docs_deleted: int = 0
    binary_files: int = 0


class Tests(Contract):
    passed: int
    failed: int
    errors: int
    skipped: int
    failures: list[str] = Field(default_factory=list)  # test ids, first few
    files: int = 0
    warnings: list[str] = Field(default_factory=list)


class FileMaintainability(Contract):
    path: str
    mi_before: float | None
    mi_after: float | None
    cc_before: int | None
    cc_after: int | None
    status: str  # "ok", "flagged", "added", "deleted", "unscored"
    reason: str | None = None
    worst_function: str | None = None
    worst_cc_before: int | None = None
    worst_cc_after: int | None = None
    rank_before: str | None = None
    rank_after: str | None = None
    language: str | None = None  # "python", "typescript", "go", ... (pr/engines/languages.py)
    engine: str | None = None  # "radon", "bca", "lizard"; None when no engine measures the language
    worst_cognitive_function: str | None = None  # at head: the function hardest to follow, by cognitive complexity
    worst_cognitive_after: int | None = None


class Maintainability(Contract):
    files: list[FileMaintainability] = Field(default_factory=list)


class Revert(Contract):
    commit: str
    reverts: str
    ai_cost_usd: float | None = None


class Signal(Contract):
    id: str
    severity: Literal["info", "warning", "error"]
    message: str


class CommitSummary(Contract):
    commit: str
    subject: str
    author_time: int
    ai: bool
    agents: list[str] = Field(default_factory=list)
    usage: UsageModel | None = None
    tests_touched: bool = False
    key: str | None = None  # identity of the work across rebases (render/marker.py)
    markers: list[str] = Field(default_factory=list)


class Baseline(Contract):
    days: int
    ai_changes: int
    median_ai_cost_usd: float | None
    cost_per_merged_change: float | None
    median_cost_per_line: float | None = None
    revert_rate_ai: float | None
    revert_rate_other: float | None


class PrResult(Contract):
    schema_: Literal["commitledger.pr/1"] = Field("commitledger.pr/1", alias="schema")
    base: str
    head: str
    merge_base: str | None = None
    commits: int
    ai_commits: int
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
    discarded_commits: int = 0
    # Work counted by an earlier run for this PR and gone from the branch since,
    # carried from comment to comment (commit key -> usage).
    discarded_work: dict[str, UsageModel] = Field(default_factory=dict)
    generated_at: str | None = None  # UTC ISO time the figures were computed (the marker's valid-at)
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
    source_lines: int | None = None  # lines added + deleted outside tests and docs
    # Where ``usage`` came from: "trailers" (the messages), "notes" (a usage note replaced lines the merge
    # dropped), "trailers+notes" (the messages plus discarded work from a note); None without usage.
    usage_source: str | None = None


class HistorySummary(Contract):
    merged: int
    reverted: int
    ai_merged: int
    ai_reverted: int
    cost_usd: float
    cost_per_merged_change: float | None
    revert_rate_ai: float | None
    revert_rate_other: float | None
    median_time_to_revert_hours: float | None = None
    median_ai_cost_usd: float | None = None
    tokens_per_changed_line: float | None = None
    abandoned_cost_usd: float = 0.0


class HistoryResult(Contract):
    schema_: Literal["commitledger.history/1"] = Field("commitledger.history/1", alias="schema")
    branch: str
    since: str | None
    until: str | None = None
    changes: list[Change]
    summary: HistorySummary

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def dump(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True)
