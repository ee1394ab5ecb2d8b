"""Small JSON state files under ``.git/commitledger/``: atomic writes and one lock.

The hook, ``usage`` and ``record`` may run at the same time (two terminals,
an IDE committing in the background), so every read-modify-write of the
state happens under an exclusive ``flock`` on ``state_dir/lock``, and every
file is replaced atomically (write a temporary file, then ``os.replace``):
a crash leaves the old file or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import TracebackType
from typing import Any

try:  # POSIX only; on other systems the lock is a no-op (git hooks run one at a time there too)
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]


def load_json(path: Path, default: Any) -> Any:
    """The file's JSON value, or ``default`` when it is missing or unreadable.

    A corrupt state file must not block commits; what it held is rebuilt
    from the agent logs (offsets) or was already written into commits.
    """
    try:
        with open(path, "rb") as handle:
            return json.loads(handle.read())
    except (OSError, ValueError):
        return default


def save_json(path: Path, value: Any) -> None:
    """Write ``value`` atomically (temporary file in the same directory, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(value, handle, separators=(",", ":"), ensure_ascii=False)
    os.replace(tmp, path)


class StateLock:
    """Exclusive lock over one worktree's state directory, held for a ``with`` block."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / "lock"
        self._fd: int | None = None

    def __enter__(self) -> StateLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        if fcntl is not None:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._fd is not None:
            if fcntl is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
