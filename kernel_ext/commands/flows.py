"""The flow commands: ``export``, ``validate``, ``check`` and ``new`` (thin: parse, call a service,
print)."""
from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ..errors import ConfigError, ExitCode
from .base import Surface

if TYPE_CHECKING:
    from ..adapters.project import Project
    from ..services.export import ExportResult


def add_export(commands: Any, surface: Surface) -> None:
    export = commands.add_parser("export", help="write _flows/ from the notebooks",
                                 description="Convert notebooks to Kestra flows under _flows/. Every notebook is "
                                             "validated first; nothing is written if any fails.")
    export.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="notebooks or folders (default: all)")
    export.add_argument("--keep-going", action="store_true", help="write the valid flows even if some notebooks fail")
    export.add_argument("--dry-run", action="store_true", help="say what would change, write nothing")
    export.add_argument("--json", action="store_true", help="machine-readable output")
    export.add_argument("--gitops-flow", action="store_true",
                        help="also write, per namespace, a gitops_sync flow that keeps Kestra equal to this repository")
    export.add_argument("--branch", help="the branch Kestra follows (default: the checked-out one)")


def add_validate(commands: Any, surface: Surface) -> None:
    validate = commands.add_parser("validate", help="validate Kestra flow YAML files",
                                   description="Validate any Kestra flow YAML (hand-written or generated) against "
                                               "Kestra's rules for the version set in [tool.nbops] kestra_version, "
                                               "reporting every problem of every file.")
    validate.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="files or folders (default: _flows/)")
    validate.add_argument("--json", action="store_true", help="machine-readable output")


def add_check(commands: Any, surface: Surface) -> None:
    check = commands.add_parser("check", help="the CI gate: valid, no drift, no orphans",
                                description="Fail when a notebook does not convert (exit 3), a committed flow "
                                            "differs from its notebook or is missing (4), a generated flow has no "
                                            "notebook (5), a header cell lacks the skip-execution tag (6), or a "
                                            "secret is found (8).")
    check.add_argument("--json", action="store_true", help="machine-readable output")


def add_new(commands: Any, surface: Surface) -> None:
    new = commands.add_parser("new", help="create a flow notebook",
                              description="Create notebooks/NAME.ipynb from the template, or from an existing "
                                          "Kestra flow's inputs and triggers with --from-flow.")
    new.add_argument("name", nargs="?", help="e.g. sales_report or finance/monthly")
    new.add_argument("--from-flow", type=Path, metavar="FILE", help="a Kestra flow YAML to start from")


def print_problems(file: str, problems: Sequence[Any], out: TextIO) -> None:
    for problem in problems:
        print(problem.render(file), file=out)


def cmd_export(project: Project, args: argparse.Namespace, out: TextIO) -> int:
    from ..services.export import export

    result = export(project, args.paths or None, keep_going=args.keep_going, dry_run=args.dry_run,
                    gitops=args.gitops_flow, branch=args.branch)
    if args.json:
        json.dump({"written": result.written, "gitops": result.gitops, "unchanged": result.unchanged,
                   "aborted": result.aborted,
                   "not_written": [{"file": f, "error": why} for f, why in result.not_written],
                   "tagged": [{"notebook": n, "cells": list(c)} for n, c in result.tagged],
                   "failed": [{"notebook": c.notebook.path, "problems": [p.to_json() for p in c.problems]}
                              for c in result.failed], "dry_run": args.dry_run}, out, indent=2)
        print(file=out)
    else:
        print_export(result, args.dry_run, out)
    return ExitCode.INVALID if result.failed else ExitCode.ERROR if result.not_written else ExitCode.OK


def print_export(result: ExportResult, dry_run: bool, out: TextIO) -> None:
    for conv in result.failed:
        print_problems(conv.notebook.path, conv.problems, out)
    verb = "would write" if dry_run else "wrote"
    for path in [*result.written, *result.gitops]:
        print(f"{verb} {path}", file=out)
    for notebook, cells in result.tagged:
        print(f"{'would tag' if dry_run else 'tagged'} {notebook} cells {list(cells)} with skip-execution "
              "(papermill skips them; nbops needs none of them at run time)", file=out)
    for path, why in result.not_written:
        print(f"{path}: not written: {why} (the file is as it was)", file=out)
    if result.aborted:
        print(f"nothing written: {len(result.failed)} notebook(s) failed (fix them, or use --keep-going)", file=out)
    else:
        failed = f", {len(result.failed)} failed and skipped (--keep-going)" if result.failed else ""
        unwritten = f", {len(result.not_written)} NOT written (see above)" if result.not_written else ""
        print(f"{len(result.written)} {'to write' if dry_run else 'written'}, {len(result.unchanged)} unchanged"
              f"{failed}{unwritten}", file=out)


def cmd_validate(project: Project, args: argparse.Namespace, out: TextIO) -> int:
    from ..services.validate_files import validate_files

    results = validate_files(project, args.paths or None)
    bad = [r for r in results if r.problems]
    if args.json:
        json.dump({"kestra_version": str(project.options.kestra),
                   "files": [{"file": r.file, "valid": not r.problems, "problems": [p.to_json() for p in r.problems]}
                             for r in results]}, out, indent=2)
        print(file=out)
    else:
        for result in bad:
            print_problems(result.file, result.problems, out)
        print(f"{len(results) - len(bad)} valid, {len(bad)} invalid, for Kestra {project.options.kestra}", file=out)
    return ExitCode.INVALID if bad else ExitCode.OK


def cmd_check(project: Project, args: argparse.Namespace, out: TextIO) -> int:
    from ..services.check import check

    report = check(project)
    if args.json:
        json.dump({"ok": not report.findings, "exit_code": report.exit_code, "notebooks": report.notebooks,
                   "flows": report.flows, "kestra_version": report.kestra_version,
                   "not_checked_out": report.not_checked_out,
                   "findings": [f.to_json() for f in report.findings]}, out, indent=2)
        print(file=out)
        return report.exit_code
    for finding in report.findings:
        print(f"[{finding.kind.name.lower()}] {finding.file}", file=out)
        print_problems(finding.file, finding.problems, out)
        if finding.diff:
            print(finding.diff, file=out)
    if report.not_checked_out:
        shown = ", ".join(report.not_checked_out[:5]) + (
            f" and {len(report.not_checked_out) - 5} more" if len(report.not_checked_out) > 5 else "")
        print(f"sparse checkout: {len(report.not_checked_out)} notebook or flow file(s) are not checked out and "
              f"were not checked: {shown} (git sparse-checkout disable, or check in a full clone)", file=out)
    status = "ok" if not report.findings else f"{len(report.findings)} problem(s)"
    print(f"check: {report.notebooks} notebooks, {report.flows} flow files, for Kestra {report.kestra_version}: "
          f"{status}", file=out)
    return report.exit_code


def cmd_new(project: Project, args: argparse.Namespace, out: TextIO) -> int:
    from ..services.new_notebook import new_from_flow, new_notebook

    if args.from_flow:
        path, note = new_from_flow(project, args.from_flow, args.name)
        if note:
            print(f"note: {note}", file=out)
    elif args.name:
        path = new_notebook(project, args.name)
    else:
        raise ConfigError("give a NAME, or --from-flow FILE")
    print(f"created {project.relative(path)}", file=out)
    return ExitCode.OK
