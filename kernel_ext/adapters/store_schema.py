"""The tables of the run history (:mod:`store`): the migrations that create them, the statements
that write their rows, and the conversion between those rows and run records. Everything that
knows a column's name or position is here."""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from ..core.model import frozen_map
from ..core.runs import CellError, ExecutionRecord, RunStatus, StepRecord

# Append only: a released migration never changes, since databases in the wild already ran it.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE executions (
        id TEXT PRIMARY KEY, namespace TEXT NOT NULL, flow_id TEXT NOT NULL, notebook TEXT NOT NULL,
        parameters TEXT NOT NULL, status TEXT NOT NULL, started REAL NOT NULL, ended REAL,
        git_commit TEXT, git_dirty INTEGER, batch TEXT);
    CREATE INDEX executions_flow ON executions (flow_id, started);
    CREATE INDEX executions_batch ON executions (batch);
    CREATE TABLE steps (
        execution_id TEXT NOT NULL REFERENCES executions (id) ON DELETE CASCADE, step TEXT NOT NULL,
        notebook TEXT NOT NULL, status TEXT NOT NULL, started REAL NOT NULL, ended REAL,
        attempts INTEGER NOT NULL, output_notebook TEXT, parameters TEXT NOT NULL, outputs TEXT NOT NULL,
        error_cell INTEGER, error_name TEXT, error_message TEXT, error_traceback TEXT,
        PRIMARY KEY (execution_id, step));
    """,
    "ALTER TABLE steps ADD COLUMN warnings TEXT NOT NULL DEFAULT '[]';",
)

INSERT_EXECUTION = "INSERT INTO executions (id, namespace, flow_id, notebook, parameters, status, started, " \
    "ended, git_commit, git_dirty, batch) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
REPLACE_STEP = "INSERT OR REPLACE INTO steps (execution_id, step, notebook, status, started, ended, attempts, " \
    "output_notebook, parameters, outputs, error_cell, error_name, error_message, error_traceback, warnings) " \
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"


def statements(script: str) -> Iterable[str]:
    """Split a script into statements (``executescript`` would commit our open transaction first)."""
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \t\r\n;"):
                yield pending
            pending = ""


def _dumps(value: Mapping[str, Any]) -> str:
    return json.dumps(dict(value), default=str, sort_keys=True)


def execution_row(r: ExecutionRecord) -> tuple[Any, ...]:
    """The values of :data:`INSERT_EXECUTION` for ``r`` (its steps are rows of their own)."""
    dirty = None if r.git_dirty is None else int(r.git_dirty)
    return (r.id, r.namespace, r.flow_id, r.notebook, _dumps(r.parameters), r.status.value, r.started, r.ended,
            r.git_commit, dirty, r.batch)


def step_row(execution_id: str, s: StepRecord) -> tuple[Any, ...]:
    """The values of :data:`REPLACE_STEP` for step ``s`` of that execution."""
    e = s.error
    error = (None, None, None, None) if e is None else (e.cell, e.name, e.message, e.traceback)
    return (execution_id, s.step, s.notebook, s.status.value, s.started, s.ended, s.attempts, s.output_notebook,
            _dumps(s.parameters), _dumps(s.outputs), *error, json.dumps(list(s.warnings)))


def execution_of(row: sqlite3.Row, steps: list[StepRecord]) -> ExecutionRecord:
    """The record of an ``executions`` row, with its steps (read separately)."""
    dirty = None if row["git_dirty"] is None else bool(row["git_dirty"])
    return ExecutionRecord(row["id"], row["namespace"], row["flow_id"], row["notebook"],
                           frozen_map(json.loads(row["parameters"])), RunStatus(row["status"]), row["started"],
                           row["ended"], row["git_commit"], dirty, row["batch"], tuple(steps))


def step_of(row: sqlite3.Row) -> StepRecord:
    """The record of a ``steps`` row."""
    error = None if row["error_name"] is None else CellError(
        row["error_cell"], row["error_name"], row["error_message"] or "", row["error_traceback"] or "")
    return StepRecord(row["step"], row["notebook"], RunStatus(row["status"]), row["started"], row["ended"],
                      row["attempts"], row["output_notebook"], frozen_map(json.loads(row["parameters"])),
                      frozen_map(json.loads(row["outputs"])), error, tuple(json.loads(row["warnings"])))
