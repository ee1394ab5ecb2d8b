"""Test outcome from JUnit XML files (pytest, jest-junit, Maven Surefire, go-junit-report).

XML from CI is untrusted input: it is parsed by defusedxml, which refuses
entity expansion (billion laughs) and external entities, and only then
handed to junitparser. Counts come from the ``<testcase>`` elements
themselves, not from the suites' ``tests=``/``failures=`` attributes, which
some reporters leave out or get wrong. A file that cannot be read is a
warning; no file at all means "not reported" (``None``), never zero.
Real reports nest suites a few levels deep; a file nested deeper than
``MAX_DEPTH`` is refused before junitparser walks it (its walk recurses,
and thousands of nested suites would end the run with a RecursionError).
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as safe_et
from defusedxml import DefusedXmlException
from junitparser import Error, Failure, JUnitXml, JUnitXmlError, Skipped, TestCase

from commitledger.ledger.models import Tests

MAX_FAILURES_LISTED = 10
MAX_JUNIT_BYTES = 200 * 1024 * 1024
MAX_DEPTH = 100  # elements deep; go-junit-report, Jest and Surefire stay under 10


class _TooDeep(ValueError):
    pass


def _parse_shallow(source: str) -> Any:
    """defusedxml's parse (expat builds the tree without recursing), then an iterative depth check."""
    tree = safe_et.parse(source)
    stack = [(tree.getroot(), 1)]
    while stack:
        element, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _TooDeep(f"elements nested more than {MAX_DEPTH} deep")
        stack.extend((child, depth + 1) for child in element)
    return tree


@dataclass(slots=True)
class Counts:
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    failures: list[str] = field(default_factory=list)

    def add_case(self, case: TestCase) -> None:
        results = case.result
        if any(isinstance(r, Error) for r in results):
            self.errors += 1
            self._note(case)
        elif any(isinstance(r, Failure) for r in results):
            self.failed += 1
            self._note(case)
        elif any(isinstance(r, Skipped) for r in results):
            self.skipped += 1
        else:
            self.passed += 1

    def _note(self, case: TestCase) -> None:
        if len(self.failures) < MAX_FAILURES_LISTED:
            self.failures.append(case_id(case))


def case_id(case: TestCase) -> str:
    """``classname::name`` (pytest's dotted module path, Surefire's class, Go's package)."""
    name = case.name or "?"
    classname = case.classname
    return f"{classname}::{name}" if classname else name


def expand_globs(patterns: list[str] | tuple[str, ...], cwd: Path) -> list[Path]:
    """Files matched by any pattern (``**`` recursive), each once, in a stable order."""
    found: dict[str, Path] = {}
    for pattern in patterns:
        full = pattern if os.path.isabs(pattern) else str(cwd / pattern)
        for match in sorted(glob.glob(full, recursive=True)):
            path = Path(match)
            if path.is_file():
                found.setdefault(str(path.resolve()), path)
    return list(found.values())


def read_file(path: Path, counts: Counts) -> None:
    """Add one file's cases to ``counts``; raises ValueError with a reason when unreadable."""
    try:
        if path.stat().st_size > MAX_JUNIT_BYTES:
            raise ValueError(f"larger than {MAX_JUNIT_BYTES // (1024 * 1024)} MB")
        xml = JUnitXml.fromfile(str(path), parse_func=_parse_shallow)
        # A suite iterates its own cases and those of nested suites (go-junit-report, some Jest setups).
        for suite in xml:
            for case in suite:
                counts.add_case(case)
    except _TooDeep as exc:
        raise ValueError(str(exc)) from None
    except RecursionError:  # belt and braces: the depth check should have refused it
        raise ValueError("suites nested too deeply") from None
    except DefusedXmlException as exc:
        raise ValueError(f"refused unsafe XML ({exc.__class__.__name__})") from None
    except ParseError as exc:
        raise ValueError(f"not well-formed XML ({exc})") from None
    except JUnitXmlError as exc:
        raise ValueError(f"not JUnit XML ({exc})") from None
    except OSError as exc:
        raise ValueError(f"cannot read ({exc.strerror or exc})") from None


def read_junit(patterns: list[str] | tuple[str, ...], cwd: Path) -> tuple[Tests | None, list[str]]:
    """Tests from the files the globs match, and warnings for the files that could not be read."""
    if not patterns:
        return None, []
    paths = expand_globs(patterns, cwd)
    warnings: list[str] = []
    if not paths:
        return None, [f"no JUnit file matched {', '.join(patterns)}: tests not reported"]
    counts = Counts()
    read = 0
    for path in paths:
        attempt = Counts()
        try:
            read_file(path, attempt)
        except ValueError as exc:
            warnings.append(f"JUnit file {_shown(path, cwd)} skipped: {exc}")
            continue
        read += 1
        counts.passed += attempt.passed
        counts.failed += attempt.failed
        counts.errors += attempt.errors
        counts.skipped += attempt.skipped
        counts.failures.extend(attempt.failures[: MAX_FAILURES_LISTED - len(counts.failures)])
    if read == 0:
        return None, warnings
    tests = Tests(
        passed=counts.passed,
        failed=counts.failed,
        errors=counts.errors,
        skipped=counts.skipped,
        failures=counts.failures,
        files=read,
        warnings=warnings,
    )
    return tests, warnings


def _shown(path: Path, cwd: Path) -> str:
    try:
        return str(path.resolve().relative_to(cwd.resolve()))
    except ValueError:
        return path.name
