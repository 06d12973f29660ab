"""What runs a sweep's executions away from the main process: in ``nbops batch``'s local worker
processes and in Dask workers, with the very same code. Both executors import it; it imports neither.

A worker keeps a warm-kernel pool between runs, records nothing itself (the main process alone
writes the history) and sends each finished run's record back.
"""
from __future__ import annotations

import atexit
import signal
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ..adapters.kernels import KernelPools
from ..adapters.project import Project
from ..core.model import frozen_map
from ..core.runs import ExecutionRecord, RunStatus, StepRecord
from .run import Execution, PreparedRun


class NullRecorder:
    """Workers report to the main process, which alone writes the history."""

    def start_execution(self, record: ExecutionRecord) -> None: ...
    def record_step(self, execution_id: str, step: StepRecord) -> None: ...
    def finish_execution(self, *args: Any, **kwargs: Any) -> None: ...


def dispatch_record(prepared: PreparedRun, batch_id: str, execution_id: str,
                    values: Mapping[str, Any]) -> ExecutionRecord:
    """The RUNNING record the main process writes as it hands a run out."""
    conv = prepared.conversion
    return ExecutionRecord(execution_id, conv.namespace, conv.flow_id, conv.notebook.path, frozen_map(values),
                           RunStatus.RUNNING, time.time(), batch=batch_id)


def execute_one(project: Project, prepared: PreparedRun, pools: KernelPools, execution_id: str, batch: str,
                values: Mapping[str, Any]) -> ExecutionRecord:
    """One run of the sweep, in whatever process holds ``pools`` (a worker or a Dask worker)."""
    run_prepared = replace(prepared, values=frozen_map(values))
    return Execution(project, run_prepared, pools, NullRecorder(), execution_id=execution_id,  # type: ignore[arg-type]
                     batch=batch).run()


def kernels_of(prepared: PreparedRun) -> list[str]:
    """The kernels the flow's steps run in (their pools start warming up at once)."""
    return list(dict.fromkeys(step.kernel.name for step in prepared.plan.steps))


# --- a local worker process ----------------------------------------------------------------------

_stopping = False


def _stop(*_: Any) -> None:
    """The main process asks this worker to stop: end the current run as Ctrl-C would, start no other."""
    global _stopping
    _stopping = True
    raise KeyboardInterrupt


def local_worker(project: Project, prepared: PreparedRun, batch_id: str, tasks: Any, results: Any) -> None:
    """A worker process: runs ``(execution_id, values)`` jobs from ``tasks`` until a None, puts each
    record on ``results``, then a None to say it is done."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C belongs to the main process
    signal.signal(signal.SIGTERM, _stop)
    try:
        with KernelPools(kernels_of(prepared), ahead=prepared.plan.width) as pools:
            while not _stopping and (job := tasks.get()) is not None:
                execution_id, values = job
                record = execute_one(project, prepared, pools, execution_id, batch_id, values)
                results.put(record)
    except KeyboardInterrupt:
        pass
    finally:
        results.put(None)


# --- a Dask task -----------------------------------------------------------------------------------

_POOLS: KernelPools | None = None  # per Dask worker process, kept between tasks


def _pools(width: int) -> KernelPools:
    global _POOLS
    if _POOLS is None:
        _POOLS = KernelPools(ahead=width)
        atexit.register(_POOLS.close)
    return _POOLS


def dask_task(project: Project, prepared: PreparedRun, batch_id: str, execution_id: str,
              values: dict[str, Any]) -> ExecutionRecord:
    """One run on a Dask worker, with that worker process's kernel pool."""
    return execute_one(project, prepared, _pools(prepared.plan.width), execution_id, batch_id, values)
