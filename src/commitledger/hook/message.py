"""Put trailers into a commit message file the way ``git interpret-trailers`` would.

Pure text functions, so they are testable without git and cost no process.
The rules followed (git's ``trailer.c``):

- everything from the scissors line (``# ------------------------ >8
  ------------------------``, written by ``commit -v`` and
  ``--cleanup=scissors``) on is not part of the message;
- comment lines and blank lines at the end of the message are not part of
  it either: trailers go after the last line of real text, before them;
- the last paragraph is a trailer block when it is not the subject
  paragraph and its lines are all trailers (``Token: value``, with
  continuation lines starting with whitespace), or at least a quarter of
  them are and one is git-generated (``Signed-off-by:``, ``(cherry picked
  from commit ...)``): then the new lines join it; otherwise a blank line
  separates them from the text.
"""

from __future__ import annotations

from commitledger.ledger.trailers import is_our_trailer as _ours

SCISSORS = "------------------------ >8 ------------------------"
_GIT_GENERATED = ("Signed-off-by: ", "(cherry picked from commit ")
# String tests, not regular expressions: ``import re`` costs the hook more than its work.
_TOKEN_FIRST = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_TOKEN_CHARS = _TOKEN_FIRST | {"-"}


def _is_trailer_line(line: str) -> bool:
    """``[A-Za-z0-9][A-Za-z0-9-]*[ \\t]*:`` at the start of ``line``: a ``Token: value`` trailer."""
    if not line or line[0] not in _TOKEN_FIRST:
        return False
    size = len(line)
    i = 1
    while i < size and line[i] in _TOKEN_CHARS:
        i += 1
    while i < size and line[i] in " \t":
        i += 1
    return i < size and line[i] == ":"


def _message_end(lines: list[str], comment: str) -> int:
    """Index of the scissors line, or the number of lines."""
    mark = f"{comment} {SCISSORS}"
    for i, line in enumerate(lines):
        if line.rstrip("\r\n") == mark:
            return i
    return len(lines)


def _is_comment(line: str, comment: str) -> bool:
    return line.startswith(comment)


def _last_text_line(lines: list[str], end: int, comment: str, skip_ours: bool = False) -> int | None:
    for i in range(end - 1, -1, -1):
        line = lines[i]
        if _is_comment(line, comment) or not line.strip():
            continue
        if skip_ours and _ours(line):
            continue
        return i
    return None


def body_is_empty(message: str, comment: str = "#", *, ignore_ours: bool = False) -> bool:
    """True when the message has no text but comments (and, if asked, our own trailers)."""
    lines = message.splitlines(keepends=True)
    return _last_text_line(lines, _message_end(lines, comment), comment, ignore_ours) is None


def _is_trailer_block(paragraph: list[str], comment: str) -> bool:
    trailers = non_trailers = 0
    generated = False
    for line in paragraph:
        if _is_comment(line, comment):
            continue
        if line[:1] in (" ", "\t"):
            continue  # continuation of the previous line
        if _is_trailer_line(line):
            trailers += 1
            generated = generated or line.startswith(_GIT_GENERATED)
        elif line.startswith("(cherry picked from commit "):
            trailers += 1
            generated = True
        else:
            non_trailers += 1
    if trailers == 0:
        return False
    return non_trailers == 0 or (generated and trailers * 3 >= non_trailers)


def insert_trailers(message: str, trailers: list[str], comment: str = "#") -> str:
    """``message`` with ``trailers`` added to its trailer block (a new one when it has none).

    A message with no text yet (an editor is about to open) gets an empty
    subject line, a blank line and the trailers above its comment lines, so
    the user types the subject on the first line as usual.
    """
    if not trailers:
        return message
    lines = message.splitlines(keepends=True)
    added = [t + "\n" for t in trailers]
    end = _message_end(lines, comment)
    last = _last_text_line(lines, end, comment)
    if last is None:
        return "\n\n" + "".join(added) + message
    if not lines[last].endswith("\n"):
        lines[last] += "\n"
    start = last
    while start > 0 and lines[start - 1].strip():
        start -= 1
    block = start > 0 and _is_trailer_block(lines[start : last + 1], comment)
    if not block:
        added.insert(0, "\n")
    return "".join(lines[: last + 1] + added + lines[last + 1 :])


def strip_ours(message: str, comment: str = "#") -> str:
    """Remove ``AI-Usage:``/``Assisted-by:`` lines from the message part (not below the scissors),
    and the blank line they leave at the end of the text."""
    lines = message.splitlines(keepends=True)
    end = _message_end(lines, comment)
    kept = [line for line in lines[:end] if not _ours(line)]
    # Trailing blank lines left behind before the comments/scissors are dropped.
    last = _last_text_line(kept, len(kept), comment)
    if last is not None:
        tail = [line for line in kept[last + 1 :] if line.strip()]
        kept = kept[: last + 1] + tail
    else:
        kept = [line for line in kept if line.strip()]
    return "".join(kept + lines[end:])


def cleaned(message: str, comment: str = "#") -> str:
    """The message as git's default cleanup leaves it (``strbuf_stripspace`` with comments):
    no scissors part, no comment lines, no trailing whitespace, no leading, trailing or repeated blank lines."""
    lines = message.splitlines()
    lines = lines[: _message_end(lines, comment)]
    out: list[str] = []
    for line in lines:
        if _is_comment(line, comment):
            continue
        line = line.rstrip()
        if not line and (not out or not out[-1]):
            continue
        out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)
