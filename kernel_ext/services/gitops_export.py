"""``nbops export --gitops-flow``: one ``gitops_sync`` flow per namespace, pointing Kestra's Git
sync at this repository's ``origin`` remote."""
from __future__ import annotations

import re

from ..adapters.files import MAX_FLOW_BYTES, read_text, write_if_changed
from ..adapters.project import Project
from ..core.convert import Conversion, flow_file
from ..core.gitops_flow import GITOPS_FLOW_ID, credential_kind, gitops_flow, gitops_header, gitops_namespace
from ..core.flow_validation import flow_problems
from ..core.yamlsafe import dump_yaml
from ..errors import ConfigError, FlowError

_CREDENTIALS = re.compile(r"^[a-z+]+://[^/@]+@")  # https://user:token@host/...


def check_remote(url: str | None, branch: str | None) -> tuple[str, str]:
    if not url:
        raise ConfigError("no remote 'origin' to point Kestra at", hint="git remote add origin URL")
    if url.startswith(("-", "ext::", "fd::")):
        raise ConfigError(f"remote URL {url!r} cannot be used", hint="use an https, ssh or file URL")
    if _CREDENTIALS.match(url) and url.startswith("http"):
        raise ConfigError("the origin URL carries credentials, which would be committed in the flow",
                          hint="remove them from the URL; the flow reads GIT_USERNAME/GIT_TOKEN from Kestra secrets")
    if not branch:
        raise ConfigError("HEAD is detached: no branch for Kestra to follow", hint="check out a branch, or pass --branch")
    return url, branch


def plan_gitops_flows(project: Project, conversions: list[Conversion], url: str,
                      branch: str) -> list[tuple[str, str]]:
    """(file, text) of every namespace's gitops flow, all checked before anything is written."""
    planned = []
    taken = {c.flow_path for c in conversions if c.ok}
    for namespace in sorted({c.namespace for c in conversions if c.ok}):
        document = gitops_flow(namespace, url, branch, project.options, credentials=credential_kind(url))
        problems = flow_problems(document, target=project.options.kestra)
        if problems:
            raise FlowError(f"gitops flow of {namespace}", problems)
        relative = flow_file(namespace, GITOPS_FLOW_ID, project.options)
        target = project.root / relative
        foreign = target.exists() and gitops_namespace(read_text(target, MAX_FLOW_BYTES, relative)) != namespace
        if relative in taken or foreign:
            raise ConfigError(f"{relative} exists and is not nbops' gitops flow of {namespace}",
                              hint="rename that flow; gitops_sync is the id nbops uses")
        planned.append((relative, gitops_header(namespace) + dump_yaml(document)))
    return planned


def write_gitops_flows(project: Project, planned: list[tuple[str, str]], dry_run: bool = False) -> list[str]:
    """Write (or with ``dry_run`` only name) the gitops flow files that change."""
    written = []
    for relative, text in planned:
        target = project.root / relative
        changed = (not target.exists() or target.read_text() != text) if dry_run else write_if_changed(target, text)
        if changed:
            written.append(relative)
    return written
