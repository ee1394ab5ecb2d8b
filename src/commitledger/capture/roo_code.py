"""Roo Code (VS Code extension ``rooveterinaryinc.roo-cline``): task folders under the editor's ``globalStorage``.

The format and where it lives are described in ``capture.vscode_tasks``.
"""

from __future__ import annotations

from commitledger.capture.vscode_tasks import TaskFolderReader

AGENT = "roo-code"


class RooCodeReader(TaskFolderReader):
    agent = AGENT
    extension = "rooveterinaryinc.roo-cline"
