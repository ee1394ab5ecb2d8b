"""Cognitive complexity: functions this change added or edited that are hard to follow.

Cyclomatic complexity counts paths; cognitive complexity (bca's, after
SonarSource's definition) charges nesting, so a deep ``if`` in a loop in a
``try`` costs more than a flat ``switch``. A function is flagged when its
figure passes ``cognitive_max`` (15 by default, SonarSource's own default
limit), per language where the configuration says so. Functions without a
figure (languages lizard measures, or bca missing) are never flagged.
"""

from __future__ import annotations

from collections.abc import Mapping

from commitledger.pr.signals.maintainability import FileScore, changed_functions, function_label

SIGNAL_ID = "cognitive"
DEFAULT_MAX = 15


def cognitive_signals(
    scores: list[FileScore], cognitive_max: int, by_language: Mapping[str, int] | None = None
) -> tuple[list[tuple[str, str]], set[str]]:
    """(path, message) for each new or changed function over the limit, and the paths flagged."""
    found: list[tuple[str, str]] = []
    limits = by_language or {}
    for score in scores:
        limit = limits.get(score.language or "", cognitive_max)
        for fn, previous in changed_functions(score):
            if fn.cognitive is None or fn.cognitive <= limit:
                continue
            name = function_label(score.path, score.language, fn.name)
            if previous is None:
                text = f"{name} is new with cognitive complexity {fn.cognitive} (limit {limit})"
            elif previous.cognitive is None or previous.cognitive == fn.cognitive:
                text = f"{name} was changed and has cognitive complexity {fn.cognitive} (limit {limit})"
            else:
                text = f"{name} goes from cognitive complexity {previous.cognitive} to {fn.cognitive} (limit {limit})"
            found.append((score.path, text))
    return found, {p for p, _ in found}
