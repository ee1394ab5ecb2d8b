"""The git hooks: prepare-commit-msg writes the trailers, post-commit advances the window.

Runs on every commit, so it imports no click, pydantic, pygit2 or rich
(``cli.py`` calls ``run`` directly), reads git's state from files
(``git.lite``) and the logs through the offset index (``capture.index``).

prepare-commit-msg, by the source git passes (or the pre-commit framework
passes as ``PRE_COMMIT_COMMIT_MSG_SOURCE`` / ``PRE_COMMIT_COMMIT_OBJECT_NAME``):

- none, ``message``, ``template``: the pending usage is added;
- ``commit`` naming HEAD, or any source while the ``git commit`` process
  was given ``--amend``: an amend; our trailers are replaced by the old
  commit's usage plus the new;
- ``commit`` naming another commit (``-c``/``-C``): nothing is added, and
  the reused message's own trailers are removed (its usage belongs to the
  commit it came from);
- ``merge``, ``squash``, and any commit made while a rebase, cherry-pick or
  revert replays commits: nothing is added (the replayed messages carry
  their own trailers).

What was written is saved to ``staged.json``; post-commit marks exactly
those keys recorded once the commit exists and carries those lines.
commit-msg (optional) removes our trailers again when the message has no
other text, so git's "empty message" abort still works in the editor.

Fail-open: any failure prints one ``commitledger: warning:`` line and lets
the commit through, unless ``strict = true`` in ``[tool.commitledger]``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

from commitledger.errors import CommitledgerError

if TYPE_CHECKING:
    from commitledger.config import Config
    from commitledger.git.paths import RepoPaths

USAGE = (
    "usage: commitledger hook prepare-commit-msg MSGFILE [SOURCE [SHA]] | "
    "commitledger hook commit-msg MSGFILE | commitledger hook post-commit"
)
# Files in a worktree's git dir while git replays commits rather than making new ones.
_REPLAY_MARKERS = ("rebase-merge", "rebase-apply", "CHERRY_PICK_HEAD", "REVERT_HEAD", "sequencer")


def run(argv: list[str], environ: Mapping[str, str] | None = None) -> int:
    """Entry point for ``commitledger hook <name> ...``; returns the exit status."""
    env = os.environ if environ is None else environ
    strict = False
    try:
        from commitledger.git.paths import find_repo

        if not argv:
            raise CommitledgerError(USAGE)
        paths = find_repo(environ=env)
        config = _config(paths.worktree)  # a broken config cannot say we are strict: it fails open, loudly
        strict = bool(config.strict)
        name, args = argv[0], argv[1:]
        if name == "prepare-commit-msg":
            return prepare_commit_msg(paths, config, args, env)
        if name == "post-commit":
            return post_commit(paths)
        if name == "commit-msg":
            return commit_msg(paths, args)
        raise CommitledgerError(USAGE)
    except Exception as exc:  # fail-open: the commit must not depend on us
        if env.get("COMMITLEDGER_DEBUG"):
            raise
        detail = str(exc) if isinstance(exc, CommitledgerError) else f"{exc.__class__.__name__}: {exc}"
        detail = " ".join(detail.split())[:300]
        hook_name = argv[0] if argv else "hook"
        if strict:
            print(f"commitledger: error: {hook_name} failed ({detail}); strict mode refuses the commit", file=sys.stderr)
            return 1
        print(f"commitledger: warning: {hook_name} skipped ({detail}); commit left without AI-Usage", file=sys.stderr)
        return 0


def _config(worktree: Path) -> Config:
    # config.py skips tomllib unless pyproject.toml mentions commitledger.
    from commitledger.config import load_config

    return load_config(worktree)


def _source_args(args: list[str], env: Mapping[str, str]) -> tuple[Path, str, str]:
    if not args:
        raise CommitledgerError("prepare-commit-msg needs the commit message file")
    source = args[1] if len(args) > 1 else env.get("PRE_COMMIT_COMMIT_MSG_SOURCE", "")
    sha = args[2] if len(args) > 2 else env.get("PRE_COMMIT_COMMIT_OBJECT_NAME", "")
    return Path(args[0]), source, sha


def replaying(git_dir: Path, source: str) -> bool:
    """True while git replays commits (rebase, cherry-pick, revert, the sequencer).

    A clean single-commit revert leaves none of the classic markers, only
    ``MERGE_MSG`` (the message git prepared), which a plain ``commit -m``
    never has.
    """
    if any((git_dir / name).exists() for name in _REPLAY_MARKERS):
        return True
    return source == "message" and (git_dir / "MERGE_MSG").exists()


def amend_flag(environ: Mapping[str, str]) -> bool | None:
    """Whether the ``git commit`` running this hook was given ``--amend``; None when unknowable.

    git passes ``commit HEAD`` both for ``--amend`` and ``-C HEAD``, and a
    plain ``message`` for ``--amend -m``: the ancestor process's arguments
    are the only place the difference shows (Linux ``/proc``).
    """
    override = environ.get("COMMITLEDGER_AMEND")
    if override in ("0", "1"):
        return override == "1"
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
            rest = words[words.index("commit") + 1 :]
            for word in rest:
                if word == "--":
                    break
                if len(word) >= 5 and "--amend".startswith(word):
                    return True
            return False
        try:
            pid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        except (ValueError, IndexError):
            return None
    return None


def _comment_char(paths: RepoPaths, environ: Mapping[str, str]) -> str:
    """``core.commentChar`` (``#`` unless configured; asking git costs a process, so only then)."""
    from commitledger.git.paths import RepoPaths

    assert isinstance(paths, RepoPaths)
    candidates = [paths.common_dir / "config", Path(environ.get("HOME", "~")).expanduser() / ".gitconfig"]
    if environ.get("GIT_CONFIG_GLOBAL"):
        candidates.append(Path(environ["GIT_CONFIG_GLOBAL"]))
    configured = False
    for path in candidates:
        try:
            if "commentchar" in path.read_text(encoding="utf-8", errors="replace").lower():
                configured = True
                break
        except OSError:
            continue
    if not configured:
        return "#"
    from commitledger.git.run import GitError, run

    try:
        value = str(run(paths.worktree, "config", "core.commentChar", ok=(0, 1)).stdout).strip()  # 1: not set
    except GitError:
        return "#"
    return value if value and value != "auto" else "#"


def _read_message(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="surrogateescape")


def _write_message(path: Path, text: str) -> None:
    path.write_bytes(text.encode("utf-8", errors="surrogateescape"))


def prepare_commit_msg(paths: RepoPaths, config: Config, args: list[str], environ: Mapping[str, str]) -> int:
    from commitledger.git import lite as gitlite
    from commitledger.hook import message as msgedit
    from commitledger.hook import window
    from commitledger.git.paths import RepoPaths
    from commitledger.hook.state import StateLock

    assert isinstance(paths, RepoPaths)
    msgfile, source, sha = _source_args(args, environ)
    state_dir = paths.state_dir
    with StateLock(state_dir):
        window.drop_staged(state_dir)
        if source in ("merge", "squash") or replaying(paths.git_dir, source):
            return 0
        head = gitlite.head_sha(paths)
        flag = amend_flag(environ) if head else False
        if source == "commit":
            amend = head is not None and flag is not False and gitlite.resolve(paths, sha or "HEAD") == head
            if not amend:
                # -c/-C: the reused message's usage belongs to the commit it came from;
                # copied trailers would count it twice in the ledger.
                text = _read_message(msgfile)
                if "usage" in text.lower():
                    from commitledger.hook import message as edit

                    stripped = edit.strip_ours(text, _comment_char(paths, environ))
                    if stripped != text:
                        _write_message(msgfile, stripped)
                return 0
        else:
            amend = bool(flag)
        from commitledger.hook.pending import next_commit

        nxt = next_commit(paths, config, environ)  # type: ignore[arg-type]
        if not nxt.lines and not amend:
            return 0  # nothing to write: the common commit pays for no trailer code
        from commitledger.ledger.trailers import format_trailers, merge_lines, parse_usage_lines

        text = _read_message(msgfile)
        comment = _comment_char(paths, environ)
        if amend:
            old_message = gitlite.commit_message(paths, head) if head else None
            old = parse_usage_lines(old_message or "")
            if not nxt.lines and parse_usage_lines(text) == old and old:
                return 0  # amend with nothing new: the trailers already in the message stay
            final = merge_lines(old, nxt.lines)
            if not final:
                return 0
            text = msgedit.strip_ours(text, comment)
        else:
            final = nxt.lines
            if not final:
                return 0
            if source == "message" and msgedit.body_is_empty(text, comment):
                return 0  # git aborts an empty message; trailers alone would make it a commit
        _write_message(msgfile, msgedit.insert_trailers(text, format_trailers(final), comment))
        window.save_staged(state_dir, head, [(line.format(), nxt.written(line.agent, line.model)) for line in final])
    return 0


def commit_msg(paths: RepoPaths, args: list[str]) -> int:
    """After the editor: a message that is only our trailers becomes empty again, so git aborts it."""
    from commitledger.hook import message as msgedit

    if not args:
        raise CommitledgerError("commit-msg needs the commit message file")
    msgfile = Path(args[0])
    text = _read_message(msgfile)
    comment = _comment_char(paths, os.environ)
    if msgedit.body_is_empty(text, comment, ignore_ours=True) and not msgedit.body_is_empty(text, comment):
        _write_message(msgfile, msgedit.strip_ours(text, comment))
    return 0


def post_commit(paths: RepoPaths) -> int:
    from commitledger.git import lite as gitlite
    from commitledger.hook import window
    from commitledger.git.paths import RepoPaths
    from commitledger.hook.state import StateLock

    assert isinstance(paths, RepoPaths)
    state_dir = paths.state_dir
    if not (state_dir / window.STAGED_FILE).exists():
        return 0
    with StateLock(state_dir):
        staged = window.load_staged(state_dir)
        window.drop_staged(state_dir)
        if not staged or not staged.get("lines"):
            return 0
        head = gitlite.head_sha(paths)
        if head is None or head == staged.get("head"):
            return 0  # no new commit: not the one we prepared
        carried = set((gitlite.commit_message(paths, head) or "").splitlines())
        written: dict[str, list[object]] = {}
        for text, keys in staged["lines"]:
            if text in carried:  # a line the user deleted in the editor leaves its usage pending
                written.update(keys)
        if not written:
            return 0
        win = window.Window.load(state_dir)
        win.mark_recorded(written)
        win.save()
    return 0
