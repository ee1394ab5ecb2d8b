"""What a change delivered: one module per signal (tests, maintainability, reverts, ...).

The closed vocabularies of a ``commitledger.pr/1`` result live here, once:
the signal ids ``fail_on`` may name, the per-file statuses and the MI
ranks. ``ledger/models.py`` validates a result file against them (a result
posted by the fork-safe ``workflow_run`` job is untrusted input), and the
configuration, the ``--fail-on`` flag and the Action's ``fail-on`` input
refuse a name outside them. A new signal or status is added here and
nowhere else. Plain tuples: the commit hook reads the configuration and
must not import anything heavy to check it.
"""

from __future__ import annotations

SIGNAL_IDS: tuple[str, ...] = (
    "tests-failed", "maintainability", "complexity", "cognitive", "cost-limit", "no-tests", "cost-per-line",
)
# ``fail_on`` may also say "any" (or "*"): every signal that is not info.
FAIL_ON_ANY: tuple[str, ...] = ("any", "*")
SEVERITIES: tuple[str, ...] = ("info", "warning", "error")
FILE_STATUSES: tuple[str, ...] = ("ok", "flagged", "added", "deleted", "unscored")
MI_RANKS: tuple[str, ...] = ("A", "B", "C")  # radon's maintainability-index ranks


def unknown_fail_on(names: list[str] | tuple[str, ...]) -> list[str]:
    """The names in a ``fail_on`` list that are neither a signal id nor "any", in order.

    A misspelt id ("tests-faild") would otherwise never match, and a job
    meant to fail on failing tests would pass.
    """
    known = set(SIGNAL_IDS) | set(FAIL_ON_ANY)
    return [name for name in dict.fromkeys(names) if name.strip().lower() not in known]


def describe_known() -> str:
    return ", ".join(SIGNAL_IDS) + ", any"
