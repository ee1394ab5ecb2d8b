"""Who made a commit: an agent (AI-assisted), a bot, or a person.

Bots are kept apart because their changes (dependency bumps, release
commits, formatting) are neither AI-assisted nor human work: counting them
as "human" dilutes the human revert rate with changes nobody reviews the
same way. Identity only, never a domain: a person at a company that makes an
agent is a person.
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase

AUTHOR_KINDS = ("human", "ai", "bot")
# Logins/names of the usual automation; "[bot]" suffixes (GitHub apps) are bots whatever their name.
DEFAULT_BOTS = ("dependabot", "dependabot-preview", "renovate", "renovate-bot", "renovatebot", "github-actions",
                "greenkeeper", "snyk-bot", "pre-commit-ci", "mergify", "allcontributors", "imgbot", "pyup-bot",
                "semantic-release-bot", "release-please", "web-flow")
_GH_NOREPLY = re.compile(r"^(?:\d+\+)?(?P<login>[^@]+)@users\.noreply\.github\.com$")


def login_of(email: str) -> str | None:
    """The GitHub login of a ``users.noreply.github.com`` address."""
    match = _GH_NOREPLY.match(email.strip().lower())
    return match.group("login") if match else None


def is_bot(name: str, email: str, extra: tuple[str, ...] = ()) -> bool:
    """A commit author that is automation: a ``[bot]`` login, a known bot, or one the config lists.

    ``extra`` entries (``bots`` in the config) match the name, the address or
    the GitHub login, case-insensitively; ``*`` globs are allowed.
    """
    lowered_name = name.strip().lower()
    lowered_email = email.strip().lower()
    login = login_of(lowered_email)
    candidates = [lowered_name, lowered_email] + ([login] if login else [])
    if any(c.endswith("[bot]") for c in candidates):
        return True
    bare = {c.removesuffix("[bot]") for c in candidates}
    local = lowered_email.partition("@")[0]
    if bare & set(DEFAULT_BOTS) or (local in DEFAULT_BOTS and lowered_email.endswith(("github.com", "noreply"))):
        return True
    return any(fnmatchcase(c, pattern.strip().lower()) for pattern in extra for c in candidates)
