"""Token and cost counts, the unit every stage adds up.

A plain dataclass rather than a pydantic model: the commit hook builds and
sums these on every commit, and importing pydantic alone costs more than the
hook's whole time budget. Pydantic models in ``models.py`` wrap these at the
JSON boundaries.

``None`` means *unknown*, never zero: a trailer without a field, or a model
with no known price, stays unknown when summed with other unknowns; summed
with a known value it adds nothing (and ``cost_complete`` records that part
of the cost was not known).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

# Order matters: it is the order of the keys in an AI-Usage trailer.
COUNT_FIELDS: tuple[str, ...] = (
    "sessions",
    "prompts",
    "requests",
    "tool_calls",
    "input",
    "output",
    "cache_read",
    "cache_write",
)
TOKEN_FIELDS: tuple[str, ...] = ("input", "output", "cache_read", "cache_write")


def _add(a: int | float | None, b: int | float | None) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    return a + b


@dataclass(slots=True)
class Usage:
    """Counts for one (agent, model) pair, one commit, or any sum of them."""

    sessions: int | None = None
    prompts: int | None = None
    requests: int | None = None
    tool_calls: int | None = None
    input: int | None = None
    output: int | None = None
    cache_read: int | None = None
    cache_write: int | None = None
    cost_usd: float | None = None
    # False once any part of the sum had tokens but no known price.
    cost_complete: bool = True
    # Keys we do not know, kept so a re-written trailer loses nothing.
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def zero(cls) -> Usage:
        return cls(0, 0, 0, 0, 0, 0, 0, 0, 0.0)

    def __add__(self, other: Usage) -> Usage:
        out = Usage()
        for name in COUNT_FIELDS:
            setattr(out, name, _add(getattr(self, name), getattr(other, name)))
        out.cost_usd = _add(self.cost_usd, other.cost_usd)
        out.cost_complete = (
            self.cost_complete
            and other.cost_complete
            and not (self.cost_usd is None and self.has_tokens())
            and not (other.cost_usd is None and other.has_tokens())
        )
        for key, value in list(self.extra.items()) + list(other.extra.items()):
            mine = out.extra.get(key)
            if mine is not None and mine.isdigit() and value.isdigit():
                out.extra[key] = str(int(mine) + int(value))
            else:
                out.extra[key] = value
        return out

    @property
    def tokens(self) -> int:
        """All tokens processed, cached ones included (the 'tokens burned' figure)."""
        return sum(getattr(self, n) or 0 for n in TOKEN_FIELDS)

    def has_tokens(self) -> bool:
        return any(getattr(self, n) for n in TOKEN_FIELDS)

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of the contracts: every count plus ``cost_usd``."""
        out: dict[str, Any] = {n: getattr(self, n) for n in COUNT_FIELDS}
        out["cost_usd"] = None if self.cost_usd is None else round(self.cost_usd, 6)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Usage:
        known = {f.name for f in fields(cls)} - {"extra", "cost_complete"}
        return cls(**{k: v for k, v in data.items() if k in known})


def sum_usage(items: list[Usage] | tuple[Usage, ...]) -> Usage:
    total = Usage()
    for item in items:
        total = total + item
    return total
