"""The pull-request comment and the job summary, from ``templates/comment.md.j2``.

Every string in a ``PrResult`` that came from git or a JUnit file (commit
subjects, paths, function and test names) is attacker-controlled in a
public repository, and in the fork-safe flow the whole result file is: the
template shows a string through ``code`` (a code span, backticks replaced,
pipes escaped for tables) or ``text`` (Markdown and HTML escaped, ``@`` and
URL schemes broken up), so no HTML, mention, link or image can be injected
into a comment a bot posts with write access. What a template prints
without one of those filters is escaped anyway (``_finalize``): only the
filters' own output and the validated marker are marked ``Safe``; any other
string, whatever its origin, goes through ``text``.

GitHub refuses comments over 65,536 characters; the comment is rendered
again with fewer detail rows until it fits, so the headline, table and
signals always survive.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

import jinja2
from radon.complexity import cc_rank

from commitledger.ledger.models import PrResult
from commitledger.pr.engines.languages import BY_NAME as LANGUAGES
from commitledger.render.marker import format_marker

GITHUB_COMMENT_LIMIT = 65_536
SUMMARY_LIMIT = 1_000_000  # GitHub's job summary takes up to 1 MiB per step
ZWSP = "\u200b"

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]+")
# Inline markup anywhere, ``$`` included (GitHub renders ``$...$`` as math).
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#|~!$])")
# Block markup only bites at the start of a line (a list item, a heading, a quote).
_LEADING = re.compile(r"^(\d*)([-+=.)])")
_SCHEME = re.compile(r"(?i)\b(https?|ftp|javascript|data|vbscript|mailto|file)\s*:")
_WWW = re.compile(r"(?i)\bwww\.")
_ICONS = {"error": "🔴", "warning": "🟠", "info": "🔵"}


class Safe(str):
    """Text already made inert by a filter below (or the validated marker): printed as is."""

    __slots__ = ()


def _clean(value: object, limit: int | None = None) -> str:
    text = _CONTROL.sub(" ", "" if value is None else str(value)).strip()
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def code_span(value: object, limit: int | None = None) -> str:
    """A code span: nothing inside is Markdown or HTML, GitHub links no mention in it.

    A backtick cannot be escaped inside a span, so it becomes U+02CB (ˋ);
    ``|`` is escaped because GFM splits table cells on it even inside spans.
    """
    text = _clean(value, limit).replace("`", "\u02cb").replace("|", "\\|")
    return f"`{text}`" if text else "—"


def escape_text(value: object, limit: int | None = None) -> str:
    """Plain text that renders as itself: no tag, entity, link, image, emphasis or mention."""
    text = _clean(value, limit)
    text = _SCHEME.sub(lambda m: m.group(1) + ZWSP + ":", text)
    text = _WWW.sub("www" + ZWSP + ".", text)  # GFM autolinks a bare www. too
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = _LEADING.sub(lambda m: m.group(1) + "\\" + m.group(2), text)
    return text.replace("@", "@" + ZWSP)


def human_number(value: int | float | None) -> str:
    """18422 -> 18.4k, 120000 -> 120k, 1712000 -> 1.71M: about three significant figures."""
    if value is None:
        return "—"
    n = float(value)
    if abs(n) < 999.5:
        return f"{int(round(n)):,}" if abs(n - round(n)) < 1e-9 else f"{n:.1f}"
    for size, suffix in ((1e3, "k"), (1e6, "M"), (1e9, "B")):
        scaled = n / size
        if abs(scaled) < 999.5 or suffix == "B":
            digits = 0 if abs(scaled) >= 100 else 1 if abs(scaled) >= 10 or suffix == "k" else 2
            text = f"{scaled:.{digits}f}"
            if "." in text:
                text = text.rstrip("0").rstrip(".")
            return text + suffix
    raise AssertionError("unreachable: the last unit takes any size")


def money(value: float | None) -> str:
    """$4.21, $1,204.50; small amounts keep two significant digits ($0.012, $0.0042)."""
    if value is None:
        return "—"
    if value == 0:
        return "$0.00"
    if abs(value) >= 0.1:
        return f"${value:,.2f}"
    digits = min(8, max(2, -math.floor(math.log10(abs(value))) + 1))
    text = f"{value:.{digits}f}".rstrip("0")
    return f"${text}0" if text.endswith(".") else f"${text}"


def plural(n: int | None, word: str) -> str:
    count = 0 if n is None else n
    return f"{human_number(count)} {word}" if count == 1 else f"{human_number(count)} {word}s"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def mi_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def delta(value: float) -> str:
    return f"+{value:.1f}" if value > 0 else f"−{abs(value):.1f}" if value < 0 else "±0.0"


def ratio(value: float) -> str:
    return f"{value:.1f}×"


def _safe(fn: Callable[..., object]) -> Callable[..., Safe]:
    """A filter whose output is final: ``_finalize`` must not escape it a second time."""

    def wrapped(*args: Any, **kwargs: Any) -> Safe:
        return Safe(fn(*args, **kwargs))

    return wrapped


def _finalize(value: object) -> object:
    """Every ``{{ ... }}`` ends here: anything not made safe by a filter is escaped as text.

    A template change that prints a field raw (``{{ f.status }}``) therefore
    shows its characters, never its markup, whoever wrote the result file.
    """
    if isinstance(value, Safe):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return str(value)
    return escape_text("" if value is None else value)


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("commitledger.render", "templates"),
        autoescape=False,  # Markdown, not HTML: the filters escape for Markdown, ``_finalize`` catches the rest
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(
        {
            name: _safe(fn)
            for name, fn in {
                "code": code_span,
                "text": escape_text,
                "num": human_number,
                "money": lambda value: money(value).replace("$", "\\$"),
                "plural": plural,
                "pct": percent,
                "mi": mi_text,
                "delta": delta,
                "ratio": ratio,
                "icon": lambda severity: _ICONS.get(severity, "🔵"),
                "cc_rank": lambda cc: cc_rank(cc) if cc is not None else "—",
                "language": language_label,
            }.items()
        }
    )
    return env


def language_label(name: str | None) -> str:
    """``typescript`` -> TypeScript; a name we do not know (an older or newer result) is escaped as it is."""
    if not name:
        return "—"
    known = LANGUAGES.get(name)
    return escape_text(known.label if known else name)


def languages_seen(result: PrResult) -> list[str]:
    """The changed files' languages, most files first: what the details summary names."""
    counts: dict[str, int] = {}
    for entry in result.maintainability.files:
        if entry.language:
            counts[entry.language] = counts.get(entry.language, 0) + 1
    ordered = sorted(counts, key=lambda name: (-counts[name], name))
    return [LANGUAGES[name].label if name in LANGUAGES else name for name in ordered]


@dataclass(frozen=True, slots=True)
class Limits:
    """How many detail rows to show; ``None`` means all."""

    commits: int | None = None
    files: int | None = None
    models: int | None = None
    warnings: int | None = None


# Tried in order until the comment fits: per-file and per-commit rows go first.
_TRIM_STEPS: tuple[Limits, ...] = (
    Limits(),
    Limits(commits=200, files=200, warnings=50),
    Limits(commits=100, files=60, models=30, warnings=20),
    Limits(commits=40, files=20, models=15, warnings=10),
    Limits(commits=10, files=5, models=8, warnings=5),
    Limits(commits=0, files=0, models=3, warnings=0),
)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def build_view(result: PrResult, limits: Limits) -> dict[str, Any]:
    """Everything the template shows beyond the result itself: sums, ratios and cut lists."""
    usage = result.usage.to_usage()
    both = [f for f in result.maintainability.files if f.mi_before is not None and f.mi_after is not None]
    code_lines = result.lines.source_added + result.lines.source_deleted
    base = result.baseline
    cost = usage.cost_usd
    reverted = [r.ai_cost_usd for r in result.reverts if r.ai_cost_usd is not None]

    def cut(items: list[Any], limit: int | None) -> tuple[list[Any], int]:
        if limit is None or len(items) <= limit:
            return items, 0
        return items[:limit], len(items) - limit

    commits, commits_more = cut(list(result.commit_list), limits.commits)
    files, files_more = cut(_files_worst_first(result), limits.files)
    models, models_more = cut(list(result.by_model), limits.models)
    warnings, _ = cut(list(result.warnings), limits.warnings)
    return {
        "r": result,
        "any_ai": result.ai_commits > 0 or result.discarded_commits > 0,
        "tokens": usage.tokens if usage.has_tokens() or cost is not None else None,
        "unknown_commits": sum(1 for c in result.commit_list if c.ai and c.usage is None),
        "priced_later": priced_later_commits(result),
        "ratio": cost / base.median_ai_cost_usd if base and base.median_ai_cost_usd and cost is not None else None,
        "debt": len(result.signals),  # every raised signal, tests-failed included: what --fail-on can fail on
        "mi_row": maintainability_row(result),
        "cost_per_line": cost / code_lines if cost is not None and code_lines else None,
        "mi_before": _mean([f.mi_before for f in both if f.mi_before is not None]),
        "mi_after": _mean([f.mi_after for f in both if f.mi_after is not None]),
        "reverted_cost": sum(reverted) if reverted else None,
        "signals": result.signals,
        "warnings": warnings,
        "models": models,
        "models_more": models_more,
        "commits": [_commit_row(c) for c in commits],
        "commits_more": commits_more,
        "files": files,
        "files_more": files_more,
        "languages": languages_seen(result),
        "reverts": result.reverts,
        "trimmed": bool(commits_more or files_more or models_more or len(warnings) < len(result.warnings)),
    }


def priced_later_commits(result: PrResult) -> int:
    """Commits whose cost includes AI-Usage lines priced later (tokens, no cost_usd when committed).

    The reviewer is told how many, since part of the figure was not priced at
    commit time. A result whose per-commit list lacks them (hand-built, or cut)
    still says so: each priced-later line counts as at least one commit.
    """
    commits = sum(1 for c in result.commit_list if c.usage is not None and c.usage.priced_later)
    return commits or (result.usage.priced_later or 0)


def maintainability_row(result: PrResult) -> dict[str, Any] | None:
    """The summary row: the worst changed file (tests left out) and how many files fell.

    A mean over every changed file hides the one file at MI 0.0 among twenty
    healthy ones; the worst file after the change is the news. ``None`` when
    no non-test file has an MI after the change.
    """
    from commitledger.ledger.pathkinds import path_kind

    files = [f for f in result.maintainability.files
             if f.mi_after is not None and path_kind(f.path) != "tests" and not _looks_like_test(f.path)]
    if not files:
        return None
    worst = min(files, key=lambda f: (f.mi_after, f.path))
    fell = sum(1 for f in files if f.mi_before is not None and f.mi_after < f.mi_before)
    return {"path": worst.path, "before": worst.mi_before, "after": worst.mi_after, "rank": worst.rank_after,
            "new": worst.mi_before is None, "fell": fell, "files": len(files)}


def _looks_like_test(path: str) -> bool:
    from commitledger.config import DEFAULT_TEST_PATTERNS
    from commitledger.pr.signals.lines import is_test_path

    return is_test_path(path, DEFAULT_TEST_PATTERNS)


def _commit_row(commit: Any) -> dict[str, Any]:
    usage = commit.usage.to_usage() if commit.usage is not None else None
    return {
        "commit": commit.commit,
        "subject": commit.subject,
        "agents": commit.agents,
        "models": getattr(commit, "models", []),
        "ai": commit.ai,
        "markers": commit.markers,
        "usage": {"tokens": usage.tokens, "cost_usd": usage.cost_usd, "priced_later": usage.priced_later}
        if usage is not None else None,
        "tests_touched": commit.tests_touched,
    }


_STATUS_ORDER = {"flagged": 0, "unscored": 1, "ok": 2, "added": 3, "deleted": 4}


def _files_worst_first(result: PrResult) -> list[Any]:
    """Flagged and unscored files first: when rows are cut, the ones that matter stay."""
    return sorted(result.maintainability.files, key=lambda f: (_STATUS_ORDER.get(f.status, 5), f.path))


def _render(result: PrResult, *, with_marker: bool, max_chars: int) -> str:
    template = _environment().get_template("comment.md.j2")
    marker = Safe(format_marker(result)) if with_marker else Safe("")
    text = ""
    for limits in _TRIM_STEPS:
        text = template.render(v=build_view(result, limits), marker=marker)
        if len(text) <= max_chars:
            return text
    # Even without detail rows it does not fit (thousands of signals or notes): cut at a line.
    cut = text[: max(0, max_chars - 80)]
    cut = cut[: cut.rfind("\n") + 1] if "\n" in cut else cut
    return cut + "\n<sub>Comment cut to GitHub's size limit; see the JSON output.</sub>\n"


def render_comment(result: PrResult, *, max_chars: int = GITHUB_COMMENT_LIMIT) -> str:
    """The pull-request comment, its marker on the first line, at most ``max_chars`` long."""
    return _render(result, with_marker=True, max_chars=max_chars)


def render_summary(result: PrResult, *, max_chars: int = SUMMARY_LIMIT) -> str:
    """The job summary: the same report without the marker (nothing needs to find it again)."""
    return _render(result, with_marker=False, max_chars=max_chars)
