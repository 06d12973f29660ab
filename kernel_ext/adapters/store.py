"""Run history in an embedded SQLite database (``.nbops/state.db``).

WAL lets readers (``nbops runs``, the panel) work while a batch writes; every write is one short
``BEGIN IMMEDIATE`` transaction, so writers from several processes queue on SQLite's lock instead of
failing or interleaving half-written executions. The schema is versioned with ``PRAGMA user_version``;
the tables themselves, and how records map to their rows, are in :mod:`store_schema`.
"""
from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Self, TypeVar

from ..core.runs import ExecutionRecord, RunStatus, StepRecord
from ..errors import NbopsError
from .store_schema import (
    INSERT_EXECUTION,
    MIGRATIONS,
    REPLACE_STEP,
    execution_of,
    execution_row,
    statements,
    step_of,
    step_row,
)

__all__ = ["BUSY_TIMEOUT_MS", "MIGRATIONS", "RETRIES", "RunStore"]

T = TypeVar("T")

BUSY_TIMEOUT_MS = 30_000
RETRIES = 5  # after busy_timeout already waited: a lock that outlasts it is rare, not impossible
_BUSY_CODES = {5, 6}  # SQLITE_BUSY, SQLITE_LOCKED (primary codes)
_NOT_A_DATABASE_CODES = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB


class _Busy(Exception):
    """Marks a "database is locked" answer that is worth another try."""


_PRAGMAS = ("PRAGMA busy_timeout = {}", "PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL",
            "PRAGMA foreign_keys = ON")
# connections inherited through fork: closing one in the child could checkpoint or unlock the
# parent's files, so they are kept referenced (never garbage-collected, never closed) instead
_INHERITED: list[sqlite3.Connection] = []


class RunStore:
    """The run history of one repository; safe to use from several threads and processes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise NbopsError(f"cannot create the folder for the run history: {exc.strerror}",
                             file=str(path.parent)) from None
        with self._lock:
            self._connection()  # open now so a broken or too-new database is reported up front

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start_execution(self, record: ExecutionRecord) -> None:
        """Insert a new execution and the steps it already has; an existing id is an error, not an overwrite."""
        def work(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(INSERT_EXECUTION, execution_row(record))
            except sqlite3.IntegrityError:
                raise NbopsError(f"execution {record.id} is already in the run history", file=str(self.path)) \
                    from None
            conn.executemany(REPLACE_STEP, [step_row(record.id, step) for step in record.steps])
        self._run(work)

    def record_step(self, execution_id: str, step: StepRecord) -> None:
        """Insert or replace the row of ``step.step``: a retried or finished step overwrites its earlier state."""
        def work(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(REPLACE_STEP, step_row(execution_id, step))
            except sqlite3.IntegrityError:  # the foreign key: no such execution
                raise self._unknown(execution_id) from None
        self._run(work)

    def finish_execution(self, execution_id: str, status: RunStatus, ended: float, *, git_commit: str | None = None,
                         git_dirty: bool | None = None) -> None:
        """The execution's end; the Git state is known only once the run is under way, so it comes here."""
        dirty = None if git_dirty is None else int(git_dirty)

        def work(conn: sqlite3.Connection) -> None:
            cursor = conn.execute("UPDATE executions SET status = ?, ended = ?, git_commit = COALESCE(?, git_commit), "
                                  "git_dirty = COALESCE(?, git_dirty) WHERE id = ?",
                                  (status.value, ended, git_commit, dirty, execution_id))
            if cursor.rowcount == 0:
                raise self._unknown(execution_id)
        self._run(work)

    def save_execution(self, record: ExecutionRecord) -> None:
        """Write a whole execution, replacing what the history had under its id (a sweep records
        each run as RUNNING when handed out, then as the worker reports it)."""
        def work(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM steps WHERE execution_id = ?", (record.id,))
            conn.execute("DELETE FROM executions WHERE id = ?", (record.id,))
            conn.execute(INSERT_EXECUTION, execution_row(record))
            conn.executemany(REPLACE_STEP, [step_row(record.id, step) for step in record.steps])
        self._run(work)

    def mark_interrupted(self, execution_ids: Iterable[str], ended: float) -> None:
        """After Ctrl-C or a killed batch: RUNNING executions (and their RUNNING steps) become INTERRUPTED;
        finished ones keep their real outcome. Unknown ids are ignored, as there is nothing to mark."""
        rows = [(RunStatus.INTERRUPTED.value, ended, execution_id, RunStatus.RUNNING.value)
                for execution_id in execution_ids]

        def work(conn: sqlite3.Connection) -> None:  # steps first: they are chosen by their execution's status
            conn.executemany("UPDATE steps SET status = ?1, ended = COALESCE(ended, ?2) WHERE status = ?4 AND "
                             "execution_id IN (SELECT id FROM executions WHERE id = ?3 AND status = ?4)", rows)
            conn.executemany("UPDATE executions SET status = ?1, ended = COALESCE(ended, ?2) WHERE id = ?3 "
                             "AND status = ?4", rows)
        self._run(work)

    def get_execution(self, id_or_prefix: str) -> ExecutionRecord:
        """One execution by id or unique prefix, like a short Git hash: ids are long, people type a few characters."""
        if not id_or_prefix:
            raise NbopsError("no execution id given")

        def work(conn: sqlite3.Connection) -> ExecutionRecord:
            rows = conn.execute("SELECT * FROM executions WHERE substr(id, 1, ?1) = ?2 ORDER BY id = ?2 DESC, id "
                                "LIMIT 11", (len(id_or_prefix), id_or_prefix)).fetchall()
            if rows and rows[0]["id"] == id_or_prefix:
                rows = rows[:1]  # an exact id wins over the longer ids it prefixes
            elif not rows:
                raise NbopsError(f"no execution {id_or_prefix!r} in the run history", file=str(self.path),
                                 hint="`nbops runs` lists the executions")
            if len(rows) > 1:
                shown = ", ".join(row["id"] for row in rows[:10]) + (", ..." if len(rows) > 10 else "")
                raise NbopsError(f"execution id prefix {id_or_prefix!r} is ambiguous: {shown}",
                                 hint="type more characters of the id")
            steps = conn.execute("SELECT * FROM steps WHERE execution_id = ? ORDER BY started, rowid",
                                 (rows[0]["id"],)).fetchall()
            return execution_of(rows[0], [step_of(row) for row in steps])
        return self._run(work, "BEGIN")

    def list_executions(self, flow: str | None = None, limit: int = 50,
                        batch: str | None = None) -> list[ExecutionRecord]:
        """Newest first, with their steps; ``flow`` is a flow id or ``namespace.flow_id``; a negative limit
        means all."""
        chosen = ("SELECT id FROM executions WHERE (:flow IS NULL OR flow_id = :flow OR namespace || '.' || flow_id"
                  " = :flow) AND (:batch IS NULL OR batch = :batch) ORDER BY started DESC, rowid DESC LIMIT :limit")
        args = {"flow": flow, "batch": batch, "limit": limit}

        def work(conn: sqlite3.Connection) -> list[ExecutionRecord]:
            steps: dict[str, list[StepRecord]] = {}
            for row in conn.execute(f"SELECT * FROM steps WHERE execution_id IN ({chosen}) ORDER BY started, rowid",
                                    args):
                steps.setdefault(row["execution_id"], []).append(step_of(row))
            rows = conn.execute(f"SELECT * FROM executions WHERE id IN ({chosen}) ORDER BY started DESC, rowid DESC",
                                args).fetchall()
            return [execution_of(row, steps.get(row["id"], [])) for row in rows]
        return self._run(work, "BEGIN")

    def _unknown(self, execution_id: str) -> NbopsError:
        return NbopsError(f"no execution {execution_id!r} in the run history", file=str(self.path))

    def _run(self, work: Callable[[sqlite3.Connection], T], begin: str = "BEGIN IMMEDIATE") -> T:
        """``work`` in one transaction (reads too, for one consistent snapshot); a lock still held after
        busy_timeout is retried with backoff, any other SQLite error becomes an NbopsError."""
        with self._lock:
            for attempt in range(RETRIES + 1):
                conn = self._connection()
                try:
                    conn.execute(begin)
                    result = work(conn)
                    conn.execute("COMMIT")
                    return result
                except sqlite3.Error as exc:
                    _rollback(conn)
                    if _code(exc) not in _BUSY_CODES or attempt == RETRIES:
                        raise self._translate(exc) from None
                except BaseException:
                    _rollback(conn)
                    raise
                time.sleep(0.05 * 2 ** attempt)
            raise AssertionError("unreachable")

    def _connection(self) -> sqlite3.Connection:
        """This process's connection: one made before a fork is left alone, and a new one opened."""
        if self._conn is not None and self._pid != os.getpid():
            _INHERITED.append(self._conn)
            self._conn = None
        if self._conn is None:
            self._conn = self._open()
            self._pid = os.getpid()
        return self._conn

    def _open(self) -> sqlite3.Connection:
        """A configured, migrated connection. Switching a new file to WAL needs a moment of exclusive
        access, for which SQLite may answer "locked" at once instead of waiting: retried like writes."""
        for attempt in range(RETRIES + 1):
            try:
                return self._open_once()
            except NbopsError as exc:
                if not isinstance(exc.__cause__ or exc.__context__, _Busy) or attempt == RETRIES:
                    raise
            time.sleep(0.05 * 2 ** attempt)
        raise AssertionError("unreachable")

    def _open_once(self) -> sqlite3.Connection:
        """Autocommit mode (``isolation_level=None``): transactions are ours, begun explicitly in ``_run``."""
        conn: sqlite3.Connection | None = None
        try:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                                   check_same_thread=False)
            conn.row_factory = sqlite3.Row
            for pragma in _PRAGMAS:
                conn.execute(pragma.format(BUSY_TIMEOUT_MS))
            self._migrate(conn)
            return conn
        except BaseException as exc:
            if conn is not None:
                conn.close()
            if isinstance(exc, sqlite3.Error) and _code(exc) in _BUSY_CODES:
                raise self._translate(exc) from _Busy()
            if isinstance(exc, sqlite3.Error):
                raise self._translate(exc) from None
            raise

    def _migrate(self, conn: sqlite3.Connection) -> None:
        """Apply the missing migrations in one transaction, under the write lock, so two processes
        opening a new database at once do not both create the tables."""
        if self._checked_version(conn) == len(MIGRATIONS):
            return  # the usual case: no write lock taken
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = self._checked_version(conn)  # again: another process may have migrated meanwhile
            for script in MIGRATIONS[version:]:
                for statement in statements(script):
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
            conn.execute("COMMIT")
        except BaseException:
            _rollback(conn)
            raise

    def _checked_version(self, conn: sqlite3.Connection) -> int:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version > len(MIGRATIONS):
            raise NbopsError(f"the run history has schema version {version}, newer than version "
                             f"{len(MIGRATIONS)} that this nbops knows", file=str(self.path),
                             hint="upgrade nbops (a newer nbops wrote this file)")
        return version

    def _translate(self, exc: sqlite3.Error) -> NbopsError:
        if _code(exc) in _NOT_A_DATABASE_CODES:
            return NbopsError(f"not a usable SQLite database ({exc})", file=str(self.path),
                              hint=f"move the file aside (e.g. rename it to {self.path.name}.broken); nbops "
                                   "then starts a new, empty run history")
        if _code(exc) in _BUSY_CODES:
            return NbopsError(f"the run history stayed locked by another process ({exc})", file=str(self.path),
                              hint="is another nbops process stuck? try again when it has finished")
        return NbopsError(f"run history: {exc}", file=str(self.path))


def _code(exc: sqlite3.Error) -> int:
    return (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # SQLite has already rolled back (e.g. after an I/O error)
