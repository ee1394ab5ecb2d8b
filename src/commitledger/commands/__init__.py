"""The click application: one module per command, imported lazily.

Each module in this package defines one click command (or group) named in
``COMMANDS``; the group below imports it only when that command runs, so
``commitledger usage`` never pays for radon, requests or rich.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from commitledger import __version__
from commitledger.errors import CommitledgerError

# name -> (module, attribute, one-line help shown in `commitledger --help`)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "hook": ("commitledger.commands.hook", "hook", "Git hook entry points (prepare-commit-msg, post-commit)."),
    "usage": ("commitledger.commands.usage", "usage", "Show what the next commit would record."),
    "record": ("commitledger.commands.record", "record", "Add usage from a tool that writes no logs."),
    "show": ("commitledger.commands.show", "show", "Show the AI usage recorded in commits."),
    "doctor": ("commitledger.commands.doctor", "doctor", "Report agents, logs, hooks and prices found."),
    "install": ("commitledger.commands.install", "install", "Install plain git hooks (without pre-commit)."),
    "uninstall": ("commitledger.commands.install", "uninstall", "Remove the git hooks installed by 'install'."),
    "pr": ("commitledger.commands.pr", "pr", "Score a pull request: usage against tests, maintainability, reverts."),
    "github": ("commitledger.commands.github", "github", "Post or update the pull-request comment on GitHub."),
    "history": ("commitledger.commands.history", "history", "Merged changes, reverts and cost per merged change."),
    "report": ("commitledger.commands.report", "report", "Write a static HTML report with charts."),
    "rollup": ("commitledger.commands.rollup", "rollup", "Many repositories in one DuckDB database, Parquet and a page."),
    "note": ("commitledger.commands.note", "note", "Attach CI facts to a commit under refs/notes/commitledger."),
    "backfill": ("commitledger.commands.backfill", "backfill",
                 "Recover the AI usage of PRs merged before the Action ran (usage notes)."),
}


# Internal commands: run by commitledger itself, not listed in --help.
HIDDEN: dict[str, tuple[str, str]] = {
    "_parquet-step": ("commitledger.commands.history", "parquet_step"),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        spec = COMMANDS.get(cmd_name) or HIDDEN.get(cmd_name)
        if spec is None:
            return None
        module = importlib.import_module(spec[0])
        command: click.Command = getattr(module, spec[1])
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Listing help must not import every command module.
        rows = [(name, spec[2]) for name, spec in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="commitledger")
def app() -> None:
    """Record the AI usage behind every commit, and set it against what the change delivered.

    Every figure is spend set against an outcome; commitledger never ranks people by consumption.
    """


def run_app(args: list[str]) -> None:
    """Run click, turning our errors into one line and a non-zero exit."""
    try:
        code: Any = app.main(args=args, prog_name="commitledger", standalone_mode=False)
    except CommitledgerError as exc:
        from commitledger.render.text import terminal_text

        # One line, and no control sequence a revision or path name could carry.
        click.echo(f"commitledger: {terminal_text(exc)}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("commitledger: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("commitledger: interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except Exception as exc:  # a bug: still one line unless asked for the traceback
        if os.environ.get("COMMITLEDGER_DEBUG"):
            raise
        from commitledger.render.text import terminal_text

        click.echo(
            f"commitledger: internal error ({exc.__class__.__name__}: {terminal_text(exc)}); "
            "set COMMITLEDGER_DEBUG=1 for the traceback and please report it",
            err=True,
        )
        sys.exit(70)
    sys.exit(code if isinstance(code, int) else 0)
