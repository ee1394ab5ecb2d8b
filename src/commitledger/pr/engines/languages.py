"""Which language a changed file is written in, and which engine measures it.

Decided by the file's extension alone, so base and head of a file are
measured alike and no blob is read to decide. ``bca_ext`` is the extension
the blob gets in bca's temporary directory: bca chooses its grammar by
extension and does not know every spelling (``.mts``, ``.cts``), so those
are written under the one it knows.

Languages with no engine are listed too, so a change in them shows up as
unscored with that reason instead of vanishing from the comment.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Literal

Engine = Literal["radon", "bca", "lizard", "none"]


@dataclass(frozen=True, slots=True)
class Language:
    name: str  # the key of ``languages`` and of per-language thresholds
    label: str  # what the comment shows
    engine: Engine
    bca_ext: str | None = None  # what bca reads a spelling it does not know as (``.mts`` -> ``.ts``)


_TABLE: tuple[tuple[Language, tuple[str, ...]], ...] = (
    (Language("python", "Python", "radon", ".py"), (".py", ".pyi")),
    (Language("typescript", "TypeScript", "bca", ".ts"), (".ts", ".tsx", ".mts", ".cts")),
    (Language("javascript", "JavaScript", "bca", ".js"), (".js", ".mjs", ".cjs", ".jsx")),
    (Language("go", "Go", "bca", ".go"), (".go",)),
    (Language("rust", "Rust", "bca", ".rs"), (".rs",)),
    (Language("java", "Java", "bca", ".java"), (".java",)),
    (Language("kotlin", "Kotlin", "bca", ".kt"), (".kt", ".kts")),
    (Language("csharp", "C#", "bca", ".cs"), (".cs",)),
    (Language("c", "C", "bca", ".c"), (".c", ".h")),
    (Language("cpp", "C++", "bca", ".cpp"), (".cpp", ".cc", ".cxx", ".hpp", ".hh", ".hxx")),
    (Language("objc", "Objective-C", "bca", ".m"), (".m", ".mm")),
    (Language("php", "PHP", "bca", ".php"), (".php",)),
    (Language("ruby", "Ruby", "bca", ".rb"), (".rb", ".rake")),
    (Language("lua", "Lua", "bca", ".lua"), (".lua",)),
    (Language("perl", "Perl", "bca", ".pl"), (".pl", ".pm")),
    (Language("groovy", "Groovy", "bca", ".groovy"), (".groovy", ".gradle")),
    (Language("elixir", "Elixir", "bca", ".ex"), (".ex", ".exs")),
    (Language("bash", "Bash", "bca", ".sh"), (".sh", ".bash")),
    (Language("tcl", "Tcl", "bca", ".tcl"), (".tcl",)),
    # bca has no grammar for these; lizard counts their cyclomatic complexity (no MI).
    (Language("swift", "Swift", "lizard"), (".swift",)),
    (Language("scala", "Scala", "lizard"), (".scala", ".sc")),
    (Language("zig", "Zig", "lizard"), (".zig",)),
    (Language("solidity", "Solidity", "lizard"), (".sol",)),
    (Language("erlang", "Erlang", "lizard"), (".erl", ".hrl")),
    (Language("fortran", "Fortran", "lizard"), (".f90", ".f95", ".f03", ".f08")),
    (Language("vue", "Vue", "lizard"), (".vue",)),
    # Code, but no engine here measures it.
    (Language("dart", "Dart", "none"), (".dart",)),
    (Language("haskell", "Haskell", "none"), (".hs",)),
    (Language("ocaml", "OCaml", "none"), (".ml", ".mli")),
    (Language("fsharp", "F#", "none"), (".fs", ".fsx")),
    (Language("clojure", "Clojure", "none"), (".clj", ".cljs", ".cljc")),
    (Language("julia", "Julia", "none"), (".jl",)),
)

_BY_EXT: dict[str, Language] = {ext: lang for lang, exts in _TABLE for ext in exts}
BY_NAME: dict[str, Language] = {lang.name: lang for lang, _ in _TABLE}
# What ``languages`` may name: every language some engine measures.
SUPPORTED: tuple[str, ...] = tuple(lang.name for lang, _ in _TABLE if lang.engine != "none")


# Spellings bca recognises as they are; any other extension of a bca language is written as ``bca_ext``.
_BCA_KNOWN = frozenset(
    ".py .ts .tsx .js .mjs .cjs .jsx .go .rs .java .kt .kts .cs .c .h .cpp .cc .cxx .hpp .hh .hxx .m .mm .php"
    " .rb .rake .lua .pl .pm .groovy .gradle .ex .exs .sh .bash .tcl".split()
)


def bca_suffix(path: str, language: Language) -> str:
    """The extension a blob of ``path`` keeps in bca's temporary directory, so bca picks the right grammar."""
    suffix = PurePosixPath(path).suffix.lower()
    return suffix if suffix in _BCA_KNOWN else (language.bca_ext or suffix)


def language_of(path: str | None) -> Language | None:
    """The language of a path by its extension; ``None`` for anything that is not code we know."""
    if not path:
        return None
    suffix = PurePosixPath(path).suffix
    return _BY_EXT.get(suffix) or _BY_EXT.get(suffix.lower())
