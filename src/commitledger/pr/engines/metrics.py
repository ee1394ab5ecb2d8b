"""What every engine returns for one blob, in the shape the cache stores.

One record for all engines, so the signals never ask which engine measured
a file: a maintainability index on 0-100 (or ``None`` when the engine has
none), the file's total cyclomatic complexity, and its functions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FunctionMetric:
    """One function or method: complexity figures and a digest of its text.

    ``name`` is qualified by the classes/impls around it (``Cart.total``),
    ``kind`` is the engine's word for it (``function``, ``method``); base and
    head are matched on both. ``cognitive`` is ``None`` when no engine
    gave one. ``line`` is where the definition starts.
    """

    name: str
    cc: int
    digest: str
    kind: str = "function"
    cognitive: int | None = None
    line: int = 0


@dataclass(frozen=True, slots=True)
class BlobMetrics:
    """Metrics of one blob; ``reason`` set means it could not be scored."""

    mi: float | None = None
    cc_total: int | None = None
    functions: tuple[FunctionMetric, ...] = ()
    reason: str | None = None

    @property
    def scored(self) -> bool:
        return self.reason is None

    @property
    def worst(self) -> FunctionMetric | None:
        return max(self.functions, key=lambda f: f.cc, default=None)

    @property
    def worst_cognitive(self) -> FunctionMetric | None:
        known = [f for f in self.functions if f.cognitive is not None]
        return max(known, key=lambda f: f.cognitive or 0, default=None)

    def to_json(self) -> str:
        return json.dumps(
            {
                "mi": self.mi,
                "cc": self.cc_total,
                "fn": [[f.name, f.cc, f.digest, f.kind, f.cognitive, f.line] for f in self.functions],
                "reason": self.reason,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> BlobMetrics:
        data = json.loads(text)
        return cls(
            mi=data["mi"],
            cc_total=data["cc"],
            functions=tuple(
                FunctionMetric(str(n), int(c), str(d), str(k), None if g is None else int(g), int(line))
                for n, c, d, k, g, line in data["fn"]
            ),
            reason=data["reason"],
        )

    def with_cognitive(self, figures: dict[tuple[str, int], int]) -> BlobMetrics:
        """The same metrics with cognitive complexity from (short name, start line) of another engine."""
        if not figures:
            return self
        functions = tuple(
            FunctionMetric(
                f.name, f.cc, f.digest, f.kind, figures.get((f.name.rsplit(".", 1)[-1], f.line), f.cognitive), f.line
            )
            for f in self.functions
        )
        return BlobMetrics(self.mi, self.cc_total, functions, self.reason)
