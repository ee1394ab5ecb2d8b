"""Benchmark of ``commitledger pr`` on a generated change over 30 commits.

Two shapes:

- default: 200 Python files. Prints the command's wall time cold (empty
  cache) and warm (cache filled), and its radon work (both sides of every
  changed file, from the blobs, cache off) against running the ``radon mi``
  and ``radon cc`` command-line tools on the head files alone.
- ``--mixed``: 300 files, a quarter each TypeScript, Go, Java and Python.
  Prints ``commitledger pr`` cold and warm against the reference tools on
  the head files alone, in the same run: ``bca metrics`` on the TypeScript,
  Go and Java files plus ``radon mi`` and ``radon cc`` on the Python ones.

The target is a ratio of at most 1.0 against the tools: the analysis
measures base and head (twice the files the tools see), so it must win by
parsing each blob once, batching bca and using every core.

    /tmp/venv/bin/python bench/pr.py [--mixed] [--files N] [--commits 30] [--keep DIR]
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


def ts_source(rng: random.Random, index: int, version: int) -> str:
    """A TypeScript module: an interface, a class with branchy methods, exported arrow functions."""
    parts = [f"// Module {index}, version {version}.", 'import { readFile } from "fs";', "",
             f"export interface Options{index} {{\n  limit: number;\n  strict?: boolean;\n}}", ""]
    parts.append(f"export class Service{index} {{")
    for j in range(rng.randint(4, 9) + version):
        body = [f"  method{j}(items: number[], opts: Options{index}): number {{", "    let total = 0;"]
        for k in range(rng.randint(2, 5 + version)):
            kind = rng.choice(("if", "for", "while", "try", "plain"))
            if kind == "if":
                body += [f"    if (total > {k} && opts.limit) {{", f"      total += {k};",
                         "    } else if (opts.strict) {", "      total -= 1;", "    }"]
            elif kind == "for":
                body += ["    for (const item of items) {", f"      if (item % {k + 2} === 0) {{ total += item; }}", "    }"]
            elif kind == "while":
                body += [f"    while (total < {k * 3}) {{ total++; }}"]
            elif kind == "try":
                body += ["    try {", f"      total = Math.floor(total / ({k} + 1));", "    } catch (e) {",
                         "      total = 0;", "    }"]
            else:
                body += [f"    // step {k}", f"    total = total * {k + 1} + items.length;"]
        body += ["    return total;", "  }"]
        parts.append("\n".join(body))
    parts.append("}")
    for j in range(rng.randint(2, 5)):
        parts.append(f"export const helper{j} = (xs: number[]): number => xs.filter((x) => x > {j}).length;")
    return "\n".join(parts) + "\n"


def go_source(rng: random.Random, index: int, version: int) -> str:
    parts = [f"// Package mod{index} is generated for the benchmark (version {version}).", f"package mod{index}", "",
             'import "strings"', "", f"type Service{index} struct {{\n\tLimit int\n\tStrict bool\n}}", ""]
    for j in range(rng.randint(5, 10) + version):
        recv = f"func (s *Service{index}) Method{j}(items []int, name string) int {{" if j % 2 else \
            f"func Func{j}(items []int, name string) int {{"
        body = [recv, "\ttotal := 0"]
        for k in range(rng.randint(2, 5 + version)):
            kind = rng.choice(("if", "for", "switch", "plain"))
            if kind == "if":
                body += [f"\tif total > {k} && strings.HasPrefix(name, \"x\") {{", f"\t\ttotal += {k}",
                         "\t} else if len(items) > 3 {", "\t\ttotal--", "\t}"]
            elif kind == "for":
                body += ["\tfor _, item := range items {", f"\t\tif item%{k + 2} == 0 {{", "\t\t\ttotal += item",
                         "\t\t}", "\t}"]
            elif kind == "switch":
                body += ["\tswitch {", f"\tcase total > {k * 5}:", "\t\ttotal /= 2", "\tdefault:", "\t\ttotal++", "\t}"]
            else:
                body += [f"\t// step {k}", f"\ttotal = total*{k + 1} + len(items)"]
        body += ["\treturn total", "}", ""]
        parts.append("\n".join(body))
    return "\n".join(parts)


def java_source(rng: random.Random, index: int, version: int) -> str:
    parts = [f"package com.example.mod{index};", "", "import java.util.List;", "",
             f"/** Service {index}, version {version}. */", f"public class Service{index} {{",
             "    private final int limit;", "", f"    public Service{index}(int limit) {{", "        this.limit = limit;",
             "    }", ""]
    for j in range(rng.randint(5, 10) + version):
        body = [f"    public int method{j}(List<Integer> items, boolean strict) {{", "        int total = 0;"]
        for k in range(rng.randint(2, 5 + version)):
            kind = rng.choice(("if", "for", "try", "plain"))
            if kind == "if":
                body += [f"        if (total > {k} && limit > 0) {{", f"            total += {k};",
                         "        } else if (strict) {", "            total -= 1;", "        }"]
            elif kind == "for":
                body += ["        for (int item : items) {", f"            if (item % {k + 2} == 0) {{",
                         "                total += item;", "            }", "        }"]
            elif kind == "try":
                body += ["        try {", f"            total = total / ({k} + limit);",
                         "        } catch (ArithmeticException e) {", "            total = 0;", "        }"]
            else:
                body += [f"        // step {k}", f"        total = total * {k + 1} + items.size();"]
        body += ["        return total;", "    }", ""]
        parts.append("\n".join(body))
    parts.append("}")
    return "\n".join(parts) + "\n"


# (extension, directory, generator) of the mixed change, in rotation
MIXED = (
    (".ts", "web/src", ts_source),
    (".go", "svc", go_source),
    (".java", "java/src/main/java/com/example", java_source),
    (".py", "src/app", module_source),
)


def mixed_path(index: int) -> tuple[str, object]:
    ext, folder, generator = MIXED[index % len(MIXED)]
    name = f"Service{index:03d}{ext}" if ext == ".java" else f"mod_{index:03d}{ext}"
    return f"{folder}/{name}", generator


def build_repo(root: Path, files: int, commits: int, mixed: bool = False) -> Path:
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

    def write(i: int, version: int) -> None:
        if mixed:
            rel, generator = mixed_path(i)
        else:
            rel, generator = f"src/app/mod_{i:03d}.py", module_source
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(generator(rng, i, version), encoding="utf-8")  # type: ignore[operator]

    for i in range(files):
        write(i, 0)
    git(repo, "add", "-A", env=env)
    git(repo, "commit", "-q", "-m", "Base modules", env=env)
    git(repo, "checkout", "-q", "-b", "feature", env=env)
    for c in range(commits):
        for i in range(c, files, commits):
            write(i, 1)
        usage = AI_USAGE.format(
            p=rng.randint(1, 4), r=rng.randint(5, 40), t=rng.randint(3, 30), i=rng.randint(1000, 30000),
            o=rng.randint(1000, 20000), cr=rng.randint(50_000, 900_000), cw=rng.randint(0, 40_000),
            c=rng.uniform(0.05, 1.5),
        )
        git(repo, "add", "-A", env=env)
        git(repo, "commit", "-q", "-m", f"Rework batch {c}\n\n{usage}", env=env)
    return repo


def children_cpu() -> float:
    """CPU seconds (user + system) of every finished child process so far, their own children included."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


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
    parser.add_argument("--files", type=int, help="changed files (default 200, or 300 with --mixed)")
    parser.add_argument("--mixed", action="store_true", help="TypeScript, Go, Java and Python instead of Python alone")
    parser.add_argument("--commits", type=int, default=30)
    parser.add_argument("--runs", type=int, default=3, help="repetitions; the median is reported")
    parser.add_argument("--keep", type=Path, help="build the repository here and keep it")
    options = parser.parse_args()
    if options.files is None:
        options.files = 300 if options.mixed else 200

    root = options.keep or Path(tempfile.mkdtemp(prefix="commitledger-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        start = time.perf_counter()
        repo = build_repo(root, options.files, options.commits, options.mixed)
        print(f"generated {options.files} files over {options.commits} commits in {time.perf_counter() - start:.1f}s")
        cache = repo / ".git" / "commitledger" / "cache.sqlite"
        pr = [sys.executable, "-m", "commitledger", "pr", "--base", "main", "--head", "feature", "--format", "json",
              "--output", str(root / "result.json")]
        if options.mixed:
            mixed_main(repo, root, pr, cache, options.runs)
            return
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


def mixed_main(repo: Path, root: Path, pr: list[str], cache: Path, runs: int) -> None:
    """The mixed change: ``commitledger pr`` cold and warm against bca + radon on the head files, interleaved."""
    import json

    from commitledger.pr.engines import bca_engine

    binary = bca_engine.find_binary()
    if binary is None:
        raise SystemExit("bca is not installed (pip install big-code-analysis-cli)")
    files = sorted(str(p.relative_to(repo)) for p in repo.rglob("*") if p.is_file() and ".git" not in p.parts)
    python = [f for f in files if f.endswith(".py")]
    others = [f for f in files if f.endswith((".ts", ".go", ".java"))]
    listing = root / "bca-paths.txt"
    listing.write_text("\n".join(others) + "\n", encoding="utf-8")
    bca = [binary.path, "metrics", "--no-config", "-O", "json", "-o", str(root / "bca.json"), "--paths-from", str(listing)]
    cold, warm, tools, cold_cpu, tools_cpu = [], [], [], [], []
    for _ in range(runs):
        for leftover in cache.parent.glob("cache.sqlite*"):
            leftover.unlink()
        cpu = children_cpu()
        cold.append(timed(pr, repo))
        cold_cpu.append(children_cpu() - cpu)
        warm.append(timed(pr, repo))
        start, cpu = time.perf_counter(), children_cpu()
        timed(bca, repo)
        timed([sys.executable, "-m", "radon", "mi", "-s", *python], repo)
        timed([sys.executable, "-m", "radon", "cc", "-s", *python], repo)
        tools.append(time.perf_counter() - start)
        tools_cpu.append(children_cpu() - cpu)
    result = json.loads((root / "result.json").read_text(encoding="utf-8"))
    entries = result["maintainability"]["files"]
    by_language: dict[str, int] = {}
    for entry in entries:
        by_language[entry.get("language") or "?"] = by_language.get(entry.get("language") or "?", 0) + 1
    unscored = sum(1 for e in entries if e["status"] == "unscored")
    cold_s, warm_s, tools_s = (statistics.median(x) for x in (cold, warm, tools))
    ratios = sorted(c / t for c, t in zip(cold, tools))
    print(f"runs: {runs} (medians; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores); bca {binary.version}")
    print(f"changed files: {len(entries)} ({', '.join(f'{k} {v}' for k, v in sorted(by_language.items()))}); "
          f"unscored {unscored}; signals {len(result['signals'])}")
    print(f"commitledger pr, cold cache (base + head):  {cold_s:6.2f}s")
    print(f"commitledger pr, warm cache:                {warm_s:6.2f}s")
    print(f"bca metrics ({len(others)}) + radon mi + radon cc ({len(python)}), head files: {tools_s:6.2f}s")
    print(f"ratio cold pr / tools:  {statistics.median(ratios):6.2f}  (per run: {', '.join(f'{r:.2f}' for r in ratios)};"
          " target <= 1.0)")
    print(f"ratio warm pr / tools:  {warm_s / tools_s:6.2f}")
    # On a shared machine wall time follows the load; CPU time is what each side costs.
    cold_c, tools_c = statistics.median(cold_cpu), statistics.median(tools_cpu)
    print(f"CPU seconds (user+sys, children included): pr cold {cold_c:.2f}, tools {tools_c:.2f}, "
          f"ratio {cold_c / tools_c:.2f}")


if __name__ == "__main__":
    main()
