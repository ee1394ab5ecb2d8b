"""The history scan's fast AI-Usage reader agrees with ``trailers.parse_usage_lines`` on any text."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from commitledger.history.scan import message_usage, pack_usage, unpack_usage
from commitledger.ledger.trailers import parse_usage_lines
from commitledger.ledger.usage import COUNT_FIELDS, sum_usage

KEYS = ["agent", "model", "AGENT", "Model", "cost_usd", "COST_USD", "x_extra", "", *COUNT_FIELDS,
        *(k.upper() for k in COUNT_FIELDS)]
VALUES = st.one_of(
    st.integers(0, 10**19).map(str),
    st.from_regex(r"[0-9]{1,13}\.[0-9]{0,13}", fullmatch=True),
    st.sampled_from(["", "claude", "gpt-5", "1e5", "+3", "-1", "٣", "1_000", "0.5.5", "x=y", "NaN"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=6),
)
TOKEN = st.one_of(st.tuples(st.sampled_from(KEYS), VALUES).map(lambda kv: f"{kv[0]}={kv[1]}"),
                  st.text(max_size=5))
PREFIX = st.sampled_from(["AI-Usage:", "ai-usage :", "  AI-USAGE:\t", "AI-Usage", "x AI-Usage:", "\tai-usage:"])
LINE = st.tuples(PREFIX, st.lists(TOKEN, max_size=12), st.sampled_from([" ", "\t", "  ", "\u2003", "\x0b"])).map(
    lambda t: t[0] + " " + t[2].join(t[1]))
MESSAGE = st.lists(st.one_of(LINE, st.text(max_size=30)), max_size=6).map(lambda lines: "\n".join(lines))


def expected(message: str) -> list | None:
    lines = parse_usage_lines(message)
    if not lines:
        return None
    total = sum_usage([line.usage for line in lines])
    return [*(getattr(total, n) for n in COUNT_FIELDS), total.cost_usd, total.cost_complete]


@settings(max_examples=600, deadline=None)
@given(MESSAGE)
def test_fast_reader_matches_trailers_parser(message: str) -> None:
    got = message_usage(message)
    want = expected(message)
    if want is None:
        assert got is None
        return
    assert got is not None
    assert got[:8] == want[:8]
    assert (got[8] is None) == (want[8] is None)
    if got[8] is not None:
        assert math.isclose(got[8], want[8], rel_tol=1e-12)
    assert got[9] == want[9]


def test_packed_usage_round_trips_unknowns_and_huge_counts() -> None:
    vec = [1, None, 3, None, 10**19, 5, None, 0, None, False]
    usage = unpack_usage(pack_usage(vec))
    assert (usage.sessions, usage.prompts, usage.requests, usage.input, usage.output, usage.cache_read) == (
        1, None, 3, 2**63 - 1, 5, None)
    assert usage.cost_usd is None and usage.cost_complete is False
    assert unpack_usage(pack_usage([None] * 8 + [0.25, True])).cost_usd == 0.25


MARKER_LINE = st.sampled_from([
    "Co-Authored-By: Claude <noreply@anthropic.com>", "co-authored-by : Claude Opus 4.6 <x@y>",
    "Co-authored-by: aider (openai/gpt-4o) <aider@aider.chat>", "Co-authored-by: Jane Doe <jane@example.com>",
    "  Co-authored-by:\tcopilot-swe-agent[bot] <198982749+Copilot@users.noreply.github.com>",
    "x Co-authored-by: Claude", "Assisted-by: claude-code:claude-sonnet-4-5 [Read] [Edit]", "assisted-by:",
    "Assisted-By: Codex:gpt-5 tools", "Made-with: Cursor", "made-with : cursorx", "Claude-Session: 1234",
    "Entire-Checkpoint: abc", "Generated with [Claude Code](https://claude.com)", "generated with codex",
    "AI-Usage: agent=codex model=gpt-5 input=1", "Co-authored-by: Claude\r", "",
])
MARKER_MESSAGE = st.lists(st.one_of(MARKER_LINE, st.text(alphabet=st.characters(max_codepoint=127), max_size=20)),
                          max_size=6).map(lambda lines: "\n".join(lines))
AUTHOR = st.sampled_from([("dev", "dev@example.com"), ("Jane Doe (aider)", "jane@example.com"),
                          ("Copilot", "198982749+Copilot@users.noreply.github.com"), ("x)", "x@y")])


@settings(max_examples=600, deadline=None)
@given(MARKER_MESSAGE, AUTHOR)
def test_markers_read_from_hint_lines_match_the_whole_message(message: str, author: tuple[str, str]) -> None:
    """The scan memoises markers on the lines holding a hint: those must give what the whole message gives."""
    from commitledger.history.scan import _marker_lines, _markers

    assert _markers(_marker_lines(message, message.lower()), *author) == _markers(message, *author)
