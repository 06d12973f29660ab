"""``nbops push``, ``sync`` and ``restore``: the working copy and a branch of ``origin``, with
Kestra's Git semantics (PushFlows / SyncFlows) and nothing ever lost."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..adapters.files import atomic_write, escapes_repository, read_bytes
from ..adapters.project import Project
from ..core.gitplan import Change, Files, PlannedChange, push_plan, sync_plan
from ..errors import ConfigError, NbopsError

if TYPE_CHECKING:  # imported for real only when a command runs: GitPython is slow to import
    from ..adapters.git import GitRepo


@dataclass
class PushResult:
    branch: str
    plan: list[PlannedChange]
    commit: str | None = None  # set once the remote is verified to point at it


@dataclass
class SyncResult:
    branch: str
    plan: list[PlannedChange]
    kept: list[str] = field(default_factory=list)  # local files the branch lacks, kept without --delete
    backup: str | None = None  # the ref holding what the sync replaced
    moved_to: str | None = None  # the branch commit HEAD fast-forwarded to, when it could
    stays: str | None = None  # why HEAD did not move (a dry run: None)


def _repo(project: Project, branch: str | None) -> tuple[GitRepo, str]:
    from ..adapters.git import GitRepo

    repo = GitRepo.open(project.root)
    name = branch or repo.branch()
    if name is None:
        raise ConfigError("HEAD is detached: name the branch", hint="--branch BRANCH")
    repo.validate_branch_name(name)
    url = repo.remote_url()
    if url is None:
        raise ConfigError("no remote 'origin'", hint="git remote add origin URL")
    repo.validate_remote_url(url)
    return repo, name


def tracked_folders(project: Project) -> tuple[str, str]:
    return project.options.notebooks.strip("/"), project.options.flows.strip("/")


def files_at_rev(repo: GitRepo, rev: str, folders: tuple[str, ...]) -> Files:
    files: dict[str, bytes] = {}
    for folder in folders:
        files.update(repo.files_at(rev, folder))
    return files


def push(project: Project, branch: str | None, dry_run: bool) -> PushResult:
    """Report each flow as PushFlows does; "pushed" only once ls-remote shows our commit."""
    repo, name = _repo(project, branch)
    if repo.head_commit() is None:
        raise NbopsError("nothing to push: the repository has no commit yet", hint="nbops commit")
    remote_head = repo.remote_head(name)
    if remote_head is not None:
        repo.fetch(name)
    flows = (tracked_folders(project)[1],)
    remote = files_at_rev(repo, remote_head, flows) if remote_head else {}
    result = PushResult(name, push_plan(remote, files_at_rev(repo, "HEAD", flows)))
    if not dry_run:
        result.commit = repo.push(name)
    return result


def working_files(project: Project, repo: GitRepo) -> Files:
    """The working copy's notebooks and flows that Git sees: tracked or untracked, never ignored
    (a sync must not delete what .gitignore keeps out of the repository)."""
    files: dict[str, bytes] = {}
    unreadable: list[str] = []
    for name in sorted(repo.ls_files(*tracked_folders(project))):
        path = project.root / name
        if path.is_file() and not path.is_symlink() and ".ipynb_checkpoints" not in path.parts:
            try:
                files[name] = read_bytes(path, display=name)
            except NbopsError as exc:
                unreadable.append(f"{name} ({exc.message})")
    if unreadable:  # sync cannot tell whether they would be overwritten: nothing is changed
        raise NbopsError(f"cannot read {', '.join(unreadable)}; nothing was changed",
                         hint="fix the files' permissions, then sync again")
    return files


def sync(project: Project, branch: str | None, *, dry_run: bool, delete: bool, force: bool) -> SyncResult:
    """Make the working copy's notebooks and flows equal to the branch, as SyncFlows does for a
    Kestra instance. What it would overwrite or delete is first saved under a backup ref."""
    repo, name = _repo(project, branch)
    remote_head = repo.remote_head(name)
    if remote_head is None:  # a failed read raised already: this really is a missing branch
        raise NbopsError(f"branch {name!r} does not exist on origin", hint="nbops push --branch " + name)
    repo.fetch(name)
    remote = files_at_rev(repo, remote_head, tracked_folders(project))
    head = files_at_rev(repo, "HEAD", tracked_folders(project)) if repo.head_commit() else {}
    plan = sync_plan(remote, working_files(project, repo), head)
    result = SyncResult(name, plan)
    if not delete:
        result.kept = [c.path for c in plan if c.change is Change.DELETED]
        result.plan = [c for c in plan if c.change is not Change.DELETED]
    _check_deletions(project, result, force)
    if dry_run:
        return result
    touched = [c.path for c in result.plan if c.change in (Change.UPDATED, Change.OVERWRITTEN, Change.DELETED)]
    if touched:
        result.backup = repo.backup(touched, "sync")
    _apply(project, result.plan, remote)
    _catch_up(repo, result, remote_head, head)
    return result


def _catch_up(repo: GitRepo, result: SyncResult, remote_head: str, head: Files) -> None:
    """Move HEAD to the branch commit when that is a fast-forward of the checked-out branch, as
    ``git pull --ff-only`` would: otherwise Git would see the synced files as the user's own
    changes, ``git pull`` would refuse, and a later commit would record them a second time. The
    synced paths are first set in the index to the branch's version, so the merge takes them as
    they are; anything in the way (local commits, other local edits) leaves HEAD where it was."""
    current = repo.head_commit()
    if repo.branch() != result.branch:
        result.stays = f"the checked-out branch is not {result.branch}"
    elif any(path in head for path in result.kept):
        result.stays = "files the branch deleted are kept (no --delete)"
    elif current is not None and not repo.is_ancestor(current, remote_head):
        result.stays = "this branch has commits that are not on origin"
    if result.stays or current == remote_head:
        return
    paths = [c.path for c in result.plan if c.change is not Change.UNCHANGED]
    if paths:
        repo.reset_paths(remote_head, paths)
    result.stays = repo.fast_forward(remote_head)
    if result.stays is None:
        result.moved_to = remote_head


def _check_deletions(project: Project, result: SyncResult, force: bool) -> None:
    """Each kind counts on its own: a branch that keeps its flows but lost its notebooks would
    otherwise delete every notebook under a guard that only looked at flows."""
    if force:
        return
    notebooks, flows = (folder + "/" for folder in tracked_folders(project))
    for kind, folder in (("flows", flows), ("notebooks", notebooks)):
        deleted = [c.path for c in result.plan if c.change is Change.DELETED and c.path.startswith(folder)]
        total = sum(1 for c in result.plan if c.path.startswith(folder) and c.change is not Change.ADDED)
        refuse_mass_deletion("sync", kind, deleted, total, project.options.max_delete_share,
                             hint="check the branch; add --force if intended")


def refuse_mass_deletion(command: str, kind: str, deleted: list[str], total: int, max_share: float, *,
                         hint: str, minimum: int = 1, also: str = "") -> None:
    """An error when ``deleted`` is more than ``max_share`` of ``total`` files of one kind (and at
    least ``minimum`` of them), naming the count and the first few files."""
    share = len(deleted) / total if total else 0.0
    if len(deleted) < minimum or share <= max_share:
        return
    shown = ", ".join(deleted[:5]) + (f" and {len(deleted) - 5} more" if len(deleted) > 5 else "")
    raise NbopsError(f"{command} would delete {len(deleted)} of {total} {kind}{also} ({share:.0%}), more than "
                     f"{max_share:.0%} ([tool.nbops] max_delete_share): {shown}", hint=hint)


def _apply(project: Project, plan: list[PlannedChange], remote: Files) -> None:
    """Each file is replaced atomically: a sync killed half-way leaves old or new files, and
    running it again finishes the job. A path through a symlink out of the repository is refused
    before anything is written."""
    for change in plan:
        if change.change is not Change.UNCHANGED and escapes_repository(project.root, change.path):
            raise NbopsError(f"{change.path} leads outside the repository (a symlinked folder?)",
                             hint="remove the symlink; nbops sync writes only inside the repository")
    for change in plan:
        target = project.root / change.path
        if change.change in (Change.ADDED, Change.UPDATED, Change.OVERWRITTEN):
            atomic_write(target, remote[change.path])
        elif change.change is Change.DELETED:
            target.unlink(missing_ok=True)


def backups(project: Project) -> list[tuple[str, str, str]]:
    """(ref, ISO date, message) of every backup nbops sync made, newest first."""
    from ..adapters.git import GitRepo

    return [(b.ref, b.date.isoformat(timespec="seconds"), b.message) for b in GitRepo.open(project.root).backups()]


def restore(project: Project, ref: str) -> list[str]:
    """Put a backup's files back in the working copy; the paths written."""
    from ..adapters.git import GitRepo

    return list(GitRepo.open(project.root).restore(ref))

