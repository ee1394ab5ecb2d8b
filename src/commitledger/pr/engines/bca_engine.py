"""Every language bca parses, through the ``bca`` binary of big-code-analysis-cli.

Blobs are measured in batches: each is written to one temporary directory
under a name that keeps its extension (bca picks the grammar by it), and
one ``bca metrics`` process measures them all on every core, while one
``bca find -t ERROR`` process beside it lists the syntax errors tree-sitter
recovered from. A file with an ``ERROR`` node is unscored: the metrics of
a half-understood file would be noise. Both are started by ``start`` and
collected by ``Batch.results``, so the caller can run radon meanwhile.

The figures are bca's own: the file's ``mi.visual_studio`` (0-100),
``cyclomatic.sum``, and per function its own ``cyclomatic.value`` and
``cognitive.value`` (closures are listed as functions of their own).
``--no-config`` keeps a ``bca.toml`` in the repository from changing them.

The binary is the one the ``big-code-analysis-cli`` distribution
installed, found through its file list (the ``bca`` name on the package
index belongs to another project, so a ``bca`` on PATH is not trusted).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from commitledger.pr.engines.metrics import BlobMetrics, FunctionMetric

NAME = "bca"
DISTRIBUTION = "big-code-analysis-cli"
# Spaces that hold functions rather than being one: their names qualify what is inside.
_CONTAINERS = frozenset({"class", "struct", "impl", "trait", "interface", "namespace", "enum", "module", "object"})
_SKIPPED = re.compile(r"^warning: skipping (?P<why>.+?): (?P<path>.+)$")
_GENERATED = re.compile(r"^note: skipped \(generated\): (?P<path>.+)$")
_BANNER = re.compile(r"^== (?P<path>.+) ==$")
_FROM = re.compile(r"from \((?P<line>\d+), (?P<col>\d+)\)")
_TIMEOUT_S = 600


@dataclass(frozen=True, slots=True)
class Binary:
    path: str
    version: str


@cache
def find_binary() -> Binary | None:
    """The ``bca`` that big-code-analysis-cli installed, with its version; ``None`` if it is not installed."""
    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None
    for entry in dist.files or ():
        if entry.name in ("bca", "bca.exe"):
            located = Path(str(dist.locate_file(entry))).resolve()
            if located.is_file():
                return Binary(str(located), dist.version)
    found = shutil.which("bca")
    return Binary(found, dist.version) if found else None


def version_tag() -> str:
    binary = find_binary()
    return f"bca{binary.version}" if binary else "bca-missing"


def _digest(lines: list[bytes], start: int, end: int) -> str:
    return hashlib.blake2b(b"\n".join(lines[start - 1 : end]), digest_size=6).hexdigest()


def _number(metrics: dict[str, Any], family: str, key: str) -> float | None:
    value = (metrics.get(family) or {}).get(key)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _functions(space: dict[str, Any], lines: list[bytes]) -> list[FunctionMetric]:
    """Functions of a file's space tree, named by the spaces around them (``Cart.total``)."""
    out: list[FunctionMetric] = []

    def walk(node: dict[str, Any], prefix: str, parent_kind: str) -> None:
        for child in node.get("spaces") or ():
            name = str(child.get("name") or "<anonymous>")
            kind = str(child.get("kind") or "")
            qualified = f"{prefix}.{name}" if prefix else name
            if kind == "function":
                metrics = child.get("metrics") or {}
                start, end = int(child.get("start_line") or 0), int(child.get("end_line") or 0)
                cc = _number(metrics, "cyclomatic", "value")
                cognitive = _number(metrics, "cognitive", "value")
                out.append(
                    FunctionMetric(
                        qualified,
                        int(cc) if cc is not None else 1,
                        _digest(lines, start, end),
                        "method" if parent_kind in _CONTAINERS else "function",
                        int(cognitive) if cognitive is not None else None,
                        start,
                    )
                )
            walk(child, qualified, kind)

    walk(space, "", "unit")
    out.sort(key=lambda f: (f.name, f.line))
    return out


def file_metrics(space: dict[str, Any], data: bytes) -> BlobMetrics:
    """One file's entry of ``bca metrics -O json`` as our record (MI rounded as radon's are)."""
    metrics = space.get("metrics") or {}
    mi = _number(metrics, "mi", "visual_studio")
    code_lines = _number(metrics, "loc", "ploc")
    if code_lines == 0:
        mi = None  # no code at all: bca's formula gives 0.0, which would read as "unmaintainable"
    cc = _number(metrics, "cyclomatic", "sum")
    return BlobMetrics(
        mi=round(mi, 2) if mi is not None else None,
        cc_total=int(cc) if cc is not None else None,
        functions=tuple(_functions(space, data.split(b"\n"))),
    )


def parse_errors(text: str) -> dict[str, int]:
    """``bca find -t ERROR`` output: path -> the first line with a syntax error."""
    out: dict[str, int] = {}
    current: str | None = None
    for line in text.splitlines():
        banner = _BANNER.match(line)
        if banner:
            current = banner.group("path")
            continue
        if current is None or "{ERROR" not in line:
            continue
        where = _FROM.search(line)
        if where:
            line_no = int(where.group("line"))
            out[current] = min(out.get(current, line_no), line_no)
    return out


def parse_skips(text: str) -> dict[str, str]:
    """bca's stderr: path -> why it skipped the file (generated, empty, an encoding it does not read)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        generated = _GENERATED.match(line)
        if generated:
            out[generated.group("path")] = "generated (bca found a generated-code marker)"
            continue
        skipped = _SKIPPED.match(line)
        if skipped:
            out.setdefault(skipped.group("path"), f"bca skipped it: {skipped.group('why')}")
    return out


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "no message")[:200]


@dataclass(slots=True)
class Batch:
    """A started batch: the temporary files, the two processes, and what each key is."""

    tmp: tempfile.TemporaryDirectory[str] | None
    paths: dict[str, str] = field(default_factory=dict)  # key -> temporary path
    data: dict[str, bytes] = field(default_factory=dict)
    metrics_proc: subprocess.Popen[bytes] | None = None
    errors_proc: subprocess.Popen[bytes] | None = None
    output: str = ""
    failure: str | None = None

    def results(self) -> dict[str, BlobMetrics]:
        """Wait for bca and read its answers: key -> metrics (or the reason there are none)."""
        try:
            return self._collect()
        finally:
            if self.tmp is not None:
                self.tmp.cleanup()

    def _collect(self) -> dict[str, BlobMetrics]:
        if not self.paths:
            return {}
        if self.failure is not None:
            return {key: BlobMetrics(reason=self.failure) for key in self.paths}
        assert self.metrics_proc is not None
        try:
            _, err = self.metrics_proc.communicate(timeout=_TIMEOUT_S)
            found_errors = b""
            if self.errors_proc is not None:
                found_errors, _ = self.errors_proc.communicate(timeout=_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            for proc in (self.metrics_proc, self.errors_proc):
                if proc is not None:
                    proc.kill()
                    proc.communicate()
            return {key: BlobMetrics(reason=f"bca took longer than {_TIMEOUT_S}s") for key in self.paths}
        stderr = err.decode("utf-8", "replace")
        if self.metrics_proc.returncode != 0:
            why = f"bca failed: {_first_line(stderr)}"
            return {key: BlobMetrics(reason=why) for key in self.paths}
        try:
            entries = json.loads(Path(self.output).read_bytes())
        except (OSError, ValueError) as exc:
            why = f"bca output unreadable ({exc.__class__.__name__})"
            return {key: BlobMetrics(reason=why) for key in self.paths}
        by_path = {str(e.get("name")): e for e in entries if isinstance(e, dict)}
        skips = parse_skips(stderr)
        errors = parse_errors(found_errors.decode("utf-8", "replace"))
        out: dict[str, BlobMetrics] = {}
        for key, path in self.paths.items():
            if path in skips:
                out[key] = BlobMetrics(reason=skips[path])
            elif path in errors:
                out[key] = BlobMetrics(reason=f"bca could not parse it: syntax error at line {errors[path]}")
            elif path in by_path:
                out[key] = file_metrics(by_path[path], self.data[key])
            else:
                out[key] = BlobMetrics(reason="bca gave no metrics for it")
        return out


FULL = "mi,cyclomatic,cognitive,loc"
COGNITIVE = "cognitive"  # what Python needs from bca: radon gives the rest


def _scratch() -> str | None:
    """Where the batch's files go: memory (``/dev/shm``) when there is one, else the usual temporary place."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


def start(
    items: list[tuple[str, str, bytes]], check_syntax: set[str] | frozenset[str] = frozenset(), metrics: str = FULL
) -> Batch:
    """Write (key, extension, bytes) to a temporary directory and start bca on all of them.

    ``check_syntax`` names the keys whose syntax errors make them unscored
    (Python's are radon's business: bca only adds cognitive complexity,
    and ``metrics=COGNITIVE`` asks for nothing else).
    """
    if not items:
        return Batch(None)
    binary = find_binary()
    if binary is None:
        batch = Batch(None, failure=f"bca is not installed (pip install {DISTRIBUTION})")
        batch.paths = {key: "" for key, _, _ in items}
        return batch
    tmp = tempfile.TemporaryDirectory(prefix="commitledger-bca-", dir=_scratch())
    root = Path(tmp.name)
    batch = Batch(tmp, output=str(root / "metrics.json"))
    listed: list[str] = []
    to_check: list[str] = []
    for index, (key, suffix, data) in enumerate(items):
        path = str(root / "src" / f"{index:06d}{suffix}")
        batch.paths[key] = path
        batch.data[key] = data
        listed.append(path)
        if key in check_syntax:
            to_check.append(path)
    (root / "src").mkdir()
    for key, path in batch.paths.items():
        Path(path).write_bytes(batch.data[key])
    (root / "all.txt").write_text("\n".join(listed) + "\n", encoding="utf-8")
    common = ["--no-config", "--no-ignore"]
    try:
        batch.metrics_proc = subprocess.Popen(
            [binary.path, "-w", "--report-skipped", "metrics", *common, "-O", "json", "-o", batch.output,
             "--metrics", metrics, "--paths-from", str(root / "all.txt")],
            cwd=root, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        if to_check:
            (root / "check.txt").write_text("\n".join(to_check) + "\n", encoding="utf-8")
            batch.errors_proc = subprocess.Popen(
                [binary.path, "find", *common, "--color", "never", "-t", "ERROR", "--paths-from", str(root / "check.txt")],
                cwd=root, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            )
    except OSError as exc:
        batch.failure = f"bca could not be started ({exc.strerror or exc})"
    return batch
