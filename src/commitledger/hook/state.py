"""Small JSON state files under ``.git/commitledger/``: atomic writes and one lock.

The hook, ``usage`` and ``record`` may run at the same time (two terminals,
an IDE committing in the background), so every read-modify-write of the
state happens under an exclusive ``flock`` on ``state_dir/lock``, and every
file is replaced atomically (write a temporary file, then ``os.replace``):
a crash leaves the old file or the new one, never half of one.

A full disk must never be made worse by us: git needs the last free bytes
for the commit object itself. Every write first checks that the data plus
``RESERVE_BYTES`` fit (else it refuses with a ``CommitledgerError``, which
the hook reports and lets the commit through), and a failed write removes
its temporary file. Temporary files left by a killed process (SIGKILL runs
no cleanup) are swept by ``sweep_temporaries`` on the next hook run.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs the hook ~3 ms
if TYPE_CHECKING:  # pragma: no cover
    from types import TracebackType
    from typing import Any

    StrPath = str | os.PathLike[str]

# Paths are str or os.PathLike and handled with os.path: the hook imports no pathlib
# (with its fnmatch, re and urllib.parse it costs more than the hook's own work).
from commitledger.capture import fastjson
from commitledger.errors import CommitledgerError

try:  # POSIX only; on other systems the lock is a no-op (git hooks run one at a time there too)
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]


def load_json(path: StrPath, default: Any) -> Any:
    """The file's JSON value, or ``default`` when it is missing or unreadable.

    A corrupt state file must not block commits; what it held is rebuilt
    from the agent logs (offsets) or was already written into commits.
    """
    try:
        with open(path, "rb") as handle:
            return fastjson.loads(handle.read())
    except (OSError, ValueError):
        return default


# Free space left for git after any write of ours (its objects, index and ref updates).
RESERVE_BYTES = 1024 * 1024
_TMP_SUFFIX = ".tmp"


def ensure_space(directory: StrPath, size: int) -> None:
    """Refuse a write of ``size`` bytes that would leave less than ``RESERVE_BYTES`` free."""
    try:
        st = os.statvfs(directory)
    except (OSError, AttributeError):  # no statvfs (Windows) or an odd filesystem: the write itself will tell
        return
    free = st.f_bavail * st.f_frsize
    if free < size + RESERVE_BYTES:
        raise CommitledgerError(
            f"only {free // 1024} KiB free on the disk holding {directory}; "
            "commitledger writes no state until there is room (git keeps what is left)"
        )


def temporary_name(path: StrPath) -> str:
    head, name = os.path.split(os.fspath(path))
    return os.path.join(head, f".{name}.{os.getpid()}{_TMP_SUFFIX}")


def save_bytes(path: StrPath, data: bytes) -> None:
    """Write ``data`` atomically; on any failure the temporary file is gone and ``path`` untouched."""
    parent = os.path.dirname(os.fspath(path)) or "."
    os.makedirs(parent, exist_ok=True)
    ensure_space(parent, len(data))
    tmp = temporary_name(path)
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def save_json(path: StrPath, value: Any) -> None:
    """Write ``value`` atomically (temporary file in the same directory, then rename)."""
    data = fastjson.dumps(value)
    save_bytes(path, data.encode("utf-8", "surrogatepass"))


def sweep_temporaries(directory: StrPath, prefix: str = ".") -> int:
    """Remove ``.NAME.<pid>.tmp`` files (``NAME`` starting ``prefix``) whose writer is no longer running."""
    removed = 0
    try:
        entries = os.scandir(directory)
    except OSError:
        return 0
    with entries:
        for entry in entries:
            name = entry.name
            if not (name.startswith(".") and name.startswith(prefix) and name.endswith(_TMP_SUFFIX)):
                continue
            pid_text = name[: -len(_TMP_SUFFIX)].rpartition(".")[2]
            if not pid_text.isdigit() or _alive(int(pid_text)):
                continue
            try:
                os.unlink(entry.path)
                removed += 1
            except OSError:
                continue
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


class StateLock:
    """Exclusive lock over one worktree's state directory, held for a ``with`` block."""

    def __init__(self, state_dir: StrPath) -> None:
        self.path = os.path.join(state_dir, "lock")
        self._fd: int | None = None

    def __enter__(self) -> StateLock:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
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
