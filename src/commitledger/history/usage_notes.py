"""The usage of a merged change when its message lost the PR's AI-Usage lines: the ``usage`` note.

``github.postmerge`` (the Action after a merge, or ``backfill``) writes a
``usage`` note (``source: "pr-head"``) on a merged commit whose message
carries fewer AI-Usage lines than the PR's own commits did, or whose PR
discarded work. Every reader of a branch (``history``, ``report``, the
baseline, the revert line) joins it here, with one rule so nothing is
counted twice:

- the note's ``usage`` replaces the change's own only when the change's
  messages (the chain commit and any side commits it merged) carry *fewer*
  AI-Usage lines than the note's ``lines``;
- the note's ``discarded`` work (force-pushed away before the merge, carried
  by no message) is always added.

The cache keeps what the commits say; the join is applied to the walked
chain only (``Chain.override_usage``), so a note written later is seen by
the next run without invalidating anything. Its cost: one ``git cat-file
--batch`` for the noted changes' messages, whatever their number.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from commitledger.git.run import run as run_git
from commitledger.history.cache import Chain
from commitledger.history.scan import pack_usage, packed_cost_tokens, unpack_usage
from commitledger.ledger.trailers import parse_usage_lines
from commitledger.ledger.usage import COUNT_FIELDS, Usage

NOTES = "notes"  # the note's usage replaced the message's (plus any discarded work)
TRAILERS = "trailers"  # the message's lines, as written
BOTH = "trailers+notes"  # the message's lines plus discarded work from the note


def _usage(data: Any) -> Usage | None:
    if not isinstance(data, dict):
        return None
    usage = Usage()
    for name in COUNT_FIELDS:
        value = data.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            setattr(usage, name, value)
    cost = data.get("cost_usd")
    if isinstance(cost, (int, float)) and not isinstance(cost, bool) and cost >= 0:
        usage.cost_usd = float(cost)
    elif usage.has_tokens():
        usage.cost_complete = False
    return usage


def _vector(usage: Usage) -> list[Any]:
    return [getattr(usage, name) for name in COUNT_FIELDS] + [usage.cost_usd, usage.cost_complete]


def _messages(repo: Path, shas: list[str]) -> dict[str, str]:
    """Commit messages by id, read in one ``cat-file --batch``."""
    if not shas:
        return {}
    data = run_git(repo, "cat-file", "--batch", input=("\n".join(shas) + "\n").encode(), text=False).stdout
    out: dict[str, str] = {}
    pos = 0
    for sha in shas:
        end = data.find(b"\n", pos)
        if end < 0:
            break
        header = data[pos:end].split()
        pos = end + 1
        if len(header) != 3:
            continue  # "<id> missing"
        size = int(header[2])
        body = data[pos : pos + size]
        pos += size + 1
        if header[1] == b"commit":
            _, _, message = body.partition(b"\n\n")
            out[sha] = message.decode("utf-8", "replace")
    return out


def noted_usage(notes: dict[str, dict[str, Any]], chain: Chain, located: dict[str, int]) -> dict[int, dict[str, Any]]:
    """Chain index -> the ``usage`` entry of a note sitting on that chain commit itself."""
    out: dict[int, dict[str, Any]] = {}
    for commit, note in notes.items():
        entry = note.get("usage")
        index = located.get(commit)
        if not isinstance(entry, dict) or entry.get("source") != "pr-head" or index is None:
            continue
        if chain.sha_at(index) == commit:  # a note on a side commit is not about the merged change
            out[index] = entry
    return out


def apply_usage_notes(repo: Path, chain: Chain, notes: dict[str, dict[str, Any]],
                      located: dict[str, int]) -> dict[int, str]:
    """Join the ``usage`` notes into ``chain``; returns index -> ``NOTES`` or ``BOTH`` where a note counted."""
    entries = noted_usage(notes, chain, located)
    if not entries:
        return {}
    wanted: dict[int, list[str]] = {}
    for index in entries:
        side = chain.side(index)
        wanted[index] = [chain.sha_at(index)] + [side[i : i + 20].hex() for i in range(0, len(side), 20)]
    messages = _messages(repo, [sha for shas in wanted.values() for sha in shas])
    sources: dict[int, str] = {}
    for index, entry in entries.items():
        own_lines = sum(len(parse_usage_lines(messages.get(sha, ""))) for sha in wanted[index])
        noted_lines = entry.get("lines")
        replace = (isinstance(noted_lines, int) and not isinstance(noted_lines, bool) and own_lines < noted_lines
                   and _usage(entry.get("usage")) is not None)
        discarded = _usage(entry.get("discarded"))
        if not replace and discarded is None:
            continue
        if replace:
            total = _usage(entry.get("usage"))
            assert total is not None
        else:
            blob = chain.usage_blob(index)
            total = unpack_usage(blob) if blob is not None else Usage()
        if discarded is not None:
            total = total + discarded
        packed = pack_usage(_vector(total))
        cost, tokens = packed_cost_tokens(packed)
        chain.override_usage(index, packed, cost, tokens)
        sources[index] = NOTES if replace else BOTH
    return sources
