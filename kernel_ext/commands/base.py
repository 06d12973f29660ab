"""What a command is: where its line comes from, its parser definition and its handler."""
from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from ..adapters.project import Project


class Surface(Enum):
    """Where a command line is typed: what may be left out depends on it."""

    TERMINAL = "terminal"  # `nbops COMMAND`
    NOTEBOOK = "notebook"  # `%nbops COMMAND`: a notebook left out means the kernel's own


# (the subparsers of the root parser, the surface) -> None: adds the command's sub-parser
AddParser = Callable[[Any, Surface], None]
# (the project, the parsed arguments, where results go) -> the exit code
Handler = Callable[["Project", argparse.Namespace, TextIO], int]


@dataclass(frozen=True)
class Command:
    name: str
    add_parser: AddParser
    handler: Handler
    in_notebook: bool = False  # offered by `%nbops` too (the others are for a terminal)
