"""What the panel's buttons do, each through the same service as the CLI command of that name.

A :class:`Target` is the notebook the panel belongs to; the functions return the services' own
results and raise nbops' errors, which the panel shows as messages.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..adapters.project import Project, find_project
from ..errors import NbopsError

if TYPE_CHECKING:
    from ..core.convert import Conversion
    from ..core.runs import ExecutionRecord, StepRecord
    from ..services.commit import CommitResult
    from ..services.gitdiff import FileDiff
    from ..services.remote import PushResult, SyncResult

NO_NOTEBOOK = "the notebook is unknown: open the panel with %nbops --notebook PATH"


@dataclass(frozen=True)
class Target:
    project: Project
    notebook: Path | None

    @classmethod
    def of(cls, notebook: Path | None) -> Target:
        return cls(find_project(notebook.parent if notebook else None), notebook)

    def path(self) -> Path:
        if self.notebook is None:
            raise NbopsError(NO_NOTEBOOK)
        return self.notebook

    @property
    def has_git(self) -> bool:
        return (self.project.root / ".git").exists()

    def git_problem(self) -> str | None:
        """Why Commit and Push cannot work here, or None."""
        if self.has_git:
            return None
        return (f"no Git repository at {self.project.root}: start one with `git init` there "
                "(then commit from this panel)")


def validate(target: Target) -> Conversion:
    from ..services.project_flows import convert_notebook

    return convert_notebook(target.project, target.path())


def flow_yaml(target: Target) -> str:
    from ..errors import InvalidError

    conversion = validate(target)
    if not conversion.ok or conversion.text is None:
        raise InvalidError(conversion.notebook.path, conversion.problems)
    return conversion.text


def export(target: Target) -> list[str]:
    """Write this notebook's flow under ``_flows/`` (the paths written; empty when unchanged)."""
    from ..errors import InvalidError
    from ..services.export import export as export_flows

    result = export_flows(target.project, [target.path()])
    if result.failed:
        raise InvalidError(result.failed[0].notebook.path, result.failed[0].problems)
    return result.written


def diff(target: Target) -> list[FileDiff]:
    """HEAD → working copy, for this notebook and its flow only."""
    from ..services.gitdiff import diff as git_diff

    conversion = validate(target)
    mine = {conversion.notebook.path, conversion.flow_path}
    return [d for d in git_diff(target.project, None, None) if d.path in mine]


def commit(target: Target, message: str | None) -> CommitResult:
    from ..services.commit import commit as git_commit

    _need_git(target)
    return git_commit(target.project, [target.path()], message or None)


def push(target: Target, dry_run: bool = False) -> PushResult:
    from ..services.remote import push as git_push

    _need_git(target)
    return git_push(target.project, None, dry_run)


def sync(target: Target, dry_run: bool) -> SyncResult:
    from ..services.remote import sync as git_sync

    _need_git(target)
    return git_sync(target.project, None, dry_run=dry_run, delete=False, force=False)


def run(target: Target, values: Mapping[str, Any], on_step: Any = None) -> ExecutionRecord:
    from ..services.run import run as run_flow

    return run_flow(target.project, str(target.path()), values, on_step=on_step)


def last_runs(target: Target, conversion: Conversion | None, limit: int = 5) -> list[ExecutionRecord]:
    """The flow's last executions; none when there is no history yet (nothing is created)."""
    from ..services.run import open_store

    if conversion is None or not conversion.flow_id or not target.project.history_db.is_file():
        return []
    with open_store(target.project) as store:
        return store.list_executions(f"{conversion.namespace}.{conversion.flow_id}", limit=limit)


def failing_step(record: ExecutionRecord) -> StepRecord | None:
    return next((s for s in record.steps if s.error is not None), None)


def _need_git(target: Target) -> None:
    if (why := target.git_problem()) is not None:
        raise NbopsError(why)
