"""Commit text made safe for a terminal and for a spreadsheet: the one place for both rules.

A commit subject, a branch name or a file path is written by whoever made
the commit. Printed raw, ``ESC [ 2 J`` clears the reader's screen, an OSC 8
sequence turns text into a hidden link, OSC 52 writes their clipboard, and
C1 controls (U+0080-U+009F) do the same on terminals that read 8-bit
controls; bidi overrides reorder what is shown. ``terminal_text`` drops all
of them (tab and newline only where the caller keeps them).

In a CSV file a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a
tab or carriage return) is a formula to Excel, LibreOffice and Google
Sheets (``=HYPERLINK(...)``, DDE). ``csv_cell`` applies OWASP's rule: such
a cell gets a leading ``'``, which spreadsheets show as text; the csv
module's quoting then takes care of separators and quotes inside.
"""

from __future__ import annotations

import re

# C0 controls but tab and newline, DEL, C1 controls, and the bidi controls
# (embeddings, overrides, isolates, marks) that reorder what a reader sees.
_UNSAFE = "\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029"
_UNSAFE_KEEP_LAYOUT = re.compile(f"[{_UNSAFE}]")
_UNSAFE_ONE_LINE = re.compile(f"[{_UNSAFE}\t\n]")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def terminal_text(value: object, *, one_line: bool = True) -> str:
    """``value`` without control sequences; ``one_line`` also turns tabs and newlines into spaces.

    The escape character itself is removed (not only whole sequences), so
    what remains of a sequence is inert printable text.
    """
    text = "" if value is None else str(value)
    if one_line:
        return _UNSAFE_ONE_LINE.sub(lambda m: " " if m.group(0) in "\t\n" else "", text)
    return _UNSAFE_KEEP_LAYOUT.sub("", text)


def csv_cell(value: object) -> object:
    """A CSV cell no spreadsheet runs as a formula; numbers and None pass unchanged."""
    if not isinstance(value, str):
        return value
    text = terminal_text(value)
    if value.startswith(FORMULA_START) or text.startswith(FORMULA_START):
        return "'" + text
    return text
