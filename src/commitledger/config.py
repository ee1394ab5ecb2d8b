"""``[tool.commitledger]`` from the repository's ``pyproject.toml``.

A dataclass with hand-written checks instead of a pydantic model because the
commit hook reads it (``strict``) and must stay fast. A misspelt key is an
error rather than a silent default: a threshold the user thinks is set but
is not is worse than a one-line complaint.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from commitledger.errors import CommitledgerError

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


@dataclass(slots=True)
class Config:
    # hook
    strict: bool = False
    # capture: extra log files that carry no working directory of their own
    aider_analytics_log: str | None = None
    copilot_otel_file: str | None = None
    # pr analysis
    test_patterns: list[str] = field(default_factory=lambda: list(DEFAULT_TEST_PATTERNS))
    max_cost_usd: float | None = None
    mi_drop: float = 5.0
    complexity_rank: str = "C"
    max_file_bytes: int = 1_000_000
    cost_per_line_factor: float = 3.0
    fail_on: list[str] = field(default_factory=list)
    # baseline and history
    baseline_days: int = 90
    # comment
    comment_when: str = "always"
    # price overrides, USD per million tokens: {model: {input, output, cache_read, ...}}
    prices: dict[str, Any] = field(default_factory=dict)

    def with_overrides(self, **values: Any) -> Config:
        """Flags win over the file; ``None`` means the flag was not given."""
        for key, value in values.items():
            if value is not None:
                setattr(self, key, _check(key, value))
        return self


_TYPES: dict[str, tuple[type, ...]] = {
    "strict": (bool,),
    "aider_analytics_log": (str, type(None)),
    "copilot_otel_file": (str, type(None)),
    "test_patterns": (list,),
    "max_cost_usd": (int, float, type(None)),
    "mi_drop": (int, float),
    "complexity_rank": (str,),
    "max_file_bytes": (int,),
    "cost_per_line_factor": (int, float),
    "fail_on": (list,),
    "baseline_days": (int,),
    "comment_when": (str,),
    "prices": (dict,),
}
_CHOICES = {"comment_when": ("always", "ai-only"), "complexity_rank": ("A", "B", "C", "D", "E", "F")}


def _check(key: str, value: Any) -> Any:
    expected = _TYPES[key]
    if isinstance(value, bool) and bool not in expected:
        raise CommitledgerError(f"[tool.commitledger] {key} must be {_type_names(expected)}, not a boolean")
    if not isinstance(value, expected):
        raise CommitledgerError(f"[tool.commitledger] {key} must be {_type_names(expected)}")
    if key in _CHOICES and value not in _CHOICES[key]:
        raise CommitledgerError(f"[tool.commitledger] {key} must be one of {', '.join(_CHOICES[key])}")
    if isinstance(value, list) and not all(isinstance(v, str) for v in value):
        raise CommitledgerError(f"[tool.commitledger] {key} must be a list of strings")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
        raise CommitledgerError(f"[tool.commitledger] {key} must not be negative")
    return value


def _type_names(types: tuple[type, ...]) -> str:
    names = {bool: "true or false", str: "a string", list: "a list", int: "a number", float: "a number", dict: "a table"}
    return " or ".join(dict.fromkeys(names[t] for t in types if t in names))


def load_config(root: Path | None) -> Config:
    """Read ``<root>/pyproject.toml``; defaults when there is none or no table."""
    config = Config()
    if root is None:
        return config
    path = root / "pyproject.toml"
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        return config
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CommitledgerError(f"cannot read {path.name}: {exc}") from None
    table = data.get("tool", {}).get("commitledger", {})
    if not isinstance(table, dict):
        raise CommitledgerError("[tool.commitledger] in pyproject.toml must be a table")
    known = {f.name for f in fields(Config)}
    for raw_key, value in table.items():
        key = raw_key.replace("-", "_")
        if key not in known:
            raise CommitledgerError(f"unknown key '{raw_key}' in [tool.commitledger] of pyproject.toml")
        setattr(config, key, _check(key, value))
    return config
