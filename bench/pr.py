"""Benchmark of ``commitledger pr`` on a generated 200-file Python change over 30 commits.

Prints the command's wall time cold (empty cache) and warm (cache filled),
and its radon work (both sides of every changed file, from the blobs,
cache off) against running the ``radon mi`` and ``radon cc`` command-line
tools on the head files alone. The target is a ratio of at most 1.0: the
analysis measures twice the files the tools see, so it must win by parsing
each blob once and using every core.

    /tmp/venv/bin/python bench/pr.py [--files 200] [--commits 30] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

AI_USAGE = (
    "AI-Usage: agent=claude-code model=claude-sonnet-4-5 sessions=1 prompts={p} requests={r} tool_calls={t} "
    "input={i} output={o} cache_read={cr} cache_write={cw} cost_usd={c:.4f}"
)


def git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True)
    return proc.stdout.strip()


def function_source(rng: random.Random, name: str, depth: int) -> str:
    """A function with branches, loops and a docstring: what real modules look like to radon."""
    lines = [f"def {name}(items, limit=10, *, strict=False):", f'    """Process items for {name}."""', "    total = 0"]
    for k in range(rng.randint(2, 6 + depth)):
        kind = rng.choice(("if", "for", "while", "try", "plain", "plain"))
        if kind == "if":
            lines += [f"    if total > {k} and limit:", f"        total += {k}", "    elif strict:", "        total -= 1"]
        elif kind == "for":
            lines += ["    for item in items:", f"        if item % {k + 2} == 0:", "            total += item"]
        elif kind == "while":
            lines += [f"    while total < {k * 3}:", "        total += 1"]
        elif kind == "try":
            lines += ["    try:", f"        total = total // ({k} + 1)", "    except ZeroDivisionError:", "        total = 0"]
        else:
            lines += [f"    # step {k}", f"    total = total * {k + 1} + len(items)"]
    lines.append("    return total")
    return "\n".join(lines) + "\n"


def module_source(rng: random.Random, index: int, version: int) -> str:
    parts = [f'"""Module {index}, version {version}."""', "", "import math", ""]
    for j in range(rng.randint(8, 16) + version):
        parts.append(function_source(rng, f"func_{index}_{j}", version))
    parts.append(f"class Service{index}:\n    \"\"\"A class.\"\"\"\n")
    for j in range(rng.randint(2, 5)):
        body = function_source(rng, f"method_{j}", version).replace("\n", "\n    ").rstrip()
        parts.append("    " + body.replace("(items,", "(self, items,", 1) + "\n")
    return "\n".join(parts)


def build_repo(root: Path, files: int, commits: int) -> Path:
    repo = root / "repo"
    repo.mkdir()
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Bench",
        "GIT_AUTHOR_EMAIL": "bench@example.com",
        "GIT_COMMITTER_NAME": "Bench",
        "GIT_COMMITTER_EMAIL": "bench@example.com",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    git(repo, "init", "-q", "-b", "main", env=env)
    rng = random.Random(1234)
    pkg = repo / "src" / "app"
    pkg.mkdir(parents=True)
    for i in range(files):
        (pkg / f"mod_{i:03d}.py").write_text(module_source(rng, i, 0), encoding="utf-8")
    git(repo, "add", "-A", env=env)
    git(repo, "commit", "-q", "-m", "Base modules", env=env)
    git(repo, "checkout", "-q", "-b", "feature", env=env)
    for c in range(commits):
        for i in range(c, files, commits):
            (pkg / f"mod_{i:03d}.py").write_text(module_source(rng, i, 1), encoding="utf-8")
        usage = AI_USAGE.format(
            p=rng.randint(1, 4), r=rng.randint(5, 40), t=rng.randint(3, 30), i=rng.randint(1000, 30000),
            o=rng.randint(1000, 20000), cr=rng.randint(50_000, 900_000), cw=rng.randint(0, 40_000),
            c=rng.uniform(0.05, 1.5),
        )
        git(repo, "add", "-A", env=env)
        git(repo, "commit", "-q", "-m", f"Rework batch {c}\n\n{usage}", env=env)
    return repo


def timed(args: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args[:4])} failed: {proc.stderr.strip()[:500]}")
    return elapsed


def radon_work_in_process(repo: Path) -> tuple[float, int]:
    """Our radon work alone: every changed file at base and head, from blobs, no cache."""
    from commitledger.git import repo as gitrepo
    from commitledger.config import Config
    from commitledger.pr.signals.maintainability import BlobSource, MetricsCache, score_changes

    handle = gitrepo.open_repo(repo)
    base = gitrepo.resolve_commit(handle, "main")
    head = gitrepo.resolve_commit(handle, "feature")
    changes = gitrepo.diff_files(handle, gitrepo.merge_base(handle, base, head), head)
    source = BlobSource(
        size=lambda b: gitrepo.blob_size(handle, b),
        read=lambda b: gitrepo.blob_bytes(handle, b),
        max_bytes=Config().max_file_bytes,
    )
    start = time.perf_counter()
    scores = score_changes(changes, source, MetricsCache(None))
    return time.perf_counter() - start, sum((s.before is not None) + (s.after is not None) for s in scores)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--commits", type=int, default=30)
    parser.add_argument("--runs", type=int, default=3, help="repetitions; the median is reported")
    parser.add_argument("--keep", type=Path, help="build the repository here and keep it")
    options = parser.parse_args()

    root = options.keep or Path(tempfile.mkdtemp(prefix="commitledger-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        start = time.perf_counter()
        repo = build_repo(root, options.files, options.commits)
        print(f"generated {options.files} files over {options.commits} commits in {time.perf_counter() - start:.1f}s")
        cache = repo / ".git" / "commitledger" / "cache.sqlite"
        pr = [sys.executable, "-m", "commitledger", "pr", "--base", "main", "--head", "feature", "--format", "json",
              "--output", str(root / "result.json")]
        heads = sorted(str(p.relative_to(repo)) for p in (repo / "src" / "app").glob("*.py"))
        cold, warm, ours, tools = [], [], [], []
        # Interleaved, so a machine shared with other jobs loads each side alike.
        for _ in range(options.runs):
            for leftover in cache.parent.glob("cache.sqlite*"):
                leftover.unlink()
            cold.append(timed(pr, repo))
            warm.append(timed(pr, repo))
            elapsed, blobs = radon_work_in_process(repo)
            ours.append(elapsed)
            start = time.perf_counter()
            timed([sys.executable, "-m", "radon", "mi", "-s", *heads], repo)
            timed([sys.executable, "-m", "radon", "cc", "-s", *heads], repo)
            tools.append(time.perf_counter() - start)
        cold_s, warm_s, ours_s, tools_s = (statistics.median(x) for x in (cold, warm, ours, tools))
        ratios = sorted(o / t for o, t in zip(ours, tools))
        print(f"runs: {options.runs} (medians; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        print(f"commitledger pr, cold cache:   {cold_s:6.2f}s")
        print(f"commitledger pr, warm cache:   {warm_s:6.2f}s")
        print(f"its radon work ({blobs} blobs, base+head, no cache): {ours_s:6.2f}s")
        print(f"radon mi + radon cc CLI ({len(heads)} head files): {tools_s:6.2f}s")
        print(f"ratio radon work / radon CLI:  {statistics.median(ratios):6.2f}  (per run: "
              f"{', '.join(f'{r:.2f}' for r in ratios)}; target <= 1.0)")
        print(f"ratio cold pr / radon CLI:     {cold_s / tools_s:6.2f}")
    finally:
        if options.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
