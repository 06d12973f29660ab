"""The one table of nbops' commands: name → parser definition and handler, in ``nbops --help``'s
order. The CLI offers them all; ``%nbops`` those marked ``in_notebook``."""
from __future__ import annotations

from typing import Any

from . import catalog, demo, flows, git, image, lab, runs
from .base import Command, Surface

COMMANDS: dict[str, Command] = {command.name: command for command in (
    Command("export", flows.add_export, flows.cmd_export),
    Command("validate", flows.add_validate, flows.cmd_validate),
    Command("check", flows.add_check, flows.cmd_check),
    Command("image", image.add_image, image.cmd_image),
    Command("new", flows.add_new, flows.cmd_new),
    Command("run", runs.add_run, runs.cmd_run, in_notebook=True),
    Command("runs", runs.add_runs, runs.cmd_runs, in_notebook=True),
    Command("show", runs.add_show, runs.cmd_show, in_notebook=True),
    Command("batch", runs.add_batch, runs.cmd_batch, in_notebook=True),
    Command("commit", git.add_commit, git.cmd_commit, in_notebook=True),
    Command("push", git.add_push, git.cmd_push, in_notebook=True),
    Command("sync", git.add_sync, git.cmd_sync, in_notebook=True),
    Command("diff", git.add_diff, git.cmd_diff, in_notebook=True),
    Command("secrets", git.add_secrets, git.cmd_secrets, in_notebook=True),
    Command("restore", git.add_restore, git.cmd_restore, in_notebook=True),
    Command("catalog", catalog.add_catalog, catalog.cmd_catalog),
    Command("demo", demo.add_demo, demo.cmd_demo),
    Command("lab-setup", lab.add_lab_setup, lab.cmd_lab_setup),
)}


def add_parsers(subparsers: Any, surface: Surface) -> None:
    """Add the sub-parsers of the commands offered on ``surface``, as typed there."""
    for command in COMMANDS.values():
        if surface is Surface.TERMINAL or command.in_notebook:
            command.add_parser(subparsers, surface)
