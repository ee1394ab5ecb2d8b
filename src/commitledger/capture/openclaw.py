"""OpenClaw: ``~/.openclaw/agents/<agent>/sessions/<session>.jsonl`` (``$OPENCLAW_DIR``; also the
older ``~/.clawdbot``, ``~/.moltbot``, ``~/.moldbot`` homes).

OpenClaw runs on the pi agent core and writes the same JSON-lines sessions:
a ``session`` header with ``cwd``, ``message`` entries whose assistant
``usage`` has ``input``, ``output``, ``cacheRead``, ``cacheWrite`` and its own
``cost.total``, and ``model_change`` rows (or ``custom``/``model-snapshot``)
naming the model of the messages after them; so the pi reader reads it.
A session that was reset or deleted is renamed ``.jsonl.reset.<time>`` /
``.jsonl.deleted.<time>``: those files are read too (its tokens were spent),
and the keys (session and entry id) are the same, so a renamed file adds
nothing twice.

OpenClaw is a personal assistant: its ``cwd`` is usually its own workspace,
not a repository, so its usage is attributed to a worktree only when it ran inside one.
"""

from __future__ import annotations

import os
from pathlib import Path

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs the hook ~3 ms
if TYPE_CHECKING:  # pragma: no cover
    from typing import Iterable

from commitledger.capture.base import Env
from commitledger.capture.pi import PiReader

AGENT = "openclaw"
HOMES = (".openclaw", ".clawdbot", ".moltbot", ".moldbot")


def is_session_file(name: str) -> bool:
    at = name.find(".jsonl")
    if at <= 0:
        return False
    tail = name[at:]
    return tail == ".jsonl" or tail.startswith((".jsonl.deleted.", ".jsonl.reset."))


class OpenClawReader(PiReader):
    agent = AGENT

    def roots(self, env: Env) -> list[Path]:
        return [base / "agents" for base in env.dirs("OPENCLAW_DIR", *(env.home / home for home in HOMES))]

    def listed_folders(self, env: Env, root: Path) -> None:
        """Every agent folder is listed: OpenClaw does not file sessions by working directory (pi does)."""
        return None

    def files(self, env: Env) -> Iterable[Path]:
        for root in self.roots(env):
            try:
                agents = sorted(os.scandir(root), key=lambda e: e.name)
            except OSError:
                continue
            for agent in agents:
                sessions = Path(agent.path) / "sessions"
                try:
                    names = sorted(os.listdir(sessions))
                except OSError:
                    continue
                for name in names:
                    if is_session_file(name) and (sessions / name).is_file():
                        yield sessions / name
