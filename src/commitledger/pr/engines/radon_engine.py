"""Python through radon: maintainability index and cyclomatic complexity, as ``radon mi`` / ``radon cc``.

Each blob is parsed once: one ``ast.parse`` feeds both the complexity
visitor and the Halstead visitor, where ``radon mi`` and ``radon cc``
would each parse the file again. The figures are radon's own (checked
equal to its command-line tools), so Python users keep the numbers they
know. A file radon cannot take (a Python 2 file, a SyntaxError, nesting
deep enough for a RecursionError, an undecodable encoding) is unscored
with its reason; the run goes on.
"""

from __future__ import annotations

import ast
import hashlib
import io
import re
import sys
import tokenize
from dataclasses import dataclass

import radon
from radon.complexity import add_inner_blocks
from radon.metrics import h_visit_ast, mi_compute
from radon.raw import Module, analyze
from radon.visitors import ComplexityVisitor, Function

from commitledger.pr.engines.metrics import BlobMetrics, FunctionMetric

NAME = "radon"
# What a blob's metrics depend on besides its bytes: the grammar of the running
# Python (a PEP 695 file is a SyntaxError on 3.11 only) and radon's formulas.
VERSION = f"py{sys.version_info[0]}.{sys.version_info[1]}:radon{radon.__version__}"
# Below this many uncached blobs, starting worker processes costs more than it saves.
POOL_THRESHOLD = 24


def _decode(data: bytes) -> str:
    """Source text by Python's own rules (PEP 263 cookie, BOM); raises on a bad encoding."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    text = data.decode(encoding)
    return text[1:] if text.startswith("\ufeff") else text


# --- raw metrics (LOC, LLOC, comments, docstrings) in one regex pass ---
#
# ``radon.raw.analyze`` tokenizes every stripped line again on its own, and a
# long multi-line statement again for each line it spans: the slowest part of
# ``radon mi``, quadratic on long literals. ``raw_metrics`` computes the same
# ``Module`` numbers from one scan that only tells apart what those numbers
# depend on (strings, comments, brackets, ``;``, ``:``, line ends), grouped into
# the chunks radon builds (a logical line at bracket depth 0). Checked equal to
# radon on the standard library and site-packages; where ``str.splitlines``
# would split lines differently (form feeds, ``\r``, Unicode separators) or the
# scanner meets anything it does not expect, it returns ``None`` and radon's
# own ``analyze`` runs instead.

_SCAN = re.compile(
    r"""(?P<str>(?:[rRbBuUfF]{1,2})?(?:\"\"\"(?:\\.|[^\\])*?\"\"\"|'''(?:\\.|[^\\])*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'))"""
    r"""|(?P<com>\#[^\n]*)"""
    r"""|(?P<nl>\n)"""
    r"""|(?P<cont>\\\n)"""
    r"""|(?P<walrus>:=)"""
    r"""|(?P<op>[()\[\]{};:])"""
    r"""|(?P<ws>[ \t]+)"""
    r"""|(?P<word>\w+)"""
    r"""|(?P<sym>[^\w\s'"\#()\[\]{};:\\]+|\\)""",
    re.S,
)
_STR, _COM, _NL, _OP, _OTHER, _END = range(1, 7)
_SPLITLINES_EXTRA = ("\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")
_Token = tuple[int, str, int, int]  # kind, text, first row, last row


def _logical_lines(tokens: list[_Token]) -> int:
    """``radon.raw._logical``: ``if x: y`` is two logical lines, ``a; b`` two, a comment none."""
    subs: list[list[_Token]] = [[]]
    for tok in tokens:
        if tok[0] == _OP and tok[1] == ";":
            subs.append([])
        else:
            subs[-1].append(tok)
    total = 0
    for sub in subs:
        kept = [t for t in sub if t[0] not in (_COM, _NL)]
        colon = next((i for i in range(len(kept) - 1, -1, -1) if kept[i][0] == _OP and kept[i][1] == ":"), None)
        if colon is not None:
            total += 2 - (colon == len(kept) - 2)
        elif any(t[0] not in (_NL, _END) for t in kept):
            total += 1
    return total


@dataclass(slots=True)
class _RawCounts:
    lloc: int = 0
    comments: int = 0
    single: int = 0
    multi: int = 0
    blank: int = 0
    sloc: int = 0

    def add_chunk(self, chunk: list[_Token], lines: list[str]) -> None:
        """One of radon's chunks: a comment line, a docstring, or code (with its blank lines)."""
        tokens = chunk + [(_END, "", 0, 0)]
        self.comments += sum(1 for t in tokens if t[0] == _COM)
        first = tokens[0]
        alone = all(t[0] in (_NL, _END) for t in tokens[1:])
        if alone and (first[0] == _COM or (first[0] == _STR and first[2] == first[3])):
            self.single += 1
        elif alone and first[0] == _STR:
            self.multi += sum(1 for line in lines if line)
            self.blank += sum(1 for line in lines if not line)
        else:
            code = sum(1 for line in lines if line)
            self.sloc += code
            self.blank += len(lines) - code
        self.lloc += _logical_lines(tokens)


def raw_metrics(text: str) -> Module | None:
    """``radon.raw.analyze(text)`` in one pass; ``None`` where it could differ."""
    if any(ch in text for ch in _SPLITLINES_EXTRA):
        return None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    counts = _RawCounts()
    chunk: list[_Token] = []
    depth = pos = 0
    row = start_row = 1
    for match in _SCAN.finditer(text):
        if match.start() != pos:
            return None
        pos = match.end()
        kind, value = match.lastgroup, match.group()
        if kind == "ws":
            continue
        if kind == "nl":
            if depth == 0:
                counts.add_chunk(chunk + [(_NL, value, row, row)], [x.strip() for x in lines[start_row - 1 : row]])
                chunk, start_row = [], row + 1
            row += 1
        elif kind == "cont":
            row += 1
        elif kind == "str":
            chunk.append((_STR, value, row, row + value.count("\n")))
            row += value.count("\n")
        elif kind == "com":
            chunk.append((_COM, value, row, row))
        elif kind == "op":
            depth += (value in "([{") - (value in ")]}")
            chunk.append((_OP, value, row, row))
        else:
            chunk.append((_OTHER, value, row, row))
    if pos != len(text):
        return None
    if chunk:
        counts.add_chunk(chunk + [(_NL, "", row, row)], [x.strip() for x in lines[start_row - 1 : row]])
        start_row = row + 1
    if start_row <= len(lines):
        return None
    loc = counts.sloc + counts.blank + counts.multi + counts.single
    return Module(loc, counts.lloc, counts.sloc, counts.comments, counts.multi, counts.blank, counts.single)


def _functions(visitor: ComplexityVisitor, lines: list[str]) -> tuple[FunctionMetric, ...]:
    """Functions and methods (closures included) with a digest of their text.

    The digest tells a changed function from an untouched one, so the
    complexity signal names only functions this change added or edited.
    """
    out: list[FunctionMetric] = []
    for block in add_inner_blocks(visitor.blocks):
        if not isinstance(block, Function):
            continue
        body = "\n".join(lines[block.lineno - 1 : block.endline])
        digest = hashlib.blake2b(body.encode("utf-8", "surrogatepass"), digest_size=6).hexdigest()
        kind = "method" if block.is_method else "function"
        out.append(FunctionMetric(block.fullname, int(block.complexity), digest, kind, None, int(block.lineno)))
    out.sort(key=lambda f: f.name)
    return tuple(out)


def measure_source(data: bytes) -> BlobMetrics:
    """MI (comments and docstrings counted, as ``radon mi`` does) and CC from one parse."""
    try:
        text = _decode(data)
    except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
        return BlobMetrics(reason=f"bad encoding ({exc.__class__.__name__})")
    try:
        tree = ast.parse(text)
        visitor = ComplexityVisitor.from_ast(tree)
        volume = h_visit_ast(tree).total.volume
        raw = raw_metrics(text) or analyze(text)
        functions = _functions(visitor, text.splitlines())
    except SyntaxError as exc:
        where = f" at line {exc.lineno}" if exc.lineno else ""
        return BlobMetrics(reason=f"{exc.__class__.__name__}{where}")
    except RecursionError:
        return BlobMetrics(reason="RecursionError (nested too deeply)")
    except MemoryError:
        return BlobMetrics(reason="MemoryError")
    except (ValueError, TypeError, tokenize.TokenError) as exc:  # null bytes, tokenizer limits
        return BlobMetrics(reason=f"{exc.__class__.__name__}")
    comments = raw.comments + raw.multi
    comment_pct = comments / float(raw.sloc) * 100 if raw.sloc else 0
    total_cc = visitor.total_complexity
    mi = mi_compute(volume, total_cc, raw.lloc, comment_pct)
    return BlobMetrics(mi=round(mi, 2), cc_total=int(total_cc), functions=functions)
