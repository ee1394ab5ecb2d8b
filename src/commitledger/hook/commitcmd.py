"""What the ``git commit`` running this hook was asked to do, and which of our hooks git will run.

git tells prepare-commit-msg only the message's source. Whether the commit
amends, skips the verification hooks (``-n``/``--no-verify``, which skips
commit-msg) or opens the editor on an ``-m`` message (``-e``) shows only in
the arguments of the ``git commit`` process, an ancestor of the hook
(``/proc`` on Linux). Elsewhere the answer is "unknown" and the hook keeps
git's defaults (no amend, hooks run, no editor for ``-m``).
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs the hook ~3 ms
if TYPE_CHECKING:  # pragma: no cover
    from typing import Mapping

    from commitledger.git.paths import GitDirs, RepoPaths

    AnyPaths = RepoPaths | GitDirs  # joined with os.path: the hook imports no pathlib

# Short options of ``git commit`` that take a value (the rest of the cluster, or the next word).
_SHORT_WITH_VALUE = frozenset("mFcCt")
# Long options whose value may be the next word.
_LONG_WITH_VALUE = (
    "--message", "--file", "--reuse-message", "--reedit-message", "--template", "--author", "--date",
    "--cleanup", "--fixup", "--squash", "--trailer", "--pathspec-from-file",
)  # fmt: skip


class CommitCommand:
    """The parsed flags of one ``git commit`` invocation."""

    __slots__ = ("amend", "no_verify", "edit", "no_edit")

    def __init__(self, amend: bool = False, no_verify: bool = False, edit: bool = False, no_edit: bool = False) -> None:
        self.amend = amend
        self.no_verify = no_verify
        self.edit = edit
        self.no_edit = no_edit


def _long(word: str, name: str, minimum: int) -> bool:
    """git accepts any unambiguous prefix of a long option."""
    return len(word) >= minimum and name.startswith(word)


def parse(words: list[str]) -> CommitCommand:
    """Flags from the words after ``commit``; a value (``-m "--amend"``) is never taken for a flag."""
    out = CommitCommand()
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        if word == "--":
            break
        if word.startswith("--"):
            name, eq, _ = word.partition("=")
            if _long(name, "--amend", 5):
                out.amend = True
            elif _long(name, "--no-verify", 6):
                out.no_verify = True
            elif name == "--verify":
                out.no_verify = False
            elif name == "--edit":
                out.edit, out.no_edit = True, False
            elif _long(name, "--no-edit", 6):
                out.edit, out.no_edit = False, True
            elif not eq and any(_long(name, opt, 5) for opt in _LONG_WITH_VALUE):
                i += 1
            continue
        if not word.startswith("-") or word == "-":
            continue
        for pos, ch in enumerate(word[1:], start=1):
            if ch == "n":
                out.no_verify = True
            elif ch == "e":
                out.edit, out.no_edit = True, False
            elif ch in _SHORT_WITH_VALUE:
                if pos == len(word) - 1:
                    i += 1  # the value is the next word
                break  # the rest of the cluster is the value
            elif ch in "uS":
                break  # optional value, attached
    return out


def commit_command(environ: Mapping[str, str]) -> CommitCommand | None:
    """The ``git commit`` ancestor's flags; None when no such process can be seen.

    ``COMMITLEDGER_AMEND=0|1`` overrides the amend answer (for systems without ``/proc``).
    """
    found = _from_proc()
    override = environ.get("COMMITLEDGER_AMEND")
    if override in ("0", "1"):
        found = found or CommitCommand()
        found.amend = override == "1"
    return found


def _from_proc() -> CommitCommand | None:
    pid = os.getppid()
    for _ in range(10):
        if pid <= 1:
            return None
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                argv = handle.read().split(b"\0")
            with open(f"/proc/{pid}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            return None
        words = [a.decode("utf-8", "replace") for a in argv if a]
        if words and os.path.basename(words[0]).startswith("git") and "commit" in words:
            return parse(words[words.index("commit") + 1 :])
        try:
            pid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        except (ValueError, IndexError):
            return None
    return None


def config_files(paths: AnyPaths, environ: Mapping[str, str]) -> list[str]:
    """The repository's and the user's git config files, as git would read them."""
    candidates = [os.path.join(paths.common_dir, "config"),
                  os.path.join(os.path.expanduser(environ.get("HOME", "~")), ".gitconfig")]  # fmt: skip
    if environ.get("GIT_CONFIG_GLOBAL"):
        candidates.append(environ["GIT_CONFIG_GLOBAL"])
    if environ.get("XDG_CONFIG_HOME"):
        candidates.append(os.path.join(environ["XDG_CONFIG_HOME"], "git", "config"))
    return candidates


def _mentions(paths: AnyPaths, environ: Mapping[str, str], word: str) -> bool:
    """Whether the repository's or the user's git config mentions ``word`` (asking git costs a process)."""
    for path in config_files(paths, environ):
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                if word in handle.read().lower():
                    return True
        except OSError:
            continue
    return False


def hooks_dir(paths: AnyPaths, environ: Mapping[str, str]) -> str:
    if not _mentions(paths, environ, "hookspath"):
        return os.path.join(paths.common_dir, "hooks")
    from commitledger.git.run import GitError, output

    try:
        found = output(paths.worktree, "rev-parse", "--git-path", "hooks").strip()
    except GitError:
        return os.path.join(paths.common_dir, "hooks")
    return os.path.join(paths.worktree, found)  # an absolute answer stays as it is


def hook_runs(paths: AnyPaths, environ: Mapping[str, str], name: str, pre_commit_id: str) -> bool:
    """Whether git will run our ``name`` hook: our script, a script calling us, or pre-commit listing our id."""
    path = os.path.join(hooks_dir(paths, environ), name)
    try:
        if not os.access(path, os.X_OK):
            return False
        with open(path, "rb") as handle:
            text = handle.read(65536).decode("utf-8", "replace")
    except OSError:
        return False
    if "commitledger" in text and f"hook {name}" in text:
        return True
    if "File generated by pre-commit" not in text:
        return False
    import re  # pre-commit's own start-up costs far more than this

    match = re.search(r"--config=(\S+?)\)?\s", text)
    config = match.group(1).strip("'\"") if match else ".pre-commit-config.yaml"
    try:
        with open(os.path.join(paths.worktree, config), encoding="utf-8", errors="replace") as handle:
            listing = handle.read()
    except OSError:
        return False
    return re.search(r"\bid:\s*['\"]?" + re.escape(pre_commit_id) + r"(?=['\"\s,}]|$)", listing) is not None
