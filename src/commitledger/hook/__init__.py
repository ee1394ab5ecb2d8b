"""The git hooks: prepare-commit-msg, commit-msg and post-commit, the usage window, pending records,
message edits, hook-file install and the hook's state files.

Everything here runs on every commit: import nothing heavy (no click, pydantic, pygit2, rich).
"""
