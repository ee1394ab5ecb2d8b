"""CI facts learned after a commit exists, kept in ``refs/notes/commitledger``.

Trailers are written at commit time; test results, maintainability deltas
and the usage of pull requests that were closed without merging are only
known later, so they go into git notes (one JSON object per annotated
commit). Notes travel with ``git fetch/push`` of the notes ref and need no
server.

One note can carry three kinds of facts, because several events may annotate
the same commit: the CI facts of the change merged there (``change``), the
AI usage of pull requests abandoned on top of it (``abandoned``, keyed by PR
number; several PRs may share one merge-base), and the AI usage of the pull
request merged there, read after the merge from ``refs/pull/N/head``
(``usage``, ``source: "pr-head"``) when the merge dropped the commits'
``AI-Usage`` lines or the PR discarded work. Writing one kind never drops
the others.

Reading is forgiving: a note that is not JSON, not an object, or from a
newer schema we cannot read is skipped, never fatal.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from commitledger.errors import CommitledgerError
from commitledger.git.run import run as _git

NOTES_REF = "refs/notes/commitledger"
SCHEMA = "commitledger.note/1"
# Keys of a `commitledger pr --format json` result that the change's note keeps.
_FROM_PR = ("tests", "maintainability", "signals", "usage", "lines", "commits", "ai_commits", "head", "base",
            "discarded", "discarded_commits")


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def change_facts(pr: int | None, result: dict[str, Any] | None, recorded_at: str) -> dict[str, Any]:
    """The ``change`` part of a note: the PR number and what CI found (from a ``pr`` JSON result)."""
    facts: dict[str, Any] = {"pr": pr, "recorded_at": recorded_at}
    if result is not None:
        for key in _FROM_PR:
            if key in result:
                facts[key] = result[key]
    return facts


def abandoned_facts(pr: int, result: dict[str, Any] | None, recorded_at: str) -> dict[str, Any]:
    """One abandoned PR: its usage *including discarded work* (force-pushed-away commits).

    The ``pr`` result's ``usage`` covers the commits still on the PR's head;
    its ``discarded`` usage covers work that was pushed and later dropped.
    Both were paid for, so both count.
    """
    entry: dict[str, Any] = {"pr": pr, "closed_at": recorded_at}
    if result is not None:
        usage = result.get("usage") if isinstance(result.get("usage"), dict) else None
        discarded = result.get("discarded") if isinstance(result.get("discarded"), dict) else None
        cost = _num(usage, "cost_usd")
        extra = _num(discarded, "cost_usd")
        total = None if cost is None and extra is None else (cost or 0.0) + (extra or 0.0)
        entry.update({"usage": usage, "discarded": discarded, "cost_usd": total,
                      "tokens": _tokens(usage) + _tokens(discarded), "commits": result.get("commits"),
                      "head": result.get("head")})
    return entry


def _num(data: dict[str, Any] | None, key: str) -> float | None:
    if not data:
        return None
    value = data.get(key)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _tokens(data: dict[str, Any] | None) -> int:
    if not data:
        return 0
    return int(sum(_num(data, k) or 0 for k in ("input", "output", "cache_read", "cache_write")))


def merge_note(existing: dict[str, Any] | None, change: dict[str, Any] | None = None,
               abandoned: dict[str, Any] | None = None, usage: dict[str, Any] | None = None) -> dict[str, Any]:
    """A new note body: ``change`` and ``usage`` replace the old ones; ``abandoned`` replaces the entry of the same PR."""
    note: dict[str, Any] = {"schema": SCHEMA}
    if existing:
        if isinstance(existing.get("change"), dict):
            note["change"] = existing["change"]
        if isinstance(existing.get("usage"), dict):
            note["usage"] = existing["usage"]
        if isinstance(existing.get("abandoned"), list):
            note["abandoned"] = [a for a in existing["abandoned"] if isinstance(a, dict)]
    if change is not None:
        note["change"] = change
    if usage is not None:
        note["usage"] = usage
    if abandoned is not None:
        kept = [a for a in note.get("abandoned", []) if a.get("pr") != abandoned.get("pr")]
        note["abandoned"] = [*kept, abandoned]
    return note


def parse_note(text: str) -> dict[str, Any] | None:
    """A note's JSON object, or ``None`` when it is not one of ours (malformed notes are ignored).

    Each note is written as one line of JSON, so two notes joined by ``git
    notes merge -s cat_sort_uniq`` (the strategy for concurrent pushes) are
    read line by line and folded together instead of being dropped.
    """
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        parts = [part for part in (_one(line) for line in text.splitlines() if line.strip()) if part is not None]
        if not parts:
            return None
        folded: dict[str, Any] | None = None
        for part in parts:
            folded = merge_note(folded, change=part.get("change"), usage=part.get("usage"))
            for entry in part.get("abandoned", []):
                folded = merge_note(folded, abandoned=entry)
        return folded
    return _checked(data)


def _one(line: str) -> dict[str, Any] | None:
    try:
        return _checked(json.loads(line))
    except (ValueError, RecursionError):
        return None


def _checked(data: Any) -> dict[str, Any] | None:
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        return None
    for key in ("change", "usage"):
        if key in data and not isinstance(data[key], dict):
            data.pop(key)
    if "abandoned" in data:
        if isinstance(data["abandoned"], list):
            data["abandoned"] = [a for a in data["abandoned"] if isinstance(a, dict)]
        else:
            data.pop("abandoned")
    return data


def resolve_commit(repo: Path, rev: str) -> str:
    proc = _git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", rev + "^{commit}", ok=(0, 1))
    sha = proc.stdout.strip()
    if proc.returncode != 0 or not sha:
        raise CommitledgerError(f"unknown revision '{rev}'")
    return sha


def read_note(repo: Path, commit: str) -> dict[str, Any] | None:
    proc = _git(repo, "notes", f"--ref={NOTES_REF}", "show", commit, ok=(0, 1))  # 1: no note
    if proc.returncode != 0:
        return None
    return parse_note(proc.stdout)


def write_note(repo: Path, commit: str, note: dict[str, Any]) -> None:
    body = json.dumps(note, sort_keys=True, separators=(",", ":"))
    _git(repo, "notes", f"--ref={NOTES_REF}", "add", "-f", "-F", "-", commit, input=body + "\n")


def record_change(repo: Path, rev: str, pr: int | None, result: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """Attach a merged change's CI facts to its merge or squash commit, keeping abandoned entries there."""
    commit = resolve_commit(repo, rev)
    if pr is None:  # a GitHub merge or squash commit names its PR in the subject
        from commitledger.ledger.commitmsg import pr_number

        pr = pr_number(_git(repo, "log", "-1", "--format=%B", commit).stdout)
    note = merge_note(read_note(repo, commit), change=change_facts(pr, result, now_iso()))
    write_note(repo, commit, note)
    return commit, note


def record_abandoned(repo: Path, rev: str, pr: int, result: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """Record an abandoned PR on its merge-base, next to any other PR abandoned there."""
    commit = resolve_commit(repo, rev)
    note = merge_note(read_note(repo, commit), abandoned=abandoned_facts(pr, result, now_iso()))
    write_note(repo, commit, note)
    return commit, note


def usage_facts(pr: int, head: str, lines: int, usage: dict[str, Any] | None, discarded: dict[str, Any] | None,
                discarded_commits: int, commits: int, recorded_at: str, keys: list[str] | None = None) -> dict[str, Any]:
    """The ``usage`` part of a note: what the merged PR's own commits recorded, read from its head.

    ``lines`` is how many ``AI-Usage`` lines ``usage`` sums. Readers take
    ``usage`` instead of the change's message only when the message carries
    fewer lines than that (the merge dropped some), and always add
    ``discarded`` (work force-pushed away, which no message carries), so
    nothing is counted twice. ``keys`` are the commit keys whose lines
    ``usage`` sums, so a PR stacked on this one leaves them out of its own.
    """
    return {"source": "pr-head", "pr": pr, "head": head, "lines": lines, "usage": usage, "discarded": discarded,
            "discarded_commits": discarded_commits, "commits": commits, "recorded_at": recorded_at,
            "keys": list(keys or [])}


def same_usage(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    """Two ``usage`` entries that say the same (``recorded_at`` aside): rewriting one would change nothing."""
    if a is None or b is None:
        return a is b
    return {k: v for k, v in a.items() if k != "recorded_at"} == {k: v for k, v in b.items() if k != "recorded_at"}


def record_usage(repo: Path, commit: str, entry: dict[str, Any]) -> bool:
    """Put a merged PR's ``usage`` entry on its merged commit, keeping the note's other facts.

    Returns False, writing nothing, when the note already says the same
    (``backfill`` and a re-delivered push are idempotent).
    """
    existing = read_note(repo, commit)
    if existing is not None and same_usage(existing.get("usage"), entry):
        return False
    write_note(repo, commit, merge_note(existing, usage=entry))
    return True


def load_notes(repo: Path) -> dict[str, dict[str, Any]]:
    """Every readable commitledger note, by annotated commit; empty when the ref does not exist.

    Two git processes whatever the number of notes: one lists them, one
    ``cat-file --batch`` reads all their blobs.
    """
    listing = _git(repo, "notes", f"--ref={NOTES_REF}", "list")  # an absent ref lists nothing
    if not listing.stdout.strip():
        return {}
    pairs: list[tuple[str, str]] = []
    for line in listing.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2:
            pairs.append((parts[0], parts[1]))
    if not pairs:
        return {}
    proc = _git(repo, "cat-file", "--batch", input=("\n".join(b for b, _ in pairs) + "\n").encode(), text=False)
    out: dict[str, dict[str, Any]] = {}
    data = proc.stdout
    pos = 0
    for _, commit in pairs:
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
        note = parse_note(body.decode("utf-8", "replace")) if header[1] == b"blob" else None
        if note is not None:
            out[commit] = note
    return out


def sync_notes(repo: Path, remote: str) -> str:
    """Bring the remote's notes into ours without losing either side; what happened, in words.

    The remote's ref is fetched beside ours, then merged with ``git notes
    merge -s cat_sort_uniq`` (``parse_note`` folds the joined lines back into
    one note), so notes written here and never pushed survive. Returns
    ``"none"`` when the remote has no notes yet, else ``"fetched"``.
    """
    side = NOTES_REF + "-remote"
    proc = _git(repo, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", remote, f"+{NOTES_REF}:{side}",
                ok=(0, 1, 128))
    if proc.returncode != 0:
        if "couldn't find remote ref" in proc.stderr.lower():
            return "none"
        from commitledger.git.run import failure

        raise failure(["fetch"], proc.returncode, proc.stderr)
    mine = _git(repo, "rev-parse", "--verify", "--quiet", NOTES_REF, ok=(0, 1)).stdout.strip()
    if not mine:
        _git(repo, "update-ref", NOTES_REF, side)
    else:
        _git(repo, "notes", f"--ref={NOTES_REF}", "merge", "--quiet", "-s", "cat_sort_uniq", side)
    return "fetched"


def push_notes(repo: Path, remote: str, log: Any, attempts: int = 3) -> bool:
    """Push the notes; when someone pushed first, merge theirs in and try again (``attempts`` in all)."""
    from commitledger.git.run import GitError

    for attempt in range(attempts):
        try:
            _git(repo, "push", "--quiet", remote, NOTES_REF)
            return True
        except GitError as exc:
            log(f"commitledger: notes push refused ({exc.detail or exc})")
        if attempt + 1 < attempts:
            sync_notes(repo, remote)
    return False
