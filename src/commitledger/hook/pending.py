"""What the next commit of this worktree would record: collect, attribute, window, aggregate.

Shared by the hook (which writes it into the message) and ``commitledger
usage`` (which only shows it). Both bring the window up to date with the
logs (new bytes are read once, whoever reads them first) but neither marks
anything recorded: only post-commit does that.
"""

from __future__ import annotations

import os
import time

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs the hook ~3 ms
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any, Iterable, Mapping

    from commitledger.git.lite import AnyPaths

from commitledger.capture.base import Env
from commitledger.capture.index import Collected, collect, save_index
from commitledger.git.lite import committer_time, head_sha
from commitledger.hook.window import Attributor, Contribution, Window, aggregate, contributions, recorded_row

if TYPE_CHECKING:  # the hook must not import config (tomllib) when there is no pyproject.toml
    from commitledger.config import Config
    from commitledger.ledger.trailers import UsageLine


class LazyPrices:
    """The price table, loaded on the first request that needs pricing.

    A commit with no pending usage (or only usage the agent priced itself)
    never pays for loading the table.
    """

    def __init__(self, overrides: Mapping[str, Any] | None, environ: Mapping[str, str]) -> None:
        self._overrides = overrides
        self._environ = environ
        self._table: Any = None
        self.unpriced: set[str] = set()

    @property
    def table(self) -> Any:
        if self._table is None:
            from commitledger.ledger.pricing import load_prices

            self._table = load_prices(self._overrides, self._environ)
        return self._table

    def cost(self, model: str, **tokens: int) -> float | None:
        value = self.table.cost(model, **tokens)
        if value is None:
            self.unpriced.add(model)
        return value  # type: ignore[no-any-return]


def normalise(model: str) -> str:
    from commitledger.ledger.pricing import normalise_model

    return normalise_model(model)


def reader_env(paths: AnyPaths, config: Config, environ: Mapping[str, str], *, str_home: bool = False) -> Env:
    """Where the readers look: HOME and the environment, plus the paths named in the config.

    ``str_home``: ``home`` as a str, for ``collect``, which turns it into a
    ``Path`` only for the readers it loads (the hook then imports no pathlib).
    """
    home: Any = environ.get("HOME") or os.path.expanduser("~")
    if not str_home:
        from pathlib import Path

        home = Path(home)
    worktree = os.fspath(paths.worktree)
    extra: dict[str, str] = {"worktree": worktree}
    for name in ("aider_analytics_log", "copilot_otel_file"):
        value = getattr(config, name)
        if value:  # configured only by aider and Copilot users
            from pathlib import Path

            path = Path(value).expanduser()
            extra[name] = str(path if path.is_absolute() else Path(worktree) / path)
    return Env(home=home, environ=environ, extra=extra)


class Next:
    """The next commit's usage: lines for the trailers, and what to mark recorded once it exists."""

    __slots__ = ("window", "collected", "items", "lines", "prices", "groups")

    def __init__(
        self,
        window: Window,
        collected: Collected,
        items: list[Contribution],
        lines: list[UsageLine],
        prices: LazyPrices,
        groups: dict[tuple[str, str], list[str]],
    ) -> None:
        self.window = window
        self.collected = collected
        self.items = items
        self.lines = lines
        self.prices = prices
        self.groups = groups  # (agent, model) of a line -> slots behind it

    def distinct_sessions(self) -> int:
        """Sessions across all lines, each counted once (a line's count is per agent and model)."""
        return len({(c.entry.event.agent, c.entry.event.session) for c in self.items if c.entry.counts is None})

    def written(self, agent: str, model: str) -> dict[str, list[Any]]:
        """Keys (with the usage recorded for them) behind one (agent, model) line."""
        by_slot = {c.slot: c for c in self.items}
        return {slot: recorded_row(by_slot[slot]) for slot in self.groups.get((agent, model), [])}


def update_window(
    paths: AnyPaths, config: Config, environ: Mapping[str, str], agents: Iterable[str] | None = None
) -> tuple[Window, Collected]:
    """Read new log bytes into the window and save both; call under ``StateLock``."""
    from commitledger.hook.reconcile import settle

    settle(paths)  # a commit whose post-commit did not finish is recorded before anything is shown or written
    state_dir = paths.state_dir
    window = Window.load(state_dir)
    now = time.time()
    if window.fresh:
        head = head_sha(paths)
        when = committer_time(paths, head) if head else None
        # A HEAD dated in the future (a skewed clock, a forged date) must not turn recording
        # off until then: the floor is never later than the window's creation.
        window.floor = None if when is None else min(when, now)
    elif window.floor is not None and window.floor > now:
        window.floor = now  # a window made before that rule: recording resumes from now
        window.dirty = True
    env = reader_env(paths, config, environ, str_home=True)
    collected = collect(state_dir, env, Attributor(paths.worktree, dict(environ)), agents)
    window.ingest(collected.events)
    collected.events = []  # ingested; do not keep a cold read's events alive
    if window.dirty or window.fresh:
        window.save()
    save_index(state_dir, collected)
    return window, collected


def next_commit(
    paths: AnyPaths, config: Config, environ: Mapping[str, str], agents: Iterable[str] | None = None
) -> Next:
    window, collected = update_window(paths, config, environ, agents)
    prices = LazyPrices(config.prices, environ)
    items = contributions(window, prices)
    groups: dict[tuple[str, str], list[str]] = {}
    lines = aggregate(items, normalise, groups) if items else []
    return Next(window, collected, items, lines, prices, groups)
