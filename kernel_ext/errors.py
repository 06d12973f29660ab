"""The one exception tree of nbops.

Every error carries structured fields (file, cell, line, field path, hint) so the CLI, the panel
and JSON output can all render it without parsing messages. Adapters translate foreign errors
(nbformat, YAML, OS) into these.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a flow, notebook or header, located as precisely as known."""

    message: str
    path: str = ""  # field path, e.g. ``tasks[0].retry.interval``
    line: int | None = None  # 1-based line in ``file`` (or in ``cell`` when set)
    cell: int | None = None  # 0-based cell index in a notebook
    hint: str | None = None  # what to do about it

    def located(self, **changes: object) -> Problem:
        """A copy with location fields filled in (only those still unknown)."""
        current = {"path": self.path, "line": self.line, "cell": self.cell}
        updates = {k: v for k, v in changes.items() if not current.get(k)}
        return Problem(**{**self.__dict__, **updates})  # type: ignore[arg-type]

    def render(self, file: str | None = None) -> str:
        where = [file] if file else []
        if self.cell is not None:
            where.append(f"cell {self.cell}")
        if self.line is not None:
            where.append(f"line {self.line}")
        prefix = ":".join(where[:1]) + (f" ({', '.join(where[1:])})" if where[1:] else "")
        field_part = f"{self.path}: " if self.path else ""
        text = f"{prefix}: {field_part}{self.message}" if prefix else f"{field_part}{self.message}"
        return text + (f"\n    hint: {self.hint}" if self.hint else "")

    def to_json(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if v is not None and v != ""}


class NbopsError(Exception):
    """Base of every error nbops raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, *, file: str | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.file = file
        self.hint = hint

    def __str__(self) -> str:
        text = f"{self.file}: {self.message}" if self.file else self.message
        return text + (f"\n    hint: {self.hint}" if self.hint else "")


class InvalidError(NbopsError):
    """A notebook, header or flow breaks one or more rules; all problems of one file at once."""

    exit_code = 3

    def __init__(self, file: str | None, problems: list[Problem] | tuple[Problem, ...]):
        self.problems = tuple(problems)
        first = self.problems[0].message if self.problems else "invalid"
        super().__init__(first, file=file)

    def __str__(self) -> str:
        return "\n".join(p.render(self.file) for p in self.problems)


class NotebookError(InvalidError):
    """The notebook file itself cannot be read as a flow notebook (JSON, nbformat, size)."""


class FlowError(InvalidError):
    """A Kestra flow (YAML) breaks Kestra's rules."""


class ConfigError(NbopsError):
    """``[tool.nbops]`` or a command-line option is wrong."""

    exit_code = 2


class ConflictError(NbopsError):
    """Two notebooks claim the same flow, or a path would escape the repository."""

    exit_code = 3
