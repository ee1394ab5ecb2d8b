"""What the usage-note join costs ``commitledger history``: a branch of title-only squashes, all noted.

Generates (``git fast-import``) a first-parent chain of ``--commits`` squash
commits whose messages carry no AI-Usage line (GitHub's "Pull request
title" setting), and a ``usage`` note (``source: pr-head``) on every one of
them, the worst case for the join. Prints the warm ``history --format json``
time with the notes ref and without it (the same repository, the ref
renamed away), so the difference is the join: one ``git notes list`` and
two ``git cat-file --batch`` for notes and messages, whatever their number.

    python bench/usage_notes.py --commits 5000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def generate(repo: Path, commits: int) -> None:
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    lines: list[str] = []
    when = 1_700_000_000
    for i in range(1, commits + 1):
        message = f"Change {i} (#{i})\n".encode()
        lines += [f"blob\nmark :{2 * i}\ndata {len(str(i))}\n{i}",
                  f"commit refs/heads/main\nmark :{2 * i + 1}\n"
                  f"author A <a@example.com> {when + i * 60} +0000\ncommitter A <a@example.com> {when + i * 60} +0000\n"
                  f"data {len(message)}\n{message.decode()}M 100644 :{2 * i} f.txt"]
    for i in range(1, commits + 1):
        entry = {"source": "pr-head", "pr": i, "head": f"{i:040x}", "lines": 2,
                 "usage": {"sessions": 2, "prompts": 3, "requests": 20, "tool_calls": 9, "input": 1000 + i,
                           "output": 300, "cache_read": 9000, "cache_write": 100, "cost_usd": 0.25},
                 "discarded": None, "discarded_commits": 0, "commits": 2, "recorded_at": "2026-01-01T00:00:00Z"}
        body = json.dumps({"schema": "commitledger.note/1", "usage": entry}, separators=(",", ":")) + "\n"
        lines.append(f"blob\nmark :{10 * commits + i}\ndata {len(body)}\n{body}")
    notes = [f"commit refs/notes/commitledger\ncommitter A <a@example.com> {when} +0000\ndata 5\nnotes"]
    notes += [f"N :{10 * commits + i} :{2 * i + 1}" for i in range(1, commits + 1)]
    stream = "\n".join(lines) + "\n" + "\n".join(notes) + "\n"
    subprocess.run(["git", "-C", str(repo), "fast-import", "--quiet"], input=stream.encode(), check=True)


def history_seconds(repo: Path, runs: int = 3) -> tuple[float, dict]:
    best = float("inf")
    data: dict = {}
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "commitledger", "history", "--since", "all", "--format", "json"],
                              cwd=repo, capture_output=True, text=True, check=True)
        best = min(best, time.perf_counter() - start)
        data = json.loads(proc.stdout)
    return best, data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--commits", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        generate(repo, args.commits)
        subprocess.run(["git", "-C", str(repo), "checkout", "-q", "main"], check=True)
        history_seconds(repo, 1)  # fill the cache
        with_notes, data = history_seconds(repo)
        noted = sum(1 for c in data["changes"] if c.get("usage_source") == "notes")
        subprocess.run(["git", "-C", str(repo), "update-ref", "refs/bench/notes", "refs/notes/commitledger"], check=True)
        subprocess.run(["git", "-C", str(repo), "update-ref", "-d", "refs/notes/commitledger"], check=True)
        without, _ = history_seconds(repo)
        print(f"{args.commits} title-only squash commits, {noted} taking their usage from notes "
              f"(summary cost ${data['summary']['cost_usd']:,.2f})")
        print(f"history --format json, warm: {with_notes:.2f} s with the notes, {without:.2f} s without "
              f"(join: {with_notes - without:+.2f} s, {os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
