"""How long and how much memory ``commitledger github post`` spends on a hostile GitHub API.

Starts the test suite's loopback fake (``tests/fake_github.py``; nothing
leaves 127.0.0.1), builds a two-commit repository and its ``pr`` result, and
runs the real CLI under ``/usr/bin/time`` against three servers:

- a well-behaved one (the reference: what a normal post costs),
- one that drips the comment list one byte every ``--drip`` seconds,
- one that answers the comment list with an endless body.

It prints wall time, exit status and peak RSS for each. The figures to look
for: the dripping server costs about the deadline (``--deadline``), not the
length of the body times the drip; the endless body costs about the body
cap (32 MB) over the reference, not everything the server sends.

    python bench/hostile_server.py --deadline 5 --drip 3
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from fake_github import FakeGitHub  # noqa: E402

TOKEN = "ghs_benchTOKEN000000000000"
REPO = "octo/widgets"


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.com", "GIT_COMMITTER_NAME": "b",
           "GIT_COMMITTER_EMAIL": "b@example.com"}
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout.strip()


def setup(tmp: Path) -> tuple[Path, str, Path]:
    repo = tmp / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "a.py").write_text("x = 1\n")
    git(repo, "add", "a.py")
    git(repo, "commit", "-q", "-m", "base")
    (repo / "a.py").write_text("x = 2\n")
    git(repo, "commit", "-q", "-am", "change\n\nAI-Usage: agent=codex model=gpt-5-codex requests=1 input=10 output=5")
    head = git(repo, "rev-parse", "HEAD")
    result = tmp / "result.json"
    subprocess.run([sys.executable, "-m", "commitledger", "pr", "--base", "HEAD~1", "--format", "json", "--output",
                    str(result)], cwd=repo, check=True)
    return repo, head, result


def post(gh: FakeGitHub, repo: Path, result: Path, pr: int, deadline: float) -> tuple[float, int, int, str]:
    env = {**os.environ, "GITHUB_API_URL": gh.url, "GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": REPO,
           "COMMITLEDGER_HTTP_DEADLINE": str(deadline), "COMMITLEDGER_RETRY_SCALE": "0.001", "NO_PROXY": "127.0.0.1"}
    started = time.monotonic()
    proc = subprocess.run(["/usr/bin/time", "-v", sys.executable, "-m", "commitledger", "github", "post", "--result",
                           str(result), "--pr", str(pr)], cwd=repo, env=env, capture_output=True, text=True)
    wall = time.monotonic() - started
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    said = next((ln for ln in proc.stderr.splitlines() if ln.startswith("commitledger:")), proc.stdout.strip())
    return wall, proc.returncode, int(rss.group(1)) if rss else -1, said


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deadline", type=float, default=5.0)
    parser.add_argument("--drip", type=float, default=3.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, FakeGitHub() as gh:
        repo, head, result = setup(Path(tmp))
        gh.add_token(TOKEN)
        for pr in (1, 2, 3):
            gh.add_pull(REPO, pr, head=head)
        gh.fault("GET", f"/repos/{REPO}/issues/2/comments", 200, body="[" + " " * 100 + "]", drip=args.drip,
                 max_seconds=120)
        gh.fault("GET", f"/repos/{REPO}/issues/3/comments", 200, endless=True, max_seconds=30)
        print(f"{'server':<28} {'wall s':>7} {'exit':>5} {'peak RSS MB':>12}  message")
        for name, pr in (("well-behaved", 1), (f"drip 1 byte / {args.drip:g} s", 2), ("endless body", 3)):
            wall, code, rss, said = post(gh, repo, result, pr, args.deadline)
            print(f"{name:<28} {wall:7.1f} {code:5d} {rss / 1024:12.1f}  {said[:90]}")


if __name__ == "__main__":
    main()
