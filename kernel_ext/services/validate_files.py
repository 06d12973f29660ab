"""``nbops validate``: any Kestra flow YAML, hand-written or generated."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..adapters.files import MAX_FLOW_BYTES, read_text
from ..adapters.project import Project
from ..core.flow_validation import parse_flow_text
from ..errors import ConfigError, NbopsError, Problem


@dataclass(frozen=True)
class FileResult:
    file: str
    problems: tuple[Problem, ...]


def _display(project: Project, path: Path) -> str:
    try:
        return project.relative(path)
    except NbopsError:
        return str(path)


def flow_files(project: Project, paths: list[Path] | None) -> list[Path]:
    if not paths:
        return project.flow_paths()
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += project.flow_paths(path)
        elif path.is_file():
            found.append(path)
        else:
            raise ConfigError("no such file or folder", file=str(path))
    return found


def validate_files(project: Project, paths: list[Path] | None = None) -> list[FileResult]:
    results = []
    for path in flow_files(project, paths):
        name = _display(project, path)
        try:
            _, problems = parse_flow_text(read_text(path, MAX_FLOW_BYTES, name), target=project.options.kestra)
        except NbopsError as exc:
            problems = [Problem(exc.message, hint=exc.hint)]
        results.append(FileResult(name, tuple(problems)))
    return results
