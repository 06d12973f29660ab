"""The run commands: ``run``, ``runs``, ``show`` and ``batch`` (thin: parse, call a service, print)."""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ..core.runs import ExecutionRecord, RunStatus, StepRecord, worst
from ..errors import ExitCode, InvalidError, NbopsError, Problem
from .base import Surface

if TYPE_CHECKING:
    from ..adapters.project import Project
    from ..adapters.store import RunStore


def add_run(commands: Any, surface: Surface) -> None:
    run = commands.add_parser("run", help="run a flow notebook locally, as Kestra would",
                              description="Run a flow (a notebook path, or a flow id) with papermill in fresh "
                                          "kernels; parameters are checked against the flow's inputs first. "
                                          "Exit 0 on success, 10 when a cell raised, 11 when a kernel died, "
                                          "12 on timeout, 130 when stopped.")
    # in a notebook the target may be left out: it is then the notebook itself
    run.add_argument("target", metavar="NOTEBOOK|FLOW_ID", nargs="?" if surface is Surface.NOTEBOOK else None)
    run.add_argument("-p", "--parameter", action="append", default=[], metavar="NAME=VALUE",
                     help="a parameter value (repeatable); checked and converted to the input's type")
    run.add_argument("-f", "--parameters-file", type=Path, metavar="FILE", help="parameters as YAML or JSON")
    run.add_argument("--json", action="store_true", help="machine-readable output")


def add_runs(commands: Any, surface: Surface) -> None:
    runs = commands.add_parser("runs", help="list past executions", description="List executions, newest first.")
    runs.add_argument("flow", nargs="?", help="only this flow (id or namespace.id)")
    runs.add_argument("--batch", help="only the executions of this batch")
    runs.add_argument("--limit", type=int, default=20)
    runs.add_argument("--json", action="store_true", help="machine-readable output")


def add_show(commands: Any, surface: Surface) -> None:
    show = commands.add_parser("show", help="details of one execution", description="Show one execution: "
                               "parameters, each step's status, duration, outputs, output notebook and error.")
    show.add_argument("execution", help="an execution id, or a unique prefix of one")
    show.add_argument("--json", action="store_true", help="machine-readable output")


def add_batch(commands: Any, surface: Surface) -> None:
    batch = commands.add_parser("batch", help="a parameter sweep in parallel",
                                description="Run a flow once per parameter set of a grid (YAML, JSON or CSV), in "
                                            "parallel worker processes with warm kernels. Exit non-zero if any "
                                            "run failed.")
    batch.add_argument("target", metavar="NOTEBOOK|FLOW_ID")
    batch.add_argument("--grid", type=Path, required=True, metavar="FILE")
    batch.add_argument("--workers", type=int, default=None, help="worker processes (default: one per core)")
    batch.add_argument("--executor", choices=("local", "dask"), default="local")
    batch.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler, e.g. tcp://10.0.0.5:8786")
    batch.add_argument("--no-progress", action="store_true", help="no progress bar")
    batch.add_argument("--json", action="store_true", help="machine-readable output")


def record_json(record: ExecutionRecord) -> dict[str, Any]:
    def step(s: StepRecord) -> dict[str, Any]:
        error = s.error.__dict__ if s.error else None
        return {"step": s.step, "notebook": s.notebook, "status": s.status.value, "duration": s.duration,
                "attempts": s.attempts, "output_notebook": s.output_notebook, "parameters": dict(s.parameters),
                "outputs": dict(s.outputs), "error": error, "warnings": list(s.warnings)}
    return {"id": record.id, "flow": f"{record.namespace}.{record.flow_id}", "notebook": record.notebook,
            "status": record.status.value, "started": record.started, "ended": record.ended,
            "duration": record.duration, "parameters": dict(record.parameters), "git_commit": record.git_commit,
            "git_dirty": record.git_dirty, "batch": record.batch, "outputs": record.outputs,
            "steps": [step(s) for s in record.steps]}


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}s"


def _short(values: Any, width: int = 40) -> str:
    text = ", ".join(f"{k}={v}" for k, v in dict(values).items())
    return text if len(text) <= width else text[: width - 1] + "…"


def print_step(step: StepRecord, out: TextIO) -> None:
    mark = "ok" if step.status is RunStatus.SUCCESS else step.status.value
    mark += f" ({step.attempts} attempts)" if step.attempts > 1 else ""
    outputs = f"  outputs: {_short(step.outputs, 60)}" if step.outputs else ""
    print(f"  {step.step:<24} {mark:<11} {_seconds(step.duration):>8}{outputs}", file=out)
    if step.error:
        where = f"cell {step.error.cell}: " if step.error.cell is not None else ""
        print(f"    {where}{step.error.name}: {step.error.message}", file=out)
    for warning in step.warnings:
        print(f"    warning: {warning}", file=out)
    if step.output_notebook:
        print(f"    notebook: {step.output_notebook}", file=out)


def cmd_run(project: Project, args: argparse.Namespace, out: TextIO) -> int:
    from ..core.param_values import parse_assignments
    from ..services.run import run

    given, problems = parse_assignments(args.parameter)
    if problems:
        raise InvalidError(None, problems)
    values = _parameters_file(args.parameters_file) if args.parameters_file else {}
    values.update(given)  # -p wins over the file
    record = run(project, args.target, values, on_step=None if args.json else (lambda s: print_step(s, out)))
    target = project.options.kestra
    if args.json:
        json.dump({**record_json(record), "kestra_version": str(target), "kestra_state": kestra_state(record.status)},
                  out, indent=2, default=str)
        print(file=out)
    else:
        print(f"execution {record.id}: {record.status.value} in {_seconds(record.duration)} "
              f"(Kestra {target} would end it {kestra_state(record.status)})", file=out)
    return record.status.exit_code


# The state Kestra gives the exported flow's execution for each way a local run ends: a cell that raised
# or a dead kernel make papermill exit non-zero (FAILED); a task past its timeout is killed and FAILED
# (kestra-io/kestra@58c1ca2d core/.../runners/WorkerTaskCallable.java:85-87, AbstractWorkerCallable.java:101-110);
# a stopped run is KILLED. stderr decides nothing: the flow is exported so that it does not on any version.
_KESTRA_STATES = {RunStatus.SUCCESS: "SUCCESS", RunStatus.FAILED: "FAILED", RunStatus.KERNEL_DIED: "FAILED",
                  RunStatus.TIMEOUT: "FAILED", RunStatus.INTERRUPTED: "KILLED", RunStatus.RUNNING: "RUNNING"}


def kestra_state(status: RunStatus) -> str:
    """The state Kestra would end the exported flow's execution in, where ``nbops run`` ended ``status``."""
    return _KESTRA_STATES[status]


def _parameters_file(path: Path) -> dict[str, Any]:
    from ..adapters.files import MAX_FLOW_BYTES, read_text
    from ..core.yamlsafe import YamlProblem, load_yaml

    try:
        data = load_yaml(read_text(path, MAX_FLOW_BYTES, str(path))).data
    except YamlProblem as exc:
        raise InvalidError(str(path), [exc.problem]) from None
    if not isinstance(data, dict):
        raise InvalidError(str(path), [Problem("a parameters file is a mapping of names to values")])
    return data


def _history(project: Project) -> RunStore:
    from ..services.run import open_store

    if not project.history_db.is_file():
        raise NbopsError("no run history yet", hint="nbops run NOTEBOOK records one in .nbops/state.db")
    return open_store(project)


def cmd_runs(project: Project, args: argparse.Namespace, out: TextIO) -> int:
    with _history(project) as store:
        records = store.list_executions(args.flow, limit=args.limit, batch=args.batch)
    if args.json:
        json.dump([record_json(r) for r in records], out, indent=2, default=str)
        print(file=out)
        return ExitCode.OK
    print_table(records, out)
    return ExitCode.OK


def print_table(records: Sequence[ExecutionRecord], out: TextIO) -> None:
    print(f"{'EXECUTION':<23} {'FLOW':<28} {'STATUS':<11} {'STARTED':<19} {'DURATION':>8}  PARAMETERS", file=out)
    for r in records:
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r.started))
        flow = f"{r.namespace}.{r.flow_id}"[-28:]
        print(f"{r.id:<23} {flow:<28} {r.status.value:<11} {started:<19} {_seconds(r.duration):>8}  "
              f"{_short(r.parameters)}", file=out)


def cmd_show(project: Project, args: argparse.Namespace, out: TextIO) -> int:
    with _history(project) as store:
        record = store.get_execution(args.execution)
    if args.json:
        json.dump(record_json(record), out, indent=2, default=str)
        print(file=out)
        return ExitCode.OK
    print(f"execution  {record.id}\nflow       {record.namespace}.{record.flow_id} ({record.notebook})", file=out)
    print(f"status     {record.status.value}, {_seconds(record.duration)}", file=out)
    print(f"git        {record.git_commit or '-'}{' (uncommitted changes)' if record.git_dirty else ''}", file=out)
    print(f"parameters {json.dumps(dict(record.parameters), default=str)}", file=out)
    for step in record.steps:
        print_step(step, out)
        if step.error and step.error.traceback:
            print("    " + step.error.traceback.replace("\n", "\n    "), file=out)
    return ExitCode.OK


def cmd_batch(project: Project, args: argparse.Namespace, out: TextIO) -> int:
    from ..services.batch import BatchOptions, batch
    from ..services.run import resolve_notebook

    options = BatchOptions(args.workers, args.executor, args.scheduler, not args.no_progress)
    notebook = resolve_notebook(project, args.target)
    with _Progress(enabled=not (args.no_progress or args.json)) as progress:
        result = batch(project, notebook, args.grid, options, progress)
    records = result.records  # in the grid's order
    if args.json:
        json.dump({"batch": result.batch, "interrupted": result.interrupted,
                   "runs": [record_json(r) for r in records]}, out, indent=2, default=str)
        print(file=out)
    else:
        print_table(records, out)
        stopped = sum(r.status is RunStatus.INTERRUPTED for r in records)
        failed = len(result.failed) - stopped
        print(f"batch {result.batch}: {len(records)} run(s), {failed} failed"
              f"{f', {stopped} interrupted' if stopped or result.interrupted else ''}", file=out)
    if result.interrupted:
        return RunStatus.INTERRUPTED.exit_code
    return worst([r.status for r in result.records]).exit_code


class _Progress:
    """A tqdm bar on stderr with ETA and the failures so far (none with --no-progress or --json)."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.bar: Any = None
        self.failed = 0

    def __enter__(self) -> _Progress:
        return self

    def start(self, total: int) -> None:
        if self.enabled:
            from tqdm import tqdm
            self.bar = tqdm(total=total, unit="run", file=sys.stderr, dynamic_ncols=True)
            self.bar.set_postfix(failed=0)

    def done(self, record: ExecutionRecord) -> None:
        if self.bar is not None:
            self.failed += record.status is not RunStatus.SUCCESS
            self.bar.set_postfix(failed=self.failed, refresh=False)
            self.bar.update(1)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()
