"""Overrides win over genai-prices, and bad ones are refused in one line (issue 14 items 14 and 16)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from commitledger.errors import CommitledgerError
from commitledger.ledger.pricing import load_prices
from conftest import run_cli


def test_overrides_win_over_genai_prices(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"models": {"claude-opus-4-8": {"input": 1.0, "output": 2.0}}}), encoding="utf-8")
    table = load_prices(environ={**os.environ, "COMMITLEDGER_PRICES": str(path)})
    assert table.cost("claude-opus-4-8-20261101", input=1_000_000) == pytest.approx(1.0)
    pyproject = load_prices({"claude-opus-4-8": {"input": 3, "output": 4}},
                            environ={**os.environ, "COMMITLEDGER_PRICES": str(path)})
    assert pyproject.cost("claude-opus-4-8", output=1_000_000) == pytest.approx(4.0)
    # Models without an override still come from genai-prices.
    assert table.cost("gpt-5.4", input=1_000_000, when=1_795_000_000) == pytest.approx(5.0)


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), 1e308, "-3", True])
def test_negative_nan_and_absurd_prices_are_refused(bad: object) -> None:
    with pytest.raises(CommitledgerError) as err:
        load_prices({"my-model": {"input": bad, "output": 1}}, environ=dict(os.environ))
    assert "\n" not in str(err.value) and "my-model" in str(err.value)


def test_bad_litellm_entries_are_skipped_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "litellm.json"
    path.write_text('{"good-model": {"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6},'
                    ' "neg-model": {"input_cost_per_token": -1e-6},'
                    ' "huge-model": {"input_cost_per_token": 1e308},'
                    ' "nan-model": {"input_cost_per_token": NaN}}', encoding="utf-8")
    table = load_prices(environ={**os.environ, "COMMITLEDGER_PRICES": str(path)})
    assert table.bad == 3
    assert table.cost("good-model", input=1_000_000) == pytest.approx(1.0)
    assert table.override("neg-model") is None and table.override("huge-model") is None


def test_prices_file_must_be_a_regular_file_of_bounded_size(tmp_path: Path) -> None:
    fifo = tmp_path / "prices.fifo"
    os.mkfifo(fifo)
    code = ("from commitledger.ledger.pricing import load_prices\n"
            "from commitledger.errors import CommitledgerError\n"
            "import os, sys\n"
            "for target in sys.argv[1:]:\n"
            "    try:\n"
            "        load_prices(environ={**os.environ, 'COMMITLEDGER_PRICES': target})\n"
            "    except CommitledgerError as exc:\n"
            "        print(exc)\n")  # fmt: skip
    big = tmp_path / "big.json"
    with open(big, "wb") as fh:
        fh.truncate(33 * 1024 * 1024)  # sparse: no disk used
    proc = subprocess.run([sys.executable, "-c", code, str(fifo), "/dev/zero", str(big)], capture_output=True,
                          text=True, timeout=60, check=True)
    out = proc.stdout.splitlines()
    assert len(out) == 3, proc.stdout + proc.stderr
    assert "not a regular file" in out[0] and "not a regular file" in out[1] and "larger than" in out[2]


def test_cli_shows_a_bad_price_file_in_one_line(repo: Path, tmp_path: Path) -> None:
    bad = tmp_path / "prices.json"
    bad.write_text('{"models": {"m": {"input": -5, "output": 1}}}', encoding="utf-8")
    proc = run_cli("record", "--agent", "cursor", "--model", "m", "--input", "1", "--output", "1", cwd=repo,
                   env={**os.environ, "COMMITLEDGER_PRICES": str(bad)})
    assert proc.returncode != 0
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
