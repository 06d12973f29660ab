"""``nbops batch --executor dask``: the same sweep on a Dask distributed cluster.

Each Dask worker process keeps its own warm-kernel pool between tasks and runs whole executions
with the very code local workers use; results come back to this process, which alone writes the
run history (SQLite must not be shared over a network file system). The workers need the
repository at the same path (a shared or synchronised checkout) and the same Python packages.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..adapters.dask_cluster import completed, dask_client
from ..adapters.project import Project
from ..core.runs import ExecutionRecord
from .batch_worker import dask_task, dispatch_record
from .run import PreparedRun


def run_on_dask(project: Project, prepared: PreparedRun, batch_id: str, jobs: list[tuple[str, dict[str, Any]]],
                scheduler: str | None, store: Any) -> Iterator[ExecutionRecord]:
    client = dask_client(scheduler)
    futures = []
    try:
        for execution_id, values in jobs:
            store.start_execution(dispatch_record(prepared, batch_id, execution_id, values))
            futures.append(client.submit(dask_task, project, prepared, batch_id, execution_id, values,
                                         key=f"nbops-{execution_id}", pure=False))
        for future in completed(futures):
            yield future.result()
    except KeyboardInterrupt:
        client.cancel(futures)
        raise
    finally:
        client.close()
