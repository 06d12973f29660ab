"""The JupyterLab commands: ``lab-setup`` (thin: parse, call, print)."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ..errors import ExitCode
from .base import Surface

if TYPE_CHECKING:
    from ..adapters.project import Project


def add_lab_setup(commands: Any, surface: Surface) -> None:
    setup = commands.add_parser("lab-setup", help="load nbops' kernel extension in every Jupyter kernel",
                                description="Add `kernel_ext` to the extensions of the IPython profile's kernel "
                                            "config (ipython_kernel_config.py under $IPYTHONDIR, default "
                                            "~/.ipython), so %%flow and %nbops work in every notebook without "
                                            "%load_ext. Only nbops' own marked block of that file changes.")
    setup.add_argument("--undo", action="store_true", help="remove nbops' block again")
    setup.add_argument("--dry-run", action="store_true", help="print what the file would hold, change nothing")
    setup.add_argument("--ipython-dir", type=Path, metavar="DIR", help="the IPython folder (default: $IPYTHONDIR "
                                                                         "or ~/.ipython)")
    setup.add_argument("--profile", default="default", help="the IPython profile (default: default)")


def cmd_lab_setup(project: Project | None, args: argparse.Namespace, out: TextIO) -> int:
    """The project is not used: the kernel config is the user's, not the repository's."""
    from ..services.lab_setup import SetupChange, SetupOptions, lab_setup

    result = lab_setup(SetupOptions(args.undo, args.dry_run, args.ipython_dir, args.profile))
    if args.dry_run:
        verb = "left as it is" if result.change is SetupChange.UNCHANGED else result.change.value
        print(f"dry run: {result.path} would be {verb}; it would hold:", file=out)
        print(result.text, file=out, end="" if result.text.endswith("\n") else "\n")
        return ExitCode.OK
    said = {SetupChange.ADDED: "kernels now load kernel_ext (restart running kernels to get it)",
            SetupChange.REMOVED: "kernels no longer load kernel_ext",
            SetupChange.UNCHANGED: "nothing to change"}[result.change]
    print(f"{result.path}: {said}", file=out)
    return ExitCode.OK
