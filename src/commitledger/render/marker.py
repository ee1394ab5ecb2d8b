"""The hidden marker that opens the comment, and the discarded work it carries.

``<!-- commitledger:v1 head=<sha> valid-at=<time> digest=<data> -->``

The marker lets ``github post`` find its own comment, refuse to overwrite a
comment made for a newer head, and remember the usage already counted for
the pull request. The digest maps a *commit key* (a hash of the author date
and the commit's AI-Usage lines, so a rebased or amended-message-free
replay is the same work) to that commit's usage. When a force-push drops
commits, the next run finds their keys missing from the branch and counts
their usage as discarded work: money spent on the pull request that a
reviewer no longer sees, which a cost per *merged* change must include.

Encoding: entries as ``key,kind,sessions,prompts,requests,tool_calls,
input,output,cache_read,cache_write,cost`` (empty = unknown; kind ``c`` for
a commit of this head, ``d`` for work discarded earlier), joined by ``;``,
deflated and base64-encoded. Base64's alphabet has no ``-`` or ``>``, so the
digest can never close the HTML comment. A digest that does not decode is
ignored (the comment may have been edited by hand): discarded work is then
lost, never invented.
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib
from dataclasses import dataclass, field

from commitledger.errors import CommitledgerError
from commitledger.ledger.models import PrResult, UsageModel
from commitledger.ledger.usage import COUNT_FIELDS, Usage, sum_usage

MARKER_PREFIX = "<!-- commitledger:v1"
_MARKER = re.compile(r"<!--[ \t]*commitledger:v1\b(?P<body>[^>]*?)-->")
_KEY = re.compile(r"^[0-9a-f]{8,64}$")
_FULL_SHA = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_SHA = re.compile(r"^[0-9a-f]{4,64}$")
_TIME = re.compile(r"^[0-9T:.+\-Z]{1,40}$")
_DIGEST = re.compile(r"^[A-Za-z0-9+/=]*$")
MAX_DIGEST_BYTES = 2_000_000


@dataclass(frozen=True, slots=True)
class Marker:
    """What an earlier comment recorded: its head, and the usage counted for it."""

    head: str
    valid_at: str | None = None
    digest: dict[str, Usage] = field(default_factory=dict)
    discarded: dict[str, Usage] = field(default_factory=dict)


def _fmt_number(value: int | float | None) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".")
    return str(int(value))


def encode_digest(current: dict[str, Usage], discarded: dict[str, Usage]) -> str:
    """Only hex keys are written: a key holding ``,`` or ``;`` would forge entries of its own."""
    rows: list[str] = []
    for kind, entries in (("c", current), ("d", discarded)):
        for key in sorted(k for k in entries if _KEY.match(k)):
            usage = entries[key]
            values = [_fmt_number(getattr(usage, name)) for name in COUNT_FIELDS]
            values.append(_fmt_number(usage.cost_usd))
            rows.append(",".join([key, kind, *values]))
    raw = ";".join(rows).encode("ascii")
    return base64.b64encode(zlib.compress(raw, 9)).decode("ascii")


def decode_digest(text: str) -> tuple[dict[str, Usage], dict[str, Usage]]:
    """(current, discarded); raises ValueError on anything malformed."""
    if not _DIGEST.match(text):
        raise ValueError("not base64")
    try:
        packed = base64.b64decode(text, validate=True)
        inflater = zlib.decompressobj()
        raw = inflater.decompress(packed, MAX_DIGEST_BYTES)
    except (binascii.Error, zlib.error) as exc:
        raise ValueError(str(exc)) from None
    if inflater.unconsumed_tail:
        raise ValueError("digest too large")
    current: dict[str, Usage] = {}
    discarded: dict[str, Usage] = {}
    if not raw:
        return current, discarded
    for row in raw.decode("ascii").split(";"):
        parts = row.split(",")
        if len(parts) != 2 + len(COUNT_FIELDS) + 1 or not _KEY.match(parts[0]) or parts[1] not in ("c", "d"):
            raise ValueError("bad entry")
        usage = Usage()
        for name, value in zip(COUNT_FIELDS, parts[2:-1]):
            setattr(usage, name, int(value) if value else None)
        usage.cost_usd = float(parts[-1]) if parts[-1] else None
        (current if parts[1] == "c" else discarded)[parts[0]] = usage
    return current, discarded


def current_entries(result: PrResult) -> dict[str, Usage]:
    """Commit key -> usage for the commits of this head that recorded AI usage."""
    return {c.key: c.usage.to_usage() for c in result.commit_list if c.key and c.usage is not None}


def format_marker(result: PrResult) -> str:
    """The first line of the comment.

    The head is checked here as well as when the result is loaded: a copy
    made with ``model_copy`` is not validated again, and a head such as
    ``abc --> <img ...>`` would close the hidden comment and publish the rest.
    """
    if not isinstance(result.head, str) or not _FULL_SHA.match(result.head):
        raise CommitledgerError("the result's head is not a full hex object id: no marker is written for it")
    discarded = {key: usage.to_usage() for key, usage in result.discarded_work.items()}
    digest = encode_digest(current_entries(result), discarded)
    valid_at = f" valid-at={result.generated_at}" if result.generated_at and _TIME.match(result.generated_at) else ""
    return f"{MARKER_PREFIX} head={result.head}{valid_at} digest={digest} -->"


def parse_marker(body: str) -> Marker | None:
    """The marker of a comment body, or ``None`` when the body has none (not ours)."""
    match = _MARKER.search(body or "")
    if match is None:
        return None
    values: dict[str, str] = {}
    for token in match.group("body").split():
        key, sep, value = token.partition("=")
        if sep:
            values.setdefault(key, value)
    head = values.get("head", "").lower()
    if not _SHA.match(head):
        return None
    valid_at = values.get("valid-at")
    if valid_at is not None and not _TIME.match(valid_at):
        valid_at = None
    try:
        current, discarded = decode_digest(values.get("digest", ""))
    except (ValueError, UnicodeDecodeError):
        current, discarded = {}, {}
    return Marker(head=head, valid_at=valid_at, digest=current, discarded=discarded)


def discarded_since(markers: list[Marker], present: set[str]) -> dict[str, Usage]:
    """Work earlier runs counted that is not among the ``present`` commit keys: discarded, once per key.

    Every marker counts (a PR may carry duplicate comments of ours); a key
    seen in several is one piece of work, so nothing is counted twice.
    """
    gone: dict[str, Usage] = {}
    for marker in markers:
        for key, usage in list(marker.discarded.items()) + list(marker.digest.items()):
            if key not in present:
                gone.setdefault(key, usage)
    return gone


def apply_previous(result: PrResult, previous: Marker) -> PrResult:
    """A copy of ``result`` counting the work an earlier run saw and this head no longer has.

    Entries already discarded earlier stay discarded unless their commit is
    back on the branch; entries of the earlier head missing now are added.
    """
    present = {c.key for c in result.commit_list if c.key}
    gone = discarded_since([previous], present)
    for key, model in result.discarded_work.items():
        if key not in present:
            gone.setdefault(key, model.to_usage())
    if not gone:
        return result.model_copy(update={"discarded": None, "discarded_commits": 0, "discarded_work": {}})
    total = sum_usage(list(gone.values()))
    return result.model_copy(
        update={
            "discarded": UsageModel.of(total),
            "discarded_commits": len(gone),
            "discarded_work": {key: UsageModel.of(gone[key]) for key in sorted(gone)},
        }
    )
