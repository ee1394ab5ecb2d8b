"""Complete JSON lines from a byte offset, shared by every JSONL reader.

Agents append to their logs while we read them, so the last line of a file
may be half written. Only lines ending in ``\\n`` are consumed; the end offset
stops at the start of an unterminated tail, so the next read gets that line
whole. The one exception is a tail that already parses as a JSON object: a
prefix of a JSON object is never itself a complete object, so such a tail
is a finished line whose writer has not (yet) added the newline, and leaving
it unread would lose the final request of a session that ended that way.

Bad lines (invalid JSON, non-UTF-8 bytes, a crash-truncated line in the
middle) are counted, never fatal: one corrupt line must not hide the rest of
a log. Lines are returned as raw bytes so readers can apply cheap substring
prefilters before paying for ``json.loads``.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs the hook ~3 ms
if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path
    from typing import Any, Callable, Iterator

from commitledger.capture.base import MAX_TOKENS, ReadResult
from commitledger.capture.fastjson import make_loads

# Large reads keep the syscall count low on multi-GB log trees; one chunk is
# the most a single read holds in memory beyond the longest line.
CHUNK = 32 * 1024 * 1024


class LineReader:
    """Complete lines of ``path`` from ``start``; ``end`` is valid after iteration.

    Two views of the same bytes: ``chunks()`` hands out big buffers for hot
    loops that find line boundaries themselves (materialising a bytes object
    per line costs more than reading the file), ``batches()`` hands out lists
    of lines for readers whose files are small.
    """

    __slots__ = ("path", "start", "end", "chunk")

    def __init__(self, path: Path | str, start: int = 0, chunk: int = CHUNK) -> None:
        self.path = path
        self.start = start
        self.end = start
        self.chunk = chunk

    def chunks(self) -> Iterator[tuple[bytes, int]]:
        """Yield ``(buffer, limit)``: ``buffer[:limit]`` holds complete lines only.

        Every line in it ends with ``\n`` except possibly the last one, which
        then ends at ``limit`` (a finished JSON object still missing its
        newline). A line that straddles two reads is read again from its start
        rather than glued to the next block, which would copy the whole block.
        A missing or unreadable file yields nothing and leaves ``end`` at ``start``.
        """
        try:
            handle = open(self.path, "rb")  # noqa: SIM115 - closed in finally
        except OSError:
            return
        try:
            try:
                size = os.fstat(handle.fileno()).st_size
            except OSError:
                return
            pos = self.start
            want = self.chunk
            while pos < size:
                try:
                    handle.seek(pos)
                    # +1 so a file that did not grow reads to EOF in one call.
                    block = handle.read(min(want, size - pos + 1))
                except OSError:
                    return
                if not block:
                    return
                at_eof = pos + len(block) >= size
                cut = block.rfind(b"\n") + 1
                if cut == 0:
                    if not at_eof:
                        want *= 2  # a line longer than the chunk: read more of it at once
                        continue
                    if block.strip() and _is_object(block):
                        self.end = pos + len(block)
                        yield block, len(block)
                    return
                pos += cut
                self.end = pos
                yield block, cut
                if at_eof:
                    tail = block[cut:]
                    if tail.strip() and _is_object(tail):
                        self.end = pos + len(tail)
                        yield tail, len(tail)
                    return
        finally:
            handle.close()

    def batches(self) -> Iterator[list[bytes]]:
        """Yield lists of complete lines (without their ``\n``)."""
        for buffer, limit in self.chunks():
            if buffer[limit - 1 : limit] == b"\n":
                limit -= 1
            yield buffer[:limit].split(b"\n")


def _is_object(raw: bytes) -> bool:
    try:
        return isinstance(strict_loads(raw), dict)
    except ValueError:
        return False


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _finite(text: str) -> float:
    value = float(text)
    if value - value != 0:  # 1e400 overflows to inf
        raise ValueError(f"{text} is out of range")
    return value


# Strict JSON: NaN, Infinity and numbers that overflow a float make their line bad (counted),
# instead of a value that later raises in int() or poisons a sum. (``_json``'s C scanner,
# not ``json``: importing ``json`` costs the hook more than reading the new lines.)
_strict_loads, _scan_once = make_loads(parse_float=_finite, parse_constant=_no_constant)


def strict_loads(raw: bytes | str) -> Any:
    """``json.loads`` without NaN, Infinity or overflowing numbers (they raise ``ValueError``)."""
    text = raw.decode("utf-8") if isinstance(raw, (bytes, bytearray)) else raw
    return _strict_loads(text)


def parse(raw: bytes) -> Any:
    """``json.loads`` for one line, minus its Python-level wrapping (a third of its cost on short rows).

    Raises ``ValueError`` for invalid JSON, trailing garbage and non-UTF-8
    bytes (``UnicodeDecodeError`` is a ``ValueError``).
    """
    text = raw.decode("utf-8")
    try:
        value, end = _scan_once(text, 0)
    except StopIteration:
        return _strict_loads(text)  # leading whitespace, else the ValueError
    except RecursionError:
        raise ValueError("nested too deeply") from None
    except SystemError:  # an error inside a string (capture.fastjson)
        raise ValueError("Invalid string") from None
    if end != len(text) and text[end:].strip():
        raise ValueError("extra data after a JSON value")
    return value


def loads(raw: bytes) -> Any:
    """Strict ``json.loads`` that signals a bad line by returning None (UnicodeDecodeError is a ValueError)."""
    try:
        return strict_loads(raw)
    except ValueError:
        return None



def rows(reader: LineReader, result: ReadResult, wanted: Callable[[bytes], bool] | None = None) -> Iterator[dict[str, Any]]:
    """Each complete line's JSON object; a malformed line is counted in ``result.bad_lines``.

    ``wanted`` is a cheap bytes test run before any parsing: a line failing
    it cannot matter to the reader, so it is only checked to look like an
    object (a torn line still counts as bad). ``result.end`` is set to where
    the complete lines ended once the rows are exhausted.
    """
    bad = 0
    try:
        for batch in reader.batches():
            for line in batch:
                if wanted is not None and not wanted(line):
                    stripped = line.strip()
                    if stripped and not (stripped[:1] == b"{" and stripped[-1:] == b"}"):
                        bad += 1
                    continue
                if not line.strip():
                    continue
                try:
                    row = parse(line)
                except ValueError:
                    bad += 1
                    continue
                if type(row) is not dict:
                    bad += 1
                    continue
                yield row
    finally:
        result.bad_lines += bad
    result.end = reader.end

def read_document(path: Path | str) -> tuple[Any, int]:
    """A whole-file JSON document and the file size; ``(None, size)`` when it does not parse."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return None, 0
    return loads(data), len(data)


def walk_files(root: Path, suffix: str, *, prefix: str = "") -> list[Path]:
    """Files under ``root`` whose name ends with ``suffix`` (and starts with ``prefix``).

    Shallow files come first (then by path), so a session's main transcript is
    read before its subagent files: on a tie the first row of a key is kept,
    and the main transcript's copy of a message is the authoritative one.
    Missing or unreadable directories are skipped silently; ``os.scandir`` is
    used because it costs one syscall per directory on large trees.
    """
    found: list[tuple[int, str]] = []
    stack: list[tuple[str, int]] = [(str(root), 0)]
    while stack:
        directory, depth = stack.pop()
        try:
            entries = os.scandir(directory)
        except OSError:
            continue
        with entries:
            for entry in entries:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append((entry.path, depth + 1))
                    elif entry.name.endswith(suffix) and entry.name.startswith(prefix) and entry.is_file():
                        found.append((depth, entry.path))
                except OSError:
                    continue
    found.sort()
    from pathlib import Path  # listing only: a warm hook reads from the cached listing

    return [Path(p) for _, p in found]


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days from 1970-01-01 to a proleptic Gregorian date (Hinnant's algorithm)."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month - 3 if month > 2 else month + 9) + 2) // 5 + day - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468


_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _utc_epoch(value: str) -> float | None:
    """``YYYY-MM-DDTHH:MM:SS[.fff|.ffffff]Z``, the form agents log, as ``datetime`` would read it; else None.

    ``datetime`` is imported only for the other forms (offsets, no seconds,
    no zone): its import costs the hook more than the rest of a warm read.
    """
    size = len(value)
    if size not in (20, 24, 27) or value[-1] != "Z" or value[4] != "-" or value[7] != "-" or value[10] != "T":
        return None
    if value[13] != ":" or value[16] != ":" or (size > 20 and value[19] != "."):
        return None
    digits = value[0:4] + value[5:7] + value[8:10] + value[11:13] + value[14:16] + value[17:19]
    fraction = value[20:-1]
    if not (digits.isdigit() and digits.isascii() and (not fraction or (fraction.isdigit() and fraction.isascii()))):
        return None
    year, month, day = int(digits[0:4]), int(digits[4:6]), int(digits[6:8])
    hour, minute, second = int(digits[8:10]), int(digits[10:12]), int(digits[12:14])
    if not (1 <= year and 1 <= month <= 12 and 1 <= day and hour < 24 and minute < 60 and second < 60):
        return None
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if day > _MONTH_DAYS[month - 1] + (month == 2 and leap):
        return None
    micro = int(fraction) * (1000 if len(fraction) == 3 else 1) if fraction else 0
    seconds = _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second
    return (seconds * 1_000_000 + micro) / 1_000_000  # timedelta.total_seconds(), exactly


def iso_to_epoch(value: Any) -> float | None:
    """Epoch seconds of an ISO-8601 timestamp (``Z`` or offset), epoch seconds or milliseconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) / 1000.0 if value > 1e11 else float(value)
    if not isinstance(value, str) or not value:
        return None
    fast = _utc_epoch(value)
    if fast is not None:
        return fast
    from datetime import datetime, timezone

    try:
        parsed = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def as_int(value: Any) -> int:
    """A token count from a log field: non-numbers and negatives count as zero.

    A non-finite float becomes a count over ``MAX_TOKENS``, which
    ``base.valid_event`` refuses: the row is bad, not silently zero."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value if value > 0 else 0
    if isinstance(value, float):
        if value - value != 0:  # inf, nan: out of range, so the event is refused as a bad row
            return MAX_TOKENS + 1
        return int(value) if value > 0 else 0
    if isinstance(value, str):
        try:
            number = int(value.strip())
        except ValueError:
            return 0
        return number if number > 0 else 0
    return 0
