"""Read only the agent-log bytes not read before: the offset index.

Per worktree (``state_dir/index.bin``) and per reader, the index keeps:

- per log file: device, inode, size, mtime (ns), the offset after the last
  complete line, the reader's ``ctx``, the bad lines counted so far and a
  crc32 of the bytes at the start and just before the offset (an in-place
  rewrite or a truncate-and-regrow changes it: the file is read again from
  the start; a file that cannot be opened keeps its old record). An
  unchanged file costs one ``stat``; a grown one is read from its offset
  (a partial last line is read again, whole, next time); a file that shrank
  or was replaced (new inode) is read from the start with a fresh ``ctx``;
  the window's dedupe keys keep totals exact when bytes are read twice.
  Whole-file formats (``reader.incremental(path)`` is False) are re-read
  whenever their size or mtime changes.
- whether the file's events lie outside this worktree: for a reader whose
  files each keep one working directory (``fixed_cwd``: an Amp thread, a
  VS Code agent's task, a pi or OpenClaw session), a file whose every event
  so far lay outside the worktree (another repository's thread) is not
  read again when it changes: nothing it gains can belong here. Its record
  is kept apart, undecoded, and a run whose listing comes from the cache
  does not even ``stat`` it (``_collect_reader`` says why that is exact);
  when the listing is built again it is ``stat``-ed, and read again if it
  was replaced (new inode) or shrank below its offset.
- the file listing, valid while the modification time of every directory
  under the reader's roots is unchanged (a new entry changes its directory's
  mtime), so a run with nothing new costs a ``stat`` per directory and per
  file of this worktree's (or of no known worktree) instead of a directory
  walk, whatever the size of the files and however many other
  repositories' sessions lie beside them.

Nothing is written when nothing changed; an unreadable index, or one whose
entries do not have the expected shape, is a cache miss, never an error.

A reader that raises on a file, or a file that vanished, is counted as
unreadable and never stops the others.
"""

from __future__ import annotations

import os
import time

# The ABC itself, as ``os`` loaded it at start-up: ``collections.abc`` imports the whole
# ``collections`` package, which a commit hook that imports no ``re`` would pay for alone.
from _collections_abc import Mapping

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs the hook ~3 ms
if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path
    from typing import Any, BinaryIO, Callable, Iterable, Iterator

    from commitledger.hook.state import StrPath

from commitledger.capture.base import READERS, Env, Reader, UsageEvent, load_reader, valid_event

INDEX_FILE = "index.bin"
# 3: other worktrees' files of ``fixed_cwd`` readers parked apart (``_collect_reader``).
# A version 2 index is read as it is: each reader's listing is built again once, nothing is re-read.
INDEX_VERSION = 3
_READABLE_VERSIONS = (2, 3)
# record[8]: what the events read from a file so far say about this worktree.
_NO_EVENTS, _FOREIGN, _HERE = 0, 1, 2
# A directory modified this recently may still be getting entries within the
# clock's granularity: its listing is not cached.
_HOT_SECONDS = 2.0


class ReaderStats:
    """What one reader found: for ``doctor`` and for tests.

    Plain classes here, not dataclasses: each dataclass costs the hook most
    of a millisecond to build at import.
    """

    __slots__ = ("roots", "files", "bytes_read", "bad_lines", "unreadable", "listed_from_cache", "skipped_foreign",
                 "parked")  # fmt: skip

    def __init__(self) -> None:
        self.roots: list[str] = []
        self.files = 0
        self.bytes_read = 0
        self.bad_lines = 0  # over all files, as last counted from their start
        self.unreadable = 0  # files a read failed on in this run
        self.listed_from_cache = False
        self.skipped_foreign = 0  # changed files not read: their one working directory is another tree's
        self.parked = 0  # other trees' files not even statted: the listing came from the cache


class Collected:
    __slots__ = ("events", "stats", "index", "dirty")

    def __init__(self) -> None:
        self.events: list[UsageEvent] = []
        self.stats: dict[str, ReaderStats] = {}
        self.index: dict[str, Any] = {}  # the updated index, saved by ``save_index``
        self.dirty = False


class _RecordingEnviron(Mapping[str, str]):
    """The environment, noting which variables a reader looked at.

    A reader's roots and listing depend only on those variables (plus HOME
    and the config paths): when they are unchanged and no directory changed,
    the cached listing is used without importing the reader at all.
    """

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        self.seen: dict[str, str | None] = {}

    def __getitem__(self, key: str) -> str:
        value = self._environ.get(key)
        self.seen[key] = value
        if value is None:
            raise KeyError(key)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._environ)

    def __len__(self) -> int:
        return len(self._environ)


def _env_fingerprint(env: Env, seen: Mapping[str, str | None]) -> list[Any]:
    return [str(env.home), [list(kv) for kv in sorted(env.extra.items())], [list(kv) for kv in sorted(seen.items())]]


def _fingerprint_holds(env: Env, cached: Any) -> bool:
    """Same HOME, config paths and values of every variable the reader looked at last time."""
    if not isinstance(cached, list) or len(cached) != 3 or not isinstance(cached[2], list):
        return False
    try:
        seen = {key: value for key, value in cached[2]}
    except (TypeError, ValueError):
        return False
    current = _env_fingerprint(env, {key: env.environ.get(key) for key in seen})
    return bool(current == cached)


def _load_index(path: StrPath) -> Any:
    """The index, in ``marshal`` format: a few times faster than JSON for thousands of files.

    It is a cache of what was read: an unreadable one (another Python's
    marshal version, a torn file) is rebuilt by reading the logs again,
    and the window's keys keep the totals exact.

    The cycle collector is off while it decodes: marshal builds thousands of
    lists and dicts that hold no cycle, and each collection they would set
    off would walk them, and every young object of the process, for nothing
    (1.3M of the hook's 67M instructions with every agent at 1.2 GB).
    """
    import gc
    import marshal

    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return {}
    enabled = gc.isenabled()
    gc.disable()
    try:
        return marshal.loads(data)
    except (ValueError, EOFError, TypeError):
        return {}
    finally:
        if enabled:
            gc.enable()


def _save_index(path: StrPath, index: dict[str, Any]) -> None:
    """Atomically, with the free-space check and temporary-file cleanup of every state write."""
    import marshal

    from commitledger.hook.state import save_bytes

    save_bytes(path, marshal.dumps(index))


# Bytes hashed at the start of a file and just before its saved offset.
_MARK_BYTES = 4096


def _content_mark(handle: BinaryIO, offset: int) -> int:
    """crc32 of the first bytes and of the bytes just before ``offset``.

    Appending never changes them; an in-place rewrite (same inode, same or
    larger size) or a truncate-and-regrow almost always does, and the file
    is then read again from the start (the window's keys keep totals exact).
    """
    import zlib

    handle.seek(0)
    head = handle.read(min(offset, _MARK_BYTES))
    tail_at = max(0, offset - _MARK_BYTES)
    handle.seek(tail_at)
    tail = handle.read(offset - tail_at)
    return zlib.crc32(tail, zlib.crc32(head))


def _file_mark(name: str, offset: int) -> int | None:
    try:
        with open(name, "rb") as handle:
            return _content_mark(handle, offset)
    except OSError:
        return None


def _dir_signature(
    roots: Iterable[Path],
    now: float,
    leaf_file: str | None = None,
    folders: Callable[[Path], Callable[[str], bool] | None] | None = None,
) -> list[list[Any]] | None:
    """(path, mtime_ns or -1) for each root and each directory below the directory roots.

    None when a directory was modified within ``_HOT_SECONDS``: its listing
    may be about to change without its mtime moving, so it is not cached.

    ``leaf_file``: the one file a reader lists from a directory with no
    subdirectories (a VS Code task's ``ui_messages.json``, a Grok or Kimi
    session's log). A leaf directory already holding it can add nothing to
    the listing, so it is left out: an idle commit then stats the file, not
    also its folder (half the stats of an idle commit with every agent, most
    of them other repositories' sessions). Its parent's mtime still tells a
    new or removed session, and a vanished file fails its own stat.

    ``folders(root)``: which folders directly under ``root`` the reader
    lists files from (``listed_folders``; None: all). Stores that file
    sessions by working directory (Claude Code, pi, Droid, Qwen, Kimi, Grok)
    list only this worktree's folders; what happens in another repository's
    folder changes nothing listed, so those folders are neither statted nor
    walked, and a session started there does not make the next commit list
    everything again. The root's own mtime still tells a new folder.
    """
    out: list[list[Any] | None] = []
    hot_ns = int((now - _HOT_SECONDS) * 1e9)
    for root in roots:
        try:
            st = os.stat(root)
        except OSError:
            out.append([str(root), -1])
            continue
        out.append([str(root), st.st_mtime_ns])
        if st.st_mtime_ns > hot_ns:
            return None
        if not os.path.isdir(root):
            continue
        wanted = folders(root) if folders is not None else None
        stack: list[tuple[str, int]] = [(str(root), -1)]  # (directory, its row in ``out``; -1 for a root)
        while stack:
            directory, row = stack.pop()
            top = row < 0
            try:
                entries = os.scandir(directory)
            except OSError:
                continue
            leaf = True
            holds = False
            with entries:
                for entry in entries:
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            leaf = False
                            if top and wanted is not None and not wanted(entry.name):
                                continue  # another repository's folder: nothing in it is listed
                            mtime = entry.stat(follow_symlinks=False).st_mtime_ns
                            if mtime > hot_ns:
                                return None
                            stack.append((entry.path, len(out)))
                            out.append([entry.path, mtime])
                        elif entry.name == leaf_file:
                            holds = True
                    except OSError:
                        continue
            if row >= 0 and leaf and holds:
                out[row] = None
    return [item for item in out if item is not None]


def _signature_holds(signature: list[list[Any]]) -> bool:
    for path, mtime in signature:
        try:
            current = os.stat(path).st_mtime_ns
        except OSError:
            current = -1
        if current != mtime:
            return False
    return True


def _path_env(env: Env, environ: Mapping[str, str]) -> Env:
    """``env`` with ``home`` as a ``Path``, as readers' ``roots()`` and ``files()`` expect.

    The hook passes a str home and lets only the readers it loads pay for pathlib.
    """
    home = env.home
    if isinstance(home, str):
        from pathlib import Path

        home = Path(home)
    return Env(home, environ, env.extra)


def collect(
    state_dir: StrPath,
    env: Env,
    accept: Callable[[UsageEvent], bool],
    agents: Iterable[str] | None = None,
) -> Collected:
    """Read what is new in every reader's files; return the events ``accept`` keeps.

    The updated index is returned, not saved: the caller saves it with
    ``save_index`` after storing the events, so a crash between the two
    re-reads bytes rather than losing them.
    """
    index_path = os.path.join(state_dir, INDEX_FILE)
    index = _load_index(index_path)
    if not isinstance(index, dict) or index.get("version") not in _READABLE_VERSIONS or not isinstance(
        index.get("readers"), dict
    ):
        index = {"readers": {}}
    index["version"] = INDEX_VERSION
    readers_state: dict[str, Any] = index["readers"]
    # The worktree the ``_FOREIGN`` marks were made for (``accept`` is the hook's Attributor);
    # marks made for another accept test are not trusted.
    scope = getattr(accept, "root", None)
    scope = scope if isinstance(scope, str) else None
    if index.get("scope") != scope:
        _drop_foreign_marks(readers_state)
        index["scope"] = scope
    out = Collected()
    now = time.time()
    for agent in agents if agents is not None else READERS:
        state = readers_state.get(agent)
        if not isinstance(state, dict):
            state = {}
        start = len(out.events)
        try:
            fresh_state = _collect_reader(agent, state, env, accept, scope, now, out)
        except (TypeError, ValueError, IndexError, KeyError, AttributeError):
            # A malformed entry (another version's layout, a hand-edited file) is a cache miss:
            # this reader starts over from an empty state. A reader's own bug raises again here.
            if not state:
                raise
            del out.events[start:]
            fresh_state = _collect_reader(agent, {}, env, accept, scope, now, out)
        if fresh_state is not None:
            readers_state[agent] = fresh_state
            out.dirty = True
    out.index = index
    return out


def _collect_reader(
    agent: str,
    state: dict[str, Any],
    env: Env,
    accept: Callable[[UsageEvent], bool],
    scope: str | None,
    now: float,
    out: Collected,
) -> dict[str, Any] | None:
    """One reader's pass over its files; its new index state, or None when nothing changed.

    ``state["files"]`` holds the records of the files an idle commit stats
    (``listing["files"]``, in listing order); ``state["foreign"]`` holds, as
    ``[marshal bytes, count, bad lines]``, those of the files every event of
    which so far lay in another worktree, for a ``fixed_cwd`` reader. Those
    bytes are decoded only when the listing is built again, so an idle
    commit neither decodes nor stats them.

    Why skipping them is exact: a ``fixed_cwd`` reader gives every event of a
    file that file's one working directory, which never changes:

    - Amp: the thread's first workspace tree, ``env.initial`` of the thread,
      written when the thread starts;
    - Cline, Roo Code, Kilo Code: the working directory named in the task's
      first request (``api_conversation_history.json``), the task being its
      folder;
    - pi, OpenClaw: the ``cwd`` of the session header, the first line of an
      append-only file.

    So what such a file gains, and what it holds after an in-place rewrite,
    still belongs to that other worktree; only a file new at its path can
    hold events of this one. A new, renamed-over or removed file changes its
    folder's mtime, and with it the listing signature: the listing is then
    built again and every file, these included, is statted (and a replaced
    one read again) as before. The exception is a folder left out of the
    signature because it holds its one listed file (``leaf_file``: a VS Code
    task): a log replaced inside it is the same task's, with the same
    working directory. A file removed from such a folder keeps its record
    until the listing is next built (it is only counted, never read).
    """
    stats = out.stats[agent] = ReaderStats()
    loaded: list[Reader] = []
    recording = _RecordingEnviron(env.environ)
    envs: list[Env] = []

    def reader_env() -> Env:
        if not envs:
            envs.append(_path_env(env, recording))
        return envs[0]

    def get_reader() -> Reader:
        """The reader, imported on first need; its roots() runs first (some learn paths there),
        unless it reads a file on its own (``reads_str``)."""
        if not loaded:
            loaded.append(load_reader(agent))
            if not getattr(loaded[0], "reads_str", False):
                loaded[0].roots(reader_env())
        return loaded[0]

    listing = state.get("listing")
    parked = state.get("foreign")
    old_files: dict[str, Any] = state.get("files") if isinstance(state.get("files"), dict) else {}
    if (
        isinstance(listing, dict)
        and _parked_ok(parked)
        and _fingerprint_holds(env, state.get("env"))
        and isinstance(listing.get("sig"), list)
        and _names_ok(listing.get("files"))
        and _signature_holds(listing["sig"])
    ):
        files, from_cache = listing["files"], True
        stats.roots = list(listing.get("roots", []))
    else:
        reader = get_reader()
        roots = reader.roots(reader_env())
        stats.roots = [str(r) for r in roots]
        listed_folders = getattr(reader, "listed_folders", None)
        signature = _dir_signature(
            roots, now, getattr(reader, "leaf_file", None),
            None if listed_folders is None else lambda root: listed_folders(reader_env(), root),
        )  # fmt: skip
        files = [str(p) for p in reader.files(reader_env())]
        listing = {"sig": signature, "files": files, "roots": stats.roots} if signature is not None else None
        from_cache = False
        if _parked_ok(parked) and parked[0]:
            old_files = {**_unpark(parked[0]), **old_files}
        parked = None
    stats.listed_from_cache = from_cache
    new_files: dict[str, Any] = {}
    file_changed = not from_cache
    stat = os.stat
    previous = old_files.get
    for name in files:
        # The hot loop of an idle commit: one stat per file (this worktree's, when listed from the cache).
        record = previous(name)
        try:
            st = stat(name)
        except OSError:
            file_changed = True
            continue
        if (
            record is not None
            and record[2] == st.st_size
            and record[3] == st.st_mtime_ns
            and record[1] == st.st_ino
            and record[0] == st.st_dev
        ):
            new_files[name] = record
            continue
        file_changed = True
        if (
            scope is not None
            and record is not None
            and len(record) > 8
            and record[8] == _FOREIGN
            and record[0] == st.st_dev
            and record[1] == st.st_ino
            and st.st_size >= record[4]
        ):
            # Another tree's thread or session grew: one stat, no read, not even the reader's import.
            new_files[name] = [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, *record[4:]]
            stats.skipped_foreign += 1
            continue
        reader = get_reader()
        if getattr(reader, "reads_str", False):
            path: Any = name
        else:
            from pathlib import Path

            path = Path(name)
        fresh = (
            record is None
            or not reader.incremental(path)
            or record[0] != st.st_dev
            or record[1] != st.st_ino
            or st.st_size < record[4]
        )
        incremental = reader.incremental(path)
        try:
            # A file that cannot be opened (chmod 000, a vanished mount) keeps its old
            # offset: what it gained is read once it can be read again.
            with open(name, "rb") as handle:
                if not fresh and record is not None and len(record) > 7 and record[4] > 0:
                    fresh = _content_mark(handle, record[4]) != record[7]  # rewritten in place
        except OSError:
            stats.unreadable += 1
            if record is not None:
                new_files[name] = record
            continue
        start, ctx, bad = (0, {}, 0) if fresh else (record[4], dict(record[5]), record[6])
        try:
            result = reader.read(path, start, ctx)
            mark = _file_mark(name, result.end) if incremental and result.end > 0 else None
        except Exception:  # one broken file must not hide the others
            stats.unreadable += 1
            if record is not None:
                new_files[name] = record
            continue
        stats.bytes_read += max(0, result.end - start)
        bad += result.bad_lines
        where = _NO_EVENTS if fresh or record is None or len(record) <= 8 else record[8]
        for event in result.events:
            if not valid_event(event):
                bad += 1  # an infinite, negative or oversized value: that row is bad, the file still counts
            elif accept(event):
                out.events.append(event)
                where = _HERE
            elif where == _NO_EVENTS and event.cwd:
                where = _FOREIGN
            elif not event.cwd:
                where = _HERE  # attributed some other way (a project hash): never skipped
        if where == _FOREIGN and not getattr(reader, "fixed_cwd", False):
            where = _HERE
        new_files[name] = [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, result.end, ctx, bad, mark, where]
    parked_count, parked_bad = (parked[1], parked[2]) if parked else (0, 0)
    stats.parked = parked_count
    stats.files = len(new_files) + parked_count
    stats.bad_lines = sum(record[6] for record in new_files.values()) + parked_bad
    if not file_changed and len(new_files) == len(old_files):
        return None
    if not from_cache:
        foreign = _foreign_records(new_files) if scope is not None else {}
        parked = _park(foreign)
        if foreign:
            new_files = {name: record for name, record in new_files.items() if name not in foreign}
            if listing is not None:
                listing["files"] = [name for name in files if name not in foreign]
    return {
        "listing": listing,
        "files": new_files,
        "foreign": parked,
        "env": _env_fingerprint(env, recording.seen) if not from_cache else state.get("env"),
    }


def _names_ok(names: Any) -> bool:
    """A cached listing of str paths (``os.stat`` of an int would stat a file descriptor)."""
    return type(names) is list and all(type(name) is str for name in names)


def _parked_ok(parked: Any) -> bool:
    """``[bytes or None, count, bad lines]``; a state without it (index version 2) is listed again once."""
    return (
        type(parked) is list
        and len(parked) == 3
        and (parked[0] is None or type(parked[0]) is bytes)
        and type(parked[1]) is int
        and type(parked[2]) is int
    )


def _foreign_records(records: dict[str, Any]) -> dict[str, Any]:
    """The files every event of which so far lay in another worktree (only ``fixed_cwd`` readers mark them)."""
    return {name: record for name, record in records.items() if len(record) > 8 and record[8] == _FOREIGN}


def _park(foreign: dict[str, Any]) -> list[Any]:
    """``[marshal bytes or None, count, bad lines]`` of the records an idle commit leaves alone."""
    if not foreign:
        return [None, 0, 0]
    import marshal

    return [marshal.dumps(foreign), len(foreign), sum(record[6] for record in foreign.values())]


def _unpark(blob: bytes) -> dict[str, Any]:
    """The parked records; none when they do not decode (their files are then read again)."""
    import marshal

    try:
        records = marshal.loads(blob)
    except (ValueError, EOFError, TypeError):
        return {}
    return records if isinstance(records, dict) else {}


def _drop_foreign_marks(readers_state: dict[str, Any]) -> None:
    """Marks made for another worktree: every parked file comes back and is statted (and read when it changes)."""
    for state in readers_state.values():
        if not isinstance(state, dict):
            continue
        parked = state.pop("foreign", None)  # without it the listing is built again
        files = state.get("files")
        if not isinstance(files, dict):
            continue
        if _parked_ok(parked) and parked[0]:
            for name, record in _unpark(parked[0]).items():
                files.setdefault(name, record)
        for record in files.values():
            if isinstance(record, list) and len(record) > 8 and record[8] == _FOREIGN:
                record[8] = _NO_EVENTS


def save_index(state_dir: StrPath, collected: Collected) -> None:
    """Persist the offsets of a ``collect`` run, once its events are stored."""
    if collected.dirty:
        _save_index(os.path.join(state_dir, INDEX_FILE), collected.index)
        collected.dirty = False
