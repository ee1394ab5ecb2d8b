"""Agents that keep no token counts on disk: Cursor, Windsurf, Warp.

There is nothing to read, so there is no reader; ``doctor`` still says when
one of them is installed, so a missing trailer is not a silent gap. Their
usage reaches a commit through ``commitledger record`` (README: "Agents that
record nothing by themselves").
"""

from __future__ import annotations

from pathlib import Path

from commitledger.capture.base import Env

# agent -> directories (relative to HOME) whose presence says the tool is installed.
MARKERS: dict[str, tuple[str, ...]] = {
    "cursor": (".cursor", ".config/Cursor", "Library/Application Support/Cursor"),
    "windsurf": (".codeium/windsurf", ".config/Windsurf", "Library/Application Support/Windsurf"),
    "warp": (".warp", ".local/share/warp-terminal", "Library/Application Support/dev.warp.Warp-Stable"),
}


def seen(env: Env) -> dict[str, list[Path]]:
    """The token-less agents installed for this user, with the directories that show it."""
    out: dict[str, list[Path]] = {}
    for agent, markers in MARKERS.items():
        found = [env.home / marker for marker in markers if (env.home / marker).is_dir()]
        if found:
            out[agent] = found
    return out
