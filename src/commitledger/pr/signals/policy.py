"""Debt and spend signals: each an id, a severity and one sentence a reviewer can act on.

Pure functions of figures already computed, so each threshold is tested
on its own and ``fail_on`` can name any id. Ids are stable (action inputs
and JSON consumers use them): ``tests-failed``, ``maintainability``,
``complexity``, ``cognitive``, ``cost-limit``, ``no-tests``, ``cost-per-line``.

The maintainability thresholds (``mi_drop``, ``complexity_rank``,
``cognitive_max``) can differ per language: ``Thresholds.by_language``
maps a language name to its own ``LanguageThresholds``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from radon.complexity import cc_rank
from radon.metrics import mi_rank

from commitledger.ledger.models import Baseline, Lines, Signal, Tests
from commitledger.pr.signals.cognitive import DEFAULT_MAX as COGNITIVE_MAX, cognitive_signals
from commitledger.pr.signals.maintainability import FileScore, changed_functions, function_label
from commitledger.ledger.usage import Usage
from commitledger.pr.signals import FAIL_ON_ANY, SIGNAL_IDS  # noqa: F401 (SIGNAL_IDS: re-exported)

Severity = Literal["info", "warning", "error"]
_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
# A long list of per-file signals helps nobody in a comment: the rest are counted in one sentence.
MAX_PER_KIND = 8


@dataclass(frozen=True, slots=True)
class LanguageThresholds:
    """The maintainability thresholds of one language (any left ``None`` falls back to the global one)."""

    mi_drop: float | None = None
    complexity_rank: str | None = None
    cognitive_max: int | None = None


@dataclass(frozen=True, slots=True)
class Thresholds:
    mi_drop: float = 5.0
    complexity_rank: str = "C"
    max_cost_usd: float | None = None
    cost_per_line_factor: float = 3.0
    cognitive_max: int = COGNITIVE_MAX
    by_language: Mapping[str, LanguageThresholds] = field(default_factory=dict)

    def per_language(self, name: str) -> dict[str, object]:
        """``{language: value}`` of one threshold, for the languages that set it."""
        return {lang: getattr(t, name) for lang, t in self.by_language.items() if getattr(t, name) is not None}


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def tests_signals(tests: Tests | None) -> list[Signal]:
    if tests is None or tests.failed + tests.errors == 0:
        return []
    parts = []
    if tests.failed:
        parts.append(f"{_plural(tests.failed, 'test')} failed")
    if tests.errors:
        parts.append(f"{_plural(tests.errors, 'test')} errored")
    text = " and ".join(parts)
    if tests.failures:
        more = tests.failed + tests.errors - 1
        text += f": {tests.failures[0]}" + (f" and {more} more" if more else "")
    return [Signal(id="tests-failed", severity="error", message=text)]


def mi_signals(
    scores: list[FileScore], mi_drop: float, by_language: Mapping[str, float] | None = None
) -> tuple[list[Signal], set[str]]:
    """A file whose MI fell across a rank boundary (A/B/C) or by more than ``mi_drop`` points, or a new file at C.

    Every engine's MI is on the same 0-100 scale (radon's for Python,
    Visual Studio's from bca elsewhere), and so are the ranks: Visual
    Studio's own bands, 20-100 / 10-19 / 0-9, which radon adopted.
    """
    found: list[tuple[str, str]] = []
    limits = by_language or {}
    for score in scores:
        before, after = score.before, score.after
        if after is None or after.mi is None:
            continue
        if before is None:
            if mi_rank(after.mi) == "C":
                found.append((score.path, f"{score.path} is new with maintainability index {after.mi:.1f} (C)"))
            continue
        if before.mi is None:
            continue
        drop = before.mi - after.mi
        crossed = mi_rank(after.mi) > mi_rank(before.mi)
        if drop <= 0 or not (crossed or drop > limits.get(score.language or "", mi_drop)):
            continue
        found.append(
            (
                score.path,
                f"{score.path}: maintainability index fell from {before.mi:.1f} ({mi_rank(before.mi)}) "
                f"to {after.mi:.1f} ({mi_rank(after.mi)}), {drop:.1f} points",
            )
        )
    return _capped("maintainability", "warning", found, "more files lost maintainability"), {p for p, _ in found}


def complexity_signals(
    scores: list[FileScore], worst_rank: str, by_language: Mapping[str, str] | None = None
) -> tuple[list[Signal], set[str]]:
    """New or changed functions whose cyclomatic complexity ranks ``worst_rank`` or worse (radon's A-F scale)."""
    found: list[tuple[str, str]] = []
    limits = by_language or {}
    for score in scores:
        limit = limits.get(score.language or "", worst_rank)
        for fn, previous in changed_functions(score):
            rank = cc_rank(fn.cc)
            if rank < limit:
                continue
            name = function_label(score.path, score.language, fn.name)
            if previous is None:
                text = f"{name} is new with complexity {fn.cc} (rank {rank})"
            elif previous.cc == fn.cc:
                text = f"{name} was changed and has complexity {fn.cc} (rank {rank})"
            else:
                text = f"{name} goes from complexity {previous.cc} to {fn.cc} (rank {rank})"
            found.append((score.path, text))
    return _capped("complexity", "warning", found, "more functions are that complex"), {p for p, _ in found}


def _capped(signal_id: str, severity: Severity, found: list[tuple[str, str]], rest: str) -> list[Signal]:
    out = [Signal(id=signal_id, severity=severity, message=text) for _, text in found[:MAX_PER_KIND]]
    if len(found) > MAX_PER_KIND:
        out.append(Signal(id=signal_id, severity=severity, message=f"{len(found) - MAX_PER_KIND} {rest}"))
    return out


def cost_limit_signals(usage: Usage, max_cost_usd: float | None) -> list[Signal]:
    cost = usage.cost_usd
    if max_cost_usd is None or cost is None or cost <= max_cost_usd:
        return []
    return [
        Signal(
            id="cost-limit",
            severity="error",
            message=f"AI cost ${cost:,.2f} is above the limit of ${max_cost_usd:,.2f} for one change",
        )
    ]


def code_lines(lines: Lines) -> int:
    """Changed lines of non-test, non-doc source: the denominator of cost per line."""
    return lines.source_added + lines.source_deleted


def no_tests_signals(ai_commits: int, lines: Lines) -> list[Signal]:
    if ai_commits == 0 or code_lines(lines) == 0 or lines.test_added + lines.test_deleted > 0:
        return []
    return [
        Signal(
            id="no-tests",
            severity="warning",
            message=f"AI-assisted change of {_plural(code_lines(lines), 'source line')} with no test changed",
        )
    ]


def cost_per_line_signals(usage: Usage, lines: Lines, baseline: Baseline | None, factor: float) -> list[Signal]:
    """Only against the repository's own usual: no baseline, no signal."""
    if baseline is None or not baseline.median_cost_per_line or usage.cost_usd is None:
        return []
    changed = code_lines(lines)
    if changed == 0:
        return []
    per_line = usage.cost_usd / changed
    if per_line <= factor * baseline.median_cost_per_line:
        return []
    ratio = per_line / baseline.median_cost_per_line
    return [
        Signal(
            id="cost-per-line",
            severity="warning",
            message=(
                f"AI cost per changed line ${per_line:,.4f} is {ratio:.1f}x the repository's median "
                f"(${baseline.median_cost_per_line:,.4f})"
            ),
        )
    ]


def failing_signals(signals: list[Signal], fail_on: list[str] | tuple[str, ...]) -> list[Signal]:
    """The signals a ``fail_on`` list names (ids compared case-insensitively; "any": all but info)."""
    wanted = {name.strip().lower() for name in fail_on}
    every = bool(wanted & set(FAIL_ON_ANY))
    return [s for s in signals if s.id.lower() in wanted or (every and s.severity != "info")]


def evaluate(
    *,
    usage: Usage,
    ai_commits: int,
    lines: Lines,
    tests: Tests | None,
    scores: list[FileScore],
    baseline: Baseline | None,
    thresholds: Thresholds,
) -> tuple[list[Signal], set[str]]:
    """Every signal, most severe first, and the paths of the files flagged."""
    mi, mi_paths = mi_signals(scores, thresholds.mi_drop, thresholds.per_language("mi_drop"))  # type: ignore[arg-type]
    cc, cc_paths = complexity_signals(
        scores, thresholds.complexity_rank, thresholds.per_language("complexity_rank")  # type: ignore[arg-type]
    )
    cog_found, cog_paths = cognitive_signals(
        scores, thresholds.cognitive_max, thresholds.per_language("cognitive_max")  # type: ignore[arg-type]
    )
    cog = _capped("cognitive", "warning", cog_found, "more functions are that hard to follow")
    signals = (
        tests_signals(tests)
        + cost_limit_signals(usage, thresholds.max_cost_usd)
        + mi
        + cc
        + cog
        + no_tests_signals(ai_commits, lines)
        + cost_per_line_signals(usage, lines, baseline, thresholds.cost_per_line_factor)
    )
    signals.sort(key=lambda s: _SEVERITY_ORDER[s.severity])
    return signals, mi_paths | cc_paths | cog_paths
