"""``nbops demo``: the example flows run, exported, committed and catalogued in a repository of
their own (thin: the work is in services/demo.py)."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ..errors import ExitCode
from .base import Surface

if TYPE_CHECKING:
    from ..adapters.project import Project


def add_demo(commands: Any, surface: Surface) -> None:
    demo = commands.add_parser(
        "demo", help="run, export, commit and catalogue the example flows in a demo repository",
        description="Copy the project's notebooks into a fresh Git repository (demo/ by default), run every flow "
                    "with papermill (upstream flows first), export them to _flows/, commit, and build the catalog "
                    "site. The project itself is not changed. A previous demo is replaced only when it holds no "
                    "uncommitted change.")
    demo.add_argument("folder", nargs="?", type=Path, default=None, metavar="DIR",
                      help="where to make the demo repository (default: demo/ in the project)")


def cmd_demo(project: Project, args: argparse.Namespace, out: TextIO) -> int:
    from ..services.demo import demo, shown_path

    result = demo(project, args.folder or project.root / "demo", lambda line: print(line, file=out, flush=True))
    shown = shown_path(result.root)
    print(f"\nOpen the catalog: {shown_path(result.site / 'index.html')}", file=out)
    print(f"  (with search: nbops -C {shown} catalog serve, then http://127.0.0.1:8000/)", file=out)
    print(f"Author in JupyterLab: jupyter lab {shown}/notebooks", file=out)
    return ExitCode.OK if result.ok else ExitCode.RUN_FAILED
