"""``nbops export``: notebooks → ``_flows/`` files, all validated before anything is written."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..adapters.files import MAX_FLOW_BYTES, read_text, write_if_changed
from ..adapters.notebooks import add_tag
from ..adapters.project import Project
from ..core.convert import Conversion
from ..core.emit import generated_source
from ..core.notebook import SKIP_TAG
from ..errors import NbopsError, Problem
from .project_flows import convert_all

log = logging.getLogger(__name__)


@dataclass
class ExportResult:
    written: list[str] = field(default_factory=list)
    gitops: list[str] = field(default_factory=list)  # gitops_sync flows written
    conversions: list[Conversion] = field(default_factory=list)  # the successful ones
    unchanged: list[str] = field(default_factory=list)
    tagged: list[tuple[str, tuple[int, ...]]] = field(default_factory=list)  # notebook, cells given skip-execution
    failed: list[Conversion] = field(default_factory=list)
    aborted: bool = False  # failures and no --keep-going: nothing was written

    @property
    def ok(self) -> bool:
        return not self.failed


def owner_problem(project: Project, flow_path: str, notebook: str, text: str) -> Problem | None:
    """Whether ``notebook`` may write ``flow_path``, which holds ``text``: a hand-written flow is
    never overwritten, nor one generated from another notebook that still exists (a renamed
    notebook takes over the file its old name left)."""
    owner = generated_source(text)
    if owner == notebook or (owner is not None and not (project.root / owner).is_file()):
        return None
    what = f"generated from {owner}" if owner else "a hand-written flow"
    return Problem(f"{flow_path} is {what}; export will not overwrite it with the flow of {notebook}", "id",
                   hint=f"give {notebook} another id, or move/delete {flow_path}")


def _owner_problem(project: Project, conv: Conversion) -> Problem | None:
    target = project.root / (conv.flow_path or "")
    if not target.exists():
        return None
    try:
        text = read_text(target, MAX_FLOW_BYTES, conv.flow_path)
    except NbopsError as exc:
        return Problem(exc.message, hint=exc.hint)
    return owner_problem(project, conv.flow_path or "", conv.notebook.path, text)


def plan_export(project: Project, paths: list[Path] | None = None, *, full: bool = False) -> list[Conversion]:
    """Every conversion (lean unless ``full``), with ownership conflicts of the target files added."""
    planned = []
    for conv in convert_all(project, paths, lean=not full):
        problem = _owner_problem(project, conv) if conv.ok else None
        planned.append(replace(conv, problems=(problem,), document=None, text=None) if problem else conv)
    return planned


def export(project: Project, paths: list[Path] | None = None, *, keep_going: bool = False,
           dry_run: bool = False, gitops: bool = False, branch: str | None = None,
           full: bool = False) -> ExportResult:
    from .gitops_export import plan_gitops_flows, write_gitops_flows

    remote = _gitops_remote(project, branch) if gitops else None  # a usage error comes before any work
    conversions = plan_export(project, paths, full=full)
    result = ExportResult(failed=[c for c in conversions if not c.ok], conversions=[c for c in conversions if c.ok])
    if result.failed and not keep_going:
        result.aborted = True
        return result
    planned = plan_gitops_flows(project, conversions, *remote) if remote is not None else []
    for conv in conversions:
        if conv.ok:
            _apply(project, conv, result, dry_run)
    result.gitops = write_gitops_flows(project, planned, dry_run=dry_run)
    return result


def _gitops_remote(project: Project, branch: str | None) -> tuple[str, str]:
    from ..adapters.git import GitRepo
    from .gitops_export import check_remote

    url, current = GitRepo.origin_and_branch_at(project.root)
    return check_remote(url, branch or current)


def _apply(project: Project, conv: Conversion, result: ExportResult, dry_run: bool) -> None:
    assert conv.text is not None and conv.flow_path is not None
    text = conv.text
    target = project.root / conv.flow_path
    changed = (not target.exists() or target.read_bytes() != text.encode()) if dry_run \
        else write_if_changed(target, text)
    (result.written if changed else result.unchanged).append(conv.flow_path)
    for notebook, cells in conv.untagged:
        if any(notebook == done for done, _ in result.tagged):
            continue  # a step notebook shared by two pipelines
        if not dry_run:
            add_tag(project.root / notebook, cells, SKIP_TAG)
        result.tagged.append((notebook, cells))
        log.info("%s: tagged cells %s with %s", notebook, cells, SKIP_TAG)
