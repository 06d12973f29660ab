"""The one exception tree of nbops.

Every error carries structured fields (file, cell, line, field path, hint) so the CLI, the panel
and JSON output can all render it without parsing messages. Adapters translate foreign errors
(nbformat, YAML, OS) into these. :class:`ExitCode` is the one table of the exit codes of ``nbops``
(``docs/cli.md`` lists it; a test holds the two equal).
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    """How ``nbops`` (and ``%nbops``) ends: each code means one thing, whichever command returns it."""

    OK = 0
    ERROR = 1  # any other failure: a missing file, kernel or history, a Git failure, a failed build
    USAGE = 2  # a wrong command line or [tool.nbops] setting
    INVALID = 3  # a notebook, flow, parameter or grid breaks the rules; a secret in what is committed
    DRIFT = 4  # a generated flow differs from its notebook's conversion, or is missing (check)
    ORPHAN = 5  # a generated flow whose notebook is gone (check)
    UNTAGGED = 6  # a header or %load_ext cell without the skip-execution tag (check)
    REJECTED = 7  # the remote refused a push: nothing changed on either side
    SECRET = 8  # a secret in notebooks/ or _flows/ (check)
    RUN_FAILED = 10  # a cell raised, or a step did not make what it declares
    KERNEL_DIED = 11
    TIMEOUT = 12  # the flow's timeout was reached
    INTERRUPTED = 130  # Ctrl-C, or a stopped batch (128 + SIGINT, as shells report it)


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

    exit_code: ExitCode = ExitCode.ERROR

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

    exit_code = ExitCode.INVALID

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

    exit_code = ExitCode.USAGE


class UsageError(ConfigError):
    """A command line argparse refused: its message (empty once ``--help`` has printed its text)."""


class ConflictError(NbopsError):
    """Two notebooks claim the same flow, or a path would escape the repository."""

    exit_code = ExitCode.INVALID
