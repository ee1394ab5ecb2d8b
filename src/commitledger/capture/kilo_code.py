"""Kilo Code (VS Code extension ``kilocode.kilo-code``): task folders under the editor's ``globalStorage``.

The format and where it lives are described in ``capture.vscode_tasks``.
"""

from __future__ import annotations

from commitledger.capture.vscode_tasks import TaskFolderReader

AGENT = "kilo-code"


class KiloCodeReader(TaskFolderReader):
    agent = AGENT
    extension = "kilocode.kilo-code"
