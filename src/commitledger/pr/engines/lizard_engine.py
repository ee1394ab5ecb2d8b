"""Languages bca has no grammar for (Swift, Scala, ...): cyclomatic complexity from lizard.

lizard reads functions and counts their decisions, but computes no
maintainability index and reports no syntax errors, so a file measured
here has ``mi`` ``None`` and functions with their cyclomatic complexity
only; the comment says why the MI column is empty.
"""

from __future__ import annotations

import hashlib

import lizard

from commitledger.pr.engines.metrics import BlobMetrics, FunctionMetric

NAME = "lizard"
VERSION = f"lizard{lizard.version}"
NOTE = "lizard gives cyclomatic complexity only, no maintainability index"


def measure_source(data: bytes, filename: str) -> BlobMetrics:
    """Functions of one blob; ``filename`` picks lizard's reader by its extension."""
    text = data.decode("utf-8", errors="replace")
    try:
        info = lizard.analyze_file.analyze_source_code(filename, text)
    except (RecursionError, MemoryError) as exc:
        return BlobMetrics(reason=f"lizard failed ({exc.__class__.__name__})")
    lines = data.split(b"\n")
    functions = []
    for fn in info.function_list:
        body = b"\n".join(lines[fn.start_line - 1 : fn.end_line])
        digest = hashlib.blake2b(body, digest_size=6).hexdigest()
        name = str(fn.name).replace("::", ".")
        functions.append(FunctionMetric(name, int(fn.cyclomatic_complexity), digest, "function", None, int(fn.start_line)))
    functions.sort(key=lambda f: (f.name, f.line))
    return BlobMetrics(mi=None, cc_total=sum(f.cc for f in functions), functions=tuple(functions))
