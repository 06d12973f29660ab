"""``nbops commit``: export, validate, strip outputs, scan for secrets, then commit exactly the
notebooks and flows concerned (never ``add -A``), with the configured author."""
from __future__ import annotations

import json
import os
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from ..adapters.files import MAX_NOTEBOOK_BYTES, read_text
from ..adapters.notebooks import is_large, read_skeleton
from ..adapters.project import Project
from ..core.convert import Conversion
from ..core.emit import GENERATED_MARK, generated_source
from ..core.gitplan import conflict_marker_line, notebook_bytes, strip_outputs
from ..core.model import InputType
from ..errors import ConfigError, ConflictError, InvalidError, NbopsError, Problem
from .export import export
from .scan import redact_secret_parameters, refuse_secrets

if TYPE_CHECKING:  # the Git adapter is imported when a commit runs
    from ..adapters.git import GitRepo

_AUTHOR = re.compile(r"^\s*(?P<name>[^<>]+?)\s*<(?P<email>[^<>\s]+)>\s*$")


@dataclass
class CommitResult:
    commit: str | None = None
    files: list[str] = field(default_factory=list)  # what the commit changed
    message: str = ""


def parse_author(text: str) -> tuple[str, str] | None:
    if not text:
        return None
    match = _AUTHOR.match(text)
    if not match:
        raise ConfigError(f"[tool.nbops] author {text!r} is not 'Name <email>'")
    return match["name"], match["email"]


def changed_notebooks(project: Project, status: list[str]) -> list[Path]:
    """Flow notebooks that differ from HEAD (modified or new), from Git's own status."""
    paths = [project.root / e[3:] for e in status if "D" not in e[:2] and e[3:].endswith(".ipynb")]
    for path in paths:
        if path.is_symlink() and not project.is_flow_notebook(path):
            raise ConflictError("is a symlink leading outside the repository; nbops never commits it",
                                file=project.relative(path.parent) + "/" + path.name)
    return [p for p in paths if project.is_flow_notebook(p)]


def _contents(project: Project, conversions: list[Conversion]) -> dict[str, bytes | None]:
    """What the commit will hold: each notebook (stripped by default), the step notebooks of its
    pipeline (Kestra needs them as namespace files), and its flow."""
    contents: dict[str, bytes | None] = {}
    for conv in conversions:
        assert conv.flow_path is not None and conv.text is not None
        secrets = {i.id for i in conv.flow.inputs if i.type is InputType.SECRET} if conv.flow else set()
        for notebook in (conv.notebook.path, *step_notebooks(conv)):
            contents[notebook] = _committed_notebook(project, notebook, secrets)
        contents[conv.flow_path] = conv.text.encode("utf-8")
    return contents


def step_notebooks(conv: Conversion) -> list[str]:
    """Repository-relative paths of a pipeline's step notebooks (beside the flow notebook)."""
    folder = PurePosixPath(conv.notebook.path).parent
    return [posixpath.normpath(folder / step) for step in conv.header.step_notebooks]


def _committed_notebook(project: Project, path: str, secrets: set[str]) -> bytes:
    if project.options.strip_outputs and is_large(project.root / path):  # outputs skipped unread
        return notebook_bytes(strip_outputs(read_skeleton(project.root / path, path)))
    raw = read_text(project.root / path, MAX_NOTEBOOK_BYTES, path)
    if project.options.strip_outputs:
        return notebook_bytes(strip_outputs(json.loads(raw)))
    if secrets:  # outputs kept: an executed notebook's injected parameters must not carry secrets
        return notebook_bytes(redact_secret_parameters(json.loads(raw), secrets))
    return raw.encode("utf-8")


def _refuse_conflicts(project: Project, notebooks: list[Path]) -> None:
    problems = []
    for path in notebooks:
        try:
            line = _conflict_line(path)
        except OSError as exc:  # unreadable: named with the others, never a traceback
            problems.append(Problem(f"{os.path.relpath(path, project.root)}: cannot read: {exc.strerror or exc}"))
            continue
        if line is not None:
            problems.append(Problem(f"{project.relative(path)} has a merge-conflict marker at line {line}",
                                    hint="resolve the conflict in JupyterLab or with nbdime, then commit"))
    if problems:
        raise InvalidError(None, problems)


def _conflict_line(path: Path) -> int | None:
    """The first merge-conflict marker line of a file, read line by line (a large notebook is not
    held whole)."""
    if not path.is_file():
        return None
    with path.open("rb") as handle:
        return next((number for number, line in enumerate(handle, 1) if conflict_marker_line(line)), None)


def _orphans(project: Project, repo: GitRepo) -> dict[str, None]:
    """Generated flows whose notebook is gone: the commit deletes both (the notebook may still be
    in HEAD), and the flow file leaves the working copy too, as export would never write it again.
    ``git grep`` reads the first lines of the flows Git sees (tracked or not, never ignored) in one
    C process: opening a thousand files from Python took longer than the rest of the commit.
    "Gone" is Git's view, not the disk's: a notebook that a sparse checkout or the skip-worktree bit
    keeps off the disk is still in the branch, and neither it nor its flow is deleted."""
    orphans: dict[str, None] = {}
    hits = repo.grep_first(f"^{re.escape(GENERATED_MARK)}", project.options.flows)
    absent = [(flow, source) for flow, number, text in hits
              if (source := generated_source(text) if number == 1 else None) is not None
              and not (project.root / source).exists()]
    kept_off_disk = repo.not_checked_out(*{source for _, source in absent}) if absent else set()
    for flow, source in absent:
        if source not in kept_off_disk and flow not in kept_off_disk:
            orphans[flow] = None
            orphans[source] = None
    return orphans


def _refuse_mass_deletion(project: Project, repo: GitRepo, orphans: dict[str, None]) -> None:
    """Deleting more than ``max_delete_share`` of the flows in one commit needs ``--force``, as
    ``sync --delete`` does: a wiped folder (a bad checkout, a script gone wrong) must not become a
    commit that ``push`` publishes. Deleting a single flow is never refused."""
    from .remote import refuse_mass_deletion

    folder = project.options.flows.strip("/") + "/"
    flows = sorted(p for p in orphans if p.startswith(folder))
    total = len(repo.ls_files(project.options.flows))
    notebooks = sorted(p for p in orphans if not p.startswith(folder))
    refuse_mass_deletion("commit", "flows", flows, total, project.options.max_delete_share, minimum=2,
                         also=f" and {len(notebooks)} notebook(s)" if notebooks else "",
                         hint="restore the notebooks (git restore --source=HEAD -- PATH, git sparse-checkout "
                              "disable), or nbops commit --force if these deletions are intended")


def commit(project: Project, paths: list[Path] | None, message: str | None, *, force: bool = False) -> CommitResult:
    from ..adapters.git import GitRepo

    if message is not None and not message.strip():
        raise ConfigError("the commit message is blank", hint='nbops commit -m "what changed", or leave -m out')
    repo = None if paths else GitRepo.open(project.root, search=False)  # with paths, Git is first needed to commit
    try:
        status = repo.status(project.options.notebooks, project.options.flows) if repo else []
        notebooks = paths if paths else changed_notebooks(project, status)
        orphans = _orphans(project, repo) if repo else {}
        if not notebooks and not orphans:
            raise NbopsError("nothing to commit: no flow notebook differs from HEAD", hint="nbops commit PATH ...")
        if orphans and repo is not None and not force:
            _refuse_mass_deletion(project, repo, orphans)
        contents, names = _planned(project, notebooks, orphans)
        text = message or f"nbops: update flow{'s' if len(names) > 1 else ''} {', '.join(names)}"
        author = parse_author(project.options.author)
        repo = repo or GitRepo.open(project.root, search=False)
        sha = repo.commit_contents(contents, text, author)
    finally:
        if repo is not None:
            repo.close()
    if sha is not None:
        for path in orphans:
            (project.root / path).unlink(missing_ok=True)
    return CommitResult(sha, sorted(contents) if sha else [], text)


def _planned(project: Project, notebooks: list[Path],
             orphans: dict[str, None]) -> tuple[dict[str, bytes | None], list[str]]:
    """What the commit holds (checked: no conflict marker, every flow valid, no secret) and the
    flow names its default message lists."""
    _refuse_conflicts(project, notebooks)  # before converting: a conflicted notebook fails in confusing ways
    result = export(project, notebooks, full=True) if notebooks else None
    if result is not None and result.failed:
        raise InvalidError(None, [Problem(q.render(c.notebook.path)) for c in result.failed for q in c.problems])
    conversions = result.conversions if result is not None else []
    contents = {**_contents(project, conversions), **orphans}
    refuse_secrets(project, contents)
    return contents, sorted(c.flow_id for c in conversions) or sorted({Path(p).stem for p in orphans})
