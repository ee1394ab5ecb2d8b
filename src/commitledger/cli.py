"""Entry point of the ``commitledger`` command.

The two git-hook subcommands run on every commit, so they take a fast path
that imports neither click nor pydantic; ``--help`` on them, and every other
command, goes through the click application in ``commands/``, whose
subcommands are imported only when invoked.
"""

from __future__ import annotations

import sys

_FAST_HOOKS = frozenset({"prepare-commit-msg", "commit-msg", "post-commit"})


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) >= 2 and args[0] == "hook" and args[1] in _FAST_HOOKS and not {"-h", "--help"} & set(args):
        from commitledger.hook.run import run

        raise SystemExit(run(args[1:]))
    from commitledger.commands import run_app

    run_app(args)


if __name__ == "__main__":  # pragma: no cover
    main()
