"""``history --format json|csv|parquet``: streamed from the chain's columns, same contract as the models."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
from importlib import resources
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import jsonschema
import pytest

from commitledger.history import export
from commitledger.history.branch import load_history
from commitledger.ledger.models import HistoryResult
from conftest import git, run_cli
from test_history import Repo, usage


@pytest.fixture
def r(repo: Path) -> Repo:
    built = Repo(repo)
    built.commit("Initial commit", name="README.md")
    return built


def shipped_schema() -> dict:
    return json.loads(resources.files("commitledger").joinpath("data", export.SCHEMA_FILE).read_text("utf-8"))


def rich_history(r: Repo) -> dict[str, str]:
    """Every shape a row can take: merge, squash, direct, human, revert, unknown counts, a note, an abandoned PR."""
    r.branch("feature")
    r.commit(f"Add parser\n\n{usage(0.5)}")
    r.commit(f"Parser tests\n\n{usage(0.25)}", name="tests/test_parser.py", lines=3)
    merge = r.merge_pr(11, "feature", 'Parser "quoted" ünïcode\ttab')
    squash = r.commit(f"Retry uploads (#12)\n\n* one\n\n{usage(1.0)}\n\n* two\n\n{usage(0.5, agent='codex')}", lines=4)
    partial = r.commit("Only a model\n\nAI-Usage: agent=aider model=gpt-4o input=10")
    human = r.commit("=HYPERLINK(\"http://x\") by hand")
    reverted = r.commit(f"Risky\n\n{usage(2.0)}")
    revert = r.revert(reverted)
    note = {"schema": "commitledger.note/1",
            "change": {"pr": 77, "tests": {"passed": 5, "failed": 1, "errors": 0, "skipped": 2}}}
    git(r.path, "notes", "--ref=commitledger", "add", "-m", json.dumps(note), human)
    note = {"schema": "commitledger.note/1",
            "abandoned": [{"pr": 9, "closed_at": "2026-01-05T20:00:00Z", "cost_usd": 1.5, "tokens": 100}]}
    git(r.path, "notes", "--ref=commitledger", "add", "-m", json.dumps(note), partial)
    return {"merge": merge, "squash": squash, "partial": partial, "human": human, "reverted": reverted,
            "revert": revert}


def cli_json(path: Path, *args: str) -> dict:
    proc = run_cli("history", "--since", "all", "--format", "json", *args, cwd=path)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_streamed_json_is_the_model_dump_and_validates_against_the_shipped_schema(r: Repo) -> None:
    shas = rich_history(r)
    streamed = cli_json(r.path, "--lines", "all")
    model = load_history(r.path, since_label="all", lines="all").result.dump()
    assert streamed == model  # same keys, same order of changes, same values as the pydantic path
    jsonschema.validate(streamed, shipped_schema())
    HistoryResult.model_validate(streamed)
    rows = {c["commit"]: c for c in streamed["changes"] if c["kind"] != "abandoned"}
    assert rows[shas["human"]]["tests"]["failed"] == 1 and rows[shas["human"]]["pr"] == 77
    assert rows[shas["partial"]]["usage"]["input"] == 10
    assert rows[shas["partial"]]["usage"]["priced_later"] == 1  # no cost_usd in the trailer: priced from tokens
    assert "priced_later" not in rows[shas["squash"]]["usage"]
    assert rows[shas["reverted"]]["reverted_by"] == shas["revert"]
    assert [c["kind"] for c in streamed["changes"]].count("abandoned") == 1
    assert rows[shas["merge"]]["title"] == 'Parser "quoted" ünïcode\ttab'


def test_default_lines_are_null_for_human_changes_in_every_format(r: Repo, tmp_path: Path) -> None:
    shas = rich_history(r)
    data = cli_json(r.path)
    rows = {c["commit"]: c for c in data["changes"] if c["kind"] != "abandoned"}
    assert rows[shas["human"]]["lines_changed"] is None and rows[shas["squash"]]["lines_changed"] == 4
    jsonschema.validate(data, shipped_schema())
    assert data == load_history(r.path, since_label="all").result.dump()


def test_the_shipped_schema_is_the_contract_and_rejects_what_the_contract_rejects(r: Repo) -> None:
    assert shipped_schema() == export.json_schema(), (
        "data/history.schema.json is stale: python -c 'from commitledger.history.export import write_schema; write_schema()'"
    )
    rich_history(r)
    data = cli_json(r.path)
    broken = json.loads(json.dumps(data))
    del broken["changes"][0]["reverted_by"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, shipped_schema())
    broken = json.loads(json.dumps(data))
    broken["changes"][0]["surprise"] = 1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, shipped_schema())


def test_empty_window_streams_valid_json(r: Repo) -> None:
    data = cli_json(r.path, "--until", "2000-01-01")
    assert data["changes"] == [] and data["summary"]["merged"] == 0
    jsonschema.validate(data, shipped_schema())


def test_csv_rows_match_the_json_rows_and_neutralise_formulas(r: Repo) -> None:
    shas = rich_history(r)
    data = cli_json(r.path)
    proc = run_cli("history", "--since", "all", "--format", "csv", cwd=r.path)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert list(rows[0]) == list(export.CSV_COLUMNS)
    assert len(rows) == len(data["changes"])
    by = {row["commit"]: row for row in rows if row["kind"] != "abandoned"}
    assert by[shas["human"]]["title"].startswith("'=HYPERLINK")  # text in a spreadsheet, not a formula
    assert by[shas["human"]]["tests_passed"] == "5" and by[shas["human"]]["lines_changed"] == ""
    assert by[shas["squash"]]["cost_usd"] == "1.5" and by[shas["squash"]]["ai"] == "1"
    assert by[shas["reverted"]]["reverted_by"] == shas["revert"]
    for change in data["changes"]:
        row = by[change["commit"]] if change["kind"] != "abandoned" else next(
            x for x in rows if x["kind"] == "abandoned")
        assert row["merged_at"] == change["merged_at"]
        assert row["input"] == ("" if not change["usage"] or change["usage"]["input"] is None
                                else str(change["usage"]["input"]))


def test_parquet_is_typed_versioned_and_holds_the_json_rows(r: Repo, tmp_path: Path) -> None:
    shas = rich_history(r)
    data = cli_json(r.path)
    target = tmp_path / "out" / "changes.parquet"
    proc = run_cli("history", "--since", "all", "--format", "parquet", "--output", str(target), cwd=r.path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    db = duckdb.connect()
    types = dict(db.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM '{target}')").fetchall())
    assert types["merged_at"] == "TIMESTAMP WITH TIME ZONE" and types["cost_usd"] == "DOUBLE"
    assert types["agents"] == "VARCHAR[]" and types["ai"] == "BOOLEAN" and types["pr"] == "BIGINT"
    assert list(types) == list(export.CSV_COLUMNS)
    meta = dict(db.execute(f"SELECT key, value FROM parquet_kv_metadata('{target}')").fetchall())
    assert meta[b"schema"] == export.FLAT_SCHEMA.encode() and meta[b"branch"] == b"main"
    rows = {row[0]: row for row in db.execute(
        f"SELECT commit, cost_usd, lines_changed, reverted_by, tests_failed, title, strftime(merged_at AT TIME ZONE 'UTC', "
        f"'%Y-%m-%dT%H:%M:%SZ') FROM '{target}' WHERE kind <> 'abandoned'").fetchall()}
    assert len(rows) == len(data["changes"]) - 1
    assert rows[shas["squash"]][1] == pytest.approx(1.5)
    assert rows[shas["human"]][2] is None and rows[shas["human"]][4] == 1
    assert rows[shas["reverted"]][3] == shas["revert"]
    assert rows[shas["human"]][5].startswith("=HYPERLINK")  # Parquet is typed text: kept as written
    for change in data["changes"]:
        if change["kind"] != "abandoned":
            assert rows[change["commit"]][6] == change["merged_at"]
    assert not list(target.parent.glob(".commitledger-*"))  # the staging file is gone


def test_parquet_step_in_its_fresh_image_imports_this_package_not_the_repositorys(r: Repo, tmp_path: Path) -> None:
    """The DuckDB step execs a new Python (the walk's memory is not given back otherwise): that image
    must load the commitledger that was running, never a ``commitledger`` folder of the repository read."""
    rich_history(r)
    script = Path(sys.executable).with_name("commitledger")
    if not script.exists():
        pytest.skip("needs the installed console script (run_cli itself imports from the working directory)")
    marker = tmp_path / "hijacked"
    fake = r.path / "commitledger"
    fake.mkdir()
    for name in ("__init__.py", "__main__.py"):
        (fake / name).write_text(f"open({str(marker)!r}, 'w').close()\n", encoding="utf-8")
    target = tmp_path / "changes.parquet"
    proc = subprocess.run([str(script), "history", "--since", "all", "--format", "parquet", "-o", str(target)],
                          cwd=r.path, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert not marker.exists()
    assert duckdb.connect().execute(f"SELECT count(*) FROM '{target}'").fetchone()[0] >= 6


def test_a_failing_parquet_step_says_one_line_and_leaves_no_staged_rows(r: Repo, tmp_path: Path) -> None:
    """DuckDB found before the walk but failing to load in the fresh image: the image the step runs in
    reports it as any command does, and removes the rows staged beside the target."""
    rich_history(r)
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "duckdb.py").write_text("raise ImportError('broken duckdb')\n", encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(blocker) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = tmp_path / "out"
    proc = run_cli("history", "--since", "all", "--format", "parquet", "-o", str(out / "x.parquet"), cwd=r.path,
                   env=env)
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines() == ["commitledger: this needs DuckDB: pip install 'commitledger[org]'"]
    assert list(out.iterdir()) == []  # staged and removed by the step's image


def test_parquet_needs_an_output_file_and_names_the_extra_without_duckdb(r: Repo, tmp_path: Path) -> None:
    proc = run_cli("history", "--format", "parquet", cwd=r.path)
    assert proc.returncode != 0 and "--output FILE" in proc.stderr and "Traceback" not in proc.stderr
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "duckdb.py").write_text("raise ImportError('No module named duckdb')\n", encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(blocker) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = run_cli("history", "--format", "parquet", "-o", str(tmp_path / "x.parquet"), cwd=r.path, env=env)
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines() == ["commitledger: this needs DuckDB: pip install 'commitledger[org]'"]


def test_json_and_csv_to_a_file(r: Repo, tmp_path: Path) -> None:
    rich_history(r)
    out = tmp_path / "h.json"
    proc = run_cli("history", "--since", "all", "--format", "json", "-o", str(out), cwd=r.path)
    assert proc.returncode == 0 and proc.stdout == ""
    assert json.loads(out.read_text("utf-8")) == cli_json(r.path)
    proc = run_cli("history", "--format", "csv", "-o", str(tmp_path / "missing" / "h.csv"), cwd=r.path)
    assert proc.returncode != 0 and "cannot write" in proc.stderr and "Traceback" not in proc.stderr


def test_iso_of_the_export_equals_branch_iso() -> None:
    from commitledger.history.branch import iso

    fast = export._Iso()
    for ts in (0, 59, 60, 3599, 86399, 86400, 951782400, 1764633599, 4102444800, -1, -86401):
        assert fast(ts) == iso(ts)


def test_warm_exports_from_cached_fragments_follow_new_reverts_notes_and_line_counts(r: Repo) -> None:
    shas = rich_history(r)
    for _ in range(2):  # the second run joins the rows stored by the first
        assert cli_json(r.path) == load_history(r.path, since_label="all").result.dump()
    csv_first = run_cli("history", "--since", "all", "--format", "csv", cwd=r.path).stdout
    assert run_cli("history", "--since", "all", "--format", "csv", cwd=r.path).stdout == csv_first
    # a revert of an old (cached) change arrives: its row changes though its fragments do not
    revert = r.revert(shas["squash"])
    data = cli_json(r.path)
    assert {c["commit"]: c for c in data["changes"]}[shas["squash"]]["reverted_by"] == revert
    assert data == load_history(r.path, since_label="all").result.dump()
    rows = {row["commit"]: row for row in csv.DictReader(io.StringIO(
        run_cli("history", "--since", "all", "--format", "csv", cwd=r.path).stdout)) if row["kind"] != "abandoned"}
    assert rows[shas["squash"]]["reverted_by"] == revert and rows[shas["squash"]]["reverted_at"].endswith("Z")
    # lines counted later (--lines all) replace the stored rows of their segment
    assert rows[shas["human"]]["lines_changed"] == ""
    assert cli_json(r.path, "--lines", "all") == load_history(r.path, since_label="all", lines="all").result.dump()
    rows = {row["commit"]: row for row in csv.DictReader(io.StringIO(
        run_cli("history", "--since", "all", "--format", "csv", cwd=r.path).stdout)) if row["kind"] != "abandoned"}
    assert rows[shas["human"]]["lines_changed"] == "1"
    # a note added later reaches its row
    git(r.path, "notes", "--ref=commitledger", "add", "-m",
        json.dumps({"schema": "commitledger.note/1", "change": {"pr": 5, "tests": {"passed": 1, "failed": 0,
                                                                                     "errors": 0, "skipped": 0}}}),
        shas["squash"])
    data = cli_json(r.path)
    assert {c["commit"]: c for c in data["changes"]}[shas["squash"]]["tests"]["passed"] == 1
    assert data == load_history(r.path, since_label="all").result.dump()


def test_exports_of_a_window_inside_cached_segments(r: Repo) -> None:
    rich_history(r)
    cli_json(r.path)  # fills the cache and the fragments of the whole chain
    until = "2026-01-05T13:30:00Z"
    data = cli_json(r.path, "--until", until)
    assert data["changes"] and all(c["merged_at"] <= until for c in data["changes"] if c["kind"] != "abandoned")
    assert data == load_history(r.path, since_label="all",
                                until=datetime(2026, 1, 5, 13, 30, tzinfo=timezone.utc)).result.dump()


def test_warm_exports_follow_ai_notes_added_after_the_rows_were_stored(r: Repo) -> None:
    shas = rich_history(r)
    plain = r.commit("Written by hand, annotated by git-ai later")
    for fmt in ("json", "csv"):  # store the rows of both formats
        assert run_cli("history", "--since", "all", "--format", fmt, cwd=r.path).returncode == 0
    assert {c["commit"]: c for c in cli_json(r.path)["changes"]}[plain]["ai"] is False
    git(r.path, "notes", "--ref=refs/notes/ai", "add", "-m", "agent: cursor", plain)
    data = cli_json(r.path)
    assert {c["commit"]: c for c in data["changes"]}[plain]["ai"] is True
    assert data == load_history(r.path, since_label="all").result.dump()
    rows = {row["commit"]: row for row in csv.DictReader(io.StringIO(
        run_cli("history", "--since", "all", "--format", "csv", cwd=r.path).stdout)) if row["kind"] != "abandoned"}
    assert rows[plain]["ai"] == "1" and rows[shas["human"]]["ai"] == "0"


def kinds_history(r: Repo) -> dict[str, str]:
    """An AI-assisted PR touching code, tests, docs, config, a binary file and a rename; a human change of docs."""
    (r.path / "src").mkdir(exist_ok=True)
    (r.path / "src" / "old_name.py").write_text("".join(f"k{i} = {i}\n" for i in range(6)), encoding="utf-8")
    r.commit("Base code", name="src/base.py", lines=2)
    r.branch("kinds")
    (r.path / "src" / "app.py").write_text("a = 1\nb = 2\nc = 3\n", encoding="utf-8")  # code: 3
    (r.path / "tests").mkdir(exist_ok=True)
    (r.path / "tests" / "test_app.py").write_text("def test_a():\n    assert 1\n", encoding="utf-8")  # tests: 2
    (r.path / "docs").mkdir(exist_ok=True)
    (r.path / "docs" / "guide.md").write_text("# Guide\n\nUse it.\n\nWell.\n", encoding="utf-8")  # docs: 5
    (r.path / "package-lock.json").write_text("{\n  \"lockfileVersion\": 3\n}\n", encoding="utf-8")  # config: 3
    (r.path / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00binary\x00")  # binary: no lines of any kind
    git(r.path, "mv", "src/old_name.py", "src/new_name.py")  # a pure rename: 0 lines, not 6 + 6
    ai = r.commit(f"Kinds of files\n\n{usage(0.5)}", name="src/app.py", lines=3)
    merge = r.merge_pr(21, "kinds", "Every kind of path")
    human = r.commit("Notes by hand", name="docs/notes.md", lines=4)
    return {"ai": ai, "merge": merge, "human": human}


def test_lines_by_kind_in_json_csv_and_parquet_add_up_to_lines_changed(r: Repo, tmp_path: Path) -> None:
    shas = kinds_history(r)
    for _ in ("cold", "warm"):  # the second run reads the cache and the cached row fragments
        data = cli_json(r.path)
        jsonschema.validate(data, shipped_schema())
        row = next(c for c in data["changes"] if c["commit"] == shas["merge"])
        assert (row["source_lines"], row["test_lines"], row["doc_lines"], row["config_lines"]) == (3, 2, 5, 3)
        assert row["lines_changed"] == 13  # the binary file and the rename add nothing
        human = next(c for c in data["changes"] if c["commit"] == shas["human"])
        assert (human["lines_changed"], human["test_lines"], human["doc_lines"], human["config_lines"]) == (None,) * 4
        assert HistoryResult.model_validate(data).changes[0].model_dump() == data["changes"][0]
    # Not counted by default (a human change) is null, never 0; --lines all counts it, and only then.
    proc = run_cli("history", "--since", "all", "--format", "csv", "--lines", "all", cwd=r.path)
    assert proc.returncode == 0, proc.stderr
    rows = {row["commit"]: row for row in csv.DictReader(io.StringIO(proc.stdout))}
    assert [rows[shas["merge"]][k] for k in ("code_lines", "test_lines", "doc_lines", "config_lines")] == \
        ["3", "2", "5", "3"]
    assert [rows[shas["human"]][k] for k in ("lines_changed", "code_lines", "test_lines", "doc_lines",
                                              "config_lines")] == ["4", "0", "0", "4", "0"]
    target = tmp_path / "kinds.parquet"
    proc = run_cli("history", "--since", "all", "--format", "parquet", "-o", str(target), cwd=r.path)
    assert proc.returncode == 0, proc.stderr
    got = duckdb.connect().execute(
        f"SELECT commit, lines_changed, code_lines, test_lines, doc_lines, config_lines FROM '{target}'").fetchall()
    by = {sha: rest for sha, *rest in got}
    assert by[shas["merge"]] == [13, 3, 2, 5, 3]
    assert by[shas["human"]] == [4, 0, 0, 4, 0]  # counted by the --lines all run before, kept in the cache
    for sha, lines, *kinds in got:
        assert lines is None or lines == sum(kinds)


def test_csv_cells_fast_path_matches_csv_cell_on_hostile_text() -> None:
    """The ASCII shortcut of ``export._cell`` must neutralise exactly what ``render.text.csv_cell`` does."""
    import random

    from commitledger.render.text import csv_cell

    alphabet = "ab=+-@\t\r\n \x00\x1b\x7f\x85\u202e\u2066é'\"; ,x1"
    rng = random.Random(13)
    for _ in range(50_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6)))
        assert export._cell(text) == csv_cell(text), repr(text)


# --- stored rows against rows built directly ---------------------------------------------------


def history_bytes(path: Path, *args: str) -> bytes:
    """``history --since all`` as the bytes it writes (no newline translation)."""
    proc = subprocess.run([sys.executable, "-m", "commitledger", "history", "--since", "all", *args], cwd=path,
                          capture_output=True, check=False)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout


def commit_time(path: Path, sha: str) -> datetime:
    return datetime.fromtimestamp(int(git(path, "show", "-s", "--format=%ct", sha)), timezone.utc)


def test_stored_rows_equal_rows_built_directly_for_windows_that_cut_segments(r: Repo, tmp_path: Path) -> None:
    """Every format, first run and warm, byte for byte against ``change_dicts`` (no stored rows), for
    windows that take whole segments, part of one, and rows with gaps between them; with a revert
    of a stored row, notes, an abandoned PR and a commit dated before its parent."""
    shas = rich_history(r)
    for fmt in ("json", "csv"):
        history_bytes(r.path, "--format", fmt)  # stores the rows of the first segment
    history_bytes(r.path, "--format", "parquet", "--output", str(tmp_path / "first.parquet"))
    later = [r.commit(f"Later {i}\n\n{usage(0.1 * (i + 1))}") for i in range(3)]
    r.now = commit_time(r.path, shas["merge"]) - timedelta(days=1)
    early = r.commit("Dated a day before its parent")  # out of time order: windows skip rows between others
    r.now = commit_time(r.path, later[-1]) + timedelta(days=2)
    undo = r.revert(shas["squash"])  # a row stored before the revert existed
    git(r.path, "notes", "--ref=refs/notes/ai", "add", "-m", "agent: cursor", later[1])
    cut = commit_time(r.path, later[0]) + timedelta(minutes=30)
    start = commit_time(r.path, shas["partial"])
    windows = {
        "all": ((), {}),
        "until": (("--until", cut.isoformat()), {"until": cut}),  # early and later[0]: rows 1 and 4 of 5
        "since": (("--since", start.isoformat()), {"since": start}),  # part of the first segment
    }
    for name, (args, window) in windows.items():
        history = load_history(r.path, since_label="all" if not args or args[0] == "--until" else args[1], **window)
        rows = list(export.change_dicts(history))
        assert {row["commit"] for row in rows} >= ({early} if name != "since" else set())
        if name == "all":
            assert {row["commit"]: row for row in rows}[shas["squash"]]["reverted_by"] == undo
        dumps = export._dumps()
        expected = {
            "json": b",".join(map(dumps, rows)),
            "csv": (",".join(export.CSV_COLUMNS) + "\n").encode() + b"".join(map(export._csv_line, rows)),
        }
        staged = tmp_path / f"{name}.ndjson"
        with staged.open("wb") as handle:
            export.ndjson_rows(history, handle)
        for attempt in ("first", "warm"):
            out = history_bytes(r.path, "--format", "json", *args)
            assert out[out.index(b'"changes":[') + 11 : out.index(b'],"summary":')] == expected["json"], (name, attempt)
            assert json.loads(out) == history.result.dump()
            assert history_bytes(r.path, "--format", "csv", *args) == expected["csv"], (name, attempt)
            target = tmp_path / f"{name}-{attempt}.parquet"
            history_bytes(r.path, "--format", "parquet", "--output", str(target), *args)
            db = duckdb.connect()
            direct = f"read_ndjson('{staged}', columns = {export.column_types()})"
            assert db.execute(f"SELECT count(*) FROM '{target}'").fetchone()[0] == len(rows)
            for a, b in ((f"'{target}'", direct), (direct, f"'{target}'")):
                assert db.execute(f"SELECT count(*) FROM (SELECT * FROM {a} EXCEPT ALL SELECT * FROM {b})"
                                  ).fetchone()[0] == 0, (name, attempt)


def test_rows_stored_in_an_older_layout_go_when_their_segment_is_stored_again(r: Repo) -> None:
    rich_history(r)
    history_bytes(r.path, "--format", "json")
    cache = r.path / ".git" / "commitledger" / "cache.sqlite"
    db = sqlite3.connect(str(cache))
    [(current,)] = db.execute("SELECT ver FROM history_export WHERE fmt LIKE 'json%'").fetchall()
    facts, layout, *schemas = current.rsplit(":", 3)  # facts version, layout, the two schemas
    older = ":".join([facts, str(int(layout) - 1), *schemas])
    other_config = ":".join(["another-facts-version", layout, *schemas])  # another worktree's: not ours to drop
    with db:  # what an earlier release stored, and what a run with other test patterns stores
        db.execute("UPDATE history_export SET ver = ? WHERE fmt LIKE 'json%'", (older,))
        db.execute("INSERT INTO history_export SELECT tip, ?, fmt, stamp, rows FROM history_export WHERE ver = ?",
                   (other_config, older))
    first = history_bytes(r.path, "--format", "json")
    assert sorted(v for (v,) in db.execute("SELECT ver FROM history_export WHERE fmt LIKE 'json%'")) == \
        sorted([current, other_config])
    assert history_bytes(r.path, "--format", "json") == first
    db.close()
