"""Gather what the catalog shows: every flow (from notebooks, and hand-written ones in
``_flows/``), its Git history and its last local runs. Reads only: a repository without
``.nbops/state.db`` or without Git still gets a catalog, and nothing is created."""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..adapters.files import MAX_FLOW_BYTES, read_text
from ..adapters.project import Project

if TYPE_CHECKING:
    from ..adapters.git import Published
from ..core.catalog_model import CatalogFlow, Commit, RunSummary, split_title
from ..core.convert import Conversion, namespace_for, snake_case
from ..core.emit import generated_source
from ..core.mapping import flow_from_dict
from ..core.model import Flow
from ..core.runs import ExecutionRecord
from ..core.flow_validation import parse_flow_text
from ..errors import NbopsError, Problem
from .project_flows import convert_all

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GatherOptions:
    history: int = 10  # commits per flow
    runs: int = 10  # executions per flow


def gather(project: Project, options: GatherOptions = GatherOptions()) -> list[CatalogFlow]:
    """Every flow of the project, with history and runs; never raises for one bad notebook or flow."""
    flows = [_from_conversion(project, c) for c in convert_all(project, sources=False)] + _hand_written(project)
    histories = _histories(project, options.history)
    flows = [replace(f, history=histories.get(f.file, ())) for f in flows]
    return _with_runs(project, flows, options.runs)


def _histories(project: Project, per_file: int) -> dict[str, tuple[Commit, ...]]:
    """Each notebook's and flow's last commits (project-relative paths); {} without Git."""
    if per_file <= 0:
        return {}
    from ..adapters.git import GitRepo

    repo = GitRepo.find(project.root)
    if repo is None:
        return {}
    with repo:
        return repo.file_histories(project.root, [project.options.notebooks, project.options.flows], per_file)


def _from_flow(flow: Flow, file: str, notebook: str | None, text: str) -> CatalogFlow:
    title, description = split_title(flow.description, flow.id)
    return CatalogFlow(flow.namespace, flow.id, file, notebook, title, description, flow.labels, flow.inputs,
                       flow.triggers, flow.tasks, text)


def _from_conversion(project: Project, conv: Conversion) -> CatalogFlow:
    path = conv.notebook.path
    if conv.ok and conv.flow is not None:
        return _from_flow(conv.flow, path, path, conv.text or "")
    namespace = conv.namespace or conv.header.namespace or namespace_for(path, project.options)[0]
    flow_id = conv.flow_id or conv.header.id or snake_case(Path(path).stem) or "notebook"
    return CatalogFlow(namespace, flow_id, path, path, title=flow_id, problems=conv.problems)


def _hand_written(project: Project) -> list[CatalogFlow]:
    """Flow files nbops did not generate (generated ones are catalogued from their notebooks)."""
    found = []
    for path in project.flow_paths():
        name = project.relative(path)
        try:
            text = read_text(path, MAX_FLOW_BYTES, name)
        except NbopsError as exc:
            found.append(_broken(project, name, (Problem(exc.message, hint=exc.hint),)))
            continue
        if generated_source(text) is not None:
            continue
        data, problems = parse_flow_text(text, target=project.options.kestra)
        if problems:
            found.append(_broken(project, name, tuple(problems), data, text))
        else:
            found.append(_from_flow(flow_from_dict(data), name, None, text))
    return found


def _broken(project: Project, name: str, problems: tuple[Problem, ...], data: object = None,
            text: str = "") -> CatalogFlow:
    values = data if isinstance(data, dict) else {}
    folder = Path(name).parent.relative_to(project.options.flows.strip("/") or ".").as_posix()
    default_ns = ".".join(p for p in (project.options.namespace, folder.replace("/", ".")) if p and p != ".")
    namespace = values.get("namespace") if isinstance(values.get("namespace"), str) else default_ns
    flow_id = values.get("id") if isinstance(values.get("id"), str) else Path(name).stem
    return CatalogFlow(str(namespace), str(flow_id), name, None, title=str(flow_id), yaml=text, problems=problems)


def _with_runs(project: Project, flows: list[CatalogFlow], limit: int) -> list[CatalogFlow]:
    database = project.history_db
    if limit <= 0 or not database.is_file():  # never create the history just to read it
        return flows
    from ..adapters.store import RunStore

    try:
        with RunStore(database) as store:
            return [_runs_of(project, f, store.list_executions(f.key, limit=limit)) if f.ok else f for f in flows]
    except NbopsError as exc:  # a broken or too-new history: the catalog builds without runs
        log.warning("the run history cannot be read, so the catalog shows no runs: %s", exc)
        return flows


def _runs_of(project: Project, flow: CatalogFlow, records: Sequence[ExecutionRecord]) -> CatalogFlow:
    """The runs, and the newest executed notebook still on disk (the last step's, for pipelines)."""
    executed = next((step.output_notebook for r in records for step in reversed(r.steps)
                     if step.output_notebook and (project.root / step.output_notebook).is_file()), None)
    return replace(flow, runs=tuple(_summary(r) for r in records), executed_notebook=executed)


def _summary(record: ExecutionRecord) -> RunSummary:
    failed = next((s for s in record.steps if s.error is not None), None)
    failure = None
    if failed is not None and failed.error is not None:
        cell = f"cell {failed.error.cell}: " if failed.error.cell is not None else ""
        failure = f"{failed.step}: {cell}{failed.error.name}: {failed.error.message}"
    return RunSummary(record.id, record.status.value, record.started, record.duration, record.parameters, failure)


def publish(project: Project, site: Path, branch: str, *, push: bool, message: str | None = None) -> Published:
    """Commit the built site on ``branch`` (working tree and index untouched), then push it when asked."""
    from ..adapters.git import GitRepo

    with GitRepo.open(project.root) as repo:
        repo.validate_branch_name(branch)
        head = repo.head_commit()
        text = message or (f"Catalog of {head[:10]}" if head else "Catalog")
        (site / ".nojekyll").touch()  # GitHub Pages: serve folders starting with '_' as they are
        parent = repo.publish_parent(branch) if push else None
        result = repo.commit_folder(site, branch, text, parent)
        if push:
            repo.push_commit(branch, result.commit)
            result = replace(result, pushed=True)
    return result
