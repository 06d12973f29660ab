"""The ``nbops`` command line: the root parser and ``main``; the commands themselves (parser,
handler, printer) are in ``commands/``, shared with ``%nbops``."""
from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from . import __version__
from .commands.base import Surface
from .commands.failure import report
from .commands.registry import COMMANDS, add_parsers
from .errors import ExitCode, NbopsError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nbops", description="Run Jupyter notebooks as Kestra flows, the GitOps way.",
        epilog="Run 'nbops COMMAND --help' for a command's options.")
    parser.add_argument("--version", action="version", version=f"nbops {__version__}")
    parser.add_argument("-C", "--repo", type=Path, default=None, metavar="DIR",
                        help="the flow repository (default: the nearest folder with pyproject.toml or .git)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what nbops does")
    add_parsers(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"), Surface.TERMINAL)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    from .adapters.project import find_project  # lazy: `nbops --help` stays instant

    try:
        return COMMANDS[args.command].handler(find_project(args.repo), args, out)
    except BrokenPipeError:  # `nbops runs | head`: the reader has gone, which is fine
        sys.stderr.close()
        return ExitCode.OK
    except NbopsError as exc:
        return report(exc, sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
