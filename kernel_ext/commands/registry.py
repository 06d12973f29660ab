"""The one table of nbops' commands: name → parser definition and handler, in ``nbops --help``'s
order. The CLI adds them all; ``%nbops`` adds those that make sense in a notebook."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from . import catalog, demo, flows, git, lab, runs
from .base import Command, Surface

COMMANDS: dict[str, Command] = {command.name: command for command in (
    Command("export", flows.add_export, flows.cmd_export),
    Command("validate", flows.add_validate, flows.cmd_validate),
    Command("check", flows.add_check, flows.cmd_check),
    Command("new", flows.add_new, flows.cmd_new),
    Command("run", runs.add_run, runs.cmd_run),
    Command("runs", runs.add_runs, runs.cmd_runs),
    Command("show", runs.add_show, runs.cmd_show),
    Command("batch", runs.add_batch, runs.cmd_batch),
    Command("commit", git.add_commit, git.cmd_commit),
    Command("push", git.add_push, git.cmd_push),
    Command("sync", git.add_sync, git.cmd_sync),
    Command("diff", git.add_diff, git.cmd_diff),
    Command("secrets", git.add_secrets, git.cmd_secrets),
    Command("restore", git.add_restore, git.cmd_restore),
    Command("catalog", catalog.add_catalog, catalog.cmd_catalog),
    Command("demo", demo.add_demo, demo.cmd_demo),
    Command("lab-setup", lab.add_lab_setup, lab.cmd_lab_setup),
)}


def add_parsers(subparsers: Any, surface: Surface, names: Iterable[str] | None = None) -> None:
    """Add the sub-parsers of ``names`` (default: every command), as typed on ``surface``."""
    for name in COMMANDS if names is None else names:
        COMMANDS[name].add_parser(subparsers, surface)
