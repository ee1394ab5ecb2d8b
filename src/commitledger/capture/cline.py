"""Cline (VS Code extension ``saoudrizwan.claude-dev``): task folders under the editor's ``globalStorage``.

The format and where it lives are described in ``capture.vscode_tasks``.
"""

from __future__ import annotations

from commitledger.capture.vscode_tasks import TaskFolderReader

AGENT = "cline"


class ClineReader(TaskFolderReader):
    agent = AGENT
    extension = "saoudrizwan.claude-dev"
