"""``commitledger record``: usage from a tool that writes no logs commitledger can read."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import click

from commitledger.errors import CommitledgerError
from commitledger.git.paths import find_repo



class _Number(click.ParamType):
    """A non-negative count or amount; a bad value is one line (``commitledger: ...``), not a usage dump."""

    def __init__(self, kind: type, minimum: float) -> None:
        self.kind = kind
        self.minimum = minimum
        self.name = "integer" if kind is int else "number"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> object:
        if isinstance(value, self.kind) and not isinstance(value, bool) and value >= self.minimum:
            return value
        flag = f"--{param.name.rstrip('_').replace('_', '-')}" if param is not None and param.name else "value"
        text = str(value).strip()
        try:
            number = self.kind(text)
        except ValueError:
            number = None
        if number is None or number != number or number in (float("inf"),) or number < self.minimum:
            what = "a whole number" if self.kind is int else "a number"
            raise CommitledgerError(f"{flag} must be {what} >= {self.minimum:g}, got {text[:40]!r}")
        return number


_COUNT = _Number(int, 0)


def _priced(
    paths: object, model: str, input_: int, output: int, cache_read: int, cache_write: int,
    requests: int | None, now: float,
) -> float | None:  # fmt: skip
    """Totals priced as ``requests`` even requests; without a count, the standard tier."""
    from commitledger.config import load_config
    from commitledger.ledger.pricing import load_prices, split_cost

    table = load_prices(load_config(paths.worktree).prices, os.environ)  # type: ignore[attr-defined]
    return split_cost(table, model, input_, output, cache_read, cache_write, requests, now)


@click.command("record")
@click.option("--agent", required=True, help="Tool that used the tokens (cursor, an in-house agent...).")
@click.option("--model", required=True, help="Model name, as the provider spells it.")
@click.option("--input", "input_", type=_COUNT, required=True, help="Input tokens, cached ones excluded.")
@click.option("--output", type=_COUNT, required=True, help="Output tokens, reasoning included.")
@click.option("--cache-read", type=_COUNT, default=0, show_default=True, help="Cache-read input tokens.")
@click.option("--cache-write", type=_COUNT, default=0, show_default=True, help="Cache-write input tokens.")
@click.option("--tool-calls", type=_COUNT, default=None, help="Tool invocations (unknown when left out).")
@click.option("--requests", type=_Number(int, 1), default=None,
              help="Model API calls; the totals are priced as this many even requests (unknown when left out).")
@click.option("--prompts", type=_COUNT, default=None, help="Human prompts (unknown when left out).")
@click.option("--cost-usd", type=_Number(float, 0.0), default=None,
              help="Cost in USD; priced from the tokens when left out.")
def record(
    agent: str, model: str, input_: int, output: int, cache_read: int, cache_write: int,
    tool_calls: int | None, requests: int | None, prompts: int | None, cost_usd: float | None,
) -> None:  # fmt: skip
    """Add usage to the pending window: the next commit in this worktree records it."""
    from commitledger.capture.base import UsageEvent
    from commitledger.hook.state import StateLock
    from commitledger.ledger.trailers import clean_name
    from commitledger.hook.window import Window

    if clean_name(agent) != agent.strip() or clean_name(model) != model.strip():
        raise CommitledgerError("--agent and --model may hold letters, digits and . _ : / @ + - only")
    paths = find_repo(Path.cwd())
    now = time.time()
    if cost_usd is None:
        cost_usd = _priced(paths, model.strip(), input_, output, cache_read, cache_write, requests, now)
    event = UsageEvent(
        agent.strip(), "request", f"manual:{uuid.uuid4().hex}", now, "manual", str(paths.worktree),
        None, model.strip(), input_, output, cache_read, cache_write, 0, cost_usd,
        "", "" if requests else "standard",
    )  # fmt: skip
    counts: dict[str, int] = {}
    if requests is not None:
        counts["requests"] = requests
    if prompts is not None:
        counts["prompts"] = prompts
    if tool_calls is not None:
        counts["tool_calls"] = tool_calls
    with StateLock(paths.state_dir):
        window = Window.load(paths.state_dir)
        if window.fresh:
            from commitledger.config import load_config
            from commitledger.hook.pending import update_window

            update_window(paths, load_config(paths.worktree), os.environ)  # sets the floor first
            window = Window.load(paths.state_dir)
        window.add_manual(event, counts)
        window.save()
    click.echo(f"recorded {agent.strip()} {model.strip()}: pending for the next commit")
