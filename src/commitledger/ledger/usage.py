"""Token and cost counts, the unit every stage adds up.

A plain slotted record rather than a pydantic model or a dataclass: the
commit hook builds and sums these on every commit, and importing pydantic
(or dataclasses) costs more than the hook can spend. Pydantic models in ``models.py`` wrap these at the
JSON boundaries.

``None`` means *unknown*, never zero: a trailer without a field, or a model
with no known price, stays unknown when summed with other unknowns; summed
with a known value it adds nothing (and ``cost_complete`` records that part
of the cost was not known).
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs the hook ~3 ms
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any, ClassVar

from commitledger.slotted import Slotted

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


class Usage(Slotted):
    """Counts for one (agent, model) pair, one commit, or any sum of them.

    ``cost_complete`` turns False once any part of a sum had tokens but no
    known price; ``extra`` keeps trailer keys we do not know, so a re-written
    trailer loses nothing.
    """

    __slots__ = COUNT_FIELDS + ("cost_usd", "cost_complete", "extra", "priced_later")
    _defaults: ClassVar[dict[str, Any]] = {
        **{name: None for name in COUNT_FIELDS}, "cost_usd": None, "cost_complete": True, "extra": dict,
        "priced_later": 0,
    }
    sessions: int | None
    prompts: int | None
    requests: int | None
    tool_calls: int | None
    input: int | None
    output: int | None
    cache_read: int | None
    cache_write: int | None
    cost_usd: float | None
    cost_complete: bool
    extra: dict[str, str]
    priced_later: int  # trailer lines in this sum that had tokens but no cost_usd, priced from their tokens since

    @classmethod
    def zero(cls) -> Usage:
        return cls(0, 0, 0, 0, 0, 0, 0, 0, 0.0)

    def __add__(self, other: Usage) -> Usage:
        out = Usage()
        for name in COUNT_FIELDS:
            setattr(out, name, _add(getattr(self, name), getattr(other, name)))
        out.cost_usd = _add(self.cost_usd, other.cost_usd)
        out.priced_later = self.priced_later + other.priced_later
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
        if self.priced_later:
            out["priced_later"] = self.priced_later  # lines whose cost was computed after the commit
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Usage:
        known = set(COUNT_FIELDS) | {"cost_usd", "priced_later"}
        return cls(**{k: v for k, v in data.items() if k in known})


def sum_usage(items: list[Usage] | tuple[Usage, ...]) -> Usage:
    total = Usage()
    for item in items:
        total = total + item
    return total
