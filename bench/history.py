"""Benchmark ``commitledger history`` against plain ``git log`` on a large repository.

Generates (with ``git fast-import``, in a few seconds) or takes ``--repo`` a
repository whose default branch carries AI-Usage trailers, GitHub-style merge
and squash commits, and reverts of every shape (by full and short sha, of a
merge commit, of a PR by number, re-lands). It then prints, from the same run
on the same repository:

- ``git log --format=%H%x00%B`` (every commit's id and message: the floor any
  reader of trailers pays),
- ``commitledger history`` cold (empty cache) and warm (cache filled) in each of
  ``table``, ``json``, ``csv`` and ``parquet``, with the peak RSS of the
  ``commitledger`` process (its git children's apart),
- ``commitledger rollup`` over ``--rollup-repos`` generated repositories of
  ``--rollup-changes`` changes each, against ``history --format json`` run on
  each in turn (cold and warm),

with the targets of issue 13: cold <= 1.5x git log, warm json/csv <= 0.5x,
peak RSS <= 150 MB in every format, at 100k changes.

    python bench/history.py                      # 100k changes, then rollup over 100 x 2,000
    python bench/history.py --changes 20000 --rollup-repos 20
    python bench/history.py --repo /path/to/checkout --branch main --rollup-repos 0
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

    def __init__(self, repo: Path, commits: int, seed: int, changes: int | None = None) -> None:
        self.repo = repo
        self.target = commits
        self.target_changes = changes  # when set: stop after this many first-parent changes instead
        self.chain_changes = 0
        expected = commits if changes is None else changes * 9 // 5  # ~1.8 commits per change
        self.step = max(1, (365 * 86400) // max(expected, 1))
        self.rng = random.Random(seed)
        self.mark = 0
        self.made = 0
        self.pr = 0
        self.tip: int | None = None
        self.start = int(time.time()) - 365 * 86400
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
        stop_changes = self.chain_changes + budget
        while (self.chain_changes < stop_changes) if self.target_changes is not None else (self.made < stop):
            self.chain_changes += 1
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
        target = self.target_changes if self.target_changes is not None else self.target
        per = -(-target // phases)
        while (self.chain_changes if self.target_changes is not None else self.made) < target:
            done = self.chain_changes if self.target_changes is not None else self.made
            stream = self.phase(min(per, target - done))
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


def generate(path: Path, commits: int, seed: int, changes: int | None = None) -> None:
    """A repository of ``commits`` commits, or of ``changes`` first-parent changes when given."""
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    Generator(path, commits, seed, changes).run(phases=5 if (changes or commits) > 5000 else 1)
    subprocess.run(["git", "-C", str(path), "checkout", "-q", "-f", "main"], check=True)


def timed(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, int]:
    """Wall time of a command, and the peak RSS (kB) of it and its children."""
    code = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
        "e = time.perf_counter() - t\n"
        "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(e, u.ru_maxrss, p.returncode, u.ru_utime + u.ru_stime)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          check=True)
    elapsed, rss, rc, cpu = proc.stdout.split()
    if rc != "0":
        raise SystemExit(f"{' '.join(args)} failed with exit {rc}")
    CPU[0] = float(cpu)  # CPU seconds of the command and every process it started (the last call's)
    return float(elapsed), int(rss)


CPU = [0.0]


# The Python process's own peak RSS, told apart from the git processes it starts (git's memory is
# reported separately): a sitecustomize on PYTHONPATH writes it at exit. It is loaded again by the
# image ``history --format parquet`` execs into, and ru_maxrss survives exec, so the figure covers both.
_SITECUSTOMIZE = (
    "import atexit, os, resource, sys\n"
    "def _report():\n"
    "    path = os.environ.get('CL_BENCH_RSS')\n"
    "    if path and sys.argv[:1] != ['-c']:  # not the timing wrapper itself\n"
    "        me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
    "        kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "        with open(path, 'w') as out:\n"
    "            out.write(f'{me} {kids}')\n"
    "atexit.register(_report)\n"
)


def timed_cli(args: list[str], cwd: Path, env: dict[str, str], rss_file: Path) -> tuple[float, int, int]:
    """Wall time of ``commitledger ARGS``, its own peak RSS and its git children's (kB)."""
    site = rss_file.parent / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(_SITECUSTOMIZE)
    path = os.pathsep.join(p for p in (str(site), env.get("PYTHONPATH", "")) if p)
    rss_file.unlink(missing_ok=True)
    elapsed, _ = timed([sys.executable, "-m", "commitledger", *args], cwd,
                       dict(env, CL_BENCH_RSS=str(rss_file), PYTHONPATH=path))
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


def clear_cache(repo: Path) -> None:
    common = Path(subprocess.run(["git", "-C", str(repo), "rev-parse", "--git-common-dir"], capture_output=True,
                                 text=True, check=True).stdout.strip())
    cache = (repo / common if not common.is_absolute() else common) / "commitledger" / "cache.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(str(cache) + suffix).unlink(missing_ok=True)


def verdict(ratio: float, target: float) -> str:
    return "ok" if ratio <= target else f"MISSED by {ratio / target:.2f}x"


def bench_formats(repo: Path, branch: str, formats: list[str], env: dict[str, str], out_dir: Path) -> None:
    """Cold (empty cache) and warm runs of history in each format, next to git log on the same repository."""
    git_log = ["git", "log", "--format=%H%x00%B", branch]
    rss_file = out_dir / "rss"
    timed(git_log, repo, env)  # warm the page cache so both sides read from memory
    logs = []
    for _ in range(2):
        seconds, rss = timed(git_log, repo, env)
        logs.append((seconds, rss, CPU[0]))
    log_s, log_rss, log_cpu = min(t for t, _, _ in logs), max(r for _, r, _ in logs), min(c for _, _, c in logs)
    changes = subprocess.run(["git", "-C", str(repo), "rev-list", "--first-parent", "--count", branch],
                             capture_output=True, text=True, check=True).stdout.strip()
    commits = subprocess.run(["git", "-C", str(repo), "rev-list", "--count", branch], capture_output=True, text=True,
                             check=True).stdout.strip()
    print(f"repository: {repo} ({changes} changes, {commits} commits on {branch}); load average "
          f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"git log --format=%H%x00%B      {log_s:7.2f}s  CPU {log_cpu:6.2f}s              RSS {log_rss / 1024:4.0f} MB")
    print("targets: cold <= 1.5x git log; warm json/csv <= 0.5x; commitledger's peak RSS <= 150 MB")
    print("(CPU: user + system seconds of the command and all its processes, which a loaded machine distorts less)")
    worst_rss = 0
    for fmt in formats:
        args = ["history", "--branch", branch, "--since", "all", "--format", fmt]
        if fmt == "parquet":
            args += ["--output", str(out_dir / "history.parquet")]
        for phase in ("cold", "warm"):
            if phase == "cold":
                clear_cache(repo)
            seconds, mine, kids = timed_cli(args, repo, env, rss_file)
            worst_rss = max(worst_rss, mine)
            ratio = seconds / log_s
            target = 1.5 if phase == "cold" else (0.5 if fmt in ("json", "csv") else None)
            check = f"(target <= {target}x: {verdict(ratio, target)})" if target is not None else "(no target)"
            print(f"history {fmt:7s} {phase}   {seconds:7.2f}s = {ratio:5.2f}x git log {check:28s} "
                  f"CPU {CPU[0]:6.2f}s = {CPU[0] / log_cpu:5.2f}x  RSS {mine / 1024:4.0f} MB ({verdict(mine / 1024 / 150, 1.0)}; its git: {kids / 1024:.0f} MB)")
    print(f"peak RSS of commitledger over every format: {worst_rss / 1024:.0f} MB "
          f"({verdict(worst_rss / 1024 / 150, 1.0)})")


def bench_rollup(count: int, changes: int, seed: int, env: dict[str, str], root: Path, jobs: int | None) -> None:
    """``rollup`` over ``count`` generated repositories against ``history --format json`` on each in turn."""
    clones = root / "clones"
    clones.mkdir()
    t = time.perf_counter()
    for i in range(count):
        generate(clones / f"repo{i:03d}", 0, seed + i, changes=changes)
    print(f"generated {count} repositories of {changes} changes each in {time.perf_counter() - t:.1f}s")
    repos = sorted(clones.iterdir())
    out = root / "org"
    rss_file = root / "rss"
    extra = ["--jobs", str(jobs)] if jobs else []
    for phase in ("cold", "warm"):
        if phase == "cold":
            for repo in repos:
                clear_cache(repo)
        t = time.perf_counter()
        peak = 0
        for repo in repos:
            _, mine, _ = timed_cli(["history", "--since", "all", "--format", "json"], repo, env, rss_file)
            peak = max(peak, mine)
        each = time.perf_counter() - t
        if phase == "cold":
            for repo in repos:
                clear_cache(repo)
        seconds, mine, kids = timed_cli(["rollup", str(clones), "--out", str(out), *extra], root, env, rss_file)
        print(f"{phase}: history --format json on each in turn {each:7.2f}s (peak RSS {peak / 1024:.0f} MB); "
              f"rollup {seconds:7.2f}s = {seconds / each:.2f}x (RSS {mine / 1024:.0f} MB, largest worker "
              f"{kids / 1024:.0f} MB); database {(out / 'org.duckdb').stat().st_size / 1e6:.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--changes", type=int, default=100_000, help="first-parent changes of the generated repository")
    parser.add_argument("--commits", type=int, default=None, help="generate this many commits instead of --changes")
    parser.add_argument("--repo", type=Path, help="benchmark this repository instead of generating one")
    parser.add_argument("--branch", default=None)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the generated repositories")
    parser.add_argument("--formats", default="table,json,csv,parquet")
    parser.add_argument("--rollup-repos", type=int, default=100, help="0: skip the rollup benchmark")
    parser.add_argument("--rollup-changes", type=int, default=2000)
    parser.add_argument("--jobs", type=int, default=None, help="rollup --jobs (default: rollup's own)")
    parser.add_argument("--pygit2", action="store_true", help="also time the same reading through pygit2")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="commitledger-bench-"))
    env = dict(os.environ, GIT_PAGER="cat", PAGER="cat", COLUMNS="120")
    try:
        if args.repo is None:
            repo = tmp / "repo"
            t = time.perf_counter()
            if args.commits:
                generate(repo, args.commits, args.seed)
            else:
                generate(repo, 0, args.seed, changes=args.changes)
            print(f"generated in {time.perf_counter() - t:.1f}s at {repo}")
        else:
            repo = args.repo.resolve()
        branch = args.branch or subprocess.run(["git", "-C", str(repo), "symbolic-ref", "--short", "HEAD"],
                                               capture_output=True, text=True, check=True).stdout.strip()
        formats = [f for f in args.formats.split(",") if f]
        if formats:
            bench_formats(repo, branch, formats, env, tmp)
        if args.pygit2:
            print(f"same reading through pygit2 (messages in topological order + first-parent diff stats): "
                  f"{pygit2_walk(repo, branch):.2f}s")
        if args.rollup_repos:
            bench_rollup(args.rollup_repos, args.rollup_changes, args.seed, env, tmp, args.jobs)
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
