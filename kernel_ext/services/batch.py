"""``nbops batch``: a parameter sweep of one flow, in parallel worker processes with warm kernels.

Each worker keeps a kernel pool (a kernel is forked and initialised while the previous run
executes) and runs whole executions; the main process records every execution in the history as
it is handed out (RUNNING) and as it ends, draws the progress bar, and on Ctrl-C stops the
workers, which shut their kernels down and report the interrupted runs: finished runs are kept,
and no output notebook is left half-written.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from ..adapters.files import MAX_FLOW_BYTES, read_text
from ..adapters.project import Project
from ..core.grid import parse_grid
from ..core.param_values import coerce_parameters, with_defaults
from ..core.runs import ExecutionRecord, RunStatus
from ..errors import ConfigError, InvalidError
from .batch_worker import dispatch_record, local_worker
from .dask_executor import run_on_dask
from .run import PreparedRun, new_execution_id, open_store, prepare


class BatchProgress(Protocol):
    def start(self, total: int) -> None: ...
    def done(self, record: ExecutionRecord) -> None: ...


@dataclass(frozen=True)
class BatchOptions:
    workers: int | None = None  # default: one per core
    executor: str = "local"  # or "dask"
    scheduler: str | None = None  # Dask scheduler address
    progress: bool = True


@dataclass
class BatchResult:
    batch: str
    records: list[ExecutionRecord] = field(default_factory=list)
    interrupted: bool = False

    @property
    def failed(self) -> list[ExecutionRecord]:
        return [r for r in self.records if r.status is not RunStatus.SUCCESS]


def load_grid(prepared: PreparedRun, grid_file: Path) -> list[dict[str, Any]]:
    """Every parameter set of the grid, checked against the flow's inputs before anything runs."""
    runs, problems = parse_grid(read_text(grid_file, MAX_FLOW_BYTES * 16, str(grid_file)), grid_file.name)
    if problems:
        raise InvalidError(str(grid_file), problems)
    if not runs:
        raise ConfigError("the grid has no runs", file=str(grid_file))
    assert prepared.conversion.flow is not None
    checked, all_problems = [], []
    for index, given in enumerate(runs):
        inputs = prepared.conversion.flow.inputs
        values, found = coerce_parameters(inputs, with_defaults(inputs, given), where=f"runs[{index}].")
        checked.append(values)
        all_problems += found
    if all_problems:
        raise InvalidError(str(grid_file), all_problems)
    return checked


def check_options(options: BatchOptions) -> None:
    """Wrong executor options are usage errors, found before any work."""
    if options.executor not in ("local", "dask"):
        raise ConfigError(f"unknown executor {options.executor!r}", hint="use local or dask")
    if options.executor == "dask":
        if not options.scheduler:
            raise ConfigError("--executor dask needs --scheduler ADDRESS", hint="e.g. --scheduler tcp://10.0.0.5:8786")
        if options.workers is not None:
            raise ConfigError("--workers is for the local executor; a Dask cluster has its own workers")
    elif options.scheduler:
        raise ConfigError("--scheduler goes with --executor dask")


def batch(project: Project, notebook: Path, grid_file: Path, options: BatchOptions,
          progress: BatchProgress | None = None) -> BatchResult:
    from ..adapters.git import GitRepo

    check_options(options)
    prepared = prepare(project, notebook, None)  # each parameter set is checked by load_grid
    prepared = replace(prepared, git=GitRepo.head_state_at(project.root))  # the sweep's runs start from one tree
    sweep = load_grid(prepared, grid_file)
    result = BatchResult(new_execution_id())
    jobs = [(new_execution_id(), values) for values in sweep]
    if progress:
        progress.start(len(jobs))
    with open_store(project) as store:
        if options.executor == "dask":
            stream = run_on_dask(project, prepared, result.batch, jobs, options.scheduler, store)
        else:
            stream = _run_local(project, prepared, result.batch, jobs, options, store)
        try:
            for record in stream:
                store.save_execution(record)
                result.records.append(record)
                if progress:
                    progress.done(record)
        except KeyboardInterrupt:
            result.interrupted = True
        finally:
            finished = {r.id for r in result.records}
            store.mark_interrupted([i for i, _ in jobs if i not in finished], time.time())
    order = {execution_id: index for index, (execution_id, _) in enumerate(jobs)}
    result.records.sort(key=lambda r: order[r.id])  # the grid's order
    return result


# --- the local executor: worker processes (batch_worker.local_worker), fed and heard from here -----

def _run_local(project: Project, prepared: PreparedRun, batch_id: str, jobs: list[tuple[str, dict[str, Any]]],
               options: BatchOptions, store: Any) -> Iterator[ExecutionRecord]:
    count = max(1, min(options.workers or os.cpu_count() or 1, len(jobs)))
    context: Any = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    tasks, results = context.Queue(), context.Queue()
    for execution_id, values in jobs:
        store.start_execution(dispatch_record(prepared, batch_id, execution_id, values))
        tasks.put((execution_id, values))
    for _ in range(count):
        tasks.put(None)
    workers = [context.Process(target=local_worker, args=(project, prepared, batch_id, tasks, results), daemon=True)
               for _ in range(count)]
    for process in workers:
        process.start()
    try:
        yield from _collect(results, count)
    except KeyboardInterrupt:
        for process in workers:  # each worker stops its run, shuts its kernel down, reports
            if process.is_alive() and process.pid:
                os.kill(process.pid, signal.SIGTERM)
        yield from _collect(results, count, deadline=time.monotonic() + 30)
        raise
    finally:
        for process in workers:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()


def _collect(results: Any, workers: int, deadline: float | None = None) -> Iterator[ExecutionRecord]:
    import queue

    running = workers
    while running:
        try:
            item = results.get(timeout=None if deadline is None else max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            return
        if item is None:
            running -= 1
        else:
            yield item

