"""``[tool.commitledger]`` from the repository's ``pyproject.toml``.

A slotted record with hand-written checks instead of a pydantic model (or a
dataclass) because the commit hook reads it (``strict``) and must stay fast:
``tomllib`` is imported only when ``pyproject.toml`` mentions commitledger. A misspelt key is an
error rather than a silent default: a threshold the user thinks is set but
is not is worse than a one-line complaint.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs the hook ~3 ms
if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path  # the hook passes a str: pathlib costs it more than its own work
    from typing import Any, ClassVar

from commitledger.errors import CommitledgerError
from commitledger.slotted import Slotted

DEFAULT_TEST_PATTERNS: tuple[str, ...] = (
    "tests/**",
    "test/**",
    "**/tests/**",
    "**/test/**",
    "**/test_*.py",
    "**/*_test.py",
    "**/*_test.go",
    "**/*.test.*",
    "**/*.spec.*",
    "**/__tests__/**",
    "spec/**",
    "src/test/**",
)


class Config(Slotted):
    """Every setting, with its default; see README "Configuration"."""

    __slots__ = (
        "strict",  # hook: refuse the commit when the hook fails
        "aider_analytics_log",  # capture: log files that carry no working directory of their own
        "copilot_otel_file",
        "test_patterns",  # pr analysis
        "max_cost_usd",
        "mi_drop",
        "complexity_rank",
        "cognitive_max",
        "languages",  # which languages the maintainability signals measure (None: every supported one)
        "thresholds",  # per language: {name: {mi_drop, complexity_rank, cognitive_max}}
        "max_file_bytes",
        "cost_per_line_factor",
        "fail_on",
        "baseline_days",  # baseline and history
        "comment_when",  # comment
        "prices",  # overrides, USD per million tokens: {model: {input, output, cache_read, ...}}
        "min_mi",  # pr: a new file below this maintainability index raises maintainability
        "bots",  # history: more authors that are bots (names, addresses or logins; * globs)
        "big_change_commits",  # history: a change bringing in more commits than this is flagged
    )
    _defaults: ClassVar[dict[str, Any]] = {
        "strict": False,
        "aider_analytics_log": None,
        "copilot_otel_file": None,
        "test_patterns": lambda: list(DEFAULT_TEST_PATTERNS),
        "max_cost_usd": None,
        "mi_drop": 5.0,
        "complexity_rank": "C",
        "cognitive_max": 15,
        "languages": None,
        "thresholds": dict,
        "max_file_bytes": 1_000_000,
        "cost_per_line_factor": 3.0,
        "fail_on": list,
        "baseline_days": 90,
        "comment_when": "always",
        "prices": dict,
        "min_mi": None,
        "bots": list,
        "big_change_commits": 500,
    }
    strict: bool
    aider_analytics_log: str | None
    copilot_otel_file: str | None
    test_patterns: list[str]
    max_cost_usd: float | None
    mi_drop: float
    complexity_rank: str
    cognitive_max: int
    languages: list[str] | None
    thresholds: dict[str, dict[str, Any]]
    max_file_bytes: int
    cost_per_line_factor: float
    fail_on: list[str]
    baseline_days: int
    comment_when: str
    prices: dict[str, Any]
    min_mi: float | None
    bots: list[str]
    big_change_commits: int

    def with_overrides(self, **values: Any) -> Config:
        """Flags win over the file; ``None`` means the flag was not given."""
        for key, value in values.items():
            if value is not None:
                setattr(self, key, _check(key, value, f"--{key.replace('_', '-')}"))
        return self


_TYPES: dict[str, tuple[type, ...]] = {
    "strict": (bool,),
    "aider_analytics_log": (str, type(None)),
    "copilot_otel_file": (str, type(None)),
    "test_patterns": (list,),
    "max_cost_usd": (int, float, type(None)),
    "mi_drop": (int, float),
    "complexity_rank": (str,),
    "cognitive_max": (int,),
    "languages": (list, type(None)),
    "thresholds": (dict,),
    "max_file_bytes": (int,),
    "cost_per_line_factor": (int, float),
    "fail_on": (list,),
    "baseline_days": (int,),
    "comment_when": (str,),
    "prices": (dict,),
    "min_mi": (int, float, type(None)),
    "bots": (list,),
    "big_change_commits": (int,),
}
_CHOICES = {"comment_when": ("always", "ai-only"), "complexity_rank": ("A", "B", "C", "D", "E", "F")}


# Upper bounds where a larger value cannot be meant and would overflow a date or a count.
_MAXIMA: dict[str, float] = {"baseline_days": 36_500, "max_file_bytes": 1 << 40}


def _check(key: str, value: Any, where: str | None = None) -> Any:
    """One setting's value, or a one-line error naming it (``where``: the flag it came from)."""
    name = where or f"[tool.commitledger] {key}"
    expected = _TYPES[key]
    if isinstance(value, bool) and bool not in expected:
        raise CommitledgerError(f"{name} must be {_type_names(expected)}, not a boolean")
    if not isinstance(value, expected):
        raise CommitledgerError(f"{name} must be {_type_names(expected)}")
    if key in _CHOICES and value not in _CHOICES[key]:
        raise CommitledgerError(f"{name} must be one of {', '.join(_CHOICES[key])}")
    if isinstance(value, list) and not all(isinstance(v, str) for v in value):
        raise CommitledgerError(f"{name} must be a list of strings")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value != value or value in (float("inf"), float("-inf")):
            raise CommitledgerError(f"{name} must be a finite number")
        if value < 0:
            raise CommitledgerError(f"{name} must not be negative")
        if key in _MAXIMA and value > _MAXIMA[key]:
            raise CommitledgerError(f"{name} must be at most {_MAXIMA[key]:,.0f}")
    if key == "fail_on":
        from commitledger.pr.signals import describe_known, unknown_fail_on

        unknown = unknown_fail_on(value)
        if unknown:
            raise CommitledgerError(f"{name} names unknown signal {unknown[0]!r} (known: {describe_known()})")
    if key == "thresholds":
        for language, table in value.items():
            if not isinstance(table, dict):
                raise CommitledgerError(f"[tool.commitledger.thresholds] {language} must be a table")
            for raw_name, setting in table.items():
                name = raw_name.replace("-", "_")
                if name not in _LANGUAGE_KEYS:
                    raise CommitledgerError(
                        f"unknown key '{raw_name}' in [tool.commitledger.thresholds.{language}] "
                        f"(known: {', '.join(_LANGUAGE_KEYS)})"
                    )
                _check(name, setting, f"[tool.commitledger.thresholds.{language}] {raw_name}")
        return {lang: {k.replace("-", "_"): v for k, v in table.items()} for lang, table in value.items()}
    return value


# What ``thresholds.<language>`` may set.
_LANGUAGE_KEYS = ("mi_drop", "complexity_rank", "cognitive_max")


def check_languages(config: Config, supported: tuple[str, ...]) -> None:
    """Language names in ``languages`` and ``thresholds`` must be ones we measure.

    Checked by the analysis, not here: the list lives with the engines, and
    the commit hook, which reads this file, must not import them.
    """
    named = list(config.languages or []) + list(config.thresholds)
    for name in named:
        if name not in supported:
            raise CommitledgerError(
                f"[tool.commitledger] unknown language '{name}' (known: {', '.join(supported)})"
            )


def _type_names(types: tuple[type, ...]) -> str:
    names = {bool: "true or false", str: "a string", list: "a list", int: "a number", float: "a number", dict: "a table"}
    return " or ".join(dict.fromkeys(names[t] for t in types if t in names))


def load_config(root: Path | str | None) -> Config:
    """Read ``<root>/pyproject.toml``; defaults when there is none or no table."""
    config = Config()
    if root is None:
        return config
    try:
        with open(os.path.join(root, "pyproject.toml"), "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        return config
    except OSError as exc:
        raise CommitledgerError(f"cannot read pyproject.toml: {exc.strerror}") from None
    if b"commitledger" not in raw:  # no table of ours: skip the TOML parser (the hook runs this)
        return config
    import tomllib

    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CommitledgerError(f"cannot read pyproject.toml: {exc}") from None
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise CommitledgerError("[tool] in pyproject.toml must be a table")
    table = tool.get("commitledger", {})
    if not isinstance(table, dict):
        raise CommitledgerError("[tool.commitledger] in pyproject.toml must be a table")
    known = set(Config.__slots__)
    for raw_key, value in table.items():
        key = raw_key.replace("-", "_")
        if key not in known:
            raise CommitledgerError(f"unknown key '{raw_key}' in [tool.commitledger] of pyproject.toml")
        setattr(config, key, _check(key, value))
    return config
