"""Benchmark the commit hook and ``commitledger usage`` on a generated Claude Code log tree.

The profile follows ccusage's benchmark: about 3,000 transcripts, 1.2 GB in
all, median file about 100 KB, one 80 MB file, rows in Claude Code's real
field layout (streamed assistant rows sharing a message id, prompts,
tool_use blocks and large tool_result rows), sessions spread over 10
repositories' working directories. ``--scale 0.05`` makes a quick run.

Printed: warm hook time with 10 MB vs the full tree (target ratio <= 1.2),
warm hook vs ``python -c pass`` on the same interpreter (target <= 4), cold
``commitledger usage`` next to ``ccusage daily --offline`` on the same logs
(target ratio <= 1.0), and peak RSS of each.

``--all-agents`` (issue 12): every other agent commitledger reads (Amp,
Droid, pi, Qwen Code, Kilo CLI, Goose, Kimi, OpenClaw, Cline, Roo Code, Kilo
Code) also has logs, in its own format, under each case's HOME: half of each
case's bytes and files are Claude Code's, the other half is split evenly among
them (``bench/agent_logs.py``). The hook then runs every reader.

Run: python bench/hook.py [--scale 1.0] [--keep DIR] [--all-agents]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CCUSAGE = ROOT / ".ci" / "node" / "node_modules" / ".bin" / "ccusage"
REPOS = 10
# The console script pip (and pre-commit) install, as git runs it; ``python -m`` adds runpy's import.
_SCRIPT = Path(sys.executable).with_name("commitledger")
COMMAND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "commitledger"]
SONNET = "claude-sonnet-4-5-20250929"
HAIKU = "claude-haiku-4-5-20251001"



def claude_folder(repo: Path) -> str:
    """The project folder Claude Code files a session under: every non-alphanumeric becomes '-'."""
    return "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in str(repo))

def _row(kind: str, session: str, cwd: str, n: int, stamp: str, **body: object) -> dict[str, object]:
    row: dict[str, object] = {
        "parentUuid": f"p-{session[:8]}-{n - 1}", "isSidechain": False, "userType": "external", "cwd": cwd,
        "sessionId": session, "version": "2.0.51", "gitBranch": "main", "type": kind,
    }  # fmt: skip
    row.update(body)
    row["uuid"] = f"u-{session[:8]}-{n}"
    row["timestamp"] = stamp
    return row


def _dump(row: dict[str, object]) -> str:
    return json.dumps(row, separators=(",", ":")) + "\n"


def write_transcript(path: Path, size: int, session: str, cwd: str, rng: random.Random, day: int) -> int:
    """Rows until ``size`` bytes: prompt, streamed answer (3 rows), tool result, repeated."""
    out: list[str] = []
    written = 0
    n = 0
    turn = 0
    while written < size:
        turn += 1
        minute = turn % 1440
        stamp = f"2026-{1 + day // 28:02d}-{1 + day % 28:02d}T{minute // 60:02d}:{minute % 60:02d}:{turn % 60:02d}.000Z"
        n += 1
        rows = [_row("user", session, cwd, n, stamp, message={"role": "user", "content": f"Do step {turn} of the plan"})]
        msg = f"msg_01{session[:8]}{turn:08d}"
        model = SONNET if turn % 4 else HAIKU
        usage = {"input_tokens": rng.randint(1, 50), "cache_creation_input_tokens": rng.randint(0, 5000),
                 "cache_read_input_tokens": rng.randint(1000, 90000), "output_tokens": 1,
                 "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
                 "service_tier": "standard"}  # fmt: skip
        usage["cache_creation"]["ephemeral_5m_input_tokens"] = usage["cache_creation_input_tokens"]  # type: ignore[index]
        blocks = [
            {"type": "thinking", "thinking": "x" * rng.randint(200, 3000), "signature": "sig"},
            {"type": "text", "text": "y" * rng.randint(100, 2000)},
            {"type": "tool_use", "id": f"toolu_{session[:8]}{turn:08d}", "name": "Edit", "input": {"file_path": "/x.py"}},
        ]
        for i, block in enumerate(blocks):
            n += 1
            u = dict(usage)
            u["output_tokens"] = 1 if i < 2 else rng.randint(50, 2000)
            rows.append(_row("assistant", session, cwd, n, stamp, requestId=f"req_{msg}", message={
                "model": model, "id": msg, "type": "message", "role": "assistant", "content": [block],
                "stop_reason": None if i < 2 else "tool_use", "stop_sequence": None, "usage": u}))  # fmt: skip
        n += 1
        result = "z" * rng.randint(2000, 40000)
        rows.append(_row("user", session, cwd, n, stamp, message={"role": "user", "content": [
            {"tool_use_id": f"toolu_{session[:8]}{turn:08d}", "type": "tool_result", "content": result}]},
            toolUseResult={"stdout": result[:100]}))  # fmt: skip
        text = "".join(_dump(r) for r in rows)
        out.append(text)
        written += len(text)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.writelines(out)
    return written


def generate(base: Path, total_bytes: int, files: int, big_bytes: int, seed: int = 7) -> tuple[Path, list[Path]]:
    """A ``CLAUDE_CONFIG_DIR`` with ``files`` transcripts of lognormal sizes (median ~100 KB) summing to ``total_bytes``."""
    rng = random.Random(seed)
    config = base / "claude"
    repos = [base / "repos" / f"repo-{i}" for i in range(REPOS)]
    for repo in repos:
        repo.mkdir(parents=True, exist_ok=True)
    rest = max(0, total_bytes - big_bytes)
    count = max(1, files - 1)
    sigma = 1.6
    raw = [rng.lognormvariate(math.log(100_000), sigma) for _ in range(count)]
    factor = rest / sum(raw) if raw else 1.0
    sizes = [max(2000, int(s * factor)) for s in raw]
    sizes.append(big_bytes)
    for i, size in enumerate(sizes):
        repo = repos[i % REPOS]
        project = config / "projects" / claude_folder(repo)
        session = f"{rng.getrandbits(128):032x}"
        session = f"{session[:8]}-{session[8:12]}-4{session[13:16]}-8{session[17:20]}-{session[20:32]}"
        write_transcript(project / f"{session}.jsonl", size, session, str(repo), rng, i % 300)
    return config, repos


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def _time(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, int]:
    """Wall time (s) and peak RSS (KB) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr[-500:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, max(peak, before)


def _rss(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, int]:
    """Time and peak RSS through /usr/bin/time when present (children's max RSS is cumulative otherwise)."""
    if shutil.which("time") or Path("/usr/bin/time").exists():
        start = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], env=env, cwd=cwd, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr[-500:]}")
        return elapsed, int(proc.stderr.strip().splitlines()[-1])
    return _time(cmd, env, cwd)


def prepare_warm(repo: Path, env: dict[str, str]) -> None:
    """Cold pass and one commit cycle: the index is built and the window drained."""
    msg = repo / ".git" / "BENCH_MSG"
    (repo / "f.txt").write_text("x\n")
    _git(repo, "add", "f.txt")
    msg.write_text("bench\n")
    subprocess.run([*COMMAND, "hook", "prepare-commit-msg", str(msg), "message"], env=env, cwd=repo, check=True, capture_output=True)
    _git(repo, "commit", "-q", "--no-verify", "-F", str(msg))
    subprocess.run([*COMMAND, "hook", "post-commit"], env=env, cwd=repo, check=True)


def warm_hook_once(repo: Path, env: dict[str, str], transcript: Path, i: int | None) -> float:
    """One prepare-commit-msg run, after one new request was appended to a transcript (unless ``i`` is None)."""
    msg = repo / ".git" / "BENCH_MSG"
    if i is not None:
        row = json.loads(transcript.read_text(encoding="utf-8").splitlines()[1])
        row["message"]["id"] = f"msg_bench_{i}"
        row["uuid"] = f"bench-{i}"
        with open(transcript, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(row, separators=(",", ":")) + "\n")
    msg.write_text("bench\n")
    start = time.perf_counter()
    subprocess.run([*COMMAND, "hook", "prepare-commit-msg", str(msg), "message"], env=env, cwd=repo, check=True, capture_output=True)
    return time.perf_counter() - start


def python_pass_once(env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)
    return time.perf_counter() - start


def all_agents_profile(base: Path, full: int, files: int, repos: list[Path], small_repos: list[Path]) -> dict[str, Path]:
    """A HOME per case holding every other agent's logs: half the case's bytes, split evenly among the agents."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import agent_logs

    homes = {"full": base / "big" / "home", "10MB": base / "small" / "home"}
    per_agent = len(agent_logs.WRITERS)
    agent_logs.generate(homes["full"], repos, full // 2 // per_agent, max(1, files // 2 // per_agent))
    agent_logs.generate(homes["10MB"], small_repos, 10_000_000 // 2 // per_agent, 1)
    return homes


def setup_repo(repo: Path) -> None:
    if not (repo / ".git").exists():
        _git(repo, "init", "-q", "-b", "main")
        _git(repo, "config", "user.name", "bench")
        _git(repo, "config", "user.email", "bench@example.com")
    # The first commit sets no floor after the fact: the window starts with all of this repo's usage.


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full profile (1.0 = 1.2 GB, 3,000 files)")
    parser.add_argument("--runs", type=int, default=15, help="runs per warm timing (median reported)")
    parser.add_argument("--keep", type=Path, default=None, help="generate into (and keep) this directory")
    parser.add_argument("--all-agents", action="store_true", help="every agent's logs present, not only Claude Code's")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="commitledger-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLAUDE_", "CODEX_", "GIT_"))}
    # Installed packages run from compiled bytecode; keep ours out of the source tree.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(base / "pycache")
    env["HOME"] = str(base / "home")
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    env["GIT_CONFIG_GLOBAL"] = os.devnull
    (base / "home").mkdir(exist_ok=True)
    try:
        full = int(1.2e9 * args.scale)
        files = max(10, int(3000 * args.scale))
        started = time.perf_counter()
        share = 0.5 if args.all_agents else 1.0
        big_config, repos = generate(base / "big", int(full * share), int(files * share), int(80e6 * args.scale * share))
        small_config, small_repos = generate(base / "small", int(10_000_000 * share), int(25 * share), int(1_000_000 * share))
        homes = all_agents_profile(base, full, files, repos, small_repos) if args.all_agents else {}
        print(f"generated {full / 1e6:.0f} MB in {files} files and 10 MB in 25 files in {time.perf_counter() - started:.1f}s"
              + (" (half Claude Code, half 11 other agents)" if args.all_agents else ""))

        # Compile every module once (PYTHONPYCACHEPREFIX is empty at first), as an install would have.
        subprocess.run([sys.executable, "-m", "commitledger", "usage", "--json"], env={**env, "CLAUDE_CONFIG_DIR": str(small_config)},
                       cwd=small_repos[1], capture_output=True)
        subprocess.run([sys.executable, "-c", "import commitledger.hook.run, commitledger.hook.pending, commitledger.capture.index, "
                        "commitledger.hook.window, commitledger.hook.message, commitledger.git.lite, commitledger.ledger.pricing, "
                        "commitledger.capture.claude_code, commitledger.capture.codex, commitledger.capture.gemini, "
                        "commitledger.capture.opencode, commitledger.capture.copilot, commitledger.capture.aider, "
                        + ", ".join(f"commitledger.capture.{m}" for m in ("amp", "droid", "pi", "qwen", "kilo", "goose", "kimi",
                                    "openclaw", "cline", "roo_code", "kilo_code", "vscode_tasks", "seen"))],
                       env=env, check=True)
        results: dict[str, float] = {}
        cases = {}
        for label, config, repo_list in (("10MB", small_config, small_repos), ("full", big_config, repos)):
            repo = repo_list[0]
            setup_repo(repo)
            run_env = {**env, "CLAUDE_CONFIG_DIR": str(config)}
            if label in homes:
                run_env["HOME"] = str(homes[label])
            transcript = next((config / "projects" / claude_folder(repo)).glob("*.jsonl"))
            if label == "full":
                shutil.rmtree(repo / ".git" / "commitledger", ignore_errors=True)
                cold, cold_rss = _rss([*COMMAND, "usage", "--json"], run_env, repo)
                results["cold_usage"] = cold
                results["cold_usage_rss"] = cold_rss
            prepare_warm(repo, run_env)
            cases[label] = (repo, run_env, transcript)
        # Interleaved, so load from other processes on the machine hits all three alike.
        timings: dict[str, list[float]] = {"10MB": [], "full": [], "pass": [], "10MB_idle": [], "full_idle": []}
        for i in range(args.runs):
            for label, (repo, run_env, transcript) in cases.items():
                timings[label].append(warm_hook_once(repo, run_env, transcript, i))
                timings[label + "_idle"].append(warm_hook_once(repo, run_env, transcript, None))
            timings["pass"].append(python_pass_once(env))
        results["warm_10MB"] = statistics.median(timings["10MB"])
        results["warm_full"] = statistics.median(timings["full"])
        results["python_pass"] = statistics.median(timings["pass"])
        results["idle_10MB"] = statistics.median(timings["10MB_idle"])
        results["idle_full"] = statistics.median(timings["full_idle"])

        print("warm hook = prepare-commit-msg with the index built, one new request appended before each run")
        print(f"warm hook, 10 MB of logs:      {results['warm_10MB'] * 1000:8.1f} ms")
        print(f"warm hook, {full / 1e6:.0f} MB of logs: {results['warm_full'] * 1000:8.1f} ms   "
              f"ratio {results['warm_full'] / results['warm_10MB']:.2f} (target <= 1.2)")
        print(f"  same, nothing new to read:   {results['idle_10MB'] * 1000:8.1f} ms vs {results['idle_full'] * 1000:.1f} ms   "
              f"ratio {results['idle_full'] / results['idle_10MB']:.2f}")
        print(f"python -c pass:                {results['python_pass'] * 1000:8.1f} ms   "
              f"hook/python {results['warm_full'] / results['python_pass']:.2f} (target <= {3 if args.all_agents else 4})")
        print(f"cold 'commitledger usage':     {results['cold_usage']:8.2f} s    peak RSS {results['cold_usage_rss'] / 1024:.0f} MB")
        if CCUSAGE.exists():
            cc_env = {**env, "CLAUDE_CONFIG_DIR": str(big_config)}
            cc, cc_rss = _rss([str(CCUSAGE), "daily", "--offline", "--json"], cc_env, base)
            print(f"ccusage daily --offline:       {cc:8.2f} s    peak RSS {cc_rss / 1024:.0f} MB   "
                  f"commitledger/ccusage {results['cold_usage'] / cc:.2f} (target <= 1.0)")
        else:
            print(f"ccusage not installed at {CCUSAGE} (npm install --prefix .ci/node ccusage@20.0.24 "
                  "@ccusage/ccusage-linux-x64@20.0.24): no comparison")
        print(f"peak RSS of this benchmark's children: {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MB")
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
