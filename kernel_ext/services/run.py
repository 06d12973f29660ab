"""``nbops run``: a flow run locally exactly as Kestra would run it, recorded in the history.

Each step (task) runs with papermill in a fresh kernel, in a working folder of its own holding
only what the Kestra task would have: the ``files`` it declares and the files earlier steps
``produce``; earlier steps' declared ``outputs`` become its parameters. Retry and timeout follow
the flow's policy.
"""
from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..adapters.files import atomic_write
from ..adapters.kernels import KernelPools
from ..adapters.notebooks import tagged_copy
from ..adapters.project import Project
from ..adapters.runner import NotebookOutcome, run_notebook, stop_kernel
from ..adapters.store import RunStore
from ..core.convert import Conversion
from ..core.gitplan import notebook_bytes
from ..core.model import InputType, frozen_map
from ..core.notebook import SKIP_TAG
from ..core.pipeline import Pipeline, PipelineStep
from ..core.retry import delays
from ..core.rules import duration_seconds
from ..core.param_values import coerce_parameters, with_defaults
from ..core.runs import CellError, ExecutionRecord, RunStatus, StepRecord, worst
from ..errors import InvalidError, NbopsError
from .project_flows import convert_notebook, identify
from .workdir import fresh_workdir

StepListener = Callable[[StepRecord], None]
REDACTED = "***"


@dataclass(frozen=True)
class PreparedRun:
    conversion: Conversion
    plan: Pipeline  # the conversion's pipeline: the steps the Kestra tasks run
    values: Mapping[str, Any]  # checked, typed parameter values
    git: tuple[str | None, bool | None] | None = None  # (commit, dirty) when already known (a sweep asks once)


def open_store(project: Project) -> RunStore:
    return RunStore(project.history_db)


def new_execution_id() -> str:
    """Sortable by start time, unique across processes: 20241126-153011-3fa2c1."""
    return time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]


def resolve_notebook(project: Project, target: str) -> Path:
    """A notebook path as given, or the notebook whose flow is ``id`` or ``namespace.id``."""
    path = Path(target)
    if target.endswith(".ipynb"):
        for candidate in (path, project.root / path):  # as given, or relative to the repository
            if candidate.is_file():
                return candidate
        raise NbopsError("no such notebook", file=target)
    matches = [(path, identity) for path in project.notebook_paths()  # only their %%flow cells are read
               if (identity := identify(project, path)) is not None and identity.answers_to(target)]
    if len(matches) != 1:
        found = ", ".join(identity.name for _, identity in matches)
        raise NbopsError(f"{'no' if not matches else 'more than one'} flow {target!r}{' (' + found + ')' if found else ''}",
                         hint="give the notebook's path, or namespace.flow_id")
    return matches[0][0]


def prepare(project: Project, notebook: Path, given: Mapping[str, Any] | None) -> PreparedRun:
    """Convert the notebook and check the parameters (unless ``given`` is None, for sweeps that
    check each set): every problem before any kernel starts."""
    conv = convert_notebook(project, notebook, render=False)  # validated all the same; the YAML text is unused
    if not conv.ok:
        raise InvalidError(conv.notebook.path, conv.problems)
    assert conv.flow is not None and conv.pipeline is not None
    values: dict[str, Any] = {}
    if given is not None:
        values, problems = coerce_parameters(conv.flow.inputs, with_defaults(conv.flow.inputs, given))
        if problems:
            raise InvalidError(conv.notebook.path, problems)
    return PreparedRun(conv, conv.pipeline, values)


class Execution:
    """One run of a prepared flow: its steps in groups, each recorded as it ends."""

    def __init__(self, project: Project, prepared: PreparedRun, pools: KernelPools, store: RunStore, *,
                 execution_id: str | None = None, batch: str | None = None, on_step: StepListener | None = None):
        self.project, self.prepared, self.pools, self.store = project, prepared, pools, store
        self.id = execution_id or new_execution_id()
        self.batch, self.on_step = batch, on_step
        self.folder = project.runs_dir / self.id
        self.base = (project.root / prepared.conversion.notebook.path).parent  # step paths are relative to it
        self.timeout = duration_seconds(prepared.plan.timeout) if prepared.plan.timeout else None
        self.outputs: dict[str, Mapping[str, Any]] = {}
        self.done: list[StepRecord] = []
        self.stopped = threading.Event()  # wakes a retry wait at once on Ctrl-C
        self.active: set[Any] = set()  # kernel managers of the steps running now
        self.stopping = False  # Ctrl-C: end every running step, start no other

    def run(self) -> ExecutionRecord:
        from ..adapters.git import GitRepo

        for step in self.prepared.plan.steps:  # a missing kernel is an error before anything is recorded
            notebook = self.project.relative(self.base / step.notebook)
            self.pools.require(step.kernel.name, step.kernel.language, notebook)
        conv = self.prepared.conversion
        with ThreadPoolExecutor(1) as background:  # Git's answer arrives while the first kernel works
            known = self.prepared.git
            git = background.submit(lambda: known if known is not None else GitRepo.head_state_at(self.project.root))
            record = ExecutionRecord(self.id, conv.namespace, conv.flow_id, conv.notebook.path,
                                     frozen_map(self._redacted(self.prepared.values)), RunStatus.RUNNING, time.time(),
                                     batch=self.batch)
            self.store.start_execution(record)
            try:
                self._groups()
            except KeyboardInterrupt:
                self.stopping = True
            commit, dirty = git.result()
        steps = tuple(self.done)
        status = RunStatus.INTERRUPTED if self.stopping else worst([s.status for s in steps])
        final = replace(record, status=status, ended=time.time(), git_commit=commit, git_dirty=dirty, steps=steps)
        self.store.finish_execution(self.id, status, final.ended or time.time(), git_commit=commit, git_dirty=dirty)
        return final

    def _groups(self) -> None:
        for group in self.prepared.plan.groups:
            managers = [self.pools.manager(step.kernel.name) for step in group.steps]  # each step in its own kernel
            self._run_group(group.steps, managers)
            if any(r.status is not RunStatus.SUCCESS for r in self.done):
                return  # as in Kestra, a failed task ends the execution after its group

    def _run_group(self, group: tuple[PipelineStep, ...], managers: list[Any]) -> None:
        """Steps run in threads, even a single one: this thread stays free to hear Ctrl-C (nbclient
        would otherwise take SIGINT over in the thread that runs it) and stops the kernels itself."""
        with ThreadPoolExecutor(len(group)) as parallel:
            futures = [parallel.submit(self._step, step, km) for step, km in zip(group, managers, strict=True)]
            try:
                self.done += [future.result() for future in futures]
            except KeyboardInterrupt:
                self.stop()
                self.done += [future.result() for future in futures]
                raise

    @property
    def secrets(self) -> set[str]:
        flow = self.prepared.conversion.flow
        return {i.id for i in flow.inputs if i.type is InputType.SECRET} if flow else set()

    def _redacted(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Secret-typed inputs never reach the history: their values are stored as ***."""
        return {k: REDACTED if k in self.secrets and v is not None else v for k, v in values.items()}

    def stop(self) -> None:
        """End the running steps now (their kernels are killed) and start no other."""
        self.stopping = True
        self.stopped.set()
        for km in list(self.active):
            stop_kernel(km)

    def _step(self, step: PipelineStep, km: Any) -> StepRecord:
        params = {n: self.prepared.values[n] for n in step.params if n in self.prepared.values}
        params.update((n, self.outputs[s][n]) for n, s in step.takes if n in self.outputs.get(s, {}))
        started, attempts = time.time(), 1
        retries = delays(self.prepared.plan.retry)
        while True:
            self.active.add(km)
            try:
                outcome = self._attempt(step, params, km)
            finally:
                self.active.discard(km)
            if self.stopping:
                outcome = replace(outcome, status=RunStatus.INTERRUPTED)
            wait = next(retries, None) if outcome.status not in (RunStatus.SUCCESS, RunStatus.INTERRUPTED) else None
            if wait is None or self.stopped.wait(wait):  # no retry left, or stopped while waiting
                if self.stopping:
                    outcome = replace(outcome, status=RunStatus.INTERRUPTED)
                break
            attempts += 1
            km = self.pools.manager(step.kernel.name)
        self.outputs[step.task_id] = dict(outcome.outputs)
        if outcome.output_notebook and self.secrets & params.keys():
            _redact_notebook(outcome.output_notebook, self.secrets & params.keys())
        notebook = self.project.relative(self.base / step.notebook)
        executed = self.project.relative(outcome.output_notebook) if outcome.output_notebook else None
        record = StepRecord(step.task_id, notebook, outcome.status, started, outcome.ended, attempts, executed,
                            frozen_map(self._redacted(params)), frozen_map(outcome.outputs), outcome.error,
                            outcome.warnings)
        self.store.record_step(self.id, record)
        if self.on_step:
            self.on_step(record)
        return record

    def _source(self, step: PipelineStep) -> Path:
        """The notebook to execute: a copy with the skip tag where a header or %load_ext cell lacks it
        (such cells never run, tagged or not)."""
        notebook = self.base / step.notebook
        untagged = dict(self.prepared.conversion.untagged).get(self.project.relative(notebook))
        if not untagged:
            return notebook
        return tagged_copy(notebook, untagged, SKIP_TAG, self.folder / f".{step.task_id}.source.ipynb")

    def _attempt(self, step: PipelineStep, params: dict[str, Any], km: Any) -> NotebookOutcome:
        upstream = [(self.folder / producer, file) for file, producer in step.upstream_files]
        workdir = fresh_workdir(self.folder / step.task_id, self.base, step.files, upstream)
        outcome = run_notebook(self._source(step), self.folder / f"{step.task_id}.ipynb", params, kernel_manager=km,
                               cwd=workdir, timeout=self.timeout)
        if outcome.status is RunStatus.SUCCESS:
            missing = [f"file {f}" for f in step.produces if not (workdir / f).is_file()]
            missing += [f"output {o}" for o in step.outputs if o not in outcome.outputs]
            if missing:
                message = f"the step declares {', '.join(missing)} but did not make it"
                return replace(outcome, status=RunStatus.FAILED, error=CellError(None, "MissingProduct", message))
        return outcome


def _redact_notebook(path: Path, names: set[str]) -> None:
    """The stored notebook keeps no secret: papermill's injected cell and metadata show ***."""
    import json

    from .scan import redact_secret_parameters

    redacted = redact_secret_parameters(json.loads(path.read_text(encoding="utf-8")), names)
    atomic_write(path, notebook_bytes(redacted))


def run(project: Project, target: str, given: Mapping[str, Any],
        on_step: StepListener | None = None) -> ExecutionRecord:
    """Run a flow; ``given`` values are typed, or :class:`TextValue` when written as text."""
    with KernelPools(warm=[project.options.kernel]) as pools:  # the zygote warms up while the flow is checked
        prepared = prepare(project, resolve_notebook(project, target), given)
        pools.ahead = prepared.plan.width
        with open_store(project) as store:
            return Execution(project, prepared, pools, store, on_step=on_step).run()
