"""Price table, model-name normalisation, overrides; config loading; repo discovery; message facts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from commitledger.ledger.commitmsg import is_reland, pr_number, revert_depth, reverted_prs, reverted_shas
from commitledger.config import load_config
from commitledger.errors import CommitledgerError
from commitledger.ledger.pricing import load_prices, normalise_model
from commitledger.git.paths import find_repo
from commitledger.ledger.usage import Usage, sum_usage

from conftest import AGENT_LOGS, commit_file, git

LITELLM = AGENT_LOGS / "pricing" / "litellm-subset.json"


@pytest.mark.parametrize(
    ("raw", "norm"),
    [
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        ("anthropic/claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        ("us.anthropic.claude-opus-4-1-20250805-v1:0", "claude-opus-4-1"),
        ("claude-opus-4-1@20250805", "claude-opus-4-1"),
        ("gpt-5-2025-08-07", "gpt-5"),
        ("openai/gpt-5.2-codex", "gpt-5.2-codex"),
        ("models/gemini-2.5-pro", "gemini-2.5-pro"),
        ("claude-3-5-haiku-latest", "claude-3-5-haiku"),
    ],
)
def test_normalise_model(raw: str, norm: str) -> None:
    assert normalise_model(raw) == norm


def test_fixture_costs_from_the_shipped_table_match_the_fixture_readme() -> None:
    table = load_prices(environ={})
    sonnet = table.cost("claude-sonnet-4-5-20250929", input=13, output=759, cache_read=77140,
                        cache_write_5m=7010, cache_write_1h=760)
    assert sonnet is not None and abs(sonnet - 0.065414) <= 5.1e-7
    haiku = table.cost("claude-haiku-4-5-20251001", input=6, output=261, cache_read=21400, cache_write_5m=2210)
    assert haiku is not None and abs(haiku - 0.006214) < 5e-7
    opus = table.cost("claude-opus-4-1-20250805", input=9, output=311, cache_write_5m=24120)
    assert opus is not None and abs(opus - 0.475710) < 5e-7


def test_litellm_file_gives_the_same_prices(monkeypatch: pytest.MonkeyPatch) -> None:
    shipped = load_prices(environ={})
    lite = load_prices(environ={"COMMITLEDGER_PRICES": str(LITELLM)})
    kwargs = dict(input=1000, output=2000, cache_read=30000, cache_write_5m=4000, cache_write_1h=500)
    for model in ("claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001", "gpt-5.2-codex", "gemini-2.5-pro"):
        assert lite.cost(model, **kwargs) == pytest.approx(shipped.cost(model, **kwargs))


def test_unknown_model_has_no_cost_never_zero() -> None:
    table = load_prices(environ={})
    assert table.cost("gpt-5.2-codex-mini", input=4100, output=230) is None
    assert table.lookup("my-inhouse-model") is None


def test_long_context_tier_prices_the_whole_request() -> None:
    table = load_prices(environ={})
    small = table.cost("claude-sonnet-4-5", input=100_000, output=1000)
    big = table.cost("claude-sonnet-4-5", input=150_000, output=1000, cache_read=60_000)
    assert small == pytest.approx((100_000 * 3 + 1000 * 15) / 1e6)
    assert big == pytest.approx((150_000 * 6 + 1000 * 22.5 + 60_000 * 0.6) / 1e6)
    pro = table.cost("gemini-2.5-pro", input=250_000, output=10)
    assert pro == pytest.approx((250_000 * 2.5 + 10 * 15) / 1e6)


def test_copilot_style_dotted_names_price() -> None:
    table = load_prices(environ={})
    assert table.cost("claude-sonnet-4.5", input=100_000) == pytest.approx(0.3)


def test_pyproject_overrides_win(tmp_path: Path) -> None:
    table = load_prices(overrides={"gpt-5": {"input": 2.0, "output": 20.0}, "my-model": {"input": 1, "output": 1}},
                        environ={})
    assert table.cost("gpt-5", input=1_000_000) == pytest.approx(2.0)
    assert table.cost("my-model", output=2_000_000) == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("content", "message"),
    [("{not json", "cannot read price file"), ("[]", "is not a JSON object")],
)
def test_bad_price_file_is_a_one_line_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "prices.json"
    path.write_text(content)
    with pytest.raises(CommitledgerError, match=message):
        load_prices(environ={"COMMITLEDGER_PRICES": str(path)})
    with pytest.raises(CommitledgerError, match="does not exist"):
        load_prices(environ={"COMMITLEDGER_PRICES": str(tmp_path / "missing.json")})
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"models": {"x": {"input": "cheap"}}}))
    with pytest.raises(CommitledgerError, match="numeric"):
        load_prices(environ={"COMMITLEDGER_PRICES": str(bad)})


def test_usage_sums_keep_unknown_apart() -> None:
    known = Usage(1, 1, 1, 0, 10, 10, 0, 0, 0.5)
    unpriced = Usage(1, 1, 1, 0, 10, 10, 0, 0, None)
    total = sum_usage([known, unpriced])
    assert total.input == 20 and total.cost_usd == 0.5 and total.cost_complete is False
    assert sum_usage([Usage(), Usage()]).input is None
    assert sum_usage([known, known]).cost_complete is True


def test_config_defaults_and_values(tmp_path: Path) -> None:
    assert load_config(tmp_path).strict is False
    (tmp_path / "pyproject.toml").write_text(
        '[tool.commitledger]\nstrict = true\nmax-cost-usd = 5\ntest_patterns = ["t/**"]\n'
        '[tool.commitledger.prices]\n"my-model" = {input = 1.0, output = 2.0}\n'
    )
    config = load_config(tmp_path)
    assert config.strict is True and config.max_cost_usd == 5 and config.test_patterns == ["t/**"]
    assert config.prices["my-model"]["output"] == 2.0


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[tool.commitledger]\nstrikt = true\n", "unknown key 'strikt'"),
        ("[tool.commitledger]\nstrict = 'yes'\n", "strict must be true or false"),
        ("[tool.commitledger]\nmi_drop = true\n", "not a boolean"),
        ("[tool.commitledger]\nmi_drop = -1\n", "must not be negative"),
        ("[tool.commitledger]\ncomment_when = 'sometimes'\n", "one of always, ai-only"),
        ("[tool.commitledger\n", "cannot read pyproject.toml"),
    ],
)
def test_config_errors_are_one_line(tmp_path: Path, toml: str, message: str) -> None:
    (tmp_path / "pyproject.toml").write_text(toml)
    with pytest.raises(CommitledgerError, match=message):
        load_config(tmp_path)


def test_find_repo_main_and_linked_worktree(repo: Path, tmp_path: Path) -> None:
    commit_file(repo, "a.txt", "a", "first")
    (repo / "sub" / "dir").mkdir(parents=True)
    found = find_repo(repo / "sub" / "dir", environ={})
    assert found.worktree == repo.resolve() and found.git_dir == (repo / ".git").resolve()
    assert found.state_dir == (repo / ".git" / "commitledger").resolve()
    other = tmp_path / "wt2"
    git(repo, "worktree", "add", "-q", str(other))
    linked = find_repo(other, environ={})
    assert linked.worktree == other.resolve()
    assert linked.git_dir.parent == (repo / ".git" / "worktrees").resolve()
    assert linked.common_dir == (repo / ".git").resolve()
    assert linked.state_dir != found.state_dir
    via_env = find_repo(tmp_path, environ={"GIT_DIR": str(linked.git_dir)})
    assert via_env.worktree == other.resolve()


def test_find_repo_outside_any_repository() -> None:
    with pytest.raises(CommitledgerError, match="not inside a git repository"):
        find_repo(Path("/"), environ={})


def test_commit_message_facts() -> None:
    sha = "0123456789abcdef0123456789abcdef01234567"
    msg = f'Revert "Add x"\n\nThis reverts commit {sha}.\n'
    assert reverted_shas(msg) == [sha]
    assert reverted_shas("Revert\n\nThis reverts commit ABCDEF1, reversing\nchanges made to 1234567.") == ["abcdef1"]
    assert reverted_prs('Revert "Add x (#12)"\n\nReverts acme/web#12\n') == [12]
    assert revert_depth('Revert "Revert "Add x""') == (2, "Add x")
    assert is_reland('Reapply "Add x"\n\nThis reverts commit 1234567.')
    assert not is_reland('Revert "Add x"')
    assert pr_number("Add retry (#42)\n\n* a") == 42
    assert pr_number("Merge pull request #7 from acme/feat") == 7
    assert pr_number("Fix #3 in the parser") is None
