"""The one way commitledger runs git.

Every git process goes through ``run`` (a command whose output is read at
once) or ``stream`` (a long listing read as it comes). Both check git's exit
status and turn a failure into ``GitError``: one line, carrying git's first
stderr line, so that a failure is reported and never read as an empty answer
(an unreadable object once became thousands of changes of 0 lines).

A caller that expects a non-zero status as an answer (``rev-parse --verify
--quiet`` on an unknown name, ``merge-base --is-ancestor``) names those codes
in ``ok``; a caller that must not fail (the hook, which lets the commit
through) catches ``GitError``. ``subprocess`` is imported on first use: the
hook's fast path never needs it.
"""

from __future__ import annotations

import os
from pathlib import Path

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs the hook ~3 ms
if TYPE_CHECKING:  # pragma: no cover
    from typing import IO, Any, Iterator, Sequence

from commitledger.errors import CommitledgerError

if TYPE_CHECKING:  # pragma: no cover
    import subprocess

# Fixed output whatever the user's config says: no pager, no colour, raw paths, no signature checks.
_FIXED = ("-c", "core.quotePath=false", "-c", "log.showSignature=false", "-c", "color.ui=false",
          "-c", "diff.renames=true")


class GitError(CommitledgerError):
    """git exited with a status the caller did not expect (or could not be started)."""

    def __init__(self, message: str, returncode: int | None = None, detail: str = "") -> None:
        super().__init__(message)
        self.returncode = returncode
        self.detail = detail


def git_base(repo: Path | str | None) -> list[str]:
    """``git -C repo`` with the fixed output settings, for commands whose output is parsed."""
    head = ["git"] if repo is None else ["git", "-C", str(repo)]
    return [*head, *_FIXED]


def git_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for git processes whose output we stream.

    ``GIT_FLUSH=0``: writing to a pipe, git otherwise flushes after every
    commit, a system call each and a wake-up of the reading thread; on the
    200k-commit benchmark that cost git log 0.3 s and diff-tree 1.6 s.
    """
    env = {**os.environ, "GIT_FLUSH": "0"}
    if extra:
        env.update(extra)
    return env


def first_line(stderr: str | bytes | None) -> str:
    """git's first meaningful stderr line (hints and blank lines skipped), for a one-line error."""
    if not stderr:
        return ""
    text = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else stderr
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("hint:"):
            return line[:300]
    return ""


def failure(args: Sequence[str], returncode: int | None, stderr: str | bytes | None) -> GitError:
    """The error for a git command that failed: ``git <verb> failed: <first stderr line>``."""
    verb = next((a for a in args if not a.startswith("-") and "=" not in a), "command")
    detail = first_line(stderr) or (f"exit status {returncode}" if returncode is not None else "")
    return GitError(f"git {verb} failed: {detail}", returncode, detail)


def _verb_args(cmd: Sequence[str]) -> list[str]:
    """The arguments after ``git [-C dir] [-c k=v]...``, to name the verb in errors."""
    rest = list(cmd[1:])
    while rest and rest[0] in ("-C", "-c"):
        rest = rest[2:]
    return rest


def run(
    repo: Path | str | None,
    *args: str,
    input: str | bytes | None = None,
    ok: Sequence[int] = (0,),
    text: bool = True,
    env: dict[str, str] | None = None,
    fixed: bool = False,
) -> "subprocess.CompletedProcess[Any]":
    """Run ``git -C repo args`` to completion; raise ``GitError`` unless its status is in ``ok``.

    ``fixed`` adds the fixed output settings (``git_base``) for parsed output.
    ``text`` decodes with UTF-8, replacing what is not.
    """
    import subprocess

    cmd = git_base(repo) if fixed else (["git"] if repo is None else ["git", "-C", str(repo)])
    cmd = [*cmd, *args]
    if text and isinstance(input, bytes):
        input = input.decode("utf-8", "surrogateescape")
    try:
        proc = subprocess.run(cmd, input=input, capture_output=True, check=False, env=env,
                              **({"text": True, "encoding": "utf-8", "errors": "replace"} if text else {}))
    except OSError as exc:
        raise GitError(f"cannot run git: {exc.strerror or exc}") from None
    if proc.returncode not in ok:
        raise failure(args, proc.returncode, proc.stderr)
    return proc


def output(repo: Path | str | None, *args: str, **kwargs: Any) -> str:
    """``run`` and return stdout with the trailing newline stripped."""
    return str(run(repo, *args, **kwargs).stdout).rstrip("\n")


class Stream:
    """A running git whose stdout is read as it comes; stderr goes to an unlinked temporary file.

    ``close`` checks the exit status. A caller that stops reading early calls
    ``stop`` first: git is then killed on purpose and its status means nothing.
    """

    def __init__(self, repo: Path | str | None, args: Sequence[str], *, text: bool = False,
                 stdin: bool = False, env: dict[str, str] | None = None, stdout: IO[bytes] | None = None) -> None:
        import subprocess
        import tempfile

        self.args = list(args)
        self.errors: IO[bytes] = tempfile.TemporaryFile()
        self.stopped = False
        try:
            self.proc = subprocess.Popen(
                [*git_base(repo), *args], stdout=subprocess.PIPE if stdout is None else stdout, stderr=self.errors,
                stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                env=env if env is not None else git_env(),
                **({"text": True, "encoding": "utf-8", "errors": "replace"} if text else {}),
            )
        except OSError as exc:
            self.errors.close()
            raise GitError(f"cannot run git: {exc.strerror or exc}") from None
        self.stdout: IO[Any] | None = self.proc.stdout  # None when stdout went to a file

    def stop(self) -> None:
        """Stop git now: we have read what we need."""
        self.stopped = True
        if self.proc.poll() is None:
            self.proc.kill()

    def stderr_text(self) -> str:
        self.errors.seek(0)
        return self.errors.read(64 * 1024).decode("utf-8", "replace")

    def close(self) -> None:
        """Wait for git; raise ``GitError`` with its first stderr line if it failed (and was not stopped)."""
        try:
            if self.stdout is not None:
                self.stdout.close()
            if self.proc.stdin is not None:
                try:
                    self.proc.stdin.close()
                except OSError:
                    pass
            code = self.proc.wait()
            if code != 0 and not self.stopped:
                raise failure(self.args, code, self.stderr_text())
        finally:
            self.errors.close()

    def __enter__(self) -> "Stream":
        return self

    def __exit__(self, kind: Any, value: Any, tb: Any) -> None:
        if kind is not None:
            self.stop()  # an error of ours: git's status would only hide it
            try:
                self.close()
            except GitError:
                pass
            return
        self.close()


def stream(repo: Path | str | None, *args: str, text: bool = False, stdin: bool = False,
           env: dict[str, str] | None = None, stdout: IO[bytes] | None = None) -> Stream:
    """Start ``git args`` with its stdout to read (or written to ``stdout``, a file); use as a
    context manager (``with stream(...) as s``)."""
    return Stream(repo, args, text=text, stdin=stdin, env=env, stdout=stdout)


def lines(repo: Path | str | None, *args: str) -> Iterator[str]:
    """The lines of a git listing, read as they come, the status checked at the end."""
    with stream(repo, *args, text=True) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            yield line.rstrip("\n")


_HEX = frozenset("0123456789abcdefABCDEF")


def commit_exists(repo: Path | str | None, sha: str) -> bool:
    """Whether ``sha`` (hex, 4 to 64 digits) names a commit this repository has."""
    if not sha or not 4 <= len(sha) <= 64 or not set(sha) <= _HEX:
        return False
    return run(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{sha}^{{commit}}",
               ok=(0, 1)).returncode == 0  # 1: no such commit


def is_ancestor(repo: Path | str | None, older: str, newer: str) -> bool:
    """``git merge-base --is-ancestor``: status 1 means no; anything else but 0 is an error."""
    return run(repo, "merge-base", "--is-ancestor", older, newer, ok=(0, 1)).returncode == 0


def object_format(repo: Path | str | None) -> str:
    """``sha1`` or ``sha256``: the repository's ``extensions.objectFormat`` (unset means sha1)."""
    value = output(repo, "config", "--get", "extensions.objectformat", ok=(0, 1)).strip().lower()
    return value or "sha1"


def require_sha1(repo: Path | str | None, what: str) -> None:
    """Refuse a SHA-256 repository in one line, rather than print ids that do not exist.

    libgit2 (pygit2) as shipped cannot open one, and the history cache packs
    object ids as 20 bytes; a SHA-256 id cut to 40 digits names nothing.
    """
    if object_format(repo) != "sha1":
        raise CommitledgerError(
            f"this repository uses SHA-256 object ids (extensions.objectFormat = sha256); "
            f"{what} supports SHA-1 repositories only")
