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

What will be written is saved to ``staged.json`` first, then the message;
post-commit marks exactly those keys recorded once the commit exists and
carries those lines. When post-commit was killed or is not installed, the
next hook run finds the landed commit and does the same (``reconcile``).
commit-msg removes our trailers again when the message has no other text,
or is the unedited ``commit.template``, so git's aborts still work in the
editor; when the editor opens and commit-msg will not run (``--no-verify``,
not installed), nothing is inserted and the usage stays pending.

Fail-open: any failure prints one ``commitledger: warning:`` line and lets
the commit through, unless ``strict = true`` in ``[tool.commitledger]``.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs the hook ~3 ms
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any, Mapping

from commitledger.errors import CommitledgerError

if TYPE_CHECKING:
    from commitledger.config import Config
    from commitledger.git.paths import GitDirs
    from commitledger.hook.commitcmd import CommitCommand

# Paths here are str, joined with os.path (``git.paths.GitDirs``): pathlib, with the
# re, fnmatch and urllib.parse it imports, costs more than the hook's own work.

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
        from commitledger.git.paths import locate

        if not argv:
            raise CommitledgerError(USAGE)
        paths = locate(environ=env)
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


def _config(worktree: str) -> Config:
    # config.py skips tomllib unless pyproject.toml mentions commitledger.
    from commitledger.config import load_config

    return load_config(worktree)


def _source_args(args: list[str], env: Mapping[str, str]) -> tuple[str, str, str]:
    if not args:
        raise CommitledgerError("prepare-commit-msg needs the commit message file")
    source = args[1] if len(args) > 1 else env.get("PRE_COMMIT_COMMIT_MSG_SOURCE", "")
    sha = args[2] if len(args) > 2 else env.get("PRE_COMMIT_COMMIT_OBJECT_NAME", "")
    return args[0], source, sha


def replaying(git_dir: str, source: str) -> bool:
    """True while git replays commits (rebase, cherry-pick, revert, the sequencer).

    A clean single-commit revert leaves none of the classic markers, only
    ``MERGE_MSG`` (the message git prepared), which a plain ``commit -m``
    never has.
    """
    if any(os.path.exists(os.path.join(git_dir, name)) for name in _REPLAY_MARKERS):
        return True
    return source == "message" and os.path.exists(os.path.join(git_dir, "MERGE_MSG"))


def amend_flag(environ: Mapping[str, str]) -> bool | None:
    """Whether the ``git commit`` running this hook was given ``--amend``; None when unknowable.

    git passes ``commit HEAD`` both for ``--amend`` and ``-C HEAD``, and a
    plain ``message`` for ``--amend -m``: the ancestor process's arguments
    are the only place the difference shows (Linux ``/proc``).
    """
    from commitledger.hook.commitcmd import commit_command

    found = commit_command(environ)
    return None if found is None else found.amend


def _comment_char(paths: GitDirs, environ: Mapping[str, str]) -> str:
    """``core.commentChar`` (``#`` unless configured; asking git costs a process, so only then)."""
    candidates = [os.path.join(paths.common_dir, "config"),
                  os.path.join(os.path.expanduser(environ.get("HOME", "~")), ".gitconfig")]  # fmt: skip
    if environ.get("GIT_CONFIG_GLOBAL"):
        candidates.append(environ["GIT_CONFIG_GLOBAL"])
    configured = False
    for path in candidates:
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                if "commentchar" in handle.read().lower():
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


def _read_message(path: str) -> str:
    with open(path, "rb") as handle:
        return handle.read().decode("utf-8", errors="surrogateescape")


def _write_message(path: str, text: str) -> None:
    """Replace the message file atomically: a failed write (a full disk) leaves git's text as it was."""
    from commitledger.hook.state import save_bytes

    save_bytes(path, text.encode("utf-8", errors="surrogateescape"))


def _warn(text: str) -> None:
    print(f"commitledger: warning: {text}", file=sys.stderr)


def _editor_opens(source: str, cmd: CommitCommand | None) -> bool:
    """Whether git will show the message in an editor (or, with ``--no-edit`` and no text, abort it as empty)."""
    if source in ("", "template"):
        return True
    if source == "message":
        return cmd is not None and cmd.edit
    if source == "commit":
        return not (cmd is not None and cmd.no_edit)
    return False


def _commit_msg_runs(paths: GitDirs, environ: Mapping[str, str], cmd: CommitCommand | None) -> bool:
    from commitledger.hook.commitcmd import hook_runs

    if cmd is not None and cmd.no_verify:
        return False  # --no-verify skips commit-msg
    return hook_runs(paths, environ, "commit-msg", "commitledger-commit-msg")


def _current_fixups(git_dir: str) -> list[str]:
    """The commits folded so far into the current fixup/squash chain of an interactive rebase."""
    try:
        with open(os.path.join(git_dir, "rebase-merge", "current-fixups"), encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    except OSError:
        return []
    out: list[str] = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in ("fixup", "f", "squash", "s"):
            sha = parts[1].lower()
            if 40 <= len(sha) <= 64 and all(c in "0123456789abcdef" for c in sha):
                out.append(sha)
    return out


def _replay(paths: GitDirs, msgfile: str, source: str, head: str | None, cmd: CommitCommand | None,
            environ: Mapping[str, str]) -> int:  # fmt: skip
    """While git replays commits: a fold keeps the folded commits' usage, an amend keeps the commit's.

    A fixup's own message (with its trailers) is dropped by git; its
    trailers join the target's. ``commit --amend -m x`` at an ``edit`` stop
    replaces the message: the trailers of the commit it amends stay. Plain
    picks carry their own trailers and are left alone; nothing pending is
    added while git replays.
    """
    from commitledger.git import lite as gitlite
    from commitledger.hook import message as msgedit
    from commitledger.ledger.trailers import UsageLine, format_trailers, merge_lines, parse_usage_lines

    folds = _current_fixups(paths.git_dir)
    if not folds and not (cmd is not None and cmd.amend and head is not None):
        return 0
    text = _read_message(msgfile)
    current = parse_usage_lines(text)
    have = {line.format() for line in current}
    extra: list[UsageLine] = []
    if folds:
        for sha in folds:
            lines = parse_usage_lines(gitlite.commit_message(paths, sha) or "")
            if lines and not all(line.format() in have for line in lines):
                extra.extend(lines)
                have.update(line.format() for line in lines)
        final = merge_lines(current, extra)
    else:
        assert head is not None
        old = parse_usage_lines(gitlite.commit_message(paths, head) or "")
        if all(line.format() in have for line in old):
            return 0
        extra = old
        final = merge_lines(old, [])
    if not extra:
        return 0
    if _editor_opens(source, cmd) and not _commit_msg_runs(paths, environ, cmd):
        return 0  # an emptied message must stay empty: without commit-msg nothing would strip ours again
    comment = _comment_char(paths, environ)
    _write_message(msgfile, msgedit.insert_trailers(msgedit.strip_ours(text, comment), format_trailers(final), comment))
    return 0


def prepare_commit_msg(paths: GitDirs, config: Config, args: list[str], environ: Mapping[str, str]) -> int:
    from commitledger.git import lite as gitlite
    from commitledger.hook import message as msgedit
    from commitledger.hook import reconcile, window
    from commitledger.hook.commitcmd import commit_command, hook_runs
    from commitledger.hook.state import StateLock, sweep_temporaries

    msgfile, source, sha = _source_args(args, environ)
    state_dir = paths.state_dir
    with StateLock(state_dir):
        sweep_temporaries(state_dir)
        sweep_temporaries(os.path.join(state_dir, window.RECORDED_DIR))
        msg_dir, msg_name = os.path.split(msgfile)
        sweep_temporaries(msg_dir or ".", f".{msg_name}.")  # a message write killed half way
        missed = reconcile.settle(paths)
        post_commit_ok: bool | None = None
        if missed:
            post_commit_ok = hook_runs(paths, environ, "post-commit", "commitledger-post-commit")
            if post_commit_ok:  # not installed at all: the warning below says so once per commit
                _warn(f"post-commit did not finish for commit {missed[:12]}; its usage is now marked recorded")
        if source in ("merge", "squash"):
            return 0
        head = gitlite.head_sha(paths)
        cmd = commit_command(environ)
        if replaying(paths.git_dir, source):
            return _replay(paths, msgfile, source, head, cmd, environ)
        flag = (None if cmd is None else cmd.amend) if head else False
        if source == "commit":
            amend = head is not None and flag is not False and gitlite.resolve(paths, sha or "HEAD") == head
            if not amend:
                # -c/-C: the reused message's usage belongs to the commit it came from;
                # copied trailers would count it twice in the ledger.
                text = _read_message(msgfile)
                if "usage" in text.lower():
                    stripped = msgedit.strip_ours(text, _comment_char(paths, environ))
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

        original = text = _read_message(msgfile)
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
        if _editor_opens(source, cmd) and not _commit_msg_runs(paths, environ, cmd):
            # Only commit-msg can take our trailers out of a message left empty (or an
            # unedited template) in the editor; without it git would accept what it aborts.
            _warn("the editor opens and the commit-msg hook will not run (--no-verify, or not installed): "
                  "usage left pending for the next commit")  # fmt: skip
            return 0
        extra: dict[str, Any] = {"source": source}
        if source == "template":
            extra["template"] = original  # commit-msg: an unedited template must still abort
        # Staged before the message is written: a commit that lands carrying these lines is
        # reconciled even if nothing after this point runs.
        window.save_staged(
            state_dir, head, [(line.format(), nxt.written(line.agent, line.model)) for line in final], extra
        )
        _write_message(msgfile, msgedit.insert_trailers(text, format_trailers(final), comment))
        if post_commit_ok is None:
            post_commit_ok = hook_runs(paths, environ, "post-commit", "commitledger-post-commit")
        if not post_commit_ok:
            _warn("the post-commit hook is not installed; this commit's usage is marked recorded at the next "
                  "commit (install it: commitledger install, or pre-commit id commitledger-post-commit)")  # fmt: skip
    return 0


def commit_msg(paths: GitDirs, args: list[str]) -> int:
    """After the editor: take our trailers out again where they alone would make git accept the message.

    A message with no other text becomes empty again (git aborts it), and an
    unedited ``commit.template`` becomes the template again (git aborts that too).
    """
    from commitledger.hook import message as msgedit
    from commitledger.hook import window

    if not args:
        raise CommitledgerError("commit-msg needs the commit message file")
    msgfile = args[0]
    text = _read_message(msgfile)
    comment = _comment_char(paths, os.environ)
    stripped = msgedit.strip_ours(text, comment)
    if stripped == text:
        return 0
    if msgedit.body_is_empty(text, comment, ignore_ours=True):
        _write_message(msgfile, stripped)
        return 0
    staged = window.load_staged(paths.state_dir)
    template = staged.get("template") if staged else None
    if isinstance(template, str) and msgedit.cleaned(stripped, comment) == msgedit.cleaned(template, comment):
        _write_message(msgfile, stripped)
    return 0


def post_commit(paths: GitDirs) -> int:
    """Mark the keys the new commit carries recorded, then drop ``staged.json`` (in that order)."""
    from commitledger.hook import reconcile, window
    from commitledger.hook.state import StateLock

    if not os.path.exists(os.path.join(paths.state_dir, window.STAGED_FILE)):
        return 0
    with StateLock(paths.state_dir):
        reconcile.settle(paths, by_post_commit=True)
    return 0


def main(args: list[str]) -> None:
    """``commitledger-hook NAME ARGS``: the hooks git runs, without click; anything else goes to the full CLI."""
    if args and args[0] in ("prepare-commit-msg", "commit-msg", "post-commit") and not {"-h", "--help"} & set(args):
        raise SystemExit(run(args))
    from commitledger.cli import main as cli_main

    cli_main(["hook", *args])
