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
Code, Grok Build CLI, ZCode, Hermes) also has logs, in its own format, under each case's HOME: half of each
case's bytes and files are Claude Code's, the other half is split evenly among
them (``bench/agent_logs.py``). The hook then runs every reader.

``--current-models``: today's models (opus-4-8 fast mode, sonnet-4-6 with an
opus advisor, haiku-5-5 above 100k, gpt-5.4/5.5 above 272k and at the
priority tier, web searches, 1-hour cache writes) in Claude Code and Codex
logs; prints per-model tokens and cost from the trailers next to
genai-prices priced request by request and ccusage, then the warm hook
against ``python -c pass`` (target <= 3).

The hook is timed as git runs it: ``commitledger-hook`` (what ``commitledger install`` and the
pre-commit hooks exec); ``--console-script`` times ``commitledger hook ...`` instead.

Run: python bench/hook.py [--scale 1.0] [--keep DIR] [--all-agents | --current-models] [--console-script]
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
# The console script pip installs; ``python -m`` adds runpy's import.
_SCRIPT = Path(sys.executable).with_name("commitledger")
COMMAND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "commitledger"]
# What git runs on every commit: the hook scripts ``commitledger install`` writes and the
# pre-commit hooks exec ``commitledger-hook`` (a plain script; the console-script wrapper
# imports re first). ``--console-script`` measures ``commitledger hook`` instead.
_HOOK = Path(sys.executable).with_name("commitledger-hook")
HOOK = [str(_HOOK)] if _HOOK.exists() else [*COMMAND, "hook"]
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
    subprocess.run([*HOOK, "prepare-commit-msg", str(msg), "message"], env=env, cwd=repo, check=True, capture_output=True)
    _git(repo, "commit", "-q", "--no-verify", "-F", str(msg))
    subprocess.run([*HOOK, "post-commit"], env=env, cwd=repo, check=True)


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
    subprocess.run([*HOOK, "prepare-commit-msg", str(msg), "message"], env=env, cwd=repo, check=True, capture_output=True)
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
    parser.add_argument("--console-script", action="store_true",
                        help="time 'commitledger hook ...' (the console script) instead of commitledger-hook")
    parser.add_argument("--current-models", action="store_true",
                        help="today's models and billing features: cost vs genai-prices and ccusage, warm hook")
    args = parser.parse_args()
    if args.console_script:
        HOOK[:] = [*COMMAND, "hook"]
    print(f"hook command: {' '.join(Path(HOOK[0]).name if i == 0 else a for i, a in enumerate(HOOK))}")
    if args.current_models:
        current_models(args)
        return
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
              + (" (half Claude Code, half 14 other agents)" if args.all_agents else ""))

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


# --- current-model profile (--current-models) ------------------------------------------------------
# Today's models and the billing features that change their price, in both agents' real formats; the
# truth is each generated request priced with genai-prices at its own timestamp, provider and variant.

_CLAUDE_MODELS = ("claude-opus-4-8", "claude-sonnet-4-6", "claude-haiku-5-5", "claude-opus-5", "claude-sonnet-5")


def _billed(model: str, when: float, inp: int, out: int, cr: int, cw5: int, cw1: int, provider: str,
            tier: str = "", searches: int = 0) -> dict[str, object]:
    return {"model": model, "when": when, "input": inp, "output": out, "cache_read": cr, "cw5": cw5, "cw1": cw1,
            "provider": provider, "tier": tier, "searches": searches}  # fmt: skip


def write_current_claude(path: Path, cwd: str, rng: random.Random, requests: int) -> list[dict[str, object]]:
    """Streamed rows per response; fast mode, web searches, 1h cache writes, advisor iterations, long prompts."""
    session = "7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
    out: list[str] = []
    billed: list[dict[str, object]] = []
    start = 1_795_600_000  # 2026-11-24
    for turn in range(requests):
        when = start + turn * 37
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(when))
        model = _CLAUDE_MODELS[turn % len(_CLAUDE_MODELS)]
        inp, cr = rng.randint(1, 400), rng.randint(5_000, 140_000 if model == "claude-haiku-5-5" else 260_000)
        cw1 = rng.choice((0, 0, rng.randint(100, 4000)))
        cw5 = rng.randint(0, 6000)
        final = rng.randint(50, 4000)
        usage: dict[str, object] = {
            "input_tokens": inp, "cache_creation_input_tokens": cw5 + cw1, "cache_read_input_tokens": cr,
            "cache_creation": {"ephemeral_5m_input_tokens": cw5, "ephemeral_1h_input_tokens": cw1},
            "service_tier": "standard",
        }  # fmt: skip
        tier = ""
        if model == "claude-opus-4-8" and turn % 3 == 0:
            usage["speed"] = "fast"
            tier = "speed=fast"
        searches = rng.choice((0, 0, 0, 2))
        if searches:
            usage["server_tool_use"] = {"web_search_requests": searches, "web_fetch_requests": 0}
        msg = f"msg_01CUR{turn:08d}"
        out.append(_dump(_row("user", session, cwd, 3 * turn, stamp,
                              message={"role": "user", "content": f"Step {turn}"})))
        for i, tokens in enumerate((1, 1, final)):
            streamed = {**usage, "output_tokens": tokens}
            if i == 2 and model == "claude-sonnet-4-6" and turn % 2 == 0:
                streamed["iterations"] = [
                    {"type": "message", "input_tokens": inp, "output_tokens": final // 2},
                    {"type": "advisor_message", "model": "claude-opus-4-8", "input_tokens": cr // 2,
                     "output_tokens": 300, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0},
                ]  # fmt: skip
                billed.append(_billed("claude-opus-4-8", when, cr // 2, 300, 0, 0, 0, "anthropic"))
            out.append(_dump(_row("assistant", session, cwd, 3 * turn + 1 + i, stamp, requestId=f"req_{msg}",
                                  message={"model": model, "id": msg, "type": "message", "role": "assistant",
                                           "content": [{"type": "text", "text": "ok"}], "stop_reason": None,
                                           "usage": streamed})))  # fmt: skip
        billed.append(_billed(model, when, inp, final, cr, cw5, cw1, "anthropic", tier, searches))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(out), encoding="utf-8")
    return billed


def write_current_codex(path: Path, cwd: str, rng: random.Random, requests: int) -> list[dict[str, object]]:
    """A rollout: turn_context per model switch (priority tier on some), last and total token usage."""
    rid = "019b2c3d-4e5f-7a6b-8c7d-9e0f1a2b3c4d"
    start = 1_795_610_000
    lines: list[str] = []

    def line(when: float, kind: str, payload: dict[str, object]) -> None:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(when))
        lines.append(json.dumps({"timestamp": stamp, "type": kind, "payload": payload}, separators=(",", ":")) + "\n")

    line(start, "session_meta", {"id": rid, "timestamp": "", "cwd": cwd, "originator": "codex_cli_rs",
                                 "cli_version": "0.140.0", "source": "cli", "model_provider": "openai"})
    total = [0, 0, 0, 0]
    billed: list[dict[str, object]] = []
    model, tier = "", ""
    for turn in range(requests):
        when = start + 10 + turn * 41
        if turn % 10 == 0:
            model = ("gpt-5.4", "gpt-5.5", "gpt-5.3-codex")[(turn // 10) % 3]
            tier = "priority" if (turn // 10) % 2 else "default"
            line(when - 1, "turn_context", {"cwd": cwd, "approval_policy": "on-request", "model": model,
                                            "service_tier": tier, "effort": "medium", "summary": "auto"})
        prompt = rng.randint(8_000, 330_000)
        cached = int(prompt * rng.uniform(0.5, 0.95))
        output = rng.randint(100, 6_000)
        last = [prompt, cached, output, output // 3]
        total = [a + b for a, b in zip(total, last)]
        names = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens")
        line(when, "event_msg", {"type": "token_count", "info": {
            "total_token_usage": dict(zip(names, total)), "last_token_usage": dict(zip(names, last)),
            "model_context_window": 400000}})  # fmt: skip
        billed.append(_billed(model, when, prompt - cached, output, cached, 0, 0, "openai",
                              "service_tier=priority" if tier == "priority" else ""))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(lines), encoding="utf-8")
    return billed


def genai_truth(billed: list[dict[str, object]]) -> dict[str, list[float]]:
    """Per model: [requests, input, output, cache_read, cache_write, cost] with genai-prices request by request."""
    from datetime import datetime, timezone

    import genai_prices

    out: dict[str, list[float]] = {}
    for b in billed:
        cw = int(b["cw5"]) + int(b["cw1"])  # type: ignore[call-overload]
        usage = genai_prices.Usage(
            input_tokens=int(b["input"]) + int(b["cache_read"]) + cw, output_tokens=int(b["output"]),  # type: ignore[call-overload]
            cache_read_tokens=int(b["cache_read"]), cache_write_tokens=cw, cache_write_1h_tokens=int(b["cw1"]),  # type: ignore[call-overload]
            **({"web_searches": int(b["searches"])} if b["searches"] else {}),  # type: ignore[call-overload]
        )
        tier = str(b["tier"])
        price = genai_prices.calc_price(
            usage, str(b["model"]), provider_id=str(b["provider"]),
            genai_request_timestamp=datetime.fromtimestamp(float(b["when"]), tz=timezone.utc),  # type: ignore[arg-type]
            price_context=dict([tier.split("=")]) if tier else None,
        )
        row = out.setdefault(str(b["model"]), [0, 0, 0, 0, 0, 0.0])
        for i, value in enumerate((1, b["input"], b["output"], b["cache_read"], cw, float(price.total_price))):
            row[i] += value  # type: ignore[operator]
    return out


def _trailer_models(message: str) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for raw in message.splitlines():
        if not raw.startswith("AI-Usage:"):
            continue
        fields = dict(part.split("=", 1) for part in raw.split()[1:] if "=" in part)
        row = out.setdefault(fields["model"], [0, 0, 0, 0, 0, 0.0])
        for i, key in enumerate(("requests", "input", "output", "cache_read", "cache_write", "cost_usd")):
            row[i] += float(fields.get(key, "nan")) if key == "cost_usd" else int(fields.get(key, 0))
    return out


def current_models(args: argparse.Namespace) -> None:
    """Costs and tokens of today's models against genai-prices request by request and ccusage; the warm hook."""
    base = args.keep or Path(tempfile.mkdtemp(prefix="commitledger-bench-current-"))
    base.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLAUDE_", "CODEX_", "GIT_", "COMMITLEDGER_"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(PYTHONPYCACHEPREFIX=str(base / "pycache"), HOME=str(base / "home"), GIT_CONFIG_NOSYSTEM="1",
               GIT_CONFIG_GLOBAL=os.devnull, CLAUDE_CONFIG_DIR=str(base / "claude"), CODEX_HOME=str(base / "codex"))
    (base / "home").mkdir(exist_ok=True)
    try:
        repo = base / "repo"
        repo.mkdir(exist_ok=True)
        setup_repo(repo)
        rng = random.Random(11)
        n = max(20, int(300 * args.scale))
        transcript = base / "claude" / "projects" / claude_folder(repo) / "7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f.jsonl"
        billed = write_current_claude(transcript, str(repo), rng, n)
        billed += write_current_codex(base / "codex" / "sessions" / "2026" / "11" / "24" /
                                      "rollout-2026-11-24T10-00-00-019b2c3d-4e5f-7a6b-8c7d-9e0f1a2b3c4d.jsonl",
                                      str(repo), rng, n)
        truth = genai_truth(billed)
        msg = repo / ".git" / "BENCH_MSG"
        msg.write_text("bench\n")
        subprocess.run([*HOOK, "prepare-commit-msg", str(msg), "message"], env=env, cwd=repo, check=True)
        ours = _trailer_models(msg.read_text(encoding="utf-8"))
        print(f"{len(billed)} billed requests (Claude Code + Codex), {len(truth)} models")
        print(f"{'model':24} {'requests':>8} {'tokens (ours = truth)':>22} {'ours $':>10} {'genai-prices $':>15} {'diff':>7}")
        sum_ours = sum_truth = 0.0
        for model in sorted(truth):
            t = truth[model]
            o = ours.get(model, [0, 0, 0, 0, 0, float("nan")])
            same = "yes" if [int(x) for x in o[:5]] == [int(x) for x in t[:5]] else f"NO {o[:5]} vs {t[:5]}"
            sum_ours += o[5]
            sum_truth += t[5]
            print(f"{model:24} {int(t[0]):8d} {same:>22} {o[5]:10.4f} {t[5]:15.4f} {100 * (o[5] - t[5]) / t[5]:6.2f}%")
        print(f"{'total':24} {'':8} {'':>22} {sum_ours:10.4f} {sum_truth:15.4f} {100 * (sum_ours - sum_truth) / sum_truth:6.2f}%"
              "   (target within 1%; trailers round each line to 4 places)")
        if CCUSAGE.exists():
            cc = 0.0
            for sub in ("claude", "codex"):
                proc = subprocess.run([str(CCUSAGE), sub, "daily", "--offline", "--json"], env=env, capture_output=True,
                                      text=True, check=False)
                if proc.returncode == 0:
                    cc += float(json.loads(proc.stdout)["totals"].get("totalCost") or json.loads(proc.stdout)["totals"].get("costUSD") or 0)
            print(f"ccusage 20.0.24 daily --offline (claude + codex): ${cc:.4f}")
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "--allow-empty", "--no-verify", "-F", str(msg))
        subprocess.run([*HOOK, "post-commit"], env=env, cwd=repo, check=True)
        hook: list[float] = []
        bare: list[float] = []
        hook_cpu: list[float] = []
        bare_cpu: list[float] = []

        def cpu() -> float:
            usage = resource.getrusage(resource.RUSAGE_CHILDREN)
            return usage.ru_utime + usage.ru_stime

        for i in range(args.runs):
            before = cpu()
            hook.append(warm_hook_once(repo, env, transcript, i))
            hook_cpu.append(cpu() - before)
            before = cpu()
            bare.append(python_pass_once(env))
            bare_cpu.append(cpu() - before)
        h, p = statistics.median(hook), statistics.median(bare)
        hc, pc = statistics.median(hook_cpu), statistics.median(bare_cpu)
        print(f"warm hook, one new request priced: {h * 1000:.1f} ms; python -c pass: {p * 1000:.1f} ms; "
              f"ratio {h / p:.2f} (target <= 3; genai-prices installed, read through the cached table)")
        print(f"  CPU time (user+sys, steadier on a busy machine): hook {hc * 1000:.1f} ms, "
              f"python -c pass {pc * 1000:.1f} ms, ratio {hc / pc:.2f}")
        print(f"  load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
