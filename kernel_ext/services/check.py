"""``nbops check``, the CI gate: valid notebooks and flows, no drift, no orphans, headers tagged."""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from enum import IntEnum

from ..adapters.files import MAX_FLOW_BYTES, read_text
from ..adapters.project import Project
from ..core.emit import generated_source
from ..core.gitops_flow import gitops_namespace
from ..core.flow_validation import parse_flow_text
from ..errors import ExitCode, InvalidError, NbopsError, Problem
from .project_flows import convert_all
from .export import owner_problem


class Failure(IntEnum):
    """The kinds of ``nbops check`` findings, valued by their exit codes; with several kinds, the
    lowest (most basic) one wins."""

    INVALID = ExitCode.INVALID.value  # a notebook does not convert, or a flow file breaks Kestra's rules
    DRIFT = ExitCode.DRIFT.value  # a generated flow differs from what its notebook converts to, or is missing
    ORPHAN = ExitCode.ORPHAN.value  # a generated flow whose notebook is gone
    UNTAGGED = ExitCode.UNTAGGED.value  # a header or %load_ext cell papermill would run (no skip-execution tag)
    SECRET = ExitCode.SECRET.value  # a secret in a notebook or flow (not in the .nbops-secrets.json allow-list)


@dataclass(frozen=True)
class Finding:
    kind: Failure
    file: str
    problems: tuple[Problem, ...] = ()
    diff: str = ""

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"kind": self.kind.name.lower(), "file": self.file}
        if self.problems:
            out["problems"] = [p.to_json() for p in self.problems]
        if self.diff:
            out["diff"] = self.diff
        return out


@dataclass
class CheckReport:
    findings: list[Finding] = field(default_factory=list)
    notebooks: int = 0
    flows: int = 0
    kestra_version: str = ""  # the Kestra version the flows were checked for
    not_checked_out: list[str] = field(default_factory=list)  # tracked, kept off the disk (sparse checkout)

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode(min((f.kind for f in self.findings), default=ExitCode.OK))


def _diff(old: str, new: str, path: str) -> str:
    return "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True),
                                        f"{path} (in the repository)", f"{path} (from its notebook)"))


def check(project: Project) -> CheckReport:
    report = CheckReport(kestra_version=str(project.options.kestra))
    expected: dict[str, str] = {}  # flow file → its text
    owners: dict[str, str] = {}  # flow file → the notebook it must come from
    conversions = convert_all(project, lean=True)
    report.notebooks = len(conversions)
    failed = {conv.notebook.path for conv in conversions if not conv.ok}
    for conv in conversions:
        if not conv.ok:
            report.findings.append(Finding(Failure.INVALID, conv.notebook.path, conv.problems))
            continue
        assert conv.flow_path is not None and conv.text is not None
        expected[conv.flow_path] = conv.text
        owners[conv.flow_path] = conv.notebook.path
        for notebook, cells in conv.untagged:
            report.findings.append(Finding(Failure.UNTAGGED, notebook, (Problem(
                f"cells {list(cells)} lack the skip-execution tag, so papermill would run them",
                hint="run nbops export, which adds the tag"),)))
    report.not_checked_out = _not_checked_out(project)
    _check_flow_files(project, expected, owners, failed, report)
    _check_secrets(project, report)
    return report


def _not_checked_out(project: Project) -> list[str]:
    """Notebooks and flows (project-relative) that a sparse checkout or the skip-worktree bit keeps
    off the disk: absent, not deleted, so neither orphans nor missing flows; [] outside Git."""
    from ..adapters.git import GitRepo

    repo = GitRepo.find(project.root)
    if repo is None:
        return []
    with repo:
        try:
            found = repo.not_checked_out(str(project.notebooks_dir), str(project.flows_dir))
            base = project.root.resolve().relative_to(repo.root).as_posix()
        except (NbopsError, ValueError):  # a folder setting outside the work tree: nothing to add
            return []
    prefix = "" if base == "." else base + "/"
    return sorted(name.removeprefix(prefix) for name in found if name.startswith(prefix))


def _check_secrets(project: Project, report: CheckReport) -> None:
    from .scan import scan_paths

    unscanned: list[NbopsError] = []
    findings = scan_paths(project.root, [project.notebooks_dir, project.flows_dir], unscanned)
    invalid = {f.file for f in report.findings if f.kind is Failure.INVALID}
    for error in unscanned:  # an unreadable or non-UTF-8 file: INVALID once, the other files still scanned
        if error.file not in invalid:
            problems = error.problems if isinstance(error, InvalidError) else (Problem(error.message, hint=error.hint),)
            report.findings.append(Finding(Failure.INVALID, error.file or "?", tuple(problems)))
    for finding in findings:
        report.findings.append(Finding(Failure.SECRET, finding.file, (Problem(
            f"{finding.kind} ({finding.location}): {finding.excerpt}", cell=finding.cell,
            hint="remove it (flows read secrets with {{ secret('NAME') }}), or accept a false positive: "
                 "nbops secrets --accept --reason WHY"),)))


def _check_flow_files(project: Project, expected: dict[str, str], owners: dict[str, str], failed: set[str],
                      report: CheckReport) -> None:
    """Drift and orphans among generated files (a file whose notebook failed to convert is left to
    that notebook's INVALID finding); hand-written flows are validated."""
    present, off_disk = set(), set(report.not_checked_out)
    for path in project.flow_paths():
        name = project.relative(path)
        present.add(name)
        report.flows += 1
        try:
            text = read_text(path, MAX_FLOW_BYTES, name)
        except NbopsError as exc:
            report.findings.append(Finding(Failure.INVALID, name, (Problem(exc.message, hint=exc.hint),)))
            continue
        source = None if gitops_namespace(text) else generated_source(text)  # gitops flows: validated only
        if name in expected and (conflict := owner_problem(project, name, owners[name], text)):
            report.findings.append(Finding(Failure.INVALID, name, (conflict,)))
        elif name in expected:
            if text != expected[name]:
                report.findings.append(Finding(Failure.DRIFT, name, (Problem(
                    "differs from what its notebook converts to", hint="run nbops export and commit"),),
                    _diff(text, expected[name], name)))
        elif source is not None and source not in failed and source not in off_disk:
            report.findings.append(Finding(Failure.ORPHAN, name, (Problem(
                f"generated from {source}, which no longer produces this flow",
                hint="delete the file, or restore the notebook"),)))
        elif source is None:
            _, problems = parse_flow_text(text, target=project.options.kestra)
            if problems:
                report.findings.append(Finding(Failure.INVALID, name, tuple(problems)))
    for name in sorted(set(expected) - present - off_disk):
        report.findings.append(Finding(Failure.DRIFT, name, (Problem(
            "is missing: its notebook has not been exported", hint="run nbops export and commit"),),
            _diff("", expected[name], name)))
