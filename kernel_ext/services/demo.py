"""``nbops demo``: the whole product on the example flows, in a Git repository of its own.

The project's notebooks are copied into a fresh folder (``demo/`` by default) that becomes a flow
repository: every flow is run with papermill (upstream flows first), exported to ``_flows/``,
committed, and catalogued into ``site/``. Nothing in the project itself changes. A previous demo
is replaced only when Git says it holds no work of the user's; otherwise the demo refuses.
"""
from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..adapters.project import STATE_FOLDER, Project, load_options
from ..core.catalog_model import CatalogFlow
from ..core.runs import ExecutionRecord, RunStatus
from ..errors import ConflictError, NbopsError

log = logging.getLogger(__name__)
MARKER = ".nbops-demo"  # says the folder is a demo nbops made, and may replace
AUTHOR = "nbops demo <demo@nbops.invalid>"  # a fresh machine may have no Git identity
IGNORED = (".ipynb_checkpoints", "__pycache__", STATE_FOLDER)


@dataclass(frozen=True)
class DemoResult:
    root: Path
    executions: tuple[ExecutionRecord, ...]
    commit: str | None
    site: Path

    @property
    def ok(self) -> bool:
        return all(r.status is RunStatus.SUCCESS for r in self.executions)


Say = Callable[[str], None]


def demo(project: Project, target: Path, say: Say) -> DemoResult:
    from .catalog_data import GatherOptions, gather
    from .commit import commit
    from .export import export
    from .run import run

    demo_project = _prepare(project, target.resolve())
    say(f"{shown_path(demo_project.root)}: a Git repository with a copy of {project.options.notebooks}/")
    executions = []
    for flow in run_order(gather(demo_project, GatherOptions(history=0, runs=0))):
        record = run(demo_project, str(demo_project.root / flow.file), {})  # never the project's own copy
        say(f"  run {flow.key}: {record.status.value} in {record.duration or 0:.1f} s")
        executions.append(record)
    exported = export(demo_project)
    if not exported.ok:
        raise NbopsError("the example flows do not export", file=str(demo_project.root),
                         hint=f"nbops -C {shown_path(demo_project.root)} export shows why")
    say(f"  export: {len(exported.written) + len(exported.unchanged)} flows in {demo_project.options.flows}/")
    committed = commit(demo_project, None, "nbops demo: the example flows and their Kestra YAML")
    say(f"  commit {committed.commit[:12] if committed.commit else '(nothing new)'}: {len(committed.files)} files")
    from ..adapters.mkdocs_site import build

    site = build(demo_project.root)
    return DemoResult(demo_project.root, tuple(executions), committed.commit, site)


def run_order(flows: Sequence[CatalogFlow]) -> list[CatalogFlow]:
    """Notebook flows, each after the flows it runs after (`after:`); otherwise by name."""
    from ..core.catalog_graph import edges

    runnable = {f.key: f for f in flows if f.ok and f.notebook}
    waits = {key: {a for a, b, kind in edges(flows) if b == key and a in runnable and kind == "after"}
             for key in runnable}
    ordered: list[CatalogFlow] = []
    while waits:
        ready = sorted(k for k, before in waits.items() if not before) or sorted(waits)[:1]  # a cycle: break it
        for key in ready:
            ordered.append(runnable[key])
            del waits[key]
        for before in waits.values():
            before.difference_update(ready)
    return ordered


def _prepare(project: Project, target: Path) -> Project:
    """The demo repository: the notebooks, a pyproject.toml naming the namespace, git init."""
    if target == project.root or project.root.is_relative_to(target):
        raise ConflictError("is or contains the project: the demo needs a folder of its own", file=str(target),
                            hint="nbops demo (it makes demo/ in the project), or nbops demo NEW_FOLDER")
    _clear(target)
    shutil.copytree(project.notebooks_dir, target / project.options.notebooks,
                    ignore=shutil.ignore_patterns(*IGNORED))
    namespace = f'namespace = "{project.options.namespace}"\n' if project.options.namespace else ""
    (target / "pyproject.toml").write_text(f'[tool.nbops]\n{namespace}author = "{AUTHOR}"\n', encoding="utf-8")
    (target / ".gitignore").write_text(f"{STATE_FOLDER}/\nsite/\n", encoding="utf-8")
    (target / MARKER).write_text("made by nbops demo; replaced by the next one while Git shows no change\n")
    data = sorted(p.relative_to(target).as_posix() for p in (target / project.options.notebooks).rglob("*")
                  if p.is_file() and p.suffix != ".ipynb")  # the data the flows read (`files:`)
    _first_commit(target, ["pyproject.toml", ".gitignore", MARKER, *data])
    return Project(target, load_options(target))


def _first_commit(target: Path, paths: list[str]) -> None:
    """The repository's settings and data, committed with Git (by the demo's own author: the
    machine may have none); notebooks and flows are then committed by ``nbops commit``."""
    from ..adapters.git import GitRepo

    name, email = AUTHOR.removesuffix(">").split(" <")
    with GitRepo.init(target, branch="main") as repo:
        repo.add_and_commit(paths, "nbops demo: the repository's settings and the example data", (name, email))


def _clear(target: Path) -> None:
    """Make room: an absent or empty folder, or a previous demo with no uncommitted change."""
    if not target.exists() or (target.is_dir() and not any(target.iterdir())):
        target.mkdir(parents=True, exist_ok=True)
        return
    if not (target / MARKER).is_file():
        raise ConflictError("exists and is not a demo nbops made", file=str(target),
                            hint="nbops demo OTHER_FOLDER, or remove it yourself")
    from ..adapters.git import GitRepo

    repo = GitRepo.find(target, search=False)
    if repo is None:
        raise ConflictError("is a previous demo without its Git repository: nbops cannot tell your changes",
                            file=str(target), hint="move or remove the folder, then run again")
    with repo:
        changes = repo.status()
    if changes:
        raise ConflictError("is a previous demo with changes of yours; nbops never deletes them", file=str(target),
                            hint=f"commit them (nbops -C {target} commit) or move the folder, then run again")
    shutil.rmtree(target)
    target.mkdir(parents=True)


def shown_path(path: Path) -> str:
    """``path`` relative to the current folder when inside it: what a user can paste."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
