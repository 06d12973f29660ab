"""``nbops image``: the Docker build folders of the images the flows run in (thin: parse, call the
service, print)."""
from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any, TextIO

from ..errors import ExitCode
from .base import Surface
from .flows import print_problems

if TYPE_CHECKING:
    from ..adapters.project import Project
    from ..services.image import ImageResult


def add_image(commands: Any, surface: Surface) -> None:
    image = commands.add_parser("image", help="write the Dockerfiles of the images the flows run in",
                                description="Write, per namespace ({namespace} in [tool.nbops] image) or for the "
                                            "whole project, a Docker build folder images/<namespace>/ (Dockerfile, "
                                            "requirements.txt, constraints.txt) with Python, the kernel and the pinned "
                                            "requirements of its flows. With install = \"image\" the flows use it and "
                                            "install nothing at run time. Everything is checked before anything is "
                                            "written.")
    image.add_argument("--out", metavar="DIR", help="the folder of the image folders (default: images)")
    image.add_argument("--dry-run", action="store_true", help="say what would change, write nothing")
    image.add_argument("--check", action="store_true",
                       help="write nothing; exit 4 when the image folders differ from what the flows need (CI)")
    image.add_argument("--json", action="store_true", help="machine-readable output")


def cmd_image(project: Project, args: argparse.Namespace, out: TextIO) -> int:
    from ..services.image import write_images

    result = write_images(project, args.out, dry_run=args.dry_run or args.check)
    code = _exit_code(result, args.check)
    if args.json:
        json.dump({"images": [{"namespace": s.key, "folder": s.folder, "image": s.image or None, "base": s.base,
                               "flows": list(s.flows), "requirements": list(s.requirements),
                               "unpinned": s.unpinned} for s in result.images],
                   "written": result.written, "unchanged": result.unchanged, "problems": result.problems,
                   "failed": [{"notebook": c.notebook.path, "problems": [p.to_json() for p in c.problems]}
                              for c in result.failed],
                   "own_image": result.own_image, "stale": result.stale,
                   "dry_run": bool(args.dry_run or args.check), "exit_code": code}, out, indent=2)
        print(file=out)
    else:
        print_image(project, result, args, out)
    return code


def _exit_code(result: ImageResult, check: bool) -> int:
    if result.aborted:
        return ExitCode.INVALID
    return ExitCode.DRIFT if check and result.written else ExitCode.OK


def print_image(project: Project, result: ImageResult, args: argparse.Namespace, out: TextIO) -> None:
    for conv in result.failed:
        print_problems(conv.notebook.path, conv.problems, out)
    for problem in result.problems:
        print(f"error: {problem}", file=out)
    if result.aborted:
        print(f"nothing written: {len(result.failed)} notebook(s) do not convert, {len(result.problems)} image "
              "problem(s)", file=out)
        return
    verb = "differs" if args.check else "would write" if args.dry_run else "wrote"
    for path in result.written:
        print(f"{verb} {path}" if not args.check else f"{path} {verb} from what the flows need", file=out)
    for spec in result.images:
        if spec.unpinned:
            print(f"note: {spec.folder}: not pinned, the image gets what the index has when it is built: "
                  f"{', '.join(spec.unpinned)} (pin them, or pin everything with [tool.nbops] constraints)", file=out)
    for flow in result.own_image:
        print(f"note: {flow} names its own image in its header: it is in none of these images", file=out)
    for folder in result.stale:
        print(f"note: {folder} serves no flow any more (not deleted)", file=out)
    if project.options.install != "image":
        print('note: the flows still install their requirements at run time: set [tool.nbops] install = "image" '
              'and image = "REGISTRY/NAME-{namespace}:TAG" to run them in these images', file=out)
    elif not args.check:
        for spec in result.images:
            print(f"build: docker build --tag {spec.image} {spec.folder}", file=out)
    done = "to write" if args.dry_run else "differ" if args.check else "written"
    print(f"{len(result.images)} image(s): {len(result.written)} file(s) {done}, {len(result.unchanged)} unchanged",
          file=out)
