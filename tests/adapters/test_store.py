"""The run history: real SQLite files, several real processes writing at once, migrations."""
from __future__ import annotations

import itertools
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

import pytest

from kernel_ext.adapters import store as store_module
from kernel_ext.adapters.store import MIGRATIONS, RunStore
from kernel_ext.core.runs import CellError, ExecutionRecord, RunStatus, StepRecord
from kernel_ext.errors import NbopsError

ROOT = Path(__file__).resolve().parents[2]
T0 = 1_700_000_000.0


def execution(id: str, started: float = T0, flow: str = "daily", namespace: str = "acme.data",
              batch: str | None = None, steps: tuple[StepRecord, ...] = (),
              status: RunStatus = RunStatus.RUNNING) -> ExecutionRecord:
    return ExecutionRecord(id, namespace, flow, f"notebooks/{flow}.ipynb", {"x": 1}, status, started,
                           batch=batch, steps=steps)


def step(name: str, started: float = T0, status: RunStatus = RunStatus.RUNNING, **changes: object) -> StepRecord:
    return StepRecord(name, f"notebooks/{name}.ipynb", status, started, **changes)  # type: ignore[arg-type]


@pytest.fixture
def db(tmp_path: Path) -> Iterator[RunStore]:
    with RunStore(tmp_path / ".nbops" / "state.db") as opened:
        yield opened


def assert_same(got: object, want: object) -> None:
    """Field by field, so a failure names the field."""
    for f in fields(want):  # type: ignore[arg-type]
        assert getattr(got, f.name) == getattr(want, f.name), f.name


# --- round trip ---------------------------------------------------------------------------------------

def test_an_execution_with_a_failed_step_round_trips(db: RunStore) -> None:
    params = {"day": "2024-01-31", "limits": {"rows": [1, 2, {"deep": None}], "ratio": 0.25}, "on": True}
    extract = step("extract", T0 + 1, RunStatus.SUCCESS, ended=T0 + 3.5, output_notebook=".nbops/runs/e1/extract.ipynb",
                   parameters=params, outputs={"rows": 120, "files": ["a.csv", "b.csv"]})
    error = CellError(7, "ZeroDivisionError", "division by zero", "Traceback (most recent call last):\n  ...\n")
    report = step("report", T0 + 4, RunStatus.FAILED, ended=T0 + 9.25, attempts=3, error=error,
                  output_notebook=".nbops/runs/e1/report.ipynb", outputs={"partial": {"n": 1}})
    record = ExecutionRecord("e1", "acme.data", "daily", "notebooks/daily.ipynb", params, RunStatus.RUNNING, T0,
                             git_commit="0123abcd" * 5, git_dirty=True, batch="sweep-1", steps=(extract,))
    db.start_execution(record)
    db.record_step("e1", report)
    db.finish_execution("e1", RunStatus.FAILED, T0 + 10)

    got = db.get_execution("e1")
    want = ExecutionRecord(**{**record.__dict__, "status": RunStatus.FAILED, "ended": T0 + 10,
                              "steps": (extract, report)})
    assert_same(got, want)
    for got_step, want_step in zip(got.steps, want.steps, strict=True):
        assert_same(got_step, want_step)
    assert got == want
    assert got.duration == 10
    assert [s.duration for s in got.steps] == [2.5, 5.25]
    assert got.steps[1].error == error and got.steps[0].error is None
    assert got.outputs == {"rows": 120, "files": ["a.csv", "b.csv"], "partial": {"n": 1}}
    assert isinstance(got.status, RunStatus) and got.git_dirty is True


def test_values_json_cannot_hold_are_stored_as_text(db: RunStore) -> None:
    params = {"path": Path("/data/x"), "pair": (1, 2)}
    db.start_execution(ExecutionRecord("e1", "ns", "f", "nb.ipynb", params, RunStatus.RUNNING, T0))
    assert db.get_execution("e1").parameters == {"path": "/data/x", "pair": [1, 2]}


def test_a_clean_tree_and_no_commit_stay_distinct(db: RunStore) -> None:
    db.start_execution(ExecutionRecord("clean", "ns", "f", "nb.ipynb", {}, RunStatus.RUNNING, T0, git_commit="ab",
                                       git_dirty=False))
    db.start_execution(ExecutionRecord("nogit", "ns", "f", "nb.ipynb", {}, RunStatus.RUNNING, T0))
    assert db.get_execution("clean").git_dirty is False
    assert (db.get_execution("nogit").git_dirty, db.get_execution("nogit").git_commit) == (None, None)


def test_recording_a_step_again_replaces_it(db: RunStore) -> None:
    db.start_execution(execution("e1", steps=(step("only"),)))
    db.record_step("e1", step("only", status=RunStatus.FAILED, ended=T0 + 1, attempts=1,
                              error=CellError(None, "KernelDied", "the kernel died")))
    db.record_step("e1", step("only", status=RunStatus.SUCCESS, ended=T0 + 2, attempts=2))
    (only,) = db.get_execution("e1").steps
    assert (only.attempts, only.status, only.ended, only.error) == (2, RunStatus.SUCCESS, T0 + 2, None)


def test_steps_come_back_in_start_order(db: RunStore) -> None:
    db.start_execution(execution("e1"))
    for name, offset in (("c", 3), ("a", 1), ("b", 2)):
        db.record_step("e1", step(name, T0 + offset))
    assert [s.step for s in db.get_execution("e1").steps] == ["a", "b", "c"]


def test_writing_about_an_unknown_or_duplicate_execution_is_an_nbops_error(db: RunStore) -> None:
    db.start_execution(execution("e1"))
    with pytest.raises(NbopsError, match="already in the run history"):
        db.start_execution(execution("e1"))
    with pytest.raises(NbopsError, match="no execution 'nope'"):
        db.record_step("nope", step("s"))
    with pytest.raises(NbopsError, match="no execution 'nope'"):
        db.finish_execution("nope", RunStatus.SUCCESS, T0)
    assert len(db.list_executions()) == 1  # the failed writes left nothing behind


# --- listing and lookup ------------------------------------------------------------------------------

def test_list_is_newest_first_and_filters_by_flow_batch_and_limit(db: RunStore) -> None:
    db.start_execution(execution("a1", T0 + 1, flow="daily", steps=(step("s", T0 + 1),)))
    db.start_execution(execution("b1", T0 + 2, flow="weekly", batch="sweep"))
    db.start_execution(execution("a2", T0 + 3, flow="daily", batch="sweep"))
    db.start_execution(execution("o1", T0 + 4, flow="daily", namespace="other"))

    assert [e.id for e in db.list_executions()] == ["o1", "a2", "b1", "a1"]
    assert [e.id for e in db.list_executions(flow="daily")] == ["o1", "a2", "a1"]
    assert [e.id for e in db.list_executions(flow="acme.data.daily")] == ["a2", "a1"]
    assert [e.id for e in db.list_executions(flow="other.daily")] == ["o1"]
    assert db.list_executions(flow="acme.data") == []
    assert [e.id for e in db.list_executions(batch="sweep")] == ["a2", "b1"]
    assert [e.id for e in db.list_executions(flow="daily", batch="sweep")] == ["a2"]
    assert [e.id for e in db.list_executions(limit=2)] == ["o1", "a2"]
    assert [e.id for e in db.list_executions(flow="daily", limit=1)] == ["o1"]
    assert [[s.step for s in e.steps] for e in db.list_executions()] == [[], [], [], ["s"]]


def test_equal_start_times_list_the_later_insert_first(db: RunStore) -> None:
    for name in ("first", "second", "third"):
        db.start_execution(execution(name, T0))
    assert [e.id for e in db.list_executions()] == ["third", "second", "first"]


def test_an_execution_is_found_by_a_unique_prefix(db: RunStore) -> None:
    for id in ("3f2a9c", "3f2b01", "77aa00", "77"):
        db.start_execution(execution(id))
    assert db.get_execution("3f2a").id == "3f2a9c"
    assert db.get_execution("3f2b01").id == "3f2b01"
    assert db.get_execution("77").id == "77"  # an exact id wins over longer ids it prefixes
    with pytest.raises(NbopsError, match="ambiguous") as info:
        db.get_execution("3f2")
    assert "3f2a9c" in str(info.value) and "3f2b01" in str(info.value)
    with pytest.raises(NbopsError, match="no execution 'zz'"):
        db.get_execution("zz")
    with pytest.raises(NbopsError, match="no execution id"):
        db.get_execution("")


def test_prefix_lookup_is_literal_and_case_sensitive(db: RunStore) -> None:
    db.start_execution(execution("AbC_1"))
    with pytest.raises(NbopsError, match="no execution"):
        db.get_execution("abc")
    with pytest.raises(NbopsError, match="no execution"):
        db.get_execution("A%")
    assert db.get_execution("AbC_").id == "AbC_1"


# --- interruption ---------------------------------------------------------------------------------------

def test_mark_interrupted_changes_running_rows_only(db: RunStore) -> None:
    db.start_execution(execution("run", steps=(step("done", status=RunStatus.SUCCESS, ended=T0 + 1),
                                               step("busy", T0 + 1))))
    db.start_execution(execution("ok", steps=(step("s", status=RunStatus.SUCCESS, ended=T0 + 2),)))
    db.finish_execution("ok", RunStatus.SUCCESS, T0 + 2)
    db.start_execution(execution("other", steps=(step("s"),)))
    db.mark_interrupted(["run", "ok", "unknown"], T0 + 50)

    run = db.get_execution("run")
    assert (run.status, run.ended) == (RunStatus.INTERRUPTED, T0 + 50)
    assert [(s.status, s.ended) for s in run.steps] == [(RunStatus.SUCCESS, T0 + 1), (RunStatus.INTERRUPTED, T0 + 50)]
    ok = db.get_execution("ok")
    assert (ok.status, ok.ended, ok.steps[0].status) == (RunStatus.SUCCESS, T0 + 2, RunStatus.SUCCESS)
    other = db.get_execution("other")
    assert (other.status, other.steps[0].status) == (RunStatus.RUNNING, RunStatus.RUNNING)


# --- the file: WAL, schema version, migrations, broken files ------------------------------------------

def pragma(path: Path, name: str) -> object:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]
    finally:
        conn.close()


def test_the_database_is_created_in_wal_mode_at_the_current_version(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "state.db"
    RunStore(path).close()
    assert path.is_file()
    assert pragma(path, "journal_mode") == "wal"
    assert pragma(path, "user_version") == len(MIGRATIONS)


def test_an_empty_file_is_migrated_and_reopening_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.touch()
    with RunStore(path) as db:
        db.start_execution(execution("e1"))
    schema = sqlite3.connect(path).execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
    changes = pragma(path, "data_version"), path.stat().st_mtime_ns
    with RunStore(path) as db:
        assert db.get_execution("e1").id == "e1"
    assert sqlite3.connect(path).execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall() == schema
    assert (pragma(path, "data_version"), path.stat().st_mtime_ns) == changes
    assert pragma(path, "user_version") == len(MIGRATIONS)


def test_an_old_database_is_upgraded_keeping_its_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "state.db"
    conn = sqlite3.connect(path)  # a database as an nbops knowing only the first migration left it
    conn.executescript(MIGRATIONS[0] + "; PRAGMA user_version = 1;")
    conn.execute("INSERT INTO executions VALUES ('old', 'ns', 'f', 'nb.ipynb', '{}', 'SUCCESS', 1.0, 2.0, NULL,"
                 " NULL, NULL)")
    conn.commit()
    conn.close()
    upgrade = "ALTER TABLE executions ADD COLUMN note TEXT; CREATE INDEX executions_note ON executions (note);"
    monkeypatch.setattr(store_module, "MIGRATIONS", (*MIGRATIONS, upgrade))
    with RunStore(path) as db:
        assert db.get_execution("old").status is RunStatus.SUCCESS
        db.start_execution(execution("new"))
    assert pragma(path, "user_version") == len(MIGRATIONS) + 1
    columns = [row[1] for row in sqlite3.connect(path).execute("PRAGMA table_info(executions)")]
    assert columns[-1] == "note"


def test_a_failing_migration_leaves_the_database_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "state.db"
    RunStore(path).close()
    broken = "CREATE TABLE extra (x INTEGER); INSERT INTO no_such_table VALUES (1);"
    monkeypatch.setattr(store_module, "MIGRATIONS", (*MIGRATIONS, broken))
    with pytest.raises(NbopsError, match="no such table"):
        RunStore(path)
    assert pragma(path, "user_version") == len(MIGRATIONS)
    tables = {row[0] for row in sqlite3.connect(path).execute("SELECT name FROM sqlite_master")}
    assert "extra" not in tables


def test_a_database_from_a_newer_nbops_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    with pytest.raises(NbopsError, match="999") as info:
        RunStore(path)
    assert "upgrade nbops" in str(info.value)
    assert pragma(path, "user_version") == 999  # untouched


@pytest.mark.parametrize("content", [b"this is not a database\n" * 200, b"garbage", os.urandom(8192)])
def test_a_file_that_is_not_a_database_is_named_in_the_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "state.db"
    path.write_bytes(content)
    with pytest.raises(NbopsError) as info:
        RunStore(path)
    assert str(path) in str(info.value) and "move the file aside" in str(info.value)
    assert not isinstance(info.value.__cause__, sqlite3.Error) and info.value.__suppress_context__
    assert path.read_bytes() == content


def test_a_folder_in_the_way_is_an_nbops_error(tmp_path: Path) -> None:
    (tmp_path / "state.db").mkdir()
    with pytest.raises(NbopsError, match="state.db"):
        RunStore(tmp_path / "state.db")
    (tmp_path / "file").write_text("")
    with pytest.raises(NbopsError, match="cannot create the folder"):
        RunStore(tmp_path / "file" / "state.db")


# --- locks ------------------------------------------------------------------------------------------------

def hold_write_lock(path: Path) -> sqlite3.Connection:
    """Another writer in the middle of a long transaction."""
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO executions VALUES ('other', 'ns', 'f', 'nb', '{}', 'RUNNING', 1.0, NULL, NULL,"
                  " NULL, NULL)")
    return other


def test_a_lock_outlasting_busy_timeout_is_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_MS", 20)
    with RunStore(tmp_path / "state.db") as db:
        other = hold_write_lock(tmp_path / "state.db")
        release = threading.Timer(0.25, lambda: other.execute("COMMIT"))
        release.start()
        started = time.monotonic()
        db.start_execution(execution("mine"))  # waits 20 ms, backs off, tries again until the lock is gone
        release.join()
        assert time.monotonic() - started >= 0.2
        assert {e.id for e in db.list_executions()} == {"mine", "other"}
        other.close()


def test_a_lock_that_never_ends_is_an_nbops_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_MS", 10)
    monkeypatch.setattr(store_module, "RETRIES", 2)
    with RunStore(tmp_path / "state.db") as db:
        other = hold_write_lock(tmp_path / "state.db")
        with pytest.raises(NbopsError, match="locked") as info:
            db.start_execution(execution("mine"))
        assert str(tmp_path / "state.db") in str(info.value)
        assert [e.id for e in db.list_executions()] == []  # WAL: reading works during the other's write
        other.execute("ROLLBACK")
        other.close()
        db.start_execution(execution("mine"))
        assert [e.id for e in db.list_executions()] == ["mine"]


def test_threads_can_share_one_store(db: RunStore) -> None:
    def write(n: int) -> None:
        for i in range(50):
            db.start_execution(execution(f"t{n}-{i}", steps=(step("s"),)))
            db.finish_execution(f"t{n}-{i}", RunStatus.SUCCESS, T0 + 1)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    runs = db.list_executions(limit=-1)
    assert len(runs) == 400 and {e.status for e in runs} == {RunStatus.SUCCESS}


# --- several processes ------------------------------------------------------------------------------------

WRITER = """
import sys, time
from pathlib import Path
from kernel_ext.adapters.store import RunStore
from kernel_ext.core.runs import ExecutionRecord, RunStatus, StepRecord
path, writer, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
with RunStore(path) as db:
    print("ready", flush=True)
    sys.stdin.readline()  # every writer starts at the same moment
    first = time.time()
    for i in range(count):
        now = time.time()
        run = StepRecord("run", "nb.ipynb", RunStatus.RUNNING, now, parameters={"i": i})
        db.start_execution(ExecutionRecord(f"{writer}-{i:04d}", "ns", writer, "nb.ipynb", {"i": i},
                                           RunStatus.RUNNING, now, batch=writer, steps=(run,)))
        db.record_step(f"{writer}-{i:04d}", StepRecord("report", "nb.ipynb", RunStatus.SUCCESS, now, time.time(),
                                                        outputs={"i": i}))
        db.finish_execution(f"{writer}-{i:04d}", RunStatus.SUCCESS, time.time())
    print(first, time.time())
"""


@pytest.mark.slow
def test_concurrent_writers_lose_and_corrupt_nothing(tmp_path: Path) -> None:
    path, writers, count = tmp_path / ".nbops" / "state.db", 4, 200
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), f"w{n}", str(count)], env=env, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for n in range(writers)]
    assert [proc.stdout.readline() for proc in procs] == ["ready\n"] * writers  # type: ignore[union-attr]
    for proc in procs:
        proc.stdin.write("go\n")  # type: ignore[union-attr]
        proc.stdin.flush()  # type: ignore[union-attr]
    results = [proc.communicate(timeout=300) for proc in procs]
    assert [proc.returncode for proc in procs] == [0] * writers, [err for _, err in results]
    windows = sorted(tuple(map(float, out.split())) for out, _ in results)
    assert any(later[0] < earlier[1] for earlier, later in itertools.pairwise(windows)), "no two writers overlapped"

    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*), count(DISTINCT id) FROM executions").fetchone() == (writers * count,) * 2
    assert conn.execute("SELECT count(*) FROM steps").fetchone()[0] == writers * count * 2
    assert conn.execute("SELECT count(*) FROM executions WHERE status != 'SUCCESS'").fetchone()[0] == 0
    conn.close()
    with RunStore(path) as db:
        for n in range(writers):
            runs = db.list_executions(batch=f"w{n}", limit=-1)
            assert sorted(e.parameters["i"] for e in runs) == list(range(count))
            assert all([s.step for s in e.steps] == ["run", "report"] for e in runs)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_store_used_after_fork_opens_its_own_connection(tmp_path: Path) -> None:
    db = RunStore(tmp_path / "state.db")
    db.start_execution(execution("parent-1"))
    pid = os.fork()
    if pid == 0:  # the child: write through the inherited object, then leave without cleanup
        try:
            db.start_execution(execution("child"))
            db.close()
            os._exit(0)
        finally:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    db.start_execution(execution("parent-2"))
    assert sorted(e.id for e in db.list_executions()) == ["child", "parent-1", "parent-2"]
    db.close()
    assert pragma(tmp_path / "state.db", "integrity_check") == "ok"


def test_finish_records_the_git_state_and_save_replaces_a_whole_execution(tmp_path: Path) -> None:
    from dataclasses import replace as _replace

    with RunStore(tmp_path / "state.db") as store:
        first = execution("e1")
        store.start_execution(first)
        store.finish_execution("e1", RunStatus.SUCCESS, first.started + 1, git_commit="abc", git_dirty=True)
        got = store.get_execution("e1")
        assert (got.git_commit, got.git_dirty, got.status) == ("abc", True, RunStatus.SUCCESS)
        final = _replace(first, status=RunStatus.FAILED, ended=first.started + 2, git_commit="def", git_dirty=False,
                         steps=(step("run_notebook", status=RunStatus.FAILED),))
        store.save_execution(final)
        again = store.get_execution("e1")
        assert (again.status, again.git_commit, again.git_dirty) == (RunStatus.FAILED, "def", False)
        assert [s.step for s in again.steps] == ["run_notebook"]


OPEN_AND_WRITE = """
import sys, time
from pathlib import Path
from kernel_ext.adapters.store import RunStore
from kernel_ext.core.runs import ExecutionRecord, RunStatus
start = float(sys.argv[2])
while time.time() < start:
    pass
with RunStore(Path(sys.argv[1])) as store:
    store.start_execution(ExecutionRecord(sys.argv[3], "ns", "f", "n.ipynb", {}, RunStatus.RUNNING, time.time()))
"""


def test_processes_opening_a_new_history_at_the_same_moment_all_succeed(tmp_path: Path) -> None:
    for round_ in range(3):
        path = tmp_path / f"state{round_}.db"
        start = time.time() + 1.0
        writers = [subprocess.Popen([sys.executable, "-c", OPEN_AND_WRITE, str(path), str(start), f"e{i}"],
                                    stderr=subprocess.PIPE, text=True) for i in range(6)]
        errors = [w.communicate(timeout=60)[1] for w in writers]
        assert [w.returncode for w in writers] == [0] * 6, errors
        with RunStore(path) as store:
            assert len(store.list_executions(limit=-1)) == 6
