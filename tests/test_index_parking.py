"""The offset index with other repositories' sessions beside this one's (issue 12).

A ``fixed_cwd`` reader's file whose events all lay in another worktree is
parked: its record is kept apart, undecoded, and an idle commit whose
listing comes from the cache does not stat it. What it must still find: a
new session in the same folder, a replaced file, and everything again after
the worktree changes. A torn or oddly shaped index is a cache miss.
"""

from __future__ import annotations

import gc
import json
import marshal
import os
import shutil
from pathlib import Path

from commitledger.capture.base import Env
from commitledger.capture.index import INDEX_FILE, collect, save_index
from commitledger.hook.window import Attributor

from conftest import AGENT_LOGS

OLD = 1_700_000_000  # folders settled long ago: their listing may be cached
AMP_FIXTURE = AGENT_LOGS / "amp" / "threads" / "T-5b1d0c3e-1f2a-4c9b-8e7d-6a5f4e3d2c1b.json"
CLINE_TASKS = "Code/User/globalStorage/saoudrizwan.claude-dev/tasks"
FIXTURE_CWD = "/home/alice/src/acme-web"


def _worktrees(tmp_path: Path) -> tuple[Path, Path]:
    mine, other = tmp_path / "mine", tmp_path / "other"
    for path in (mine, other):
        (path / ".git").mkdir(parents=True)
    return mine, other


def _thread(path: Path, cwd: Path, title: str = "") -> None:
    document = json.loads(AMP_FIXTURE.read_text(encoding="utf-8"))
    document["env"] = {"initial": {"trees": [{"uri": f"file://{cwd}"}]}}
    document["id"] = path.stem  # the thread id keys its requests
    document["title"] = title
    path.write_text(json.dumps(document), encoding="utf-8")


def _settle(*folders: Path) -> None:
    for folder in folders:
        os.utime(folder, (OLD, OLD))


def _amp(tmp_path: Path) -> tuple[Path, Path, Path, Path, Env]:
    """An Amp data folder with one thread of ``mine`` and one of ``other``."""
    mine, other = _worktrees(tmp_path)
    threads = tmp_path / "amp" / "threads"
    threads.mkdir(parents=True)
    _thread(threads / "T-11111111-1f2a-4c9b-8e7d-6a5f4e3d2c1b.json", mine)
    theirs = threads / "T-22222222-1f2a-4c9b-8e7d-6a5f4e3d2c1b.json"
    _thread(theirs, other)
    _settle(threads)
    env = Env(home=tmp_path, environ={"AMP_DATA_DIR": str(tmp_path / "amp")}, extra={"worktree": str(mine)})
    return mine, other, threads, theirs, env


def test_an_idle_commit_does_not_stat_another_worktrees_thread(tmp_path: Path) -> None:
    mine, _, threads, theirs, env = _amp(tmp_path)
    state = tmp_path / "state"
    accept = Attributor(mine)
    first = collect(state, env, accept, ["amp"])
    save_index(state, first)
    assert first.events and all(e.cwd == str(mine) for e in first.events)
    assert first.stats["amp"].files == 2 and first.stats["amp"].parked == 0  # the listing was built: both statted

    idle = collect(state, env, accept, ["amp"])
    stats = idle.stats["amp"]
    assert (stats.listed_from_cache, stats.parked, stats.files, stats.bytes_read) == (True, 1, 2, 0)
    assert not idle.dirty

    # The other repository's thread grows in place: not read, not even statted, nothing to write.
    _thread(theirs, tmp_path / "other", title="a longer title than before")
    grown = collect(state, env, accept, ["amp"])
    stats = grown.stats["amp"]
    assert (stats.parked, stats.skipped_foreign, stats.bytes_read, grown.events) == (1, 0, 0, [])
    assert not grown.dirty


def test_a_new_or_replaced_thread_beside_a_parked_one_is_read(tmp_path: Path) -> None:
    mine, _, threads, theirs, env = _amp(tmp_path)
    state = tmp_path / "state"
    accept = Attributor(mine)
    save_index(state, collect(state, env, accept, ["amp"]))
    _thread(theirs, tmp_path / "other", title="grown while parked")

    # A new thread of this worktree in the same folder: the folder's mtime moved, the listing is built again,
    # the new thread is read and the parked one is statted (it grew: updated, still not read).
    new = threads / "T-33333333-1f2a-4c9b-8e7d-6a5f4e3d2c1b.json"
    _thread(new, mine)
    found = collect(state, env, accept, ["amp"])
    save_index(state, found)
    stats = found.stats["amp"]
    assert not stats.listed_from_cache and stats.files == 3 and stats.skipped_foreign == 1
    assert stats.bytes_read == new.stat().st_size
    assert {e.session for e in found.events} == {new.stem}

    # The parked thread replaced by one that holds this worktree's requests: read again.
    _settle(threads)
    save_index(state, collect(state, env, accept, ["amp"]))  # listed while settled: parked again
    assert collect(state, env, accept, ["amp"]).stats["amp"].parked == 1
    copy = theirs.with_suffix(".new")
    _thread(copy, mine)
    os.replace(copy, theirs)
    replaced = collect(state, env, accept, ["amp"])
    assert replaced.stats["amp"].parked == 0
    assert theirs.stem in {e.session for e in replaced.events}


def test_parked_threads_come_back_for_another_worktree(tmp_path: Path) -> None:
    """The marks hold for the worktree they were made for; the other repository's own commit reads its thread."""
    mine, other, threads, theirs, env = _amp(tmp_path)
    state = tmp_path / "state"
    save_index(state, collect(state, env, Attributor(mine), ["amp"]))
    assert collect(state, env, Attributor(mine), ["amp"]).stats["amp"].parked == 1
    save_index(state, collect(state, env, Attributor(other), ["amp"]))
    _thread(theirs, other, title="more")
    _settle(threads)
    theirs_run = collect(state, env, Attributor(other), ["amp"])
    assert theirs_run.stats["amp"].parked == 0 and theirs_run.stats["amp"].files == 2
    assert {e.session for e in theirs_run.events} == {theirs.stem}


def _cline(tmp_path: Path, mine: Path, other: Path) -> tuple[Path, Path, Env]:
    """Cline's tasks folder with one task of ``other`` (``1778068800000``) and one of ``mine``."""
    home = tmp_path / "home"
    shutil.copytree(AGENT_LOGS / "cline", home / ".config")
    tasks = home / ".config" / CLINE_TASKS
    theirs = tasks / "1778068800000"
    ours = tasks / "1778068900000"
    shutil.copytree(theirs, ours)
    for folder, cwd in ((theirs, other), (ours, mine)):
        for path in folder.iterdir():
            path.write_text(path.read_text(encoding="utf-8").replace(FIXTURE_CWD, str(cwd)), encoding="utf-8")
    _settle(theirs, ours, tasks)
    return tasks, theirs, Env(home=home, environ={}, extra={"worktree": str(mine)})


def test_a_log_replaced_inside_a_parked_task_folder_is_read_at_the_next_listing(tmp_path: Path) -> None:
    """A task folder holding its ``ui_messages.json`` is not in the listing signature (``leaf_file``).

    A log replaced there (new inode, the folder's own mtime moves) is the same task's, with the same
    working directory: an idle commit leaves it parked; it is statted, and read, when the listing is
    next built (here: a new task appears).
    """
    mine, other = _worktrees(tmp_path)
    tasks, theirs, env = _cline(tmp_path, mine, other)
    state = tmp_path / "state"
    accept = Attributor(mine)
    first = collect(state, env, accept, ["cline"])
    save_index(state, first)
    assert first.events and {e.cwd for e in first.events} == {str(mine)}
    assert collect(state, env, accept, ["cline"]).stats["cline"].parked == 1

    log = theirs / "ui_messages.json"
    copy = theirs / "ui_messages.json.new"
    shutil.copy(log, copy)
    os.replace(copy, log)
    (theirs / "api_conversation_history.json").write_text(
        (theirs / "api_conversation_history.json").read_text(encoding="utf-8").replace(str(other), str(mine)),
        encoding="utf-8")  # fmt: skip
    idle = collect(state, env, accept, ["cline"])
    assert idle.stats["cline"].parked == 1 and idle.events == []

    (tasks / "1778069000000").mkdir()  # a new task: the tasks folder changed, the listing is built again
    listed = collect(state, env, accept, ["cline"])
    assert not listed.stats["cline"].listed_from_cache and listed.stats["cline"].parked == 0
    assert theirs.name in {e.session for e in listed.events}


def test_a_torn_or_misshapen_index_is_rebuilt_not_an_error(tmp_path: Path) -> None:
    mine, _, threads, theirs, env = _amp(tmp_path)
    state = tmp_path / "state"
    accept = Attributor(mine)
    cold = collect(state, env, accept, ["amp"])
    save_index(state, cold)
    want = sorted(e.key for e in cold.events)
    index_path = state / INDEX_FILE
    good = index_path.read_bytes()

    index_path.write_bytes(good[: len(good) // 2])  # torn
    again = collect(state, env, accept, ["amp"])
    assert sorted(e.key for e in again.events) == want and gc.isenabled()

    index = marshal.loads(good)
    amp = index["readers"]["amp"]
    for record in amp["files"].values():
        del record[4:]  # records of another layout, under this version
    index_path.write_bytes(marshal.dumps(index))
    misshapen = collect(state, env, accept, ["amp"])
    assert sorted(e.key for e in misshapen.events) == want and misshapen.stats["amp"].files == 2

    # A listing of non-paths must not be statted (os.stat(3) would stat a file descriptor).
    index = marshal.loads(good)
    index["readers"]["amp"]["listing"]["files"] = [0, 1, 2]
    index["readers"]["amp"]["foreign"] = [b"\x00not marshal", 1, 0]
    index_path.write_bytes(marshal.dumps(index))
    odd = collect(state, env, accept, ["amp"])
    assert odd.stats["amp"].files == 2 and not odd.stats["amp"].listed_from_cache
    assert odd.stats["amp"].bytes_read == theirs.stat().st_size  # its record lost: read again, still not ours
    assert odd.events == []


def test_a_version_2_index_is_listed_again_once_and_nothing_is_read_again(tmp_path: Path) -> None:
    """Upgrading keeps the offsets: the old layout (every record together) is split at the next listing."""
    mine, _, threads, theirs, env = _amp(tmp_path)
    state = tmp_path / "state"
    accept = Attributor(mine)
    save_index(state, collect(state, env, accept, ["amp"]))
    index = marshal.loads((state / INDEX_FILE).read_bytes())
    amp = index["readers"]["amp"]
    blob, count, _ = amp.pop("foreign")
    assert count == 1
    amp["files"].update(marshal.loads(blob))
    amp["listing"]["files"] = sorted(amp["files"])
    index["version"] = 2
    (state / INDEX_FILE).write_bytes(marshal.dumps(index))

    upgraded = collect(state, env, accept, ["amp"])
    save_index(state, upgraded)
    stats = upgraded.stats["amp"]
    assert (stats.bytes_read, stats.listed_from_cache, stats.files, upgraded.events) == (0, False, 2, [])
    assert collect(state, env, accept, ["amp"]).stats["amp"].parked == 1


def test_a_session_in_another_repositorys_folder_keeps_the_listing_cached(tmp_path: Path) -> None:
    """Stores that file sessions by working directory list only this worktree's folders (``listed_folders``).

    Another repository's folder is left out of the listing signature: a session started there does not
    make this worktree's next commit list everything again. One started in this worktree's folder is found.
    """
    from agent_homes import place

    home = tmp_path / "home"
    mine, other = tmp_path / "src" / "web", tmp_path / "src" / "api"
    for repo in (mine, other):
        (repo / ".git").mkdir(parents=True)
    agents = ["pi", "qwen-code", "droid", "kimi", "grok"]
    place(home, agents, repo=other)
    place(home, agents, repo=mine)
    registry = {"work_dirs": [{"path": str(other), "kaos": "local"}, {"path": str(mine), "kaos": "local"}]}
    (home / ".kimi" / "kimi.json").write_text(json.dumps(registry), encoding="utf-8")
    claude = home / "claude"
    for repo in (other, mine):
        folder = claude / "projects" / "".join(ch if ch.isalnum() else "-" for ch in str(repo))
        shutil.copytree(AGENT_LOGS / "claude-code" / "projects" / FIXTURE_CWD.replace("/", "-"), folder)
        for path in folder.rglob("*.jsonl"):
            path.write_text(path.read_text(encoding="utf-8").replace(FIXTURE_CWD, str(repo)), encoding="utf-8")
    agents.append("claude-code")
    for path in [home, *home.rglob("*")]:
        os.utime(path, (OLD, OLD), follow_symlinks=False)
    env = Env(home=home, environ={"CLAUDE_CONFIG_DIR": str(claude)}, extra={"worktree": str(mine)})
    everywhere = Env(home=home, environ=env.environ, extra={})
    state = tmp_path / "state"
    accept = Attributor(mine)
    first = collect(state, env, accept, agents)
    save_index(state, first)
    index = marshal.loads((state / INDEX_FILE).read_bytes())
    from commitledger.capture.base import load_reader

    for agent in agents:
        listed = {str(p) for p in load_reader(agent).files(env)}
        theirs = sorted(str(p) for p in load_reader(agent).files(everywhere) if str(p) not in listed)
        assert listed and theirs, agent
        signature = {path for path, _ in index["readers"][agent]["listing"]["sig"]}
        assert not any(os.path.dirname(p) in signature for p in theirs), agent

        def new_session(path: str) -> Path:
            source = Path(path)
            if source.name in ("wire.jsonl", "updates.jsonl"):  # a session folder holding its one log
                target = source.parent.with_name(source.parent.name[:-4] + "beef")
                shutil.copytree(source.parent, target)
                return target / source.name
            target = source.with_name("0-new-" + source.name)
            shutil.copy(source, target)
            return target

        new_session(theirs[0])
        assert collect(state, env, accept, [agent]).stats[agent].listed_from_cache, agent
        ours = new_session(sorted(listed)[0])
        found = collect(state, env, accept, [agent])
        assert not found.stats[agent].listed_from_cache, agent
        assert found.stats[agent].files == first.stats[agent].files + 1, agent
        assert str(ours) in {str(p) for p in load_reader(agent).files(env)}, agent
