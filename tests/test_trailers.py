"""AI-Usage / Assisted-by trailers: format, parse, round-trip, hostile input."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from commitledger.ledger.trailers import (
    UsageLine,
    ai_markers,
    clean_name,
    format_trailers,
    merge_lines,
    parse_fields,
    parse_usage_lines,
    strip_our_trailers,
)
from commitledger.ledger.usage import COUNT_FIELDS, Usage

DESIGN_EXAMPLE = """Add retry to the uploader

Assisted-by: claude-code:claude-sonnet-4-5
AI-Usage: agent=claude-code model=claude-sonnet-4-5 sessions=1 prompts=4 requests=37 tool_calls=29 input=18422 output=6120 cache_read=912004 cache_write=40210 cost_usd=0.6213
AI-Usage: agent=codex model=gpt-5-codex sessions=1 prompts=1 requests=6 tool_calls=5 input=30211 output=2210 cache_read=120000 cache_write=0 cost_usd=0.0612
"""


def test_parses_the_design_example_exactly() -> None:
    lines = parse_usage_lines(DESIGN_EXAMPLE)
    assert [(l.agent, l.model) for l in lines] == [("claude-code", "claude-sonnet-4-5"), ("codex", "gpt-5-codex")]
    first = lines[0].usage
    assert (first.sessions, first.prompts, first.requests, first.tool_calls) == (1, 4, 37, 29)
    assert (first.input, first.output, first.cache_read, first.cache_write) == (18422, 6120, 912004, 40210)
    assert first.cost_usd == 0.6213
    assert lines[1].usage.cache_write == 0


def test_format_reproduces_the_design_lines() -> None:
    lines = parse_usage_lines(DESIGN_EXAMPLE)
    formatted = format_trailers(lines)
    expected = [l for l in DESIGN_EXAMPLE.splitlines() if l.startswith(("AI-Usage", "Assisted-by"))]
    assert formatted == ["Assisted-by: claude-code:claude-sonnet-4-5", "Assisted-by: codex:gpt-5-codex", *expected[1:]]


def test_lines_found_anywhere_in_a_squash_body() -> None:
    body = (
        "Feature (#12)\n\n* first commit\n\nAI-Usage: agent=codex model=gpt-5 input=10 output=2 cost_usd=0.0001\n\n"
        "* second commit\n\nsome text\nAI-Usage: agent=claude-code model=claude-haiku-4-5 input=5 output=1\n\nSigned-off-by: x\n"
    )
    lines = parse_usage_lines(body)
    assert [l.agent for l in lines] == ["codex", "claude-code"]
    # no cost written means unknown, not zero
    assert lines[1].usage.cost_usd is None
    assert lines[1].usage.cost_complete is False


def test_missing_fields_are_unknown_and_unknown_keys_are_kept() -> None:
    line = parse_fields("agent=a model=m input=3 future_key=7 weird=<b>")
    assert line is not None
    assert line.usage.output is None and line.usage.input == 3
    assert line.usage.extra == {"future_key": "7"}  # "<b>" is not a value we keep
    assert "future_key=7" in line.format()


def test_garbage_never_raises() -> None:
    garbage = "AI-Usage:\nAI-Usage: agent=\nAI-Usage: model=x\nAI-Usage: agent=a model=b input=-3 output=1e9 cost_usd=abc\n"
    lines = parse_usage_lines(garbage)
    assert len(lines) == 1
    usage = lines[0].usage
    assert usage.input is None and usage.output is None and usage.cost_usd is None


def test_names_cannot_break_the_line() -> None:
    assert clean_name("claude code\nAI-Usage: agent=x") == "claude_code_AI-Usage:_agent_x"
    assert clean_name("   ") == "unknown"
    assert len(clean_name("m" * 500)) == 80


def test_merge_sums_per_pair_for_amend() -> None:
    a = [UsageLine("claude-code", "claude-sonnet-4-5", Usage(1, 1, 2, 0, 10, 5, 100, 0, 0.01))]
    b = [
        UsageLine("claude-code", "claude-sonnet-4-5", Usage(1, 2, 3, 1, 1, 1, 1, 1, 0.02)),
        UsageLine("codex", "gpt-5", Usage(1, 1, 1, 0, 1, 1, 0, 0, None)),
    ]
    merged = merge_lines(a, b)
    assert [(l.agent, l.model) for l in merged] == [("claude-code", "claude-sonnet-4-5"), ("codex", "gpt-5")]
    assert merged[0].usage.requests == 5 and merged[0].usage.input == 11
    assert round(merged[0].usage.cost_usd or 0, 4) == 0.03


def test_strip_removes_only_our_trailers() -> None:
    msg = "Subject\n\nBody\n\nAssisted-by: a:b\nAI-Usage: agent=a model=b input=1\nSigned-off-by: X <x@y>\n"
    assert strip_our_trailers(msg) == "Subject\n\nBody\n\nSigned-off-by: X <x@y>\n"


def test_other_ai_markers() -> None:
    assert ai_markers("Fix\n\nCo-Authored-By: Claude <noreply@anthropic.com>\n") == ["co-authored-by"]
    assert ai_markers("Fix\n\nCo-authored-by: Jane Doe <jane@example.com>\n") == []
    assert ai_markers("x\n\nMade-with: Cursor\n") == ["made-with-cursor"]
    assert ai_markers("feat: add jitter", author_name="Alice (aider)") == ["aider-author"]
    assert "claude-session" in ai_markers("x\n\nClaude-Session: 123\n")
    assert "entire-checkpoint" in ai_markers("x\n\nEntire-Checkpoint: abc\n")
    assert ai_markers("x\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)\n") == ["generated-with"]
    assert ai_markers(DESIGN_EXAMPLE)[:2] == ["ai-usage", "assisted-by"]


names = st.text(alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Zs")), min_size=1, max_size=30)
counts = st.one_of(st.none(), st.integers(min_value=0, max_value=10**15))
costs = st.one_of(st.none(), st.decimals(min_value=0, max_value=10**6, places=4).map(float))


@settings(max_examples=300)
@given(agent=names, model=names, values=st.lists(counts, min_size=8, max_size=8), cost=costs)
def test_round_trip(agent: str, model: str, values: list[int | None], cost: float | None) -> None:
    usage = Usage(*values, cost_usd=cost)
    line = UsageLine(agent, model, usage)
    text = f"Subject\n\nbody\n\n{line.format()}\n"
    parsed = parse_usage_lines(text)
    assert len(parsed) == 1
    got = parsed[0]
    assert got.agent == clean_name(agent) and got.model == clean_name(model)
    for name in COUNT_FIELDS:
        assert getattr(got.usage, name) == getattr(usage, name)
    if cost is None:
        assert got.usage.cost_usd is None
    else:
        assert abs((got.usage.cost_usd or 0) - cost) < 0.00005


@given(st.text(max_size=400))
def test_arbitrary_messages_never_raise(message: str) -> None:
    for line in parse_usage_lines(message):
        assert line.agent and line.model
    ai_markers(message, message[:20])
