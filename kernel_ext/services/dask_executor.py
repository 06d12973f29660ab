"""``nbops batch --executor dask``: the same sweep on a Dask distributed cluster.

Each Dask worker process keeps its own warm-kernel pool between tasks and runs whole executions
with the very code local workers use; results come back to this process, which alone writes the
run history (SQLite must not be shared over a network file system). The workers need the
repository at the same path (a shared or synchronised checkout) and the same Python packages.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..adapters.project import Project
from ..core.runs import ExecutionRecord
from ..errors import ConfigError, NbopsError
from .batch_worker import dask_task, dispatch_record
from .run import PreparedRun

def _client(scheduler: str | None) -> Any:
    try:
        from distributed import Client
    except ImportError:
        raise ConfigError("the dask executor needs the distributed package",
                          hint="pip install 'nbops[dask]'") from None
    if not scheduler:
        raise ConfigError("--executor dask needs --scheduler ADDRESS", hint="e.g. --scheduler tcp://10.0.0.5:8786")
    try:
        return Client(scheduler, timeout="20s")
    except OSError as exc:
        raise NbopsError(f"cannot reach the Dask scheduler at {scheduler}: {exc}",
                         hint="is `dask scheduler` running there, and the address right?") from None


def run_on_dask(project: Project, prepared: PreparedRun, batch_id: str, jobs: list[tuple[str, dict[str, Any]]],
                scheduler: str | None, store: Any) -> Iterator[ExecutionRecord]:
    from distributed import as_completed

    client = _client(scheduler)
    futures = []
    try:
        for execution_id, values in jobs:
            store.start_execution(dispatch_record(prepared, batch_id, execution_id, values))
            futures.append(client.submit(dask_task, project, prepared, batch_id, execution_id, values,
                                         key=f"nbops-{execution_id}", pure=False))
        for future in as_completed(futures):
            yield future.result()
    except KeyboardInterrupt:
        client.cancel(futures)
        raise
    finally:
        client.close()
