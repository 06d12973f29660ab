"""Remotes, the network side of :class:`repo.GitRepo`: before any network command every URL
git would use (fetch and push, ``insteadOf`` applied) is checked, and git runs with a protocol
allow-list, no prompts and a timeout. A push is never forced, and counts only once ``ls-remote``
shows the remote branch at the pushed commit; a read that fails raises, never reads as "absent".
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import ConfigError, ExitCode, NbopsError
from . import safety

if TYPE_CHECKING:
    from .repo import GitRepo, GitResult


class PushRejected(NbopsError):
    """The remote refused the push (it moved on, or protects the branch); nothing was forced, the
    local commit and the remote are as they were."""

    exit_code = ExitCode.REJECTED

    def __init__(self, message: str, *, branch: str, reason: str, hint: str):
        super().__init__(message, hint=hint)
        self.branch = branch
        self.reason = reason


def validate_branch_name(repo: GitRepo, name: str) -> str:
    """``name`` if git accepts it as a branch and it passed the option/full-ref precheck."""
    safety.precheck_branch_name(name)
    result = repo.run("check-ref-format", "--branch", name, check=False)
    if result.status != 0 or result.out.strip() != name:
        raise ConfigError(f"invalid branch name {name!r}", hint="no spaces, '..', '~^:?*[\\', or trailing '.lock'")
    return name


def remote_url(repo: GitRepo, name: str) -> str | None:
    """The remote's fetch URL as git will use it; None when there is no such remote."""
    result = repo.run("remote", "get-url", "--", name, check=False)
    if result.status == 2 or "No such remote" in result.err:
        return None
    if result.status != 0:
        raise safety.git_failure(("remote",), result.err)
    return result.out.strip() or None


def _checked_remote(repo: GitRepo, *, push: bool) -> None:
    """The remote exists, and every URL git would use for this direction is safe."""
    if remote_url(repo, repo.remote) is None:
        raise ConfigError(f"no remote '{repo.remote}': add one with git remote add {repo.remote} URL")
    urls = repo.run("remote", "get-url", "--all", *(["--push"] if push else []), "--", repo.remote).out
    for url in urls.splitlines():
        safety.validate_remote_url(url.strip())


def fetch(repo: GitRepo, branch: str) -> str:
    """Fetch one branch into its remote-tracking ref (forced there, as git's default refspec); its commit."""
    validate_branch_name(repo, branch)
    _checked_remote(repo, push=False)
    tracking = f"refs/remotes/{repo.remote}/{branch}"
    result = repo.run("fetch", "--no-tags", "--", repo.remote, f"+refs/heads/{branch}:{tracking}",
                      network=True, check=False)
    if result.status != 0 and "couldn't find remote ref" in result.err:
        raise NbopsError(f"branch '{branch}' does not exist on {repo.remote}", hint="check the name, or push it first")
    if result.status != 0:
        raise safety.git_failure(("fetch",), result.err)
    return repo.resolve(tracking)


def remote_head(repo: GitRepo, branch: str) -> str | None:
    """The branch's commit on the remote, matched exactly (ls-remote patterns match name tails)."""
    validate_branch_name(repo, branch)
    _checked_remote(repo, push=False)
    ref = f"refs/heads/{branch}"
    out = repo.run("ls-remote", "--refs", "--", repo.remote, ref, network=True).out
    return next((line.split("\t")[0] for line in out.splitlines() if line.split("\t")[-1] == ref), None)


def push(repo: GitRepo, branch: str, *, create: bool) -> str:
    """Push HEAD's commit (by id, so a commit made meanwhile is not pushed unseen), then verify."""
    repo.require_branch()
    validate_branch_name(repo, branch)
    _checked_remote(repo, push=True)
    head = repo.head_commit()
    if head is None:
        raise NbopsError("nothing to push: no commit yet", hint="commit first")
    if not create and remote_head(repo, branch) is None:
        raise NbopsError(f"branch '{branch}' does not exist on {repo.remote}", hint="push with create to make it")
    result = repo.run("push", "--porcelain", "--", repo.remote, f"{head}:refs/heads/{branch}",
                      network=True, check=False)
    if result.status != 0:
        raise _push_failure(repo, branch, result)
    now = remote_head(repo, branch)
    if now != head:
        raise NbopsError(f"push to {repo.remote}/{branch} not confirmed: the branch is at {now}, not {head}",
                         hint="someone may have pushed meanwhile: fetch and look")
    return head


def _push_failure(repo: GitRepo, branch: str, result: GitResult) -> NbopsError:
    """A ``!`` line of ``push --porcelain`` is a refusal (PushRejected); anything else failed."""
    refused = [line.split("\t")[-1] for line in result.out.splitlines() if line.startswith("!")]
    if not refused:
        return safety.git_failure(("push",), result.err)
    reason = refused[0]
    diverged = "non-fast-forward" in reason or "fetch first" in reason
    hint = ("the remote branch has commits you do not have: sync (or git pull --rebase) and push again"
            if diverged else "the remote refused it (protected branch or server hook?): push to another branch")
    return PushRejected(f"push to {repo.remote}/{branch} rejected: {reason}", branch=branch, reason=reason, hint=hint)
