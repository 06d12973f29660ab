"""``nbops export``: notebooks → ``_flows/`` files, all validated before anything is written."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..adapters.files import MAX_FLOW_BYTES, escapes_repository, read_text, write_if_changed
from ..adapters.notebooks import add_tag
from ..adapters.project import Project
from ..core.convert import Conversion
from ..core.emit import generated_source
from ..core.notebook import SKIP_TAG
from ..errors import ConflictError, NbopsError, Problem
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
    not_written: list[tuple[str, str]] = field(default_factory=list)  # (file, why): a write failed, file left as it was

    @property
    def ok(self) -> bool:
        return not self.failed and not self.not_written


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


def _outside_problem(project: Project, relative: str) -> Problem | None:
    if not escapes_repository(project.root, relative):
        return None
    return Problem(f"{relative} leads outside the repository (or into .git) through a symlinked folder; "
                   "export writes only inside the repository", hint="remove the symlink and export again")


def _owner_problem(project: Project, conv: Conversion) -> Problem | None:
    if outside := _outside_problem(project, conv.flow_path or ""):
        return outside
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
    for relative, _ in planned:
        if outside := _outside_problem(project, relative):
            raise ConflictError(outside.message, file=relative, hint=outside.hint)
    for conv in conversions:  # everything is validated: now write, each file atomically
        if conv.ok:
            _apply(project, conv, result, dry_run)
    if not result.not_written:
        try:
            result.gitops = write_gitops_flows(project, planned, dry_run=dry_run)
        except OSError as exc:
            result.not_written.append((project.relative(Path(exc.filename)) if exc.filename else "gitops flow",
                                       _why(exc)))
    else:
        result.not_written += [(relative, "not attempted after the errors above") for relative, _ in planned]
    return result


def _why(exc: OSError) -> str:
    return f"cannot write: {exc.strerror or exc}"


def _gitops_remote(project: Project, branch: str | None) -> tuple[str, str]:
    from ..adapters.git import GitRepo
    from .gitops_export import check_remote

    url, current = GitRepo.origin_and_branch_at(project.root)
    return check_remote(url, branch or current)


def _apply(project: Project, conv: Conversion, result: ExportResult, dry_run: bool) -> None:
    """Write one flow file and tag its notebooks; a write error (a read-only folder, a full disk)
    leaves that file as it was and is recorded in ``result.not_written``."""
    assert conv.text is not None and conv.flow_path is not None
    text = conv.text
    target = project.root / conv.flow_path
    try:
        changed = (not target.exists() or target.read_bytes() != text.encode()) if dry_run \
            else write_if_changed(target, text)
    except OSError as exc:
        result.not_written.append((conv.flow_path, _why(exc)))
        return
    (result.written if changed else result.unchanged).append(conv.flow_path)
    for notebook, cells in conv.untagged:
        if any(notebook == done for done, _ in result.tagged):
            continue  # a step notebook shared by two pipelines
        try:
            if not dry_run:
                add_tag(project.root / notebook, cells, SKIP_TAG)
        except (OSError, NbopsError) as exc:
            result.not_written.append((notebook, exc.message if isinstance(exc, NbopsError) else _why(exc)))
            continue
        result.tagged.append((notebook, cells))
        log.info("%s: tagged cells %s with %s", notebook, cells, SKIP_TAG)
