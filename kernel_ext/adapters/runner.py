"""Execute one notebook with papermill, in a kernel we provide, and say how it ended.

papermill does the parameterising, executing and saving (its ``nbops`` engine only hands nbclient
the kernel manager and asks for an immediate shutdown, which avoids nbclient's occasional ~3.5 s
stall on a polite one). Around it: a whole-run timeout, classification of every way a run ends,
the outputs read back from Kestra's protocol lines as strictly as Kestra reads them, and an output notebook that is either absent
or complete (written as ``.partial`` and renamed).
"""
from __future__ import annotations

import json
import logging
import os
import re
import signal
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..core.outputs import ReadOutputs, read_outputs, stdout_of
from ..core.runs import CellError, RunStatus

log = logging.getLogger(__name__)
ENGINE = "nbops"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass(frozen=True)
class NotebookOutcome:
    status: RunStatus
    started: float
    ended: float
    outputs: Mapping[str, Any] = field(default_factory=dict)
    error: CellError | None = None
    output_notebook: Path | None = None
    warnings: tuple[str, ...] = ()  # e.g. an outputs line Kestra could not read


def _register_engine() -> None:
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines

    class NbopsEngine(NBClientEngine):  # type: ignore[misc]
        @classmethod
        def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, log_output: bool = False,
                                     stdout_file: Any = None, stderr_file: Any = None, start_timeout: int = 60,
                                     execution_timeout: int | None = None, **kwargs: Any) -> Any:
            kwargs.pop("input_path", None)
            # the kernel's folder goes to nbclient, which starts the kernel in it: papermill's own `cwd`
            # is an os.chdir of the whole process, which parallel steps (threads) would race on
            kwargs["resources"] = {"metadata": {"path": kwargs.pop("kernel_cwd")}}
            client = PapermillNotebookClient(
                nb_man, kernel_name=kernel_name, log=logging.getLogger("papermill"), log_output=log_output,
                stdout_file=stdout_file, stderr_file=stderr_file, startup_timeout=start_timeout,
                timeout=execution_timeout, shutdown_kernel="immediate", **kwargs)
            client.owns_km = True  # our kernel manager: shut the kernel down after the run, as for its own
            return client.execute()

    if ENGINE not in papermill_engines._engines:
        papermill_engines.register(ENGINE, NbopsEngine)


def _language(km: Any) -> str | None:
    """The kernel's language, so a notebook without language metadata can still be parameterised."""
    try:
        return str(km.kernel_spec.language) or None
    except Exception:  # noqa: BLE001 - a spec we cannot read: papermill falls back on the notebook's metadata
        return None


def _kernel_pid(km: Any) -> int | None:
    provisioner = getattr(km, "provisioner", None)
    return getattr(provisioner, "pid", None)


def stop_kernel(km: Any) -> None:
    """Kill a run's kernel at once (its papermill call then ends as a dead kernel)."""
    _kill_kernel(km)


def _kill_kernel(km: Any) -> None:
    pid = _kernel_pid(km)
    if pid:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _cell_error(exc: Any) -> CellError:
    traceback = _ANSI.sub("", "\n".join(exc.traceback or []))
    return CellError(exc.cell_index, exc.ename, exc.evalue, traceback)


def run_notebook(notebook: Path, output: Path, parameters: Mapping[str, Any], *, kernel_manager: Any, cwd: Path,
                 timeout: float | None = None) -> NotebookOutcome:
    """Run ``notebook`` in a fresh kernel from ``kernel_manager`` (not started yet), with ``cwd`` as
    its working folder; the executed notebook (also a partial one) ends up at ``output``."""
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    _register_engine()
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f".{output.stem}.partial.ipynb")
    timed_out = threading.Event()
    def stop_at_timeout() -> None:
        timed_out.set()
        _kill_kernel(kernel_manager)

    timer = threading.Timer(timeout, stop_at_timeout) if timeout else None
    started = time.time()
    status, error = RunStatus.SUCCESS, None
    try:
        if timer:
            timer.start()
        papermill.execute_notebook(str(notebook), str(partial), parameters=dict(parameters), engine_name=ENGINE,
                                   kernel_name=kernel_manager.kernel_name, kernel_cwd=str(cwd), progress_bar=False,
                                   language=_language(kernel_manager), km=kernel_manager)
    except papermill.PapermillExecutionError as exc:
        status, error = RunStatus.FAILED, _cell_error(exc)
    except (DeadKernelError, CellTimeoutError) as exc:
        status = RunStatus.TIMEOUT if timed_out.is_set() else RunStatus.KERNEL_DIED
        error = CellError(None, type(exc).__name__, _timeout_message(timeout) if timed_out.is_set() else str(exc))
    except KeyboardInterrupt:
        status, error = RunStatus.INTERRUPTED, CellError(None, "KeyboardInterrupt", "the run was stopped")
    finally:
        if timer:
            timer.cancel()
        if status is not RunStatus.SUCCESS:
            _kill_kernel(kernel_manager)  # nothing may outlive a failed or stopped run
    executed = _settle(partial, output)
    if executed and status in (RunStatus.KERNEL_DIED, RunStatus.TIMEOUT) and error is not None:
        error = _mark_stopped_cell(executed, output, error)
    elif error is not None and executed:  # papermill adds marker cells: name the cell as the saved notebook has it
        error = replace(error, cell=_failing_cell(executed, error.cell))
    read = read_outputs(stdout_of(executed.get("cells", []))) if executed else ReadOutputs()
    return NotebookOutcome(status, started, time.time(), read.outputs, error, output if executed else None,
                           read.warnings)


ERROR_MARKER_TAG = "papermill-error-cell-tag"  # papermill 2.x execute.py: its marker cells around a failure
_ERROR_STYLE = 'style="color:red; font-family:Helvetica Neue, Helvetica, Arial, sans-serif; font-size:2em;"'


def _mark_stopped_cell(executed: dict[str, Any], output: Path, error: CellError) -> CellError:
    """The cell that was running when the kernel died (or was stopped at the timeout) marked in the
    saved notebook as papermill marks a failing cell: an error output, ``metadata.papermill`` status
    "failed" and exception, a red note at the top linking to a red anchor just before the cell. papermill
    itself marks that cell "completed" (its ``cell_complete`` runs in a ``finally``). The cell is the
    last one papermill started; the error names it (its index in the saved notebook, its first line)."""
    cells = [c for c in executed.get("cells") or [] if isinstance(c, dict)]
    started = [i for i, c in enumerate(cells) if _papermill(c).get("start_time")]
    if not started or len(cells) != len(executed["cells"]):
        return error
    index = started[-1]
    cell = cells[index]
    source = "".join(cell.get("source") or "") if isinstance(cell.get("source"), list | str) else ""
    first = next((line.strip() for line in source.splitlines() if line.strip()), "")
    first = first if len(first) <= 80 else first[:79] + "…"
    message = f"{error.message} (the cell running: `{first}`)" if first else error.message
    cell.setdefault("outputs", []).append({"output_type": "error", "ename": error.name, "evalue": message,
                                           "traceback": [f"{error.name}: {message}"]})
    _papermill(cell).update(status="failed", exception=True)
    metadata = executed.setdefault("metadata", {})
    if isinstance(metadata, dict) and isinstance(metadata.get("papermill"), dict):
        metadata["papermill"]["exception"] = True
    count = cell.get("execution_count")
    executed["cells"][index:index] = [_marker(f'<span id="papermill-error-cell" {_ERROR_STYLE}>Execution using '
                                              "papermill encountered an exception here and stopped:</span>", "nbops-error-anchor")]
    executed["cells"].insert(0, _marker(f"<span {_ERROR_STYLE}>An Exception was encountered at "
                                        f"'<a href=\"#papermill-error-cell\">In [{count}]</a>'.</span>", "nbops-error-note"))
    if (executed.get("nbformat"), executed.get("nbformat_minor", 0)) < (4, 5):
        for marker in (executed["cells"][0], executed["cells"][index + 1]):
            marker.pop("id")  # cell ids came with nbformat 4.5
    from ..core.gitplan import notebook_bytes
    from .files import atomic_write

    atomic_write(output, notebook_bytes(executed))
    return replace(error, cell=index + 2, message=message)


def _papermill(cell: dict[str, Any]) -> dict[str, Any]:
    metadata = cell.get("metadata")
    value = metadata.get("papermill") if isinstance(metadata, dict) else None
    return value if isinstance(value, dict) else {}


def _marker(text: str, cell_id: str) -> dict[str, Any]:
    return {"cell_type": "markdown", "id": cell_id, "metadata": {"tags": [ERROR_MARKER_TAG]}, "source": text}


def _failing_cell(executed: dict[str, Any], fallback: int | None) -> int | None:
    for index, cell in enumerate(executed.get("cells", [])):
        if any(o.get("output_type") == "error" for o in cell.get("outputs", ())):
            return index
    return fallback


def _timeout_message(timeout: float | None) -> str:
    return f"the run took longer than its timeout of {timeout:g} s and its kernel was stopped"


def _settle(partial: Path, output: Path) -> dict[str, Any] | None:
    """Keep the executed notebook if it is complete JSON (a run stopped mid-write leaves none)."""
    try:
        executed = json.loads(partial.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError, UnicodeDecodeError):
        partial.unlink(missing_ok=True)
        return None
    os.replace(partial, output)
    return executed if isinstance(executed, dict) else None
