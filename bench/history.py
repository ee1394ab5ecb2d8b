"""Benchmark ``commitledger history`` against plain ``git log`` on a large repository.

Generates (with ``git fast-import``, in a few seconds) or takes ``--repo`` a
repository whose default branch carries AI-Usage trailers, GitHub-style merge
and squash commits, and reverts of every shape (by full and short sha, of a
merge commit, of a PR by number, re-lands). It then prints, from the same run
on the same repository:

- ``git log --format=%H%x00%B`` (every commit's id and message: the floor any
  reader of trailers pays),
- ``commitledger history`` cold (empty cache) and warm (cache filled),
- peak RSS of the ``commitledger`` process,

with the targets: cold <= 1.5x git log, warm <= 0.5x git log, RSS <= 150 MB
at 200k commits.

    python bench/history.py --commits 200000
    python bench/history.py --repo /path/to/checkout --branch main
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

AGENTS = (("claude-code", "claude-sonnet-4-5"), ("codex", "gpt-5-codex"), ("gemini-cli", "gemini-2.5-pro"))
AUTHORS = ("Ada Lovelace <ada@example.com>", "Linus Pauling <linus@example.com>", "Grace Hopper <grace@example.com>")


def usage_line(rng: random.Random) -> str:
    agent, model = rng.choice(AGENTS)
    inp, out = rng.randint(1_000, 90_000), rng.randint(200, 12_000)
    cache = rng.randint(0, 900_000)
    cost = inp * 3e-6 + out * 15e-6 + cache * 0.3e-6
    return (f"AI-Usage: agent={agent} model={model} sessions=1 prompts={rng.randint(1, 9)} "
            f"requests={rng.randint(2, 60)} tool_calls={rng.randint(0, 40)} input={inp} output={out} "
            f"cache_read={cache} cache_write={rng.randint(0, 40_000)} cost_usd={cost:.4f}")


class Generator:
    """Writes a fast-import stream in phases; reverts name shas of commits imported in earlier phases."""

    def __init__(self, repo: Path, commits: int, seed: int) -> None:
        self.repo = repo
        self.target = commits
        self.rng = random.Random(seed)
        self.mark = 0
        self.made = 0
        self.pr = 0
        self.tip: int | None = None
        self.start = int(time.time()) - 365 * 86400
        self.step = max(1, (365 * 86400) // max(commits, 1))
        # (mark, title, pr, kind, side_marks) of changes from earlier phases, eligible as revert targets
        self.changes: list[tuple[int, str, int | None, str, list[int]]] = []
        self.reverts: list[tuple[int, str, int | None]] = []  # (mark, subject, pr) of imported revert changes
        self.new_reverts: list[tuple[int, str, int | None]] = []  # the same, of the phase being written
        self.shas: dict[int, str] = {}
        self.last_file: tuple[str, bytes] = ("", b"")

    def _time(self) -> int:
        return self.start + self.made * self.step

    def _commit(self, out: list[bytes], ref: str, message: str, parent: int | None, merge: int | None = None,
                path: str | None = None, replay: list[tuple[str, bytes]] | None = None) -> int:
        self.mark += 1
        self.made += 1
        when = self._time()
        author = self.rng.choice(AUTHORS)
        data = message.encode()
        lines = [f"commit {ref}", f"mark :{self.mark}", f"author {author} {when} +0000",
                 f"committer {author} {when} +0000", f"data {len(data)}"]
        out.append("\n".join(lines).encode() + b"\n" + data + b"\n")
        tail = []
        if parent is not None:
            tail.append(f"from :{parent}")
        if merge is not None:
            tail.append(f"merge :{merge}")
        body = ("\n".join(tail) + "\n").encode() if tail else b""
        files = list(replay or [])
        if path is not None:
            content = f"value = {self.mark}\n# {self.rng.random()}\n".encode()
            files.append((path, content))
            self.last_file = (path, content)
        for name, content in files:
            body += f"M 100644 inline {name}\ndata {len(content)}\n".encode() + content + b"\n"
        out.append(body)
        return self.mark

    def _path(self) -> str:
        n = self.rng.randrange(4000)
        top = "tests" if n % 5 == 0 else "src"
        return f"{top}/pkg{n % 40}/mod{n}.py"

    def _body(self, ai: float) -> str:
        r = self.rng.random()
        if r < ai:
            return "\n\n" + "\n".join(usage_line(self.rng) for _ in range(self.rng.randint(1, 2)))
        if r < ai + 0.08:
            return "\n\nCo-Authored-By: Claude <noreply@anthropic.com>"
        return ""

    def phase(self, budget: int) -> bytes:
        out: list[bytes] = []
        new_changes: list[tuple[int, str, int | None, str, list[int]]] = []
        stop = self.made + budget
        while self.made < stop:
            roll = self.rng.random()
            word = self.rng.choice(("retry", "cache", "parser", "upload", "login", "export", "index"))
            title = f"Improve {word} handling {self.made}"
            if roll < 0.04 and self.changes:
                self._revert(out)
                continue
            if roll < 0.38:
                self.tip = self._commit(out, "refs/heads/main", title + self._body(0.5), self.tip, path=self._path())
                new_changes.append((self.tip, title, None, "direct", []))
            elif roll < 0.68:
                self.pr += 1
                body = "".join(f"\n\n* step {i}{self._body(0.7)}" for i in range(self.rng.randint(1, 3)))
                self.tip = self._commit(out, "refs/heads/main", f"{title} (#{self.pr})" + body, self.tip,
                                        path=self._path())
                new_changes.append((self.tip, title, self.pr, "squash", []))
            else:
                self.pr += 1
                side: list[int] = []
                files: list[tuple[str, bytes]] = []
                prev = self.tip
                for i in range(self.rng.randint(1, 4)):
                    prev = self._commit(out, "refs/heads/topic", f"{title}: part {i}{self._body(0.6)}", prev,
                                        path=self._path())
                    side.append(prev)
                    files.append(self.last_file)
                # the merge's tree carries the side branch's files, as a real merge's would
                self.tip = self._commit(out, "refs/heads/main",
                                        f"Merge pull request #{self.pr} from dev/topic-{self.pr}\n\n{title}",
                                        self.tip, merge=prev, replay=files)
                new_changes.append((self.tip, title, self.pr, "merge", side))
        out.append(b"done\n")
        self.changes.extend(new_changes)
        return b"".join(out)

    def _revert(self, out: list[bytes]) -> None:
        shape = self.rng.random()
        if shape < 0.15 and self.reverts:
            mark, title, pr = self.rng.choice(self.reverts)  # re-land a revert
            inner = title[len('Revert "'):-1] if title.startswith('Revert "') else title
            msg = f'Reapply "{inner}"\n\nThis reverts commit {self.shas[mark]}.'
            self.tip = self._commit(out, "refs/heads/main", msg, self.tip, path=self._path())
            return
        mark, title, pr, kind, side = self.rng.choice(self.changes)
        self.pr += 1
        if kind == "merge" and shape < 0.5:
            msg = (f'Revert "Merge pull request #{pr} from dev/topic-{pr}"\n\n'
                   f"This reverts commit {self.shas[mark]}, reversing\nchanges made to {self.shas[mark]}.")
        elif pr is not None and shape < 0.7:
            msg = f'Revert "{title}" (#{self.pr})\n\nReverts acme/app#{pr}{self._body(0.3)}'
        elif side and shape < 0.85:
            msg = f'Revert "{title}: part 0"\n\nThis reverts commit {self.shas[side[0]][:10]}.'
        else:
            msg = f'Revert "{title}"\n\nThis reverts commit {self.shas[mark]}.'
        self.tip = self._commit(out, "refs/heads/main", msg, self.tip, path=self._path())
        self.new_reverts.append((self.tip, msg.split("\n", 1)[0], None))

    def run(self, phases: int = 5) -> None:
        marks = self.repo / ".git" / "bench-marks"
        per = -(-self.target // phases)
        while self.made < self.target:
            stream = self.phase(min(per, self.target - self.made))
            args = ["git", "-C", str(self.repo), "fast-import", "--quiet", f"--export-marks={marks}"]
            if marks.exists():
                args.append(f"--import-marks={marks}")
            subprocess.run(args, input=stream, check=True)
            for line in marks.read_text().splitlines():
                mark, sha = line.split()
                self.shas[int(mark[1:])] = sha
            # re-lands name the shas of reverts imported in earlier phases only
            self.reverts.extend(self.new_reverts)
            self.new_reverts = []
        marks.unlink()


def generate(path: Path, commits: int, seed: int) -> None:
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    Generator(path, commits, seed).run()
    subprocess.run(["git", "-C", str(path), "checkout", "-q", "-f", "main"], check=True)


def timed(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, int]:
    """Wall time of a command, and the peak RSS (kB) of it and its children."""
    code = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
        "e = time.perf_counter() - t\n"
        "r = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print(e, r, p.returncode)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          check=True)
    elapsed, rss, rc = proc.stdout.split()
    if rc != "0":
        raise SystemExit(f"{' '.join(args)} failed with exit {rc}")
    return float(elapsed), int(rss)


# Runs the real command line in-process so the Python process's own peak RSS can be told apart
# from the git processes it starts (git's own memory is reported separately).
_RUN_CLI = (
    "import atexit, os, resource, sys\n"
    "def report():\n"
    "    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
    "    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "    with open(os.environ['CL_BENCH_RSS'], 'w') as out:\n"
    "        out.write(f'{me} {kids}')\n"
    "atexit.register(report)\n"
    "from commitledger.cli import main\n"
    "main(sys.argv[1:])\n"
)


def timed_cli(args: list[str], cwd: Path, env: dict[str, str], rss_file: Path) -> tuple[float, int, int]:
    """Wall time of ``commitledger ARGS``, its own peak RSS and its git children's (kB)."""
    elapsed, _ = timed([sys.executable, "-c", _RUN_CLI, *args], cwd, dict(env, CL_BENCH_RSS=str(rss_file)))
    mine, kids = (int(v) for v in rss_file.read_text().split())
    return elapsed, mine, kids


def pygit2_walk(repo: Path, branch: str) -> float:
    """What the scan would cost through pygit2: every commit's message and parents in topological
    order, plus a diff with stats of each first-parent commit against its first parent."""
    import pygit2

    t = time.perf_counter()
    handle = pygit2.Repository(str(repo))
    tip = handle.revparse_single(branch).id
    for commit in handle.walk(tip, pygit2.enums.SortMode.TOPOLOGICAL):
        commit.message, commit.parent_ids, commit.commit_time  # noqa: B018 (read, as the scan does)
    current = handle[tip]
    while True:
        parents = current.parents
        if not parents:
            current.tree.diff_to_tree(swap=True).stats  # noqa: B018 (root commit: everything added)
            break
        handle.diff(parents[0], current).stats  # noqa: B018
        current = parents[0]
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commits", type=int, default=200_000)
    parser.add_argument("--repo", type=Path, help="benchmark this repository instead of generating one")
    parser.add_argument("--branch", default=None)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the generated repository")
    parser.add_argument("--format", default="table", choices=("table", "json", "csv"))
    parser.add_argument("--pygit2", action="store_true", help="also time the same reading through pygit2")
    args = parser.parse_args()

    tmp = None
    if args.repo is None:
        tmp = Path(tempfile.mkdtemp(prefix="commitledger-bench-"))
        repo = tmp / "repo"
        t = time.perf_counter()
        generate(repo, args.commits, args.seed)
        print(f"generated {args.commits} commits in {time.perf_counter() - t:.1f}s at {repo}")
    else:
        repo = args.repo.resolve()
    env = dict(os.environ, GIT_PAGER="cat", PAGER="cat", COLUMNS="120")
    branch = args.branch or subprocess.run(["git", "-C", str(repo), "symbolic-ref", "--short", "HEAD"],
                                           capture_output=True, text=True, check=True).stdout.strip()
    count = subprocess.run(["git", "-C", str(repo), "rev-list", "--count", branch], capture_output=True, text=True,
                           check=True).stdout.strip()
    cache = Path(subprocess.run(["git", "-C", str(repo), "rev-parse", "--git-common-dir"], capture_output=True,
                                text=True, check=True).stdout.strip())
    cache = (repo / cache if not cache.is_absolute() else cache) / "commitledger" / "cache.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(str(cache) + suffix).unlink(missing_ok=True)

    git_log = ["git", "log", "--format=%H%x00%B", branch]
    history = ["history", "--branch", branch, "--since", "all", "--format", args.format]
    rss_file = Path(tempfile.mkstemp(prefix="commitledger-bench-rss-")[1])
    timed(git_log, repo, env)  # warm the page cache so both sides read from memory
    log_s, log_rss = timed(git_log, repo, env)
    cold_s, cold_rss, cold_git = timed_cli(history, repo, env, rss_file)
    warm_s, warm_rss, warm_git = timed_cli(history, repo, env, rss_file)
    log_s2, _ = timed(git_log, repo, env)
    log_s = min(log_s, log_s2)
    rss_file.unlink()
    pygit2_s = pygit2_walk(repo, branch) if args.pygit2 else None

    def verdict(ratio: float, target: float) -> str:
        return "ok" if ratio <= target else f"MISSED by {ratio / target:.2f}x"

    print(f"repository: {repo} ({count} commits on {branch}); load average {os.getloadavg()[0]:.2f}")
    print(f"git log --format=%H%x00%B     {log_s:7.2f}s                                   git RSS {log_rss / 1024:.0f} MB")
    print(f"commitledger history (cold)  {cold_s:7.2f}s  = {cold_s / log_s:.2f}x git log  (target <= 1.5x: "
          f"{verdict(cold_s / log_s, 1.5)})  RSS {cold_rss / 1024:.0f} MB (its git: {cold_git / 1024:.0f} MB)")
    print(f"commitledger history (warm)  {warm_s:7.2f}s  = {warm_s / log_s:.2f}x git log  (target <= 0.5x: "
          f"{verdict(warm_s / log_s, 0.5)})  RSS {warm_rss / 1024:.0f} MB (its git: {warm_git / 1024:.0f} MB)")
    print(f"peak RSS of commitledger, target <= 150 MB: {max(cold_rss, warm_rss) / 1024:.0f} MB "
          f"({verdict(max(cold_rss, warm_rss) / 1024 / 150, 1.0)})")
    if pygit2_s is not None:
        print(f"same reading through pygit2 (messages in topological order + first-parent diff stats): {pygit2_s:.2f}s")
    if tmp is not None and not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
