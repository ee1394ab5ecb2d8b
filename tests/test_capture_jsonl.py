"""The shared line reader: chunk boundaries, long lines, unfinished tails, bad bytes, file listing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from commitledger.capture.jsonl import LineReader, as_int, iso_to_epoch, parse, walk_files


def lines_of(path: Path, start: int = 0, chunk: int = 1 << 20) -> tuple[list[bytes], int]:
    reader = LineReader(path, start, chunk)
    out = [line for batch in reader.batches() for line in batch]
    return out, reader.end


@pytest.mark.parametrize("chunk", [1, 2, 7, 16, 64, 1 << 20])
def test_chunk_size_does_not_change_lines_or_end(tmp_path: Path, chunk: int) -> None:
    rows = [b'{"a":%d,"pad":"%s"}' % (i, b"x" * (i * 5)) for i in range(20)]
    path = tmp_path / "f.jsonl"
    path.write_bytes(b"\n".join(rows) + b"\n" + b'{"unfinished":')
    got, end = lines_of(path, 0, chunk)
    assert got == rows
    assert end == path.stat().st_size - len(b'{"unfinished":')
    # Resuming from any line start gives the rest.
    offset = len(rows[0]) + 1 + len(rows[1]) + 1
    assert lines_of(path, offset, chunk) == (rows[2:], end)


def test_finished_object_without_newline_is_consumed_and_newline_later_is_harmless(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    path.write_bytes(b'{"a":1}\n{"b":2}')
    got, end = lines_of(path)
    assert (got, end) == ([b'{"a":1}', b'{"b":2}'], path.stat().st_size)
    with open(path, "ab") as handle:
        handle.write(b'\n{"c":3}\n')
    assert lines_of(path, end) == ([b"", b'{"c":3}'], path.stat().st_size)


def test_missing_file_and_start_past_end(tmp_path: Path) -> None:
    assert lines_of(tmp_path / "none.jsonl", 5) == ([], 5)
    path = tmp_path / "f.jsonl"
    path.write_bytes(b'{"a":1}\n')
    assert lines_of(path, 100) == ([], 100)


def test_parse_rejects_garbage_trailing_data_and_bad_utf8() -> None:
    assert parse(b'{"a": [1, 2]}') == {"a": [1, 2]}
    assert parse(b'  {"a": 1}  ') == {"a": 1}
    for bad in (b"not json", b'{"a":1} {"b":2}', b'{"a":"\xff"}', b'{"a":'):
        with pytest.raises(ValueError):
            parse(bad)


def test_walk_files_lists_shallow_first_and_survives_missing_dirs(tmp_path: Path) -> None:
    (tmp_path / "p" / "s" / "subagents").mkdir(parents=True)
    for rel in ("p/s/subagents/agent-1.jsonl", "p/b.jsonl", "p/a.jsonl", "p/a.txt", "p/s/x.json"):
        (tmp_path / rel).write_text("{}\n", "utf-8")
    found = walk_files(tmp_path, ".jsonl")
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["p/a.jsonl", "p/b.jsonl", "p/s/subagents/agent-1.jsonl"]
    assert walk_files(tmp_path / "missing", ".jsonl") == []
    if os.geteuid() != 0:  # root reads anything; elsewhere an unreadable dir is skipped, not fatal
        (tmp_path / "p" / "s").chmod(0)
        try:
            assert [p.name for p in walk_files(tmp_path, ".jsonl")] == ["a.jsonl", "b.jsonl"]
        finally:
            (tmp_path / "p" / "s").chmod(0o755)


def test_times_and_counts() -> None:
    assert iso_to_epoch("2026-05-04T09:00:03.120Z") == pytest.approx(1777885203.12)
    assert iso_to_epoch("2026-05-04T11:00:03.120+02:00") == pytest.approx(1777885203.12)
    assert iso_to_epoch(1777885203120) == pytest.approx(1777885203.12)
    assert iso_to_epoch("yesterday") is None
    assert [as_int(v) for v in (5, -3, 2.9, "12", "x", None, True)] == [5, 0, 2, 12, 0, 0, 0]


def test_bad_strings_are_value_errors_without_the_json_package() -> None:
    """_json's errors inside a string need json.decoder for their class: the hook, which never imports it, still gets ValueError."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from commitledger.capture import fastjson\n"
        "from commitledger.capture.jsonl import parse, strict_loads\n"
        "for bad in (b'{\"a\": \"x', b'\"abc', b'{\"a\":\"\\x01\"}', b'{\"a\":1', b'[1,'):\n"
        "    for f in (parse, strict_loads, fastjson.loads):\n"
        "        try:\n"
        "            f(bad)\n"
        "        except ValueError:\n"
        "            continue\n"
        "        raise SystemExit(f'{f.__name__} accepted {bad!r}')\n"
        "assert parse(b'{\"a\": [1, 2.5, null]}') == {'a': [1, 2.5, None]}\n"
        "assert 'json' not in sys.modules and 're' not in sys.modules, sorted(sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
