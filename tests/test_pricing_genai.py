"""The compact table prices every request exactly as genai-prices does, without importing it in the hook."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from commitledger.ledger.pricing import load_prices

genai_prices = pytest.importorskip("genai_prices")

# The models the issue lists as unpriced by the old hand-kept table, and the ones agents run today.
CURRENT = [
    ("claude-opus-4-6", "anthropic"), ("claude-opus-4-7", "anthropic"), ("claude-opus-4-8", "anthropic"),
    ("claude-opus-5", "anthropic"), ("claude-sonnet-4-6", "anthropic"), ("claude-sonnet-5", "anthropic"),
    ("claude-haiku-5-5", "anthropic"), ("claude-sonnet-4-5-20250929", "anthropic"),
    ("claude-haiku-4-5-20251001", "anthropic"), ("gpt-5.3-codex", "openai"), ("gpt-5.4", "openai"),
    ("gpt-5.5", "openai"), ("gpt-5", "openai"), ("gpt-5.2", "openai"), ("gemini-3.1-pro-preview", "google"),
    ("gemini-3-flash-preview", "google"), ("gemini-2.5-pro", "google"), ("gemini-2.5-flash", "google"),
    ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", "aws"), ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "aws"),
    ("apac.anthropic.claude-sonnet-4-5-20250929-v1:0", "aws"), ("claude-sonnet-4-5@20250929", "google"),
]  # fmt: skip
SHAPES = [
    dict(input=12, output=700, cache_read=80_000, cache_write_5m=2_000, cache_write_1h=0),
    dict(input=5_000, output=1_200, cache_read=0, cache_write_5m=0, cache_write_1h=30_000),
    dict(input=40_000, output=9_000, cache_read=250_000, cache_write_5m=5_000, cache_write_1h=1_000),
    dict(input=90_000, output=300, cache_read=15_000, cache_write_5m=0, cache_write_1h=0),
    dict(input=1, output=1, cache_read=0, cache_write_5m=0, cache_write_1h=0),
]
WHEN = [datetime(2025, 10, 1, 12, tzinfo=timezone.utc), datetime(2026, 11, 20, 9, tzinfo=timezone.utc)]
CONTEXTS = [None, "speed=fast", "service_tier=priority"]


def _reference(model: str, provider: str, t: dict[str, int], when: datetime, tier: str | None, searches: int) -> float:
    cache_write = t["cache_write_5m"] + t["cache_write_1h"]
    usage = genai_prices.Usage(
        input_tokens=t["input"] + t["cache_read"] + cache_write, output_tokens=t["output"],
        cache_read_tokens=t["cache_read"], cache_write_tokens=cache_write, cache_write_1h_tokens=t["cache_write_1h"],
        **({"web_searches": searches} if searches else {}),
    )  # fmt: skip
    context = dict([tier.split("=")]) if tier else None
    return float(
        genai_prices.calc_price(usage, model, provider_id=provider, genai_request_timestamp=when,
                                price_context=context).total_price
    )


@pytest.mark.parametrize(("model", "provider"), CURRENT)
def test_every_current_model_priced_as_genai_prices_prices_it(model: str, provider: str) -> None:
    table = load_prices(environ=dict(os.environ))
    for when in WHEN:
        for shape in SHAPES:
            for tier in CONTEXTS:
                for searches in (0, 3):
                    try:
                        want = _reference(model, provider, shape, when, tier, searches)
                    except LookupError:
                        want = None
                    got = table.cost(model, **shape, when=when.timestamp(), tier=tier, web_searches=searches)
                    if want is None:
                        # Our lookup may find more (a normalised name) but never less.
                        continue
                    assert got == pytest.approx(want, rel=1e-9, abs=1e-12), (model, shape, when, tier, searches)


def test_issue_models_all_priced_and_tiers_and_variants_apply() -> None:
    table = load_prices(environ=dict(os.environ))
    nov = datetime(2026, 11, 20, tzinfo=timezone.utc).timestamp()
    for model, _ in CURRENT:
        assert table.cost(model, input=1000, when=nov) is not None, model
    # Fast mode doubles opus-4-8; priority doubles gpt-5.4; a search is a cent.
    base = table.cost("claude-opus-4-8", input=1000, output=1000, when=nov)
    assert table.cost("claude-opus-4-8", input=1000, output=1000, when=nov, tier="speed=fast") == pytest.approx(2 * base)
    gpt = table.cost("gpt-5.4", input=1000, output=1000, when=nov)
    assert table.cost("gpt-5.4", input=1000, output=1000, when=nov, tier="service_tier=priority") == pytest.approx(2 * gpt)
    assert table.cost("claude-opus-4-8", when=nov, web_searches=2) == pytest.approx(0.02)
    # gpt-5.4 above 272k: every token at the long-context rate; at 272k exactly, not yet.
    assert table.cost("gpt-5.4", input=272_000, when=nov) == pytest.approx(0.68)
    assert table.cost("gpt-5.4", input=272_001, when=nov) == pytest.approx(272_001 * 5 / 1e6)
    # haiku-5-5's whole-request multiplier above 100k, output included.
    small = table.cost("claude-haiku-5-5", input=100_000, output=1000, when=nov)
    big = table.cost("claude-haiku-5-5", input=100_001, output=1000, when=nov)
    assert big == pytest.approx(5 * table.cost("claude-haiku-5-5", input=100_001, output=1000, when=nov,
                                               standard_tier=True))
    assert big > 4 * small
    # Bedrock regional profiles cost 10% more than the global one.
    glob = table.cost("global.anthropic.claude-sonnet-4-5-20250929-v1:0", input=10_000)
    assert table.cost("eu.anthropic.claude-sonnet-4-5-20250929-v1:0", input=10_000) == pytest.approx(1.1 * glob)


def test_snapshot_cached_per_version_and_hook_never_imports_genai_prices(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = {**os.environ, "COMMITLEDGER_CACHE_DIR": str(cache)}
    code = ("import sys; from commitledger.ledger.pricing import load_prices; t = load_prices(environ={'COMMITLEDGER_CACHE_DIR': %r});"
            "print(round(t.cost('claude-opus-4-8', input=1000000), 4), 'genai_prices' in sys.modules)")
    first = subprocess.run([sys.executable, "-c", code % str(cache)], capture_output=True, text=True, env=env, check=True)
    assert first.stdout.split() == ["5.0", "True"]  # built once, importing genai-prices
    files = [f for f in cache.iterdir() if f.suffix == ".marshal"]
    assert len(files) == 1 and genai_prices.__version__ in files[0].name
    second = subprocess.run([sys.executable, "-c", code % str(cache)], capture_output=True, text=True, env=env, check=True)
    assert second.stdout.split() == ["5.0", "False"]  # reused without the import
    # Resolved model ids are kept too, so a warm run matches no model logic at all.
    assert any(f.suffix == ".resolved" for f in cache.iterdir())
    # Another version's file is not reused: a stale name is ignored and the current one built.
    stale = files[0].with_name(files[0].name.replace(genai_prices.__version__, "0.0.1"))
    files[0].rename(stale)
    third = subprocess.run([sys.executable, "-c", code % str(cache)], capture_output=True, text=True, env=env, check=True)
    assert third.stdout.split() == ["5.0", "True"]


@pytest.mark.parametrize("raw", [
    "global.anthropic.claude-sonnet-4-5-20250929-v1:0", "apac.anthropic.claude-sonnet-4-5-20250929-v1:0",
    "us-gov.anthropic.claude-sonnet-4-5-20250929-v1:0", "eu.anthropic.claude-sonnet-4-5-20250929-v1:0",
    "bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4.5", "anthropic/claude-sonnet-4.5",
    "claude-sonnet-4-5@20250929",
])  # fmt: skip
def test_every_spelling_of_one_model_is_one_line(raw: str) -> None:
    from commitledger.ledger.pricing import normalise_model

    assert normalise_model(raw) == "claude-sonnet-4-5"


def test_hook_prices_from_the_cached_table_without_importing_genai_prices(repo: Path, tmp_path: Path) -> None:
    import shutil

    from conftest import AGENT_LOGS, commit_file, file_claude_sessions_under

    load_prices(environ=dict(os.environ))  # the table is built once (as the first commit after an upgrade does)
    commit_file(repo, "README.md", "x\n", "Initial commit",
                env={**os.environ, "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"})
    shutil.copytree(AGENT_LOGS / "claude-code", tmp_path / "claude")
    for path in (tmp_path / "claude").rglob("*.jsonl"):
        path.chmod(0o644)
        path.write_text(path.read_text(encoding="utf-8").replace("/home/alice/src/acme-web", str(repo.resolve())),
                        encoding="utf-8")
    file_claude_sessions_under(tmp_path / "claude", repo.resolve())
    msg = repo / ".git" / "MSG"
    msg.write_text("Subject\n")
    env = {**os.environ, "CLAUDE_CONFIG_DIR": str(tmp_path / "claude")}
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "commitledger", "hook", "prepare-commit-msg", str(msg), "message"],
        cwd=repo, capture_output=True, text=True, check=False, env=env,
    )
    assert proc.returncode == 0, proc.stderr
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "commitledger.ledger.pricing" in imported, msg.read_text()
    for heavy in ("genai_prices", "pydantic", "dataclasses", "tomllib", "commitledger.ledger.genai_table"):
        assert heavy not in imported, heavy
    assert "model=claude-sonnet-4-5 " in msg.read_text() and "cost_usd=" in msg.read_text()
