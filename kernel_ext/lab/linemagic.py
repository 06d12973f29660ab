"""``%nbops``: the panel, or one command as a line, parsed with the CLI's own argparse definitions
and run by the CLI's own handlers (both from ``kernel_ext.commands``), so ``%nbops push`` prints
what ``nbops push`` prints."""
from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any, NoReturn

from ..errors import NbopsError, UsageError
from .context import Ui, notebook_path, ui_mode

__all__ = ["UsageError", "nbops_line", "parse", "parser"]

# commands about this notebook that default to it when no path is given
_OWN = ("validate", "yaml", "export", "panel")
_GIT = ("commit", "push", "sync", "diff", "restore")


class _Parser(argparse.ArgumentParser):
    """Raises instead of exiting; subparsers inherit the class, so the CLI's definitions do too."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise UsageError(message or "")  # --help has printed its text already


def parser() -> argparse.ArgumentParser:
    from ..commands.base import Surface
    from ..commands.registry import add_parsers

    root = _Parser(prog="%nbops", description="nbops in a notebook: the panel, or one command.")
    root.add_argument("--notebook", type=Path, help="the notebook (default: this kernel's)")
    commands = root.add_subparsers(dest="command", metavar="COMMAND")
    for name, text in (("validate", "check this notebook's flow and show the flow card"),
                       ("yaml", "print this notebook's Kestra flow"), ("export", "write this notebook's flow"),
                       ("panel", "show the panel (the default)")):
        commands.add_parser(name, help=text)
    add_parsers(commands, Surface.NOTEBOOK)  # the CLI's commands marked in_notebook
    return root


def parse(line: str) -> tuple[argparse.Namespace, bool]:
    """The parsed line, and whether ``run``'s target was left out (it is then this notebook)."""
    args = parser().parse_args(shlex.split(line))
    return args, args.command == "run" and args.target is None


def nbops_line(shell: Any, line: str) -> Any:
    try:
        args, default_target = parse(line)
    except UsageError as exc:
        if str(exc).strip():
            print(str(exc).strip(), file=sys.stderr)
        return None
    path = notebook_path(shell, str(args.notebook) if args.notebook else None)
    command = args.command or "panel"
    try:
        if command == "panel":
            return _panel(shell, path)
        return _command(command, args, path, default_target)
    except Exception as exc:  # noqa: BLE001 - shown as a message: the user's problem, or named as ours
        from .messages import readable

        print(readable(exc), file=sys.stderr)
        return None


def _panel(shell: Any, path: Path | None) -> Any:
    from .actions import Target

    target = Target.of(path)
    if ui_mode(shell) is Ui.WIDGETS:
        from .panel import Panel

        panel = Panel(target)
        panel.show()
        return None
    from .textpanel import text_panel

    print(text_panel(target))
    return None


def _command(command: str, args: argparse.Namespace, path: Path | None, default_target: bool) -> None:
    from ..commands.failure import report
    from ..commands.registry import COMMANDS
    from .actions import Target

    target = Target.of(path)
    if command in _OWN:
        from .textpanel import own_command

        print(own_command(command, target))
        return
    if command not in COMMANDS or not COMMANDS[command].in_notebook:
        raise NbopsError(f"%nbops {command} is not available in a notebook", hint="run `nbops` in a terminal")
    if command in _GIT and (why := target.git_problem()) is not None:
        raise NbopsError(why)
    _fill_defaults(command, args, target, default_target)
    try:
        code = COMMANDS[command].handler(target.project, args, sys.stdout)
    except NbopsError as exc:  # shown as `nbops` shows it, with the exit code it would return
        code = report(exc, sys.stderr)
    if code:
        print(f"(exit code {code}, as `nbops {command}` would return)", file=sys.stderr)


def _fill_defaults(command: str, args: argparse.Namespace, target: Any, default_target: bool) -> None:
    """What "this notebook" means for each command when the line names nothing."""
    if default_target:
        args.target = str(target.path())
    elif command == "commit" and not args.paths:
        args.paths = [target.path()]
    elif command == "runs" and not args.flow and target.notebook is not None:
        from .actions import validate

        conversion = validate(target)
        args.flow = f"{conversion.namespace}.{conversion.flow_id}" if conversion.ok else None
