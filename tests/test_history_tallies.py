"""The summary's tallies, counted in C passes over the chain's columns, against the plain loops they replaced.

``summarise`` and ``tally`` were rewritten for speed (map/compress over the
columns, combinations of agents counted once). These reference versions are
the loops they replaced, kept here as the specification: the same figures
for any chain, window (whole or partial), revert outcome and cost, NaN included.
"""

from __future__ import annotations

import math
import statistics
from array import array
from collections import Counter
from itertools import chain as chained
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from commitledger.history.branch import count_priced_later, iso, summarise
from commitledger.history.cache import Chain
from commitledger.history.periods import tally
from commitledger.history.reverts import RevertState

COMBOS = [(("claude-code",), ("claude-sonnet-4-5",), ("ai-usage",)), (("codex", "codex"), ("gpt-5",), ()),
          ((), ("gemini-2.5-pro",), ("co-author",)), (("aider",), (), ())]


def reference_tally(chain: Chain, in_window: list[int]) -> tuple[dict[str, int], dict[str, int]]:
    found = [info for info in map(chain.info.get, in_window) if info]
    agents = Counter(chained.from_iterable(info[0] for info in found))
    models = Counter(chained.from_iterable(info[1] for info in found))
    order = lambda d: dict(sorted(d.items(), key=lambda kv: (-kv[1], kv[0])))  # noqa: E731
    return order(agents), order(models)


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 6) if values else None


def reference_summary(chain: Chain, states: dict[int, RevertState], in_window: list[int], big: int) -> dict[str, Any]:
    merged = len(in_window)
    flags, costs, used, source, times = chain.ai, chain.cost, chain.tokens, chain.source, chain.time
    ai = [i for i in in_window if flags[i]]
    reverted = [i for i in in_window if i in states]
    ai_reverted = [i for i in ai if i in states]
    ai_costs = [costs[i] for i in ai if costs[i] == costs[i]]
    with_tokens = [i for i in ai if used[i] and source[i] >= 0]
    tokens = sum(used[i] for i in with_tokens)
    lines = sum(source[i] for i in with_tokens)
    survivors = len(ai) - len(ai_reverted)
    spent = sum(ai_costs)
    hours = [(states[i].at - times[i]) / 3600 for i in reverted]
    bots = [i for i in in_window if not flags[i] and chain.bot[i]]
    humans = merged - len(ai) - len(bots)
    human_reverted = len(reverted) - len(ai_reverted) - sum(1 for i in bots if i in states)
    bot_reverted = sum(1 for i in bots if i in states)
    agents, models = reference_tally(chain, in_window)
    return {
        "merged": merged, "reverted": len(reverted), "ai_merged": len(ai), "ai_reverted": len(ai_reverted),
        "cost_usd": round(spent, 6) if ai_costs or not ai else None,
        "cost_per_merged_change": round(spent / survivors, 6) if survivors and ai_costs else None,
        "revert_rate_ai": round(len(ai_reverted) / len(ai), 6) if ai else None,
        "revert_rate_other": round(human_reverted / humans, 6) if humans else None,
        "median_time_to_revert_hours": _median(hours), "median_ai_cost_usd": _median(ai_costs),
        "tokens_per_changed_line": round(tokens / lines, 3) if lines else None, "abandoned_cost_usd": 0.0,
        "human_merged": humans, "human_reverted": human_reverted, "bot_merged": len(bots), "bot_reverted": bot_reverted,
        "revert_rate_human": round(human_reverted / humans, 6) if humans else None,
        "revert_rate_bot": round(bot_reverted / len(bots), 6) if bots else None,
        "ai_cost_known": len(ai_costs), "ai_cost_unknown": len(ai) - len(ai_costs),
        "ai_usage_unknown": sum(1 for i in ai if not chain.has_usage[i]),
        "big_changes": sum(1 for i in in_window if chain.commits[i] > big), "big_change_commits": big,
        "last_change_at": iso(times[0]) if len(chain) else None, "lines_uncounted": 0,
        "agents": agents, "models": models, "priced_later": sum(1 for i in ai if chain.later[i]),
    }


change = st.tuples(
    st.booleans(), st.booleans(),  # AI-assisted, bot
    st.one_of(st.just(math.nan), st.floats(0, 50, allow_nan=False)),  # cost (NaN: unknown)
    st.integers(0, 5000), st.integers(-1, 300),  # tokens, source lines (-1: not counted)
    st.booleans(), st.booleans(), st.integers(0, 1200),  # has usage, priced later, commits
    st.integers(-1, len(COMBOS) - 1), st.booleans(),  # combination of agents (-1: none), a copy of its tuple
    st.booleans(), st.booleans(),  # reverted, in the window
)


def build(rows: list[tuple[Any, ...]]) -> tuple[Chain, dict[int, RevertState], list[int]]:
    chain = Chain()
    chain.time = array("q", (1_767_600_000 - 3600 * i for i in range(len(rows))))
    chain.ai = bytearray(int(r[0]) for r in rows)
    chain.bot = bytearray(int(r[1]) for r in rows)
    chain.cost = array("d", (r[2] for r in rows))
    chain.tokens = array("q", (r[3] for r in rows))
    chain.source = array("q", (r[4] for r in rows))
    chain.has_usage = bytearray(int(r[5]) for r in rows)
    chain.later = bytearray(int(r[6]) for r in rows)
    chain.commits = array("q", (r[7] for r in rows))
    for i, r in enumerate(rows):
        if r[8] >= 0:  # shared tuples as the cache loads them, or a tuple of its own
            chain.info[i] = COMBOS[r[8]] if not r[9] else tuple(tuple(part) for part in COMBOS[r[8]])
    states = {i: RevertState("f" * 40, chain.time[i] + 7200 * (i % 5 + 1), max(i - 1, 0))
              for i, r in enumerate(rows) if r[10]}
    window = [i for i, r in enumerate(rows) if r[11]]
    return chain, states, window


@settings(max_examples=300, deadline=None)
@given(st.lists(change, max_size=40), st.booleans())
def test_summary_figures_equal_the_plain_loops(rows: list[tuple[Any, ...]], whole: bool) -> None:
    chain, states, window = build(rows)
    if whole:
        window = list(range(len(rows)))
    got = summarise(chain, states, window, [], 500)
    assert got == reference_summary(chain, states, window, 500)
    assert count_priced_later(chain, window) == sum(1 for i in window if chain.later[i])


@settings(max_examples=200, deadline=None)
@given(st.lists(change, max_size=40))
def test_agents_and_models_are_counted_per_change_by_combination(rows: list[tuple[Any, ...]]) -> None:
    chain, _, window = build(rows)
    assert tally(chain, window) == reference_tally(chain, window)
    assert tally(chain, list(range(len(rows)))) == reference_tally(chain, list(range(len(rows))))
