"""The one exception type users see.

Anything raised as ``CommitledgerError`` is printed by the CLI as a single
line (``commitledger: <message>``) with a non-zero exit, never a traceback.
Messages must not carry prompt text, secrets or token values.
"""

from __future__ import annotations


class CommitledgerError(Exception):
    """A problem the user can act on: bad input, missing history, refused request."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code
